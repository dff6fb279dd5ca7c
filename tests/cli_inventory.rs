//! `migrate --inventory FILE --parties FILE --state URL --transport exec:COMMAND`: a real
//! migration's inputs. `sim-meters --write-inventory` writes the simulated fleet as those
//! inputs (inventory CSV, device keystore, party keys and certificates), so the run can be
//! checked against the simulated run of the same fleet; then every input an operator could
//! get wrong is refused with a clear error, before anything is sent.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/pg.rs"]
mod pg;
#[path = "support/shared.rs"]
mod shared;
use common::*;
use std::path::{Path, PathBuf};

/// When the simulated runs start: an inventory run started then sees the same fleet.
const SIM_START: &str = "2025-12-01T00:00:00Z";

fn meters(n: u32, seed: u32) -> String {
    format!(
        "exec:{} sim-meters --simulate {n} --seed {seed}",
        env!("CARGO_BIN_EXE_gbcs")
    )
}

/// A fresh folder with the inputs of `--simulate n --seed seed`.
fn inputs(name: &str, n: u32, seed: u32) -> PathBuf {
    let dir = tmp(name);
    let _ = std::fs::remove_dir_all(&dir);
    let (n_text, seed_text) = (n.to_string(), seed.to_string());
    let out = ok(&gbcs(&[
        "sim-meters",
        "--simulate",
        &n_text,
        "--seed",
        &seed_text,
        "--write-inventory",
        dir.to_str().expect("path"),
    ]));
    assert!(
        out.contains(&format!("inventory.csv ({n} devices)")),
        "{out}"
    );
    dir
}

