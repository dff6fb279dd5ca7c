//! A simulated fleet taken a window at a time (`migrate --simulate N --state URL --window W`):
//! each window's engine holds that window's devices only, read back from the store. The run
//! ends as the whole-fleet run of the same seed ends; killed, it resumes at the window the
//! store marks, with any window size; the devices of a window are the whole fleet's.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

use gbcs::cos::migration::MigrationStatus;
use gbcs::sim::fleet::{FleetMix, SimulatedFleet, SimulatedMigration};

/// The lines of a run's output that say what it did (not how fast).
fn outcome_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| {
            !l.contains("per second") && !l.contains("attempts/s") && !l.starts_with("peak")
        })
        .map(str::to_owned)
        .collect()
}

/// Each device's status, cell state and attempts, as the store holds them.
fn outcomes(store: &std::path::Path) -> BTreeMap<String, (MigrationStatus, String, u32)> {
    let s = gbcs::store::SqliteLedger::open(store).expect("opens");
    s.resumption()
        .expect("resumption")
        .progress
        .into_iter()
        .map(|(d, p)| {
            (
                d.to_string(),
                (p.status, format!("{:?}", p.state), p.attempts),
            )
        })
        .collect()
}

#[test]
fn a_fleet_taken_in_windows_ends_as_the_whole_fleet_run() {
    let (a, b) = (
        fresh_store("windows-150.sqlite"),
        fresh_store("windows-whole.sqlite"),
    );
    let windowed = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "600",
        "--window",
        "150",
        "--state",
        &sqlite_url(&a),
    ]));
    let whole = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "600",
        "--state",
        &sqlite_url(&b),
    ]));
    assert_eq!(
        outcome_lines(&windowed),
        outcome_lines(&whole),
        "{windowed}"
    );
    assert!(
        windowed.trim_end().ends_with("attempts") && windowed.contains("complete: 600 devices"),
        "{windowed}"
    );
    let (wa, wb) = (outcomes(&a), outcomes(&b));
    assert_eq!(wa.len(), 600);
    assert_eq!(wa, wb);
    // Every window is marked done; the same run again has nothing to do.
    let s = gbcs::store::SqliteLedger::open(&a).expect("opens");
    assert_eq!(s.done_below().expect("mark"), 600);
    let again = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "600",
        "--window",
        "150",
        "--state",
        &sqlite_url(&a),
    ]));
    assert!(again.starts_with("complete: "), "{again}");
}

