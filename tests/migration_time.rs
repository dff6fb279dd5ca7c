//! The migration against time and lost messages (`ecos.md` §4.2, §4.4), through the engine
//! core on the virtual-time harness: replies that are lost after the command ran, devices whose
//! state is Unknown, alerts that never come, and reports as at the period end from a run that
//! goes on past it.

#[path = "support/run.rs"]
mod run;

use gbcs::cos::classify::{CosState, UnknownReason};
use gbcs::cos::engine::EngineConfig;
use gbcs::cos::ledger::{AttemptResult, CellState, NoticeKind};
use gbcs::cos::migration::MigrationStatus;
use gbcs::cos::report::{monthly_period, scheduled_creation, Ecosmig007};
use gbcs::payload::{GeneralizedTime, TrustAnchorCellIdentifier};
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use gbcs::sim::pki::ids;

/// 2026-12-31T22:00:00Z: a run that starts two hours before the year ends.
const CLOCK: i64 = 1_798_754_400;

/// Fifty commands in flight at most, as a small operator would run it.
const CONFIG: EngineConfig = EngineConfig {
    max_in_flight: 50,
    max_in_flight_per_model: None,
    max_rate: None,
    deadline_millis: 30_000,
    max_work: 64,
    counter_block: 1000,
};

fn simulation(seed: u64, devices: usize, mix: &FleetMix) -> SimulatedMigration {
    SimulatedMigration::new(b"migration time tests", seed, devices, mix, CLOCK)
        .expect("simulated fleet")
}

