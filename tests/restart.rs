//! A run that dies at random instants and resumes from its SQLite store, on the virtual-time
//! harness: the simulated meters are the outside world and outlive every engine (one
//! `Meters` for all of them), the engine and its network do not (a command on the wire when
//! the engine dies is lost with it). Between lives the only thing kept is the store, written
//! as the driver writes it (every record committed before what depends on it goes out).
//!
//! Asserted against the meters: no counter was sent twice to a device or at or below one sent
//! to it before (per party); no device was migrated by two commands; every device the store
//! says is migrated holds the ECoS credential and every other holds the TCoS one; the fleet
//! finishes; and the ledger's attempts equal the devices' recorded attempts.

use gbcs::cos::engine::{CommandKind, Engine, EngineConfig, Record, StartingCounters, UnixTime};
use gbcs::cos::migration::MigrationStatus;
use gbcs::payload::TrustAnchorCellIdentifier;
use gbcs::sim::fleet::{FleetMix, SimulatedMigration, SplitMix64};
use gbcs::sim::harness::Harness;
use gbcs::sim::network::NetworkProfile;
use gbcs::sim::pki::ids;
use gbcs::store::{MigrationStore, SqliteLedger};
use std::collections::BTreeMap;

const START: i64 = 1_764_547_200;

fn store_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gbcs-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

/// An engine resumed from `store` over the fleet's inventory (`inventory`: the records as the
/// fleet made them).
fn resumed(
    sim: &SimulatedMigration,
    inventory: &[gbcs::cos::migration::DeviceRecord],
    store: &dyn MigrationStore,
    config: EngineConfig,
    now: UnixTime,
    taken_over: &mut usize,
) -> Engine {
    let r = store.resumption().expect("resumption");
    *taken_over += r.unresolved.len();
    assert!(r.stopped.is_none(), "stopped: {:?}", r.stopped);
    let progress: BTreeMap<_, _> = r.progress.into_iter().collect();
    let mut records = inventory.to_vec();
    for rec in &mut records {
        if let Some(p) = progress.get(&rec.entity_id) {
            rec.restore(p.clone());
        }
    }
    Engine::restart(
        records,
        store.ledger().expect("ledger"),
        &r.unresolved,
        sim.policy.clone(),
        config,
        r.counters,
        now,
    )
}

#[path = "support/pg.rs"]
mod pg;

#[test]
fn a_run_killed_twenty_times_resumes_from_its_store_and_no_counter_or_migration_repeats() {
    let path = store_path("killed.sqlite");
    killed_twenty_times(&|| Box::new(SqliteLedger::open(&path).expect("open")));
}

#[test]
fn a_run_killed_twenty_times_resumes_from_postgresql_and_no_counter_or_migration_repeats() {
    let Some(url) = pg::fresh_db("restart") else {
        return;
    };
    killed_twenty_times(&|| gbcs::store::open_url(&url).expect("connect"));
}