#[test]
fn a_windowed_run_killed_resumes_at_its_mark_with_another_window_size_and_repeats_nothing() {
    let store = fresh_store("windows-killed.sqlite");
    let n = 1_200usize;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args([
            "migrate",
            "--simulate",
            &n.to_string(),
            "--window",
            "200",
            "--rtt-median",
            "20ms",
            "--rtt-p99",
            "200ms",
            "--loss",
            "0.02",
            "--state",
            &sqlite_url(&store),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Killed once a window or two is done and the next is under way.
    let mut mark = 0;
    for _ in 0..6_000 {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if let Ok(s) = gbcs::store::SqliteLedger::open(&store) {
            mark = s.done_below().unwrap_or(0);
        }
        if mark >= 200 {
            std::thread::sleep(std::time::Duration::from_millis(300));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        mark >= 200,
        "a window was done before the kill (mark {mark})"
    );
    let mark = gbcs::store::SqliteLedger::open(&store)
        .expect("opens after a kill")
        .done_below()
        .expect("mark");

    let out = ok(&gbcs(&[
        "migrate",
        "--simulate",
        &n.to_string(),
        "--window",
        "350",
        "--state",
        &sqlite_url(&store),
    ]));
    assert!(
        out.starts_with(&format!("resumed: devices below {mark} done with")),
        "{out}"
    );
    let last = out.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("complete: {n} devices")),
        "{last}"
    );

    let s = gbcs::store::SqliteLedger::open(&store).expect("opens");
    assert_eq!(s.done_below().expect("mark"), u64::try_from(n).expect("n"));
    let r = s.resumption().expect("resumption");
    assert!(r.unresolved.is_empty(), "{:?}", r.unresolved.first());
    assert_eq!(r.progress.len(), n);
    // No counter went to a device twice, and each device's counters only went up.
    let conn = rusqlite::Connection::open(&store).expect("open");
    let mut stmt = conn
        .prepare("SELECT device, command, counter FROM events WHERE kind = 'sent' ORDER BY seq")
        .expect("query");
    let rows: Vec<(i64, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert!(!rows.is_empty());
    // Each party (the TCoS's migrations, the ACB's reads) has a sequence of its own.
    let mut seen = BTreeSet::new();
    let mut last_of: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for (device, command, counter) in rows {
        assert!(
            seen.insert((command.clone(), counter)),
            "{command} counter {counter} sent twice"
        );
        if let Some(prev) = last_of.insert((device, command.clone()), counter) {
            assert!(
                counter > prev,
                "device {device}: {command} {counter} after {prev}"
            );
        }
    }
    // The ledger of a window's devices, read through the device index, is the whole ledger's
    // for them.
    let ids: Vec<_> = r.progress.iter().take(300).map(|(d, _)| *d).collect();
    let whole = s.ledger().expect("ledger");
    let some = s.ledger_of(&ids).expect("ledger of");
    let wanted: BTreeSet<_> = ids.iter().copied().collect();
    let theirs: Vec<_> = whole
        .to_entries()
        .into_iter()
        .filter(|e| e.device().is_some_and(|d| wanted.contains(&d)))
        .collect();
    assert!(!theirs.is_empty());
    assert_eq!(some.to_entries(), theirs);
}

#[test]
fn the_devices_of_a_window_are_the_whole_fleet_s() {
    let sim = SimulatedMigration::new(b"windows", 9, 0, &FleetMix::default(), 1_764_547_200)
        .expect("pki");
    let whole = SimulatedFleet::generate_for(
        &sim.pki,
        &sim.parties,
        9,
        301,
        &FleetMix::default(),
        1_764_547_200,
    )
    .expect("fleet");
    for range in [0..97, 97..250, 250..301, 300..301, 10..10] {
        let part = SimulatedFleet::generate_range(
            &sim.pki,
            &sim.parties,
            9,
            range.clone(),
            &FleetMix::default(),
            1_764_547_200,
        )
        .expect("window");
        assert_eq!(part.records[..], whole.records[range.clone()], "{range:?}");
        assert_eq!(
            part.profiles[..],
            whole.profiles[range.clone()],
            "{range:?}"
        );
        // Its meters answer under the fleet's numbers, and no other.
        for (k, r) in part.records.iter().enumerate() {
            assert!(
                part.meters.with_device(r.entity_id, |_| ()).is_some(),
                "{k}"
            );
        }
        if let Some(outside) = range.start.checked_sub(1) {
            let id = whole.records[outside].entity_id;
            assert!(part.meters.with_device(id, |_| ()).is_none());
        }
    }
}

#[test]
fn a_fleet_that_fails_everything_stops_in_small_windows_as_it_stops_whole() {
    // Every reply lost: every attempt fails. Windows of 20 hold fewer outcomes than the 100
    // auto-stop needs before it judges; the judgement goes on from window to window, so the
    // run stops, as the whole-fleet run does.
    let store = fresh_store("windows-all-fail.sqlite");
    let o = gbcs(&[
        "migrate",
        "--simulate",
        "400",
        "--window",
        "20",
        "--loss",
        "1",
        "--deadline",
        "1s",
        "--state",
        &sqlite_url(&store),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(5), "{out}");
    // (Judged afresh in each window, this run went on to "complete" with 1,740 failed
    // attempts and nothing migrated.)
    assert!(out.contains("AUTO-STOP: "), "{out}");
    assert!(!out.contains("complete: "), "{out}");
    let s = gbcs::store::SqliteLedger::open(&store).expect("opens");
    assert!(s.done_below().expect("mark") < 400);
    assert!(s.resumption().expect("resumption").stopped.is_some());
}

#[test]
fn window_needs_a_store_and_is_not_for_leased_engines_and_zero_is_refused() {
    let o = gbcs(&["migrate", "--simulate", "10", "--window", "5"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let store = fresh_store("windows-zero.sqlite");
    for bad in ["0", "-1", "ten", "99999999999999999999999"] {
        let o = gbcs(&[
            "migrate",
            "--simulate",
            "10",
            "--window",
            bad,
            "--state",
            &sqlite_url(&store),
        ]);
        assert_eq!(o.status.code(), Some(2), "--window {bad}: {o:?}");
        assert!(!store.exists(), "--window {bad} made a store");
    }
    let o = gbcs(&[
        "migrate",
        "--simulate",
        "10",
        "--window",
        "5",
        "--engine",
        "a",
        "--state",
        "postgres://nowhere/x",
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