fn cell_entity(sim: &SimulatedMigration, device: gbcs::frame::EntityId) -> Option<u64> {
    sim.fleet
        .meters
        .with_device(device, |d| {
            d.cell(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
                .map(|c| c.entity_id.to_u64())
        })
        .flatten()
}

#[test]
fn a_lost_reply_is_read_before_the_retry_and_the_migration_counts_once() {
    let mut sim = simulation(1, 60, &FleetMix(Vec::new()));
    // Devices 0..10 run the command and lose the reply; 10..20 ignore the command (nothing
    // done) and answer later.
    for n in 0..20 {
        sim.fleet
            .meters
            .with_device(ids::device(n), |d| {
                if n < 10 {
                    d.faults.lost_replies = 1;
                } else {
                    d.faults.silent = 1;
                }
            })
            .expect("device");
    }
    let mut run = run::Run::new(&mut sim, CONFIG, 1);
    run.run(&sim);
    for (n, r) in run.records().iter().enumerate() {
        assert_eq!(r.status, MigrationStatus::Migrated, "device {n}");
        assert_eq!(cell_entity(&sim, r.entity_id), Some(ids::ECOS.to_u64()));
        let history: Vec<_> = run
            .ledger()
            .entries()
            .iter()
            .filter(|a| a.device == r.entity_id)
            .collect();
        match n {
            // One attempt: failed when it was made, completed from the reading on.
            0..10 => {
                assert_eq!(r.attempts, 1, "device {n}");
                assert_eq!(history.len(), 1);
                let a = history[0];
                assert_eq!(a.result, AttemptResult::NoResponse);
                let (at, result) = a.resolved.expect("resolved by the reading");
                assert_eq!(result, AttemptResult::Completed);
                assert!(at > a.at);
                assert_eq!(a.result_as_at(a.at), Some(AttemptResult::NoResponse));
                assert_eq!(a.result_as_at(at), Some(AttemptResult::Completed));
            }
            // The reading showed TCoS: a second command, which migrated it.
            10..20 => {
                assert_eq!(r.attempts, 2, "device {n}");
                let results: Vec<_> = history.iter().map(|a| a.result).collect();
                assert_eq!(
                    results,
                    [AttemptResult::NoResponse, AttemptResult::Completed]
                );
                assert!(history[0].resolved.is_none());
            }
            _ => assert_eq!((r.attempts, history.len()), (1, 1), "device {n}"),
        }
        // The reading is evidence in the ledger.
        if n < 20 {
            let states = &run.ledger().device(r.entity_id).expect("history").states;
            assert!(
                states
                    .iter()
                    .any(|o| o.source
                        == gbcs::cos::classify::EvidenceSource::CredentialDetailsResponse),
                "device {n}: {states:?}"
            );
        }
    }
    // 70 attempts. 60 completed: 50 at once, and the 10 read back as having run (counted
    // from the reading on). 20 failed: the 10 read back stay failed in every later total,
    // and the 10 ignored commands. Counts never go down, so they exceed the attempts.
    let total = run.ledger().summary_as_at(i64::MAX);
    let completed: u64 = total.values().map(|c| c.migrations_completed).sum();
    let failed: u64 = total.values().map(|c| c.failed_attempts).sum();
    assert_eq!((completed, failed), (60, 20));
    assert_eq!(run.ledger().total_attempts(), 70);
    assert_eq!(total, run.ledger().summary(run.records(), run.policy()));
}

#[test]
fn unknown_devices_are_read_in_their_batch_then_migrated_or_excluded() {
    let mix = FleetMix(vec![
        (Profile::AlreadyEcos, 250),
        (Profile::NonMigratableModel, 100),
    ]);
    let mut sim = simulation(2, 200, &mix);
    let profiles = sim.fleet.profiles.clone();
    let unknown = CosState::Unknown(UnknownReason::NoEvidence);
    for r in &mut sim.fleet.records {
        r.state = unknown;
        r.cell_credential = None;
    }
    // One silent device: its state can never be read.
    sim.fleet
        .meters
        .with_device(ids::device(5), |d| d.faults.silent = u32::MAX)
        .expect("device");
    let mut run = run::Run::new(&mut sim, CONFIG, 1);
    run.run(&sim);
    for ((n, r), p) in run.records().iter().enumerate().zip(&profiles) {
        if n == 5 {
            assert_eq!(
                (r.status, r.state, r.attempts, r.unanswered_reads),
                (MigrationStatus::NeedsInvestigation, unknown, 0, 5),
                "never answered: investigated, never sent a migration command"
            );
            continue;
        }
        match p {
            Profile::AlreadyEcos => {
                assert_eq!((r.state, r.attempts), (CosState::Ecos, 0), "device {n}");
            }
            Profile::NonMigratableModel => {
                // Excluded by its model: not even read.
                assert_eq!((r.state, r.attempts), (unknown, 0), "device {n}");
            }
            _ => {
                assert_eq!(
                    (r.state, r.status, r.attempts),
                    (CosState::Ecos, MigrationStatus::Migrated, 1),
                    "device {n}"
                );
            }
        }
    }
    let total = run.ledger().summary_as_at(i64::MAX);
    assert_eq!(total, run.ledger().summary(run.records(), run.policy()));
    let ecos: u64 = total.values().map(|c| c.ecos_installed).sum();
    let excluded = profiles
        .iter()
        .filter(|p| **p == Profile::NonMigratableModel)
        .count() as u64;
    assert!(excluded > 0);
    assert_eq!(ecos, 200 - 1 - excluded);
}

#[test]
fn an_overdue_alert_is_read_and_the_attempt_counted_once() {
    let mut sim = simulation(3, 20, &FleetMix(Vec::new()));
    let mut run = run::Run::new(&mut sim, CONFIG, 1);
    // Half the meters execute at their time and their alerts are lost; the other half's
    // clocks never move, so their commands are still pending when the engine reads them.
    for n in 0..10 {
        run.h.network.lost_alerts.insert(ids::device(n));
    }
    for n in 10..20 {
        run.h.network.frozen.insert(ids::device(n));
    }
    let at = GeneralizedTime::from_unix_seconds(CLOCK + 3_600).expect("time");
    let timeout = run.policy().alert_timeout_secs;
    // Until half the alert time-out: every command accepted, nothing read, nothing counted.
    sim.with_context(|ctx| {
        let scheduled = gbcs::cos::engine::MigrationContext {
            command: ctx.command.scheduled_at(at),
            ..*ctx
        };
        run.h.run_until(
            &scheduled,
            &sim.fleet.meters,
            gbcs::cos::engine::UnixTime::from_secs(CLOCK + timeout / 2),
        );
    })
    .expect("context");
    assert_eq!(run.h.engine.awaiting_alerts(), 20);
    assert_eq!(
        run.ledger().total_attempts(),
        0,
        "acceptances are not attempts yet"
    );
    assert_eq!(
        run.h.network.sent_alerts().len(),
        10,
        "ten ran, their alerts lost"
    );
    // After the time-out each is read: ECoS → completed, counted once; TCoS → failed, and the
    // retry (an immediate command) migrates it.
    run.run(&sim);
    assert_eq!(run.h.engine.awaiting_alerts(), 0);
    for (n, r) in run.records().iter().enumerate() {
        assert_eq!(r.status, MigrationStatus::Migrated, "device {n}");
    }
    let total = run.ledger().summary_as_at(i64::MAX);
    let completed: u64 = total.values().map(|c| c.migrations_completed).sum();
    let failed: u64 = total.values().map(|c| c.failed_attempts).sum();
    // The 10 that executed: their one attempt completed. The 10 still pending read TCoS: that
    // attempt failed, and the immediate retry completed.
    assert_eq!((completed, failed), (20, 10));
    for (n, r) in run.records().iter().enumerate() {
        assert_eq!(r.attempts, if n < 10 { 1 } else { 2 }, "device {n}");
    }
    // A late alert is not counted again.
    let late: Vec<Vec<u8>> = run.h.network.sent_alerts()[..10].to_vec();
    for alert in late {
        run.input(&sim, gbcs::cos::engine::Input::Alert { bytes: alert });
    }
    assert_eq!(run.ledger().total_attempts(), completed + failed);
    assert_eq!(
        run.events()
            .iter()
            .filter(|e| matches!(e, gbcs::cos::engine::Event::DuplicateReply { .. }))
            .count(),
        10
    );
}

#[test]
fn a_december_report_from_a_run_into_january_equals_one_from_a_run_stopped_at_midnight() {
    let mix = FleetMix(vec![
        (Profile::BusyThenHealthy(1), 80),
        (Profile::NeverAnswers, 30),
        (Profile::NonMigratableModel, 50),
        (Profile::AlreadyEcos, 50),
    ]);
    let (_, december_end) = monthly_period(scheduled_creation(2026, 12));
    let midnight = december_end.unix_seconds();
    let mut counts = Vec::new();
    for until in [midnight, i64::MAX] {
        let mut sim = simulation(4, 800, &mix);
        let config = EngineConfig {
            max_in_flight: 100,
            ..CONFIG
        };
        let mut run = run::Run::new(&mut sim, config, 1);
        run.run_until(&sim, until);
        assert!(run.stopped().is_none(), "{:?}", run.stopped());
        if until == i64::MAX {
            assert!(run.clock() > midnight, "the full run went on into January");
        }
        let supplier = gbcs::cos::SecPartyId::new("SUPA01").expect("id");
        let (report, _) = Ecosmig007::for_month(
            run.ledger_mut(),
            supplier.clone(),
            2026,
            12,
            None,
            scheduled_creation(2026, 12).unix_seconds(),
        )
        .expect("December's report");
        counts.push((
            report.counts,
            run.ledger().summary(run.records(), run.policy())[&supplier],
        ));
    }
    let (stopped_report, stopped_now) = counts[0];
    let (full_report, full_now) = counts[1];
    assert_eq!(
        stopped_report, full_report,
        "December as at its end, either way"
    );
    assert_eq!(
        stopped_report, stopped_now,
        "the stopped run's counts are December's"
    );
    assert_ne!(full_now, full_report, "January changed the counts now");
    assert!(stopped_report.migrations_completed > 0);
    assert!(stopped_report.failed_attempts > 0);
    assert!(stopped_report.non_migratable > 0);
}

#[test]
fn an_older_reading_never_overrides_a_newer_one() {
    let mut ledger = gbcs::cos::ledger::Ledger::new();
    let d = ids::device(1);
    use gbcs::cos::classify::EvidenceSource::{CredentialDetailsResponse, Inventory};
    assert!(ledger.observe(d, 100, CellState::Tcos, Inventory));
    assert!(ledger.observe(d, 300, CellState::Ecos, CredentialDetailsResponse));
    // A reading taken at 200 arriving now is older: refused.
    assert!(!ledger.observe(d, 200, CellState::Tcos, CredentialDetailsResponse));
    let h = ledger.device(d).expect("history");
    assert_eq!(h.state_as_at(i64::MAX), Some(CellState::Ecos));
    assert_eq!(h.state_as_at(250), Some(CellState::Tcos));
    assert_eq!(h.state_as_at(99), None);
}

#[test]
fn notices_tell_each_supplier_its_excluded_and_failed_devices_and_nothing_else() {
    let mix = FleetMix(vec![
        (Profile::NonMigratableModel, 100),
        (Profile::Ineligible, 100),
        (
            Profile::DeviceFault(gbcs::payload::StatusCode::INSUFFICIENT_MEMORY),
            100,
        ),
        (Profile::NeverAnswers, 100),
    ]);
    let mut sim = simulation(5, 300, &mix);
    // So many faults would stop the run; this test is about what suppliers are told.
    sim.policy.auto_stop.failure_per_mille = 1000;
    sim.policy.auto_stop.model_fault_per_mille = 1000;
    let profiles = sim.fleet.profiles.clone();
    let mut run = run::Run::new(&mut sim, CONFIG, 1);
    run.run(&sim);
    let mut told = 0;
    for supplier in gbcs::sim::fleet::SUPPLIERS {
        let id = gbcs::cos::SecPartyId::new(supplier).expect("id");
        for n in run.ledger().notices(&id) {
            told += 1;
            let i = usize::try_from(n.device.to_u64() & 0xFFFF_FFFF).expect("index");
            let r = &run.records()[i];
            assert_eq!(r.reporting_supplier(), &id);
            let (kind, last) = match profiles[i] {
                Profile::NonMigratableModel => (NoticeKind::NonMigratable, None),
                Profile::Ineligible => (NoticeKind::Ineligible, None),
                Profile::DeviceFault(s) => {
                    (NoticeKind::Faulted, Some(AttemptResult::DeviceFault(s.0)))
                }
                Profile::NeverAnswers => (
                    NoticeKind::NeedsInvestigation,
                    Some(AttemptResult::NoResponse),
                ),
                p => panic!("{p:?} is not excluded or failed"),
            };
            assert_eq!((n.kind, n.last_outcome), (kind, last), "{:?}", profiles[i]);
        }
    }
    let expected = profiles
        .iter()
        .filter(|p| !matches!(p, Profile::Healthy | Profile::GasProxy))
        .count();
    assert_eq!(told, expected);
    let nobody = gbcs::cos::SecPartyId::new("NONE99").expect("id");
    assert!(run.ledger().notices(&nobody).is_empty());
    let csv = gbcs::cos::ledger::csv_file::write_notices(&[]).expect("csv");
    assert_eq!(
        csv,
        "device,supplier,kind,category,gbcs_status,reason,last_outcome,since\n"
    );
}

#[test]
fn a_gas_meter_commissioned_in_january_moves_a_gpf_to_the_gas_supplier_from_then_on() {
    let mut sim = simulation(6, 40, &FleetMix(vec![(Profile::GasProxy, 1000)]));
    let mut run = run::Run::new(&mut sim, CONFIG, 1);
    run.run(&sim);
    let gpf = run.records()[0].entity_id;
    let before = run.records()[0].reporting_supplier().clone();
    let gas = run.records()[0].responsible_supplier.clone();
    assert_ne!(before, gas, "no gas meter yet: the electricity supplier");
    let (_, december_end) = monthly_period(scheduled_creation(2026, 12));
    run.advance_clock(&sim, december_end.unix_seconds() + 86_400);
    use gbcs::cos::engine::{Event, Input, InventoryChange};
    run.input(
        &sim,
        Input::Inventory {
            device: gpf,
            change: InventoryChange::GasMeterCommissioned(true),
        },
    );
    // An update for a device not in the fleet is not applied, and said so.
    for change in [
        InventoryChange::GasMeterCommissioned(true),
        InventoryChange::Firmware("2.0".into()),
    ] {
        run.input(
            &sim,
            Input::Inventory {
                device: ids::device(9_999),
                change,
            },
        );
    }
    assert_eq!(
        run.events()
            .iter()
            .filter(
                |e| matches!(e, Event::UnknownDevice { device } if *device == ids::device(9_999))
            )
            .count(),
        2
    );
    let history = run.ledger().device(gpf).expect("history");
    assert_eq!(
        history.supplier_as_at(december_end.unix_seconds()),
        Some(&before)
    );
    assert_eq!(history.supplier_as_at(i64::MAX), Some(&gas));
    let december = run.ledger().counts_as_at(&gas, december_end.unix_seconds());
    let now = run.ledger().counts_as_at(&gas, i64::MAX);
    assert_eq!(now.ecos_installed, december.ecos_installed + 1);
    // Its attempt stays with the supplier it was reported to when it was made.
    assert_eq!(now.migrations_completed, december.migrations_completed);
}

#[test]
fn a_failed_attempt_stays_failed_and_a_reading_adds_the_completion_from_when_it_was_learned() {
    use gbcs::cos::ledger::Ledger;
    use gbcs::cos::migration::{Outcome, TransientCause};
    let supplier = gbcs::cos::SecPartyId::new("SUPA01").expect("party");
    let device = gbcs::frame::EntityId::from_u64(0x00DB_1234_5678_0001);
    let mut ledger = Ledger::new();
    let lost = Outcome::Transient(TransientCause::NoResponse);
    assert_eq!(ledger.record(&supplier, device, 7, &lost, 1_000), Ok(true));
    assert!(ledger.resolve_completed(device, 7, 5_000));
    let totals = |at: i64| {
        let c = ledger.counts_as_at(&supplier, at);
        (c.migrations_completed, c.failed_attempts)
    };
    assert_eq!(totals(999), (0, 0));
    // Failed when made; still failed once the reading showed the command ran, which adds
    // the completion from then on. Neither total ever goes down.
    assert_eq!(totals(1_000), (0, 1));
    assert_eq!(totals(4_999), (0, 1));
    assert_eq!(totals(5_000), (1, 1));
    assert_eq!(totals(i64::MAX), (1, 1));
    let mut last = (0, 0);
    for at in (0..10_000).step_by(250) {
        let now = totals(at);
        assert!(now.0 >= last.0 && now.1 >= last.1, "went down at {at}");
        last = now;
    }
    // What the attempt stands as is still the reading's.
    let a = ledger.entries().first().expect("the attempt");
    assert_eq!(a.result_as_at(5_000), Some(AttemptResult::Completed));
}
