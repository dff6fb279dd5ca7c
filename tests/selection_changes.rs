//! Selection as DCC's response words it, through the engine on the virtual-time harness:
//! a model listed mid-run is recorded for every device it excludes at the moment of listing
//! (and counted from then, also for a device that had faulted); a device needing
//! investigation or flagged ineligible returns when its cause is resolved (the ledger says by
//! whom and when) or its firmware changes; a Gas Proxy Function of a listed model is never
//! sent commands, counts as non-migratable and is on DCC's list, not its supplier's.

#[path = "support/run.rs"]
mod run;

use gbcs::cos::engine::{EngineConfig, Event, Input, InventoryChange};
use gbcs::cos::ledger::{NoticeCategory, Standing};
use gbcs::cos::migration::MigrationStatus;
use gbcs::cos::report::{DeviceReport, DeviceReportKind};
use gbcs::cos::ModelKey;
use gbcs::payload::{GeneralizedTime, StatusCode};
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use gbcs::sim::pki::ids;

/// 2026-12-31T22:00:00Z.
const CLOCK: i64 = 1_798_754_400;

fn simulation(seed: u64, devices: usize, mix: Vec<(Profile, u32)>) -> SimulatedMigration {
    SimulatedMigration::new(b"selection changes", seed, devices, &FleetMix(mix), CLOCK)
        .expect("fleet")
}

#[test]
fn a_model_listed_mid_run_is_recorded_for_every_device_it_excludes_at_that_moment() {
    // A tenth busy: few enough failures that auto-stop does not stop the run.
    let mut sim = simulation(1, 600, vec![(Profile::BusyThenHealthy(3), 100)]);
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    // An hour in: the healthy devices migrated, the busy ones back off.
    run.run_until(&sim, CLOCK + 3_600);
    let busy = run
        .records()
        .iter()
        .position(|r| r.status == MigrationStatus::Retrying)
        .expect("a device backing off");
    let model: ModelKey = run.records()[busy].model.clone();
    let of_model = |run: &run::Run| {
        run.records()
            .iter()
            .filter(|r| r.model == model)
            .map(|r| (r.entity_id, r.status))
            .collect::<Vec<_>>()
    };
    let before = of_model(&run);
    let open: Vec<_> = before
        .iter()
        .filter(|(_, s)| *s != MigrationStatus::Migrated)
        .map(|(d, _)| *d)
        .collect();
    assert!(!open.is_empty() && open.len() < before.len(), "{before:?}");
    let listed_at = CLOCK + 7_200;
    run.advance_clock(&sim, listed_at);
    let sent = run.sent();
    run.input(
        &sim,
        Input::ListModel {
            model: model.clone(),
            fixed_from: Some("9.0".into()),
        },
    );
    // One standing entry per excluded device, at the moment of listing.
    for d in &open {
        let h = run.ledger().device(*d).expect("history");
        assert_eq!(
            h.standing_as_at(listed_at),
            Some(&(listed_at, Standing::NonMigratable)),
            "{d}"
        );
        assert_ne!(
            h.standing_as_at(listed_at - 1).map(|s| &s.1),
            Some(&Standing::NonMigratable)
        );
    }
    let supplier = run.records()[busy].reporting_supplier().clone();
    let counts = |run: &run::Run, at| run.ledger().counts_as_at(&supplier, at).non_migratable;
    let listed = open
        .iter()
        .filter(|d| {
            run.ledger()
                .device(**d)
                .and_then(|h| h.supplier_as_at(listed_at))
                == Some(&supplier)
        })
        .count() as u64;
    assert_eq!(
        counts(&run, listed_at) - counts(&run, listed_at - 1),
        listed
    );
    // Never sent a command again; the rest of the fleet goes on.
    run.run(&sim);
    assert!(run.sent() > sent);
    for (d, status) in of_model(&run) {
        if open.contains(&d) {
            assert_ne!(status, MigrationStatus::Migrated, "{d}");
        }
    }
    // ECOSMIG-004 for the day of listing lists exactly them.
    let created = GeneralizedTime::from_unix_seconds(listed_at + 86_400).expect("t");
    let mut ledger = run.ledger().clone();
    let (r, _) = DeviceReport::scheduled(
        &mut ledger,
        DeviceReportKind::NonMigratable,
        supplier,
        created,
        None,
        i64::MAX,
    )
    .expect("004");
    assert_eq!(r.rows.len() as u64, listed);
    assert!(r.rows.iter().all(|row| open.contains(&row.device)));
}