fn store(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    format!("sqlite:{}", p.display())
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// `migrate --inventory` over `dir`'s inputs (with `extra`), its meters `transport`.
fn migrate(dir: &Path, url: &str, transport: &str, extra: &[&str]) -> std::process::Output {
    let (inventory, parties, policy) = (
        path(dir, "inventory.csv"),
        path(dir, "parties.json"),
        path(dir, "policy.json"),
    );
    let mut args = vec![
        "migrate",
        "--inventory",
        &inventory,
        "--parties",
        &parties,
        "--policy",
        &policy,
        "--state",
        url,
        "--transport",
        transport,
        "--deadline",
        "1s",
        "--now",
        SIM_START,
    ];
    args.extend_from_slice(extra);
    gbcs(&args)
}

fn last_line(s: &str) -> String {
    s.trim_end().lines().last().unwrap_or_default().to_owned()
}

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_inventory_run_ends_as_the_simulated_run_of_the_same_fleet_and_is_then_complete() {
    let dir = inputs("inventory-same", 60, 11);
    let url = store(&dir, "run.sqlite");
    // The inventory in windows of 25 (a child of meters per window); the simulated run whole.
    let run = ok(&migrate(&dir, &url, &meters(60, 11), &["--window", "25"]));
    let simulated = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "60",
        "--seed",
        "11",
        "--deadline",
        "1s",
        "--transport",
        &meters(60, 11),
    ]));
    assert!(
        last_line(&run).starts_with("complete: 60 devices, "),
        "{run}"
    );
    assert_eq!(last_line(&run), last_line(&simulated));
    // The per-supplier summary (the CSV block) is the same too.
    let csv = |s: &str| -> Vec<String> {
        s.lines()
            .skip_while(|l| !l.starts_with("supplier,"))
            .take_while(|l| !l.starts_with("first "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(csv(&run), csv(&simulated));
    // Run again on its finished store: nothing is sent.
    let again = ok(&migrate(&dir, &url, "exec:/nonexistent/meters", &[]));
    assert!(again.starts_with("complete: "), "{again}");
    // Its reports read the store.
    let report = ok(&gbcs(&[
        "report",
        "notices",
        "--state",
        &url,
        "--supplier",
        "SUPA01",
    ]));
    assert!(report.lines().count() >= 1, "{report}");
}

#[test]
fn an_inventory_run_killed_midway_resumes_from_its_store_to_the_end() {
    let dir = inputs("inventory-kill", 400, 5);
    // This test is about resuming: a window of outcomes from the second life alone may stand
    // near this small fleet's failure ratio, so auto-stop is given room.
    let policy_file = dir.join("policy.json");
    let mut policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&policy_file).expect("policy"))
            .expect("json");
    policy["auto_stop"]["failure_per_mille"] = 500.into();
    std::fs::write(&policy_file, policy.to_string()).expect("write");
    let url = store(&dir, "run.sqlite");
    let world = format!("sqlite:{}", path(&dir, "world.sqlite"));
    let transport = format!("{} --world {world}", meters(400, 5));
    let (inventory, parties, policy) = (
        path(&dir, "inventory.csv"),
        path(&dir, "parties.json"),
        path(&dir, "policy.json"),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args([
            "migrate",
            "--inventory",
            &inventory,
            "--parties",
            &parties,
            "--policy",
            &policy,
            "--state",
            &url,
            "--transport",
            &transport,
            "--deadline",
            "1s",
            "--max-in-flight",
            "20",
            "--now",
            SIM_START,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Killed once the store holds progress: the first commands are committed before sent.
    let db = dir.join("run.sqlite");
    let mut waited = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
        let progress = rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if progress >= 20 || waited > 600 {
            break;
        }
    }
    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "killed before it finished");
    let out = migrate(&dir, &url, &transport, &[]);
    let text = ok(&out);
    assert!(text.starts_with("resumed: "), "{text}");
    assert!(
        last_line(&text).starts_with("complete: 400 devices, "),
        "{text}"
    );
}

#[test]
fn an_inventory_changed_after_the_run_began_is_refused_and_the_store_kept() {
    let dir = inputs("inventory-changed", 20, 3);
    let url = store(&dir, "run.sqlite");
    ok(&migrate(&dir, &url, &meters(20, 3), &[]));
    let csv = path(&dir, "inventory.csv");
    let text = std::fs::read_to_string(&csv).expect("inventory");
    let fewer: String = text.lines().take(20).map(|l| format!("{l}\n")).collect();
    std::fs::write(&csv, fewer).expect("write");
    let o = migrate(&dir, &url, &meters(20, 3), &[]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not this one"), "{}", stderr(&o));
    // A simulated run is never mixed into it either.
    let o = gbcs(&[
        "migrate",
        "--simulate",
        "20",
        "--seed",
        "3",
        "--state",
        &url,
    ]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("inventory of 20 devices"),
        "{}",
        stderr(&o)
    );
}

/// Rewrites `dir`'s parties file with `change`.
fn edit_parties(dir: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("parties.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).expect("parties")).expect("json");
    change(&mut v);
    std::fs::write(&p, v.to_string()).expect("write");
}

#[test]
fn wrong_parties_are_refused_before_anything_is_sent() {
    type Change = fn(&mut serde_json::Value);
    let cases: [(&str, Change, &str); 5] = [
        (
            "a TCoS key that is not its certificate's",
            |v| v["tcos_key"] = "parties/acb-ka.key".into(),
            "is not the key of tcos_certificate",
        ),
        (
            "the TCoS certificate given as the ECoS one",
            |v| v["ecos_certificate"] = "parties/tcos-ds.pem".into(),
            "both a TCoS and an ECoS credential",
        ),
        (
            "a field the parties file does not have",
            |v| v["colour"] = "blue".into(),
            "unknown field",
        ),
        (
            "an ACB ID that is not one",
            |v| v["acb_id"] = "ACB".into(),
            "acb_id",
        ),
        (
            "a key file that is not there",
            |v| v["acb_key"] = "parties/none.key".into(),
            "none.key",
        ),
    ];
    for (i, (what, change, says)) in cases.into_iter().enumerate() {
        let dir = inputs(&format!("inventory-parties-{i}"), 5, 2);
        edit_parties(&dir, change);
        let url = store(&dir, "run.sqlite");
        let o = migrate(&dir, &url, "exec:/nonexistent/meters", &[]);
        assert!(
            matches!(code(&o), Some(2 | 4)),
            "{what}: {:?} {}",
            code(&o),
            stderr(&o)
        );
        assert!(stderr(&o).contains(says), "{what}: {}", stderr(&o));
        // The parties are checked before the store is opened: none was made.
        assert!(!dir.join("run.sqlite").exists(), "{what}: a store was made");
    }
}

#[test]
fn wrong_inventory_rows_are_refused_at_their_record() {
    let dir = inputs("inventory-rows", 6, 4);
    let csv = path(&dir, "inventory.csv");
    let good = std::fs::read_to_string(&csv).expect("inventory");
    let lines: Vec<&str> = good.lines().collect();
    let id = |line: &str| line.split(',').next().unwrap_or_default().to_lowercase();
    let other = id(lines[2]);
    let cases: Vec<(String, &str)> = vec![
        // Device 3's row names device 2's DS certificate.
        (
            {
                let mut l: Vec<String> = lines.iter().map(|s| (*s).to_owned()).collect();
                l[3] = format!("{}keystore/{other}-ds.pem,", l[3].trim_end_matches(','));
                l.join("\n")
            },
            "record 3",
        ),
        // A device listed twice.
        (format!("{good}{}\n", lines[1]), "listed twice"),
        // A device type no one has.
        (good.replacen(",ESME,", ",ELECTRIC,", 1), "device_type"),
        // A row cut short.
        (
            format!("{good}00DB7E5700000099,ESME\n"),
            "found record with 2 fields",
        ),
        // Nothing but the header.
        (format!("{}\n", lines[0]), "no devices"),
    ];
    for (text, says) in cases {
        std::fs::write(&csv, &text).expect("write");
        let url = store(&dir, "run.sqlite");
        let o = migrate(&dir, &url, "exec:/nonexistent/meters", &[]);
        assert_eq!(code(&o), Some(4), "{says}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{says}: {}", stderr(&o));
        assert!(!dir.join("run.sqlite").exists(), "{says}: a store was made");
    }
}

#[test]
fn an_inventory_as_json_reads_as_its_csv_and_sim_is_not_its_transport() {
    let dir = inputs("inventory-json", 8, 6);
    let csv = std::fs::read_to_string(dir.join("inventory.csv")).expect("csv");
    let rows = gbcs::cos::inventory::read_csv(csv.as_bytes()).expect("rows");
    std::fs::write(
        dir.join("inventory.json"),
        serde_json::to_string(&rows).expect("json"),
    )
    .expect("write");
    let url = store(&dir, "run.sqlite");
    let (inventory, parties) = (path(&dir, "inventory.json"), path(&dir, "parties.json"));
    let base = [
        "migrate",
        "--inventory",
        &inventory,
        "--parties",
        &parties,
        "--state",
        &url,
        "--deadline",
        "1s",
    ];
    let o = gbcs(&base);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("exec:COMMAND"), "{}", stderr(&o));
    let transport = meters(8, 6);
    let mut args = base.to_vec();
    args.extend_from_slice(&["--transport", &transport]);
    let text = ok(&gbcs(&args));
    assert!(
        last_line(&text).starts_with("complete: 8 devices, "),
        "{text}"
    );
    // --inventory without --parties or --state is a usage error.
    let o = gbcs(&["migrate", "--inventory", &inventory, "--state", &url]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
}

#[test]
fn two_engines_on_postgresql_migrate_one_inventory_together() {
    let Some(url) = pg::fresh_db("inventory_engines") else {
        return;
    };
    let dir = inputs("inventory-engines", 120, 8);
    let world = format!("sqlite:{}", path(&dir, "world.sqlite"));
    let transport = format!("{} --world {world} --shared", meters(120, 8));
    let engine = |name: &'static str| {
        let (dir, url, transport) = (dir.clone(), url.clone(), transport.clone());
        std::thread::spawn(move || {
            migrate(
                &dir,
                &url,
                &transport,
                &["--engine", name, "--lease-batch", "30", "--lease-ttl", "5s"],
            )
        })
    };
    let (a, b) = (engine("a"), engine("b"));
    let (a, b) = (a.join().expect("a"), b.join().expect("b"));
    let (a, b) = (ok(&a), ok(&b));
    for out in [&a, &b] {
        assert!(
            last_line(out).starts_with("complete: 120 devices, "),
            "{out}"
        );
    }
    // Between them every batch was run once: 120 devices in batches of 30.
    let handled = |out: &str| -> usize {
        out.lines()
            .find_map(|l| l.split(", ").nth(1)?.strip_suffix(" devices")?.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(handled(&a) + handled(&b), 120, "{a}{b}");
    // The store is marked with the inventory: a simulated run is refused on it.
    let o = gbcs(&[
        "migrate",
        "--simulate",
        "120",
        "--seed",
        "8",
        "--state",
        &url,
        "--engine",
        "c",
    ]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
}

#[test]
fn writing_an_inventory_never_overwrites_and_leaves_no_partial_folder() {
    let dir = inputs("inventory-write", 4, 1);
    let before = std::fs::read_to_string(dir.join("inventory.csv")).expect("csv");
    let o = gbcs(&[
        "sim-meters",
        "--simulate",
        "9",
        "--write-inventory",
        dir.to_str().expect("path"),
    ]);
    assert_eq!(code(&o), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nothing is overwritten"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("inventory.csv")).expect("csv"),
        before
    );
    // Written through a staging folder renamed into place: none is left beside it.
    let parent = dir.parent().expect("parent");
    let partial = std::fs::read_dir(parent)
        .expect("parent")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .count();
    assert_eq!(partial, 0);
}
