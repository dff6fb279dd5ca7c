//! The PostgreSQL store against the SQLite one and against its server: the same records give
//! the same ledger, the same resumption and the same dashboard activity; a database of a newer schema is refused; a
//! server that goes away mid-run stops `migrate` with exit 4 and a clear error, every batch
//! committed before stays, and the same command resumes the run to its end.

#[path = "support/pg.rs"]
mod pg;

use gbcs::cos::engine::{EngineConfig, StartingCounters};
use gbcs::sim::fleet::{FleetMix, SimulatedMigration};
use gbcs::sim::network::NetworkProfile;
use gbcs::store::{MigrationStore, SqliteLedger, StoreError};
use std::time::Duration;

#[test]
fn the_same_records_read_back_the_same_from_postgresql_and_sqlite() {
    let Some(url) = pg::fresh_db("parity") else {
        return;
    };
    let mut sim = SimulatedMigration::new(b"parity", 3, 200, &FleetMix::default(), 1_764_547_200)
        .expect("fleet");
    let mut h = sim.harness(
        EngineConfig::default(),
        StartingCounters { tcos: 1, acb: 1 },
        NetworkProfile {
            rtt_median_ms: 1_000,
            rtt_p99_ms: 40_000,
            loss: 0.05,
            late: 0.05,
            duplicate: 0.05,
            seed: 3,
        },
    );
    // Half the run: commands still in flight when the records stop.
    sim.run_until(&mut h, 1_764_547_200 + 20).expect("run");
    let records: Vec<_> = h.records.iter().map(|r| r.1.clone()).collect();
    assert!(records.len() > 100);
    let dir = std::env::temp_dir().join(format!("gbcs-pg-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("parity.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut lite = SqliteLedger::open(&path).expect("sqlite");
    let mut pg = gbcs::store::open_url(&url).expect("postgres");
    // In several batches, as the driver commits them.
    for chunk in records.chunks(97) {
        MigrationStore::append_records(&mut lite, chunk).expect("sqlite append");
        pg.append_records(chunk).expect("postgres append");
    }
    assert_eq!(
        pg.ledger().expect("pg ledger"),
        MigrationStore::ledger(&lite).expect("ledger")
    );
    let (a, b) = (
        pg.resumption().expect("pg resumption"),
        MigrationStore::resumption(&lite).expect("resumption"),
    );
    assert!(!b.unresolved.is_empty(), "some commands in flight");
    assert_eq!(a, b);
    // Some devices only (a window, a lease batch): each store reads theirs through its
    // device index, and both read what the whole ledger and progress hold for them.
    let some: Vec<_> = b
        .progress
        .iter()
        .map(|(d, _)| *d)
        .chain(b.unresolved.iter().map(|u| u.device))
        .step_by(3)
        .collect();
    let wanted: std::collections::BTreeSet<_> = some.iter().copied().collect();
    let theirs: Vec<_> = MigrationStore::ledger(&lite)
        .expect("ledger")
        .to_entries()
        .into_iter()
        .filter(|e| e.device().is_some_and(|d| wanted.contains(&d)))
        .collect();
    assert!(!theirs.is_empty());
    assert_eq!(
        pg.ledger_of(&some).expect("pg ledger of").to_entries(),
        theirs
    );
    assert_eq!(
        MigrationStore::ledger_of(&lite, &some)
            .expect("ledger of")
            .to_entries(),
        theirs
    );
    let (mut x, mut y) = (
        pg.resumption_of(&some).expect("pg resumption of"),
        MigrationStore::resumption_of(&lite, &some).expect("resumption of"),
    );
    x.progress.sort_by_key(|p| p.0);
    y.progress.sort_by_key(|p| p.0);
    assert_eq!(x, y);
    assert_eq!(
        x.progress.len(),
        wanted
            .iter()
            .filter(|d| b.progress.iter().any(|p| p.0 == **d))
            .count()
    );
    assert!(x.unresolved.iter().all(|u| wanted.contains(&u.device)));
    assert_eq!(
        x.unresolved.len(),
        b.unresolved
            .iter()
            .filter(|u| wanted.contains(&u.device))
            .count()
    );
    let span = pg.events_span().expect("span");
    assert_eq!(span, MigrationStore::events_span(&lite).expect("span"));
    // The dashboard's activity, aggregated by each database, over the run and over windows
    // that cut it (commands sent before the window count as in flight at its start).
    let (lo, hi) = span.expect("events");
    for (from, to) in [
        (lo, hi),
        (lo + 5, hi),
        (lo - 3_600, lo + 7),
        (hi + 1, hi + 100),
    ] {
        let buckets = gbcs::cos::engine::Buckets::covering(from, to);
        let a = pg.activity(buckets).expect("pg activity");
        assert_eq!(
            a,
            MigrationStore::activity(&lite, buckets).expect("activity"),
            "{from}..{to}"
        );
        if (from, to) == (lo, hi) {
            assert!(a.recorded && a.sent.iter().sum::<u64>() > 100, "{a:?}");
        }
    }
}

#[test]
fn a_postgresql_database_of_a_newer_schema_is_refused() {
    let Some(url) = pg::fresh_db("newer") else {
        return;
    };
    drop(gbcs::store::open_url(&url).expect("set up"));
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    c.execute(
        "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
        &[],
    )
    .expect("bump");
    match gbcs::store::open_url(&url) {
        Err(StoreError::NewerSchema { found: 99, .. }) => {}
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[test]
fn a_server_that_goes_away_mid_run_stops_migrate_with_exit_4_and_the_run_resumes() {
    let Some(url) = pg::fresh_db("gone") else {
        return;
    };
    let db = format!("gbcs_gone_{}", std::process::id());
    let args = [
        "migrate",
        "--simulate",
        "3000",
        "--rtt-median",
        "2s",
        "--state",
        &url,
    ];
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Once the run is connected and has committed something, its connection is ended.
    let mut committed = 0;
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(50));
        if pg::connections(&url, &db) > 1 {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            committed = c
                .query_one("SELECT COUNT(*) FROM events", &[])
                .map_or(0, |r| r.get::<_, i64>(0));
            if committed > 0 {
                break;
            }
        }
    }
    assert!(committed > 0, "the run never committed");
    assert!(pg::terminate_connections(&url, &db) >= 1);
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    // The server's own words when the client read them before the socket closed, else the
    // closed connection: either way, the store named and the connection's end said.
    assert!(
        err.contains("postgres: terminating connection")
            || err.contains("postgres: connection closed"),
        "{err}"
    );
    // What was committed stays, whole.
    let store = gbcs::store::open_url(&url).expect("reconnect");
    assert!(!store.is_empty().expect("entries"));
    let kept = store.events_span().expect("span");
    assert!(kept.is_some());
    drop(store);
    // The same command resumes and finishes.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args(args)
        .output()
        .expect("resume");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("resumed: "), "{text}");
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("complete: 3000 devices"),
        "{text}"
    );
}

