//! `--state sqlite:PATH`: `migrate` writes the ledger into the store as the run goes, every
//! report command reads it and keeps the sequence numbers it issues there, and it gives the
//! same reports as the JSON ledger file of the same run. A store that holds a run is never
//! overwritten; one killed mid-run reads back whole; a URL that is not `sqlite:` is refused.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
use common::*;

const NOW: &str = "2026-03-01T07:00:00Z";

#[test]
fn reports_from_the_store_are_the_reports_from_the_ledger_file() {
    let ledger = fresh_store("state-ledger.json");
    let store = fresh_store("state.sqlite");
    let store_url = sqlite_url(&store);
    // The same run as the report tests', written to both.
    migrate_simulated(&[
        "--ledger",
        ledger.to_str().expect("path"),
        "--state",
        &store_url,
    ]);
    let from = |source: &[&str], args: &[&str]| {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        all.extend_from_slice(source);
        if args[0] != "notices" {
            all.extend_from_slice(&["--now", NOW]);
        }
        gbcs(&all)
    };
    let file = ["--ledger", ledger.to_str().expect("path")];
    let state = ["--state", store_url.as_str()];
    for args in [
        &["ecosmig-007", "--supplier", "SUPA01", "--month", "2025-12"][..],
        &[
            "ecosmig-005",
            "--supplier",
            "SUPB02",
            "--week",
            "2025-12-03",
        ],
        &["ecosmig-001", "--supplier", "SUPA01", "--day", "2025-12-01"],
        &["ecosmig-002", "--supplier", "SUPC03", "--day", "2025-12-01"],
        &[
            "ecosmig-004",
            "--supplier",
            "SUPA01",
            "--day",
            "2025-12-31",
            "--from-start",
        ],
        &["ecosmig-006", "--supplier", "MAPA01", "--month", "2025-12"],
        &["notices", "--supplier", "SUPA01"],
        &["notices", "--dcc"],
    ] {
        assert_eq!(ok(&from(&state, args)), ok(&from(&file, args)), "{args:?}");
    }
    // The store kept the number it issued: the next ECOSMIG-007 to SUPA01 is 2.
    let again = ok(&from(
        &state,
        &["ecosmig-007", "--supplier", "SUPA01", "--month", "2026-01"],
    ));
    assert!(again.starts_with("00,ECOSMIG-007,SUPA01,2,"), "{again}");
    // The schedule from the store: written, then nothing more due.
    let dir = tmp("state-reports");
    let _ = std::fs::remove_dir_all(&dir);
    let wrote = ok(&from(
        &state,
        &["due", "--write", dir.to_str().expect("path")],
    ));
    assert!(wrote.contains(" reports written, 0 kept"), "{wrote}");
    assert_eq!(ok(&from(&state, &["due"])), "");
    // A store that holds a run is never overwritten.
    let before = std::fs::metadata(&store).expect("store").len();
    let refused = gbcs(&["migrate", "--simulate", "10", "--state", &store_url]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing is overwritten"));
    assert_eq!(ok(&from(&state, &["due"])), "", "unchanged");
    assert!(std::fs::metadata(&store).expect("store").len() >= before);
    // Not a store this build opens (exit 2); a server that is not there (exit 4); a file it
    // cannot create (exit 4).
    let other = from(
        &["--state", "mysql://localhost/gbcs"],
        &["notices", "--dcc"],
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("sqlite:PATH or postgres://"));
    let pg = from(
        &[
            "--state",
            "postgres://postgres@localhost/gbcs?host=/nonexistent-dir",
        ],
        &["notices", "--dcc"],
    );
    assert_eq!(pg.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&pg.stderr).contains("postgres: "));
    let nowhere = from(
        &["--state", "sqlite:/nonexistent-dir/x/state.sqlite"],
        &["notices", "--dcc"],
    );
    assert_eq!(nowhere.status.code(), Some(4));
    // A file that is not a database: refused (exit 4), and left as it was.
    let text = fresh_store("not-a-store.sqlite");
    std::fs::write(&text, "not a database, a note someone kept\n").expect("write");
    let refused = from(
        &["--state", sqlite_url(&text).as_str()],
        &["notices", "--dcc"],
    );
    assert_eq!(
        refused.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&text).expect("read"),
        "not a database, a note someone kept\n"
    );
    // --ledger and --state together are a usage error.
    let both = from(
        &[
            "--state",
            store_url.as_str(),
            "--ledger",
            ledger.to_str().expect("path"),
        ],
        &["notices", "--dcc"],
    );
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn a_migration_killed_mid_run_leaves_a_store_that_reads_back_whole_and_resumes_to_the_end() {
    let mut batches = 0;
    // A 2,000-meter run takes some seconds (debug build): killed early, midway and late.
    for (n, delay_ms) in [(2_000, 1_500u64), (2_000, 3_000), (2_000, 5_000)] {
        let store = fresh_store(&format!("killed-{delay_ms}.sqlite"));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
            .args([
                "migrate",
                "--simulate",
                &n.to_string(),
                "--rtt-median",
                "50ms",
                "--rtt-p99",
                "500ms",
                "--state",
                &sqlite_url(&store),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever was committed reads back as a ledger; nothing half-written.
        let s = gbcs::store::SqliteLedger::open(&store).expect("opens after a kill");
        let ledger = s.ledger().expect("reads back whole");
        let entries = s.len().expect("len");
        assert_eq!(ledger.to_entries().is_empty(), entries == 0);
        batches += usize::from(entries > 0);
        if delay_ms == 3_000 {
            // The same run again resumes where the store stands and finishes.
            let o = gbcs(&[
                "migrate",
                "--simulate",
                &n.to_string(),
                "--state",
                &sqlite_url(&store),
            ]);
            let out = ok(&o);
            if entries > 0 {
                assert!(out.starts_with("resumed: "), "{out}");
            }
            let last = out.trim_end().lines().last().unwrap_or_default().to_owned();
            assert!(last.starts_with("complete: 2000 devices"), "{last}");
            let s = gbcs::store::SqliteLedger::open(&store).expect("opens");
            let r = s.resumption().expect("resumption");
            assert!(r.unresolved.is_empty(), "{:?}", r.unresolved.first());
            assert_eq!(r.progress.len(), n);
        }
    }
    assert!(batches > 0, "at least one kill came after a commit");
}

#[test]
fn a_stopped_migration_exits_5_and_an_existing_ledger_file_is_never_overwritten() {
    // Most replies lost: auto-stop stops the run.
    let out = gbcs(&[
        "migrate",
        "--simulate",
        "400",
        "--loss",
        "0.6",
        "--deadline",
        "2s",
    ]);
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("stopped: ")),
        "{stderr}"
    );
    // Its output is there as a finished run's, the figures last.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .starts_with("peak in flight: "));
    // A ledger file already there is another run's: refused before anything runs.
    let ledger = fresh_store("existing-ledger.json");
    std::fs::write(&ledger, "{\"kept\": true}\n").expect("write");
    let refused = gbcs(&[
        "migrate",
        "--simulate",
        "10",
        "--ledger",
        ledger.to_str().expect("path"),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing is overwritten"));
    assert_eq!(
        std::fs::read_to_string(&ledger).expect("read"),
        "{\"kept\": true}\n"
    );
}

#[test]
fn a_ledger_moves_between_a_file_and_a_store_unchanged_and_nothing_is_overwritten() {
    let ledger = fresh_store("move-ledger.json");
    migrate_simulated(&["--ledger", ledger.to_str().expect("path")]);
    let store = fresh_store("move.sqlite");
    let store_url = sqlite_url(&store);
    let path = ledger.to_str().expect("path");
    let imported = ok(&gbcs(&[
        "state", "import", "--ledger", path, "--state", &store_url,
    ]));
    assert!(imported.contains(" ledger entries from "), "{imported}");
    // Into a store that holds anything: refused.
    let again = gbcs(&["state", "import", "--ledger", path, "--state", &store_url]);
    assert_eq!(again.status.code(), Some(2));
    let out = fresh_store("move-back.json");
    let back = out.to_str().expect("path");
    ok(&gbcs(&[
        "state", "export", "--state", &store_url, "--out", back,
    ]));
    let read = |p: &std::path::Path| -> gbcs::cos::Ledger {
        serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("ledger")
    };
    assert_eq!(read(&out), read(&ledger));
    // Onto a file that exists: refused, the file unchanged.
    let before = std::fs::read(&out).expect("read");
    let refused = gbcs(&["state", "export", "--state", &store_url, "--out", back]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(std::fs::read(&out).expect("read"), before);
    assert!(ok(&gbcs(&["state", "export", "--help"])).contains("Example"));
}

#[test]
fn each_party_s_counters_start_where_that_party_s_stand() {
    let store = fresh_store("counters.sqlite");
    let url = format!("sqlite:{}", store.display());
    migrate_simulated(&[
        "--state",
        &url,
        "--tcos-counter",
        "5000",
        "--acb-counter",
        "900000",
    ]);
    let db = rusqlite::Connection::open(&store).expect("store");
    let range = |command: &str| -> (i64, i64, i64) {
        db.query_row(
            "SELECT COUNT(*), MIN(counter), MAX(counter) FROM events WHERE kind = 'sent' AND command = ?1",
            [command],
            |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get::<_, Option<i64>>(2)?.unwrap_or(0))),
        )
        .expect("counters")
    };
    let (migrations, lo, hi) = range("migration");
    assert!(migrations > 0);
    assert!(lo >= 5000 && hi < 900_000, "the TCoS party's: {lo}..={hi}");
    let (reads, lo, _) = range("read");
    assert!(
        reads > 0,
        "the simulated fleet has devices read before they are tried"
    );
    assert!(lo >= 900_000, "the ACB's: from {lo}");
    // Counters start at 1: 0 is refused.
    let o = gbcs(&["migrate", "--simulate", "10", "--acb-counter", "0"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn a_store_that_cannot_be_used_stops_migrate_with_exit_4_and_is_never_repaired() {
    // A directory where the file should be, and a file that is not a database.
    let dir = fresh_store("store-is-a-directory");
    std::fs::create_dir_all(&dir).expect("dir");
    let corrupt = fresh_store("corrupt.sqlite");
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&corrupt, &junk).expect("junk");
    for path in [&dir, &corrupt] {
        let url = format!("sqlite:{}", path.display());
        let o = gbcs(&["migrate", "--simulate", "10", "--state", &url]);
        assert_eq!(o.status.code(), Some(4), "{url}: {o:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(&path.display().to_string()),
            "{o:?}"
        );
    }
    assert_eq!(std::fs::read(&corrupt).expect("kept"), junk, "not repaired");
}

#[test]
fn a_finished_simulated_run_is_complete_at_once_and_another_run_is_refused() {
    let store = fresh_store("simulated-run.sqlite");
    let url = format!("sqlite:{}", store.display());
    let first = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "20",
        "--seed",
        "3",
        "--state",
        &url,
    ]));
    assert!(first
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .starts_with("complete: 20 devices"));
    let entries = gbcs::store::SqliteLedger::open(&store)
        .expect("store")
        .len()
        .expect("len");
    // The same run again: finished already, nothing done.
    let again = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "20",
        "--seed",
        "3",
        "--state",
        &url,
    ]));
    assert!(again.starts_with("complete: "), "{again}");
    assert!(again.contains("nothing to do"), "{again}");
    // Another seed or size: refused, the store untouched.
    for args in [["20", "4"], ["21", "3"]] {
        let o = gbcs(&[
            "migrate",
            "--simulate",
            args[0],
            "--seed",
            args[1],
            "--state",
            &url,
        ]);
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--simulate 20 --seed 3, not this one"));
    }
    let after = gbcs::store::SqliteLedger::open(&store)
        .expect("store")
        .len()
        .expect("len");
    assert_eq!(after, entries);
}
