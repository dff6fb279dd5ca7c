//! Two engines migrate one fleet together on one PostgreSQL database (`migrate --engine`),
//! over one meter world that outlives them (`sim-meters --world --shared`); one is killed
//! with SIGKILL midway. The other takes over its leases once they run out — its commands in
//! flight taken as lost replies — and finishes the fleet. Then, against the meters' own log:
//! no device was handled by two engines at once (one delivering process after another, never
//! interleaved), no counter was reused or went down, no cell was replaced twice, and the
//! store agrees with the meters.

#[path = "support/pg.rs"]
mod pg;
#[path = "support/world_checks.rs"]
mod world_checks;

use gbcs::store::world::MeterWorld;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn delivered(world: &std::path::Path) -> i64 {
    rusqlite::Connection::open_with_flags(world, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM deliveries", [], |r| r.get(0)))
        .unwrap_or(0)
}

#[test]
fn two_engines_share_a_fleet_and_one_takes_over_when_the_other_is_killed() {
    let Some(url) = pg::fresh_db("engines") else {
        return;
    };
    let n = 200u64;
    let dir = std::env::temp_dir().join(format!("gbcs-engines-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let world = dir.join("world.sqlite");
    let bin = env!("CARGO_BIN_EXE_gbcs");
    let transport = format!(
        "exec:{bin} sim-meters --simulate {n} --seed 4 --world sqlite:{} --shared --loss 0.02",
        world.display()
    );
    let engine = |name: &str| {
        let log = std::fs::File::create(dir.join(format!("{name}.stderr"))).expect("log");
        Command::new(bin)
            .args([
                "migrate",
                "--simulate",
                &n.to_string(),
                "--seed",
                "4",
                "--state",
                &url,
                "--engine",
                name,
                "--lease-batch",
                "40",
                // Renewed by every commit and by the driver as it waits; long enough that a
                // loaded machine's pauses do not lose them, short enough for the takeover.
                "--lease-ttl",
                "5s",
                "--deadline",
                "3s",
                "--max-in-flight",
                "20",
                "--transport",
                &transport,
            ])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn")
    };
    let said = |name: &str| std::fs::read_to_string(dir.join(format!("{name}.stderr")));
    let mut a = engine("A");
    let b = engine("B");
    // A is killed once the meters have taken some commands: mid-batch, commands in flight.
    let started = Instant::now();
    while delivered(&world) < 60 && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        a.try_wait().expect("wait").is_none(),
        "A finished before the kill ({} delivered): A said {:?}; B said {:?}",
        delivered(&world),
        said("A"),
        said("B")
    );
    a.kill().expect("SIGKILL");
    let _ = a.wait();
    let out = b.wait_with_output().expect("B");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}; B said {:?}", said("B"));
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with(&format!("complete: {n} devices")),
        "{text}"
    );

    let world = MeterWorld::open(&world).expect("world");
    let (log, migrated) = world_checks::check_store_against_meters(&world, &url, n);
    // One engine at a time per device: the processes that delivered to it follow one
    // another and never interleave.
    let mut order: BTreeMap<_, Vec<u32>> = BTreeMap::new();
    for d in &log {
        let v = order.entry(d.device).or_default();
        if v.last() != Some(&d.via) {
            assert!(
                !v.contains(&d.via),
                "{}: delivered by {:?} then {} again",
                d.device,
                v,
                d.via
            );
            v.push(d.via);
        }
    }
    let moved = order.values().filter(|v| v.len() > 1).count();
    eprintln!(
        "{} commands delivered, {migrated} of {n} migrated, {moved} devices handled by a second process; B: {}",
        log.len(),
        text.lines().next().unwrap_or_default()
    );
}

#[test]
fn an_engine_waiting_with_nothing_to_commit_keeps_its_leases() {
    use gbcs::store::pg::PgStore;
    let Some(url) = pg::fresh_db("keepalive") else {
        return;
    };
    let devices: Vec<_> = (0..10).map(gbcs::sim::pki::ids::device).collect();
    let mut a = PgStore::connect(&url).expect("A");
    a.seed_leases(&devices).expect("seed");
    let ttl_ms = 3_000;
    assert_eq!(a.acquire("A", 10, ttl_ms).expect("A leases").len(), 10);
    let mut b = PgStore::connect(&url).expect("B");
    // Twice the lease's life with nothing committed, the driver's keepalive running.
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_millis(2 * 3_000) {
        a.keep_leases().expect("renewed");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        b.acquire("B", 10, ttl_ms).expect("B").is_empty(),
        "A kept them"
    );
    // Without it the leases run out and another engine takes them; A then knows it lost them.
    std::thread::sleep(Duration::from_millis(3_000 + 500));
    assert_eq!(b.acquire("B", 10, ttl_ms).expect("B").len(), 10);
    assert!(a.keep_leases().is_err(), "A's devices are B's now");
}