#[test]
fn a_faulted_device_whose_model_is_then_listed_counts_as_non_migratable() {
    let mut sim = simulation(2, 60, vec![(Profile::DeviceFault(StatusCode::OTHER), 1000)]);
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    run.run(&sim);
    let device = run.records()[0].entity_id;
    let supplier = run.records()[0].reporting_supplier().clone();
    assert!(matches!(
        run.records()[0].status,
        MigrationStatus::Faulted(_)
    ));
    let faulted_at = run
        .ledger()
        .device(device)
        .expect("h")
        .standings
        .last()
        .expect("s")
        .0;
    let listed_at = run.clock() + 86_400;
    run.advance_clock(&sim, listed_at);
    let model = run.records()[0].model.clone();
    run.input(
        &sim,
        Input::ListModel {
            model,
            fixed_from: None,
        },
    );
    let h = run.ledger().device(device).expect("history");
    assert!(matches!(
        h.standing_as_at(listed_at - 1),
        Some((_, Standing::Faulted(_)))
    ));
    assert_eq!(
        h.standing_as_at(listed_at),
        Some(&(listed_at, Standing::NonMigratable))
    );
    assert!(
        run.ledger()
            .counts_as_at(&supplier, listed_at)
            .non_migratable
            >= 1
    );
    // ECOSMIG-002 still lists it once, on the day it failed, as a device refusal.
    let mut ledger = run.ledger().clone();
    let day = GeneralizedTime::from_unix_seconds(faulted_at + 86_400).expect("t");
    let (r, _) = DeviceReport::scheduled(
        &mut ledger,
        DeviceReportKind::Failed,
        supplier.clone(),
        day,
        None,
        i64::MAX,
    )
    .expect("002");
    let row = r.rows.iter().find(|r| r.device == device).expect("listed");
    let failure = row.failure.expect("failure");
    assert_eq!(failure.category, NoticeCategory::DeviceRefused);
    assert_eq!(failure.status, Some(StatusCode::OTHER));
    // …and its notice is the exclusion now.
    let notice = run
        .ledger()
        .notices(&supplier)
        .into_iter()
        .find(|n| n.device == device)
        .expect("notice");
    assert_eq!(notice.category, NoticeCategory::Excluded);
}

#[test]
fn a_device_needing_investigation_returns_when_resolved_or_upgraded() {
    // A tenth never answers: few enough failures that auto-stop does not stop the run.
    let mut sim = simulation(3, 400, vec![(Profile::NeverAnswers, 100)]);
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    run.run(&sim);
    assert!(run.stopped().is_none());
    let silent: Vec<_> = run
        .records()
        .iter()
        .filter(|r| r.status != MigrationStatus::Migrated)
        .map(|r| r.entity_id)
        .collect();
    assert!(silent.len() >= 3, "{}", silent.len());
    let (a, b, c) = (silent[0], silent[1], silent[2]);
    let standing = |run: &run::Run, d| {
        run.ledger()
            .device(d)
            .and_then(|h| h.standing_as_at(i64::MAX))
            .map(|s| s.1.clone())
    };
    assert_eq!(standing(&run, a), Some(Standing::NeedsInvestigation));
    // The meters answer again (a site visit); nothing happens until someone says so.
    for d in [a, b, c] {
        sim.fleet
            .meters
            .with_device(d, |m| m.faults.silent = 0)
            .expect("meter");
    }
    run.run(&sim);
    assert_eq!(standing(&run, a), Some(Standing::NeedsInvestigation));
    let cleared_at = run.clock() + 3_600;
    run.advance_clock(&sim, cleared_at);
    run.input(
        &sim,
        Input::Clear {
            device: a,
            by: "SUPA01 field team".into(),
        },
    );
    let upgrade = sim.upgrade_firmware(b, "2.0");
    run.input(&sim, upgrade);
    run.run(&sim);
    let status = |d| {
        run.records()
            .iter()
            .find(|r| r.entity_id == d)
            .expect("r")
            .status
    };
    assert_eq!(status(a), MigrationStatus::Migrated);
    assert_eq!(status(b), MigrationStatus::Migrated);
    assert_eq!(
        status(c),
        MigrationStatus::NeedsInvestigation,
        "no one resolved it"
    );
    let h = run.ledger().device(a).expect("history");
    assert_eq!(
        h.clearances,
        vec![(cleared_at, "SUPA01 field team".to_owned())]
    );
    assert!(run
        .events()
        .iter()
        .any(|e| matches!(e, Event::Cleared { device, .. } if *device == a)));
    // The upgrade is in the ledger: the descriptor from then on names the new firmware.
    let hb = run.ledger().device(b).expect("history");
    assert_eq!(
        hb.descriptor_as_at(i64::MAX)
            .expect("d")
            .1
            .firmware
            .as_str(),
        "2.0"
    );
    // Attempts before the return stay counted: five failed, then one completed.
    let attempts = run
        .ledger()
        .entries()
        .iter()
        .filter(|e| e.device == a)
        .count();
    assert_eq!(attempts, 6);
}

