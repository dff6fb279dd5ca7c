//! The crash harness: `gbcs migrate` over a lossy network with late replies, its state in
//! SQLite, killed with SIGKILL at random instants and started again until the fleet is done.
//! The meters are the outside world: `gbcs sim-meters --world` keeps their memory and a log
//! of every command delivered in a file that outlives every engine process (and every
//! sim-meters process: the engine's child dies with it).
//!
//! Then, against the meters' own log: no counter was ever delivered twice to a device or at
//! or below one it had seen (no replay refusal); no device had its role-5 cell replaced
//! twice; every command a meter took appears in the store as sent; the store and the meters
//! agree on every device's cell; nothing is left in flight.
//!
//! Bounded for CI (20 kills, 400 meters); for longer runs, `GBCS_CRASH_KILLS` and
//! `GBCS_CRASH_METERS` (and `GBCS_CRASH_SEED`) raise them: `scripts/crash-harness`.

use gbcs::sim::fleet::SplitMix64;
use gbcs::store::world::MeterWorld;
use std::process::{Command, Stdio};
use std::time::Duration;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Commands the meters have taken so far (0 before the world exists).
fn delivered(world: &std::path::Path) -> u64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(world, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT COUNT(*) FROM deliveries", [], |r| {
        r.get::<_, i64>(0)
    })
    .ok()
    .and_then(|v| u64::try_from(v).ok())
    .unwrap_or(0)
}

#[path = "support/pg.rs"]
mod pg;
#[path = "support/world_checks.rs"]
mod world_checks;

#[test]
fn migrate_killed_at_random_instants_loses_nothing_and_repeats_nothing() {
    let dir = scratch("sqlite");
    let state = format!("sqlite:{}", dir.join("state.sqlite").display());
    // The fleet in windows of 150 (a run larger than memory's shape): kills fall inside
    // windows and between them, and each life resumes at the window the store marks.
    crash_harness(&dir, &state, &["--window", "150"]);
}

#[test]
fn migrate_on_postgresql_killed_at_random_instants_loses_nothing_and_repeats_nothing() {
    let Some(state) = pg::fresh_db("crash") else {
        return;
    };
    crash_harness(&scratch("postgres"), &state, &[]);
}

/// A fresh folder for one harness's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gbcs-crash-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// Kills `migrate` (its state at `state`, its meters' world in `dir`) at random instants
/// until it finishes, then checks the store against the meters.
fn crash_harness(dir: &std::path::Path, state: &str, extra: &[&str]) {
    let kills_wanted = env_or("GBCS_CRASH_KILLS", 20);
    let n = env_or("GBCS_CRASH_METERS", 400);
    let mut rng = SplitMix64::new(env_or("GBCS_CRASH_SEED", 20_261_207));
    let world = dir.join("world.sqlite");
    let bin = env!("CARGO_BIN_EXE_gbcs");
    let transport = format!(
        "exec:{bin} sim-meters --simulate {n} --seed 4 --world sqlite:{} --loss 0.02 --late 0.01 --late-by 3s",
        world.display()
    );
    let mut args = vec![
        "migrate".to_owned(),
        "--simulate".to_owned(),
        n.to_string(),
        "--seed".to_owned(),
        "4".to_owned(),
        "--state".to_owned(),
        state.to_owned(),
        "--deadline".to_owned(),
        "2s".to_owned(),
        // A window as an operator sets one: a kill burns at most this many attempts.
        "--max-in-flight".to_owned(),
        "50".to_owned(),
        "--transport".to_owned(),
        transport,
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let mut kills = 0;
    let mut lives = 0;
    let finished = loop {
        lives += 1;
        let mut child = Command::new(bin)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        if kills < kills_wanted {
            // The kill falls at a random instant: after a random time (startup included), or
            // once the meters have taken a random number of this life's commands, whichever
            // comes first — so every life does some work and most die mid-flight.
            let deadline =
                std::time::Instant::now() + Duration::from_millis(100 + rng.below(1_500));
            let quota = 1 + rng.below((n / 20).max(2));
            let start = delivered(&world);
            while std::time::Instant::now() < deadline
                && delivered(&world) < start + quota
                && child.try_wait().expect("wait").is_none()
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            if child.try_wait().expect("wait").is_none() {
                child.kill().expect("SIGKILL");
                let _ = child.wait();
                kills += 1;
                continue;
            }
        }
        let out = child.wait_with_output().expect("output");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "life {lives}: {text}");
        break text;
    };
    // The bounded run must reach its 20 kills; a longer one kills until the fleet is done.
    assert!(kills >= kills_wanted.min(20), "{kills} kills");
    let last = finished.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("complete: {n} devices")),
        "{last}"
    );

    let world = MeterWorld::open(&world).expect("world");
    let (log, migrated) = world_checks::check_store_against_meters(&world, state, n);
    eprintln!(
        "{kills} kills over {lives} lives; {} commands delivered; {migrated} of {n} migrated",
        log.len()
    );
}