/// Kills the run 20 times; `open` opens the same store each time.
fn killed_twenty_times(open: &dyn Fn() -> Box<dyn MigrationStore>) {
    let n = 400;
    let mut sim =
        SimulatedMigration::new(b"restart", 11, n, &FleetMix::default(), START).expect("fleet");
    let inventory = sim.fleet.records.clone();
    let config = EngineConfig {
        deadline_millis: 20_000,
        counter_block: 64,
        ..EngineConfig::default()
    };
    let profile = NetworkProfile {
        rtt_median_ms: 2_000,
        rtt_p99_ms: 30_000,
        loss: 0.05,
        late: 0.03,
        duplicate: 0.02,
        seed: 5,
    };
    let mut rng = SplitMix64::new(2026);
    let mut engine = sim.engine(config, StartingCounters { tcos: 1, acb: 1 });
    // Every command that left, across every life, in order.
    let mut sent: Vec<(gbcs::frame::EntityId, CommandKind, u64)> = Vec::new();
    let mut kills = 0;
    let mut taken_over = 0;
    let mut now = UnixTime::from_secs(START);
    loop {
        let mut store = open();
        let mut h = Harness::new(
            engine,
            NetworkProfile {
                seed: rng.next_u64(),
                ..profile
            },
        );
        // Records reach the store as the harness makes them durable; the engine sends
        // nothing before that.
        let life_ends = if kills < 20 {
            Some(now.plus_millis(i64::try_from(rng.below(40_000)).expect("ms") + 1))
        } else {
            None
        };
        sim.with_context(|ctx| {
            let mut written = 0;
            loop {
                let until = life_ends.unwrap_or(UnixTime(i64::MAX));
                let more = h.step(ctx, &sim.fleet.meters, until);
                let fresh: Vec<Record> = h.records[written..].iter().map(|r| r.1.clone()).collect();
                store.append_records(&fresh).expect("append");
                written = h.records.len();
                if !more {
                    break;
                }
            }
        })
        .expect("context");
        sent.extend(h.sent.iter().map(|(_, t)| (t.device, t.kind, t.counter)));
        now = h.now().max(h.engine.now());
        let finished = h.engine.is_finished() && life_ends.is_none();
        if finished {
            engine = h.engine;
            break;
        }
        // Killed: the engine, its network and everything in flight on it are gone.
        kills += 1;
        drop(h);
        drop(store);
        let store = open();
        now = now.plus_millis(1_000);
        engine = resumed(&sim, &inventory, &*store, config, now, &mut taken_over);
    }
    assert!(kills >= 20);
    assert!(
        taken_over > 0,
        "some lives ended with commands in flight (taken as lost replies)"
    );

    // Counters only go up, per device and party, across every life.
    let mut last: BTreeMap<(gbcs::frame::EntityId, CommandKind), u64> = BTreeMap::new();
    for (device, kind, counter) in &sent {
        let party_kind = *kind;
        if let Some(before) = last.insert((*device, party_kind), *counter) {
            assert!(
                *counter > before,
                "{device}: {kind:?} counter {counter} after {before}"
            );
        }
    }
    // The store and the meters agree on every device.
    let store = open();
    let progress: BTreeMap<_, _> = store
        .resumption()
        .expect("resumption")
        .progress
        .into_iter()
        .collect();
    let mut migrated = 0;
    for rec in engine.records() {
        let cell = sim
            .fleet
            .meters
            .with_device(rec.entity_id, |d| {
                d.cell(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
                    .map(|c| c.entity_id)
            })
            .flatten();
        let stored = progress.get(&rec.entity_id).expect("every device stored");
        assert_eq!(stored.status, rec.status, "{}", rec.entity_id);
        if rec.status == MigrationStatus::Migrated {
            migrated += 1;
        }
        // The store's view of the cell is the meter's: ECoS where it says ECoS (migrated
        // by this run, or already), TCoS elsewhere.
        let want = if rec.state == gbcs::cos::CosState::Ecos {
            ids::ECOS
        } else {
            ids::TCOS
        };
        assert_eq!(
            cell,
            Some(want),
            "{}: {:?} {:?}",
            rec.entity_id,
            rec.status,
            rec.state
        );
    }
    // No device counted as migrated twice: the ledger's migrations completed are exactly the
    // devices this run moved to ECoS.
    let ledger = store.ledger().expect("ledger");
    let moved = engine
        .records()
        .iter()
        .zip(&inventory)
        .filter(|(now, before)| {
            now.status == MigrationStatus::Migrated && before.status != MigrationStatus::Migrated
        })
        .count();
    let completed: u64 = ledger
        .summary_as_at(i64::MAX)
        .values()
        .map(|c| c.migrations_completed)
        .sum();
    assert_eq!(completed, u64::try_from(moved).expect("n"));
    assert_eq!(
        ledger.total_attempts(),
        engine
            .records()
            .iter()
            .map(|r| u64::from(r.attempts))
            .sum::<u64>()
    );
    let resumption = store.resumption().expect("resumption");
    assert!(resumption.unresolved.is_empty(), "nothing left in flight");
    eprintln!(
        "{kills} kills, {} commands, {taken_over} in flight at a kill, {migrated} of {n} migrated",
        sent.len()
    );
    assert!(migrated > n / 2, "{migrated}");
}

#[test]
fn two_unsettled_commands_to_one_device_leave_only_the_last_awaited() {
    use gbcs::cos::engine::{Resolution, Unresolved};
    let mut sim =
        SimulatedMigration::new(b"restart", 2, 1, &FleetMix::default(), START).expect("fleet");
    let records = std::mem::take(&mut sim.fleet.records);
    let device = records[0].entity_id;
    let at = UnixTime::from_secs(START + 10);
    let unresolved = [
        Unresolved {
            device,
            kind: CommandKind::Migration,
            counter: 3,
            at,
        },
        Unresolved {
            device,
            kind: CommandKind::Migration,
            counter: 7,
            at: at.plus_millis(1),
        },
    ];
    let mut engine = Engine::restart(
        records,
        gbcs::cos::ledger::Ledger::new(),
        &unresolved,
        sim.policy.clone(),
        EngineConfig::default(),
        StartingCounters { tcos: 8, acb: 1 },
        UnixTime::from_secs(START + 100),
    );
    let mut settled = Vec::new();
    while let Some((_, r)) = engine.poll_record() {
        if let Record::Resolved { counter, how, .. } = r {
            settled.push((counter, how));
        }
    }
    // Both are settled as unanswered; the device's unconfirmed command is the last.
    assert!(settled.contains(&(3, Resolution::NoReply)), "{settled:?}");
    assert!(settled.contains(&(7, Resolution::NoReply)), "{settled:?}");
    assert_eq!(engine.records()[0].unconfirmed, Some(7));
    assert_eq!(engine.records()[0].attempts, 1);
}

#[test]
fn commands_lost_to_the_engines_own_crash_do_not_stop_the_run_by_themselves() {
    use gbcs::cos::engine::Unresolved;
    let mut sim =
        SimulatedMigration::new(b"restart", 3, 300, &FleetMix::default(), START).expect("fleet");
    let records = std::mem::take(&mut sim.fleet.records);
    let mut policy = sim.policy.clone();
    // A window the lost commands alone would fill with failures.
    policy.auto_stop.window = 100;
    policy.auto_stop.min_samples = 50;
    let at = UnixTime::from_secs(START + 10);
    let unresolved: Vec<_> = records
        .iter()
        .take(150)
        .zip(1u64..)
        .map(|(r, counter)| Unresolved {
            device: r.entity_id,
            kind: CommandKind::Migration,
            counter,
            at,
        })
        .collect();
    let engine = Engine::restart(
        records,
        gbcs::cos::ledger::Ledger::new(),
        &unresolved,
        policy,
        EngineConfig::default(),
        StartingCounters { tcos: 151, acb: 1 },
        UnixTime::from_secs(START + 100),
    );
    assert_eq!(engine.stopped(), None);
    // Each is still the attempt it was, and its device is read before any retry.
    for r in engine.records().iter().take(150) {
        assert_eq!(r.attempts, 1, "{}", r.entity_id);
        assert!(r.unconfirmed.is_some(), "{}", r.entity_id);
    }
}