#[test]
fn ineligibility_is_set_and_cleared_through_the_engine_and_recorded() {
    let mut sim = simulation(4, 30, vec![(Profile::Ineligible, 1000)]);
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    run.run(&sim);
    assert_eq!(run.sent(), 0, "ineligible devices are not tried");
    let (a, b) = (run.records()[0].entity_id, run.records()[1].entity_id);
    let t = run.clock() + 60;
    run.advance_clock(&sim, t);
    // The supplier clears one flag by inventory, and resolves the other by the call.
    run.input(
        &sim,
        Input::Inventory {
            device: a,
            change: InventoryChange::Ineligible(None),
        },
    );
    run.input(
        &sim,
        Input::Clear {
            device: b,
            by: "operator 7".into(),
        },
    );
    run.run(&sim);
    for d in [a, b] {
        let r = run.records().iter().find(|r| r.entity_id == d).expect("r");
        assert_eq!(r.status, MigrationStatus::Migrated, "{d}");
        let h = run.ledger().device(d).expect("history");
        assert!(matches!(
            h.standing_as_at(t - 1),
            Some((_, Standing::Ineligible(_)))
        ));
        assert_eq!(h.standing_as_at(t).map(|s| &s.1), Some(&Standing::Open));
    }
    assert!(run.ledger().device(a).expect("h").clearances.is_empty());
    assert_eq!(run.ledger().device(b).expect("h").clearances.len(), 1);
    // Flagging a device again excludes it from then on.
    let t2 = run.clock() + 60;
    run.advance_clock(&sim, t2);
    let c = run.records()[2].entity_id;
    run.input(
        &sim,
        Input::Inventory {
            device: c,
            change: InventoryChange::Ineligible(Some("tenant refused".into())),
        },
    );
    let h = run.ledger().device(c).expect("history");
    assert_eq!(
        h.standing_as_at(t2),
        Some(&(t2, Standing::Ineligible("tenant refused".into())))
    );
    // A clearance for a device with nothing to clear changes nothing and says so; one for a
    // device not in the fleet is not applied.
    let entries = run.ledger().entries().len();
    run.input(
        &sim,
        Input::Clear {
            device: a,
            by: "x".into(),
        },
    );
    run.input(
        &sim,
        Input::Clear {
            device: ids::device(9_999),
            by: "x".into(),
        },
    );
    assert!(run
        .events()
        .iter()
        .any(|e| matches!(e, Event::NothingToClear { device } if *device == a)));
    assert!(run
        .events()
        .iter()
        .any(|e| matches!(e, Event::UnknownDevice { device } if *device == ids::device(9_999))));
    assert_eq!(run.ledger().entries().len(), entries);
    assert!(run.ledger().device(a).expect("h").clearances.is_empty());
}

#[test]
fn a_gas_proxy_function_of_a_listed_model_is_not_sent_commands_and_is_dccs_to_resolve() {
    let mut sim = simulation(5, 50, vec![(Profile::GasProxyWithGasMeter, 1000)]);
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    run.run(&sim);
    assert_eq!(run.sent(), 0);
    let gas = run.records()[0].reporting_supplier().clone();
    let n = run.records().len() as u64;
    assert_eq!(run.ledger().counts_as_at(&gas, i64::MAX).non_migratable, n);
    assert!(
        run.ledger().notices(&gas).is_empty(),
        "not the supplier's to resolve"
    );
    let dcc = run.ledger().dcc_notices();
    assert_eq!(dcc.len() as u64, n);
    assert!(dcc
        .iter()
        .all(|d| d.category == NoticeCategory::DccToResolve && d.supplier == gas));
}