#[test]
fn the_dashboard_and_reports_read_a_postgresql_store_as_they_read_sqlite() {
    let Some(url) = pg::fresh_db("dash") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("gbcs-pg-dash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let lite = format!("sqlite:{}", dir.join("run.sqlite").display());
    let gbcs = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
            .args(args)
            .output()
            .expect("run");
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    for state in [url.as_str(), lite.as_str()] {
        gbcs(&[
            "migrate",
            "--simulate",
            "120",
            "--seed",
            "9",
            "--state",
            state,
        ]);
    }
    let page = |state: &str, name: &str| {
        let out = dir.join(name);
        let said = gbcs(&[
            "dashboard",
            "--state",
            state,
            "--out",
            out.to_str().expect("path"),
            "--now",
            "2026-01-01T00:00:00Z",
        ]);
        let html = std::fs::read_to_string(&out).expect("page");
        (said, html)
    };
    let (pg_said, pg_page) = page(&url, "pg.html");
    let (lite_said, lite_page) = page(&lite, "lite.html");
    assert!(pg_said.starts_with("dashboard of 120 devices"), "{pg_said}");
    assert_eq!(
        pg_said.split(", written").next(),
        lite_said.split(", written").next()
    );
    // Both pages chart the commands the store recorded (the activity is aggregated by the
    // database: `the_same_records_read_back_…` shows it equal to SQLite's for the same
    // records; two real-time runs need not fall into the same bars).
    for page in [&pg_page, &lite_page] {
        assert!(
            page.contains("First commands per second"),
            "no activity charted"
        );
        assert!(page.contains("Commands in flight at the end of each bar"));
    }
    let report = |state: &str| {
        gbcs(&[
            "report",
            "ecosmig-007",
            "--state",
            state,
            "--supplier",
            "SUPA01",
            "--month",
            "2025-12",
            "--now",
            "2026-01-01T06:00:00Z",
        ])
    };
    assert_eq!(report(&url), report(&lite));
}
