//! Bulk migration end to end on a simulated fleet of 10,000 meters with a seeded mix
//! (healthy, busy then healthy, never answering, device faults, a non-migratable model, one
//! with its firmware fix, ineligible, gas proxy functions, NP005-stale, already ECoS), driven
//! through the engine core on the virtual-time harness: the final states, the ledger and the
//! ECOSMIG-007 counts equal the numbers computed from each device's profile; every
//! NP005-stale device got an attempt; no device is migrated twice; a failure wave triggers
//! auto-stop; the same inputs give the same commands, byte for byte; every EMRR report the
//! run is due passes the field rules' validator.

#[path = "support/migration_common.rs"]
mod common;
#[path = "support/report_rules.rs"]
mod report_rules;
#[path = "support/run.rs"]
mod run;

use common::*;
use gbcs::cos::engine::{EngineConfig, Event, Input};
use gbcs::cos::migration::{Incident, MigrationStatus, SecPartyId};
use gbcs::cos::report::{monthly_period, scheduled_creation, Ecosmig007, ReportFormat};
use gbcs::cos::{CosState, SupplierCounts};
use gbcs::payload::TrustAnchorCellIdentifier;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use gbcs::sim::pki::ids;
use run::Run;
use std::collections::BTreeMap;

#[test]
fn ten_thousand_meters_migrate_as_their_profiles_say() {
    let (run, sim, hsm_faults) = ten_thousand(i64::MAX);
    let profiles = sim.fleet.profiles.clone();
    let suppliers: Vec<SecPartyId> = run
        .records()
        .iter()
        .map(|r| r.reporting_supplier().clone())
        .collect();
    assert!(
        run.stopped().is_none(),
        "no incident expected: {:?}",
        run.stopped()
    );
    assert!(
        !run.events()
            .iter()
            .any(|e| matches!(e, Event::SecurityEvent { .. } | Event::Refused { .. })),
        "{:?}",
        run.events().first()
    );
    // The HSM burst: local faults, reported, none of them a device attempt.
    assert_eq!(run.local_faults(), hsm_faults);
    let last_attempts = run.ledger().total_attempts();

    // Per device: status, attempts, state, and the meter's own cell.
    let mut want: BTreeMap<SecPartyId, SupplierCounts> = BTreeMap::new();
    let mut seen = BTreeMap::new();
    for ((record, profile), supplier) in run.records().iter().zip(&profiles).zip(&suppliers) {
        *seen.entry(format!("{profile:?}")).or_insert(0) += 1;
        let (migrated, attempts, failed, status) = expected(*profile);
        assert_eq!(
            (record.status, record.attempts),
            (status, attempts),
            "{} {profile:?}",
            record.entity_id
        );
        let ecos_now = migrated || *profile == Profile::AlreadyEcos;
        if *profile == Profile::UnknownState {
            assert_eq!(record.unanswered_reads, 0, "read once, answered");
        }
        assert_eq!(
            record.state,
            if ecos_now {
                CosState::Ecos
            } else {
                CosState::Tcos
            },
            "{profile:?}"
        );
        let cell = sim
            .fleet
            .meters
            .with_device(record.entity_id, |d| {
                d.cell(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
                    .map(|c| c.entity_id)
            })
            .flatten();
        assert_eq!(
            cell,
            Some(if ecos_now { ids::ECOS } else { ids::TCOS }),
            "{profile:?}"
        );
        if *profile == Profile::Stale {
            assert!(
                record.attempts >= 1,
                "every NP005-stale device gets an attempt"
            );
        }
        let c = want.entry(supplier.clone()).or_default();
        c.migrations_completed += u64::from(migrated);
        c.failed_attempts += failed;
        c.ecos_installed += u64::from(ecos_now);
        c.remaining_tcos += u64::from(!ecos_now);
        // A GPF of a listed model is excluded too (DCC's to resolve, but not migrated).
        c.non_migratable += u64::from(matches!(
            profile,
            Profile::NonMigratableModel | Profile::GasProxyWithGasMeter
        ));
    }
    eprintln!("profiles: {seen:?}");
    assert!(seen.len() >= 16, "every profile drawn: {seen:?}");

    // The ledger: attempts counted once each, per reporting supplier.
    let got = run.ledger().summary(run.records(), run.policy());
    assert_eq!(got, want);
    let total: u64 = run.records().iter().map(|r| u64::from(r.attempts)).sum();
    assert_eq!(run.ledger().total_attempts(), total);
    assert_eq!(last_attempts, total);
    assert!(got.contains_key(&SecPartyId::new("SUPA01").expect("id")));
    // GPF reports go to the electricity supplier, and to the gas supplier only where a gas
    // meter is commissioned.
    let gas = SecPartyId::new("GASS04").expect("id");
    let with_meter = profiles
        .iter()
        .filter(|p| **p == Profile::GasProxyWithGasMeter)
        .count() as u64;
    assert!(with_meter > 0);
    assert_eq!(got[&gas].non_migratable, with_meter);
    assert_eq!(got[&gas].ecos_installed, 0);
    // As at now, the timed ledger agrees with the records.
    assert_eq!(run.ledger().summary_as_at(i64::MAX), got);
    eprintln!("{total} attempts, {hsm_faults} HSM faults");

    // ECOSMIG-007 per supplier carries exactly those counts.
    for (seq, (supplier, counts)) in got.iter().enumerate() {
        let report = Ecosmig007::monthly(
            supplier.clone(),
            u32::try_from(seq + 1).expect("seq"),
            scheduled_creation(2026, 11),
            *counts,
        );
        let text = report.to_text(&ReportFormat::default()).expect("report");
        let back = Ecosmig007::parse(&text, &ReportFormat::default()).expect("parse");
        assert_eq!(back.counts, want[supplier]);
        assert_eq!(back, report);
    }

    // Every report due a month after the run, for every recipient and period since its
    // start, made and checked against the field rules by a validator apart from the parser.
    let mut ledger = run.ledger().clone();
    let after = run.clock() + 40 * 86_400;
    let due = gbcs::cos::report::due(&ledger, after);
    let mut per_report: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for d in &due {
        let (made, _) = d
            .report
            .make(&mut ledger, d.recipient.clone(), d.period, None, after)
            .expect("made");
        let text = made.to_text(&ReportFormat::default()).expect("text");
        if let Err(e) = report_rules::validate(&text) {
            panic!("{} to {}: {e}\n{text}", d.report, d.recipient);
        }
        let e = per_report.entry(d.report.id()).or_default();
        e.0 += 1;
        e.1 += text.lines().count() - 2;
    }
    eprintln!("reports validated (report: files, detail records): {per_report:?}");
    assert_eq!(per_report.len(), 6, "{per_report:?}");
    assert!(gbcs::cos::report::due(&ledger, after).is_empty());
}

#[test]
fn a_failure_wave_triggers_auto_stop_and_no_more_commands_go_out() {
    let mut sim = simulation(7, 3000, &FleetMix(Vec::new()));
    // Devices 1000..1600 stop answering.
    for n in 1000..1600u64 {
        sim.fleet
            .meters
            .with_device(ids::device(n), |d| d.faults.silent = u32::MAX)
            .expect("device");
    }
    // Paced as an operator would: 20 commands a second, 100 in flight, 5 s to answer.
    let config = EngineConfig {
        max_rate: Some(20),
        max_in_flight: 100,
        deadline_millis: 5_000,
        ..EngineConfig::default()
    };
    let mut run = Run::new(&mut sim, config, 1);
    run.run(&sim);
    let Some(Incident::FailureRatio { failures, window }) = run.stopped().cloned() else {
        panic!("expected auto-stop, got {:?}", run.stopped())
    };
    assert!(failures * 5 > window, "{failures}/{window}");
    let attempted = run.records().iter().filter(|r| r.attempts > 0).count();
    assert!(
        attempted <= 1300,
        "stopped within the wave: {attempted} attempted"
    );
    assert!(
        run.records()[1700..]
            .iter()
            .all(|r| r.status == MigrationStatus::NotStarted),
        "nothing sent after the stop"
    );
    // Stopped means stopped: time passing sends nothing until resumed.
    let sent = run.sent();
    let later = run.clock() + 3_600;
    run.run_until(&sim, later);
    assert_eq!(run.sent(), sent);
    run.input(&sim, Input::Resume);
    run.run_until(&sim, later + 60);
    assert!(run.sent() > sent);
}

#[test]
fn device_faults_of_one_model_trigger_auto_stop() {
    let (mut sim, config) = bad_model_run();
    let mut run = Run::new(&mut sim, config, 1);
    run.run(&sim);
    assert!(
        matches!(run.stopped(), Some(Incident::ModelFaults { model, faults: 20, attempts: 20 }) if model.to_string() == "ACME/BAD-MODEL"),
        "{:?}",
        run.stopped()
    );
}

#[test]
fn future_dated_migrations_wait_for_their_alerts_and_count_once() {
    let mut sim = simulation(3, 40, &FleetMix(Vec::new()));
    let mut run = Run::new(&mut sim, EngineConfig::default(), 1);
    let at = gbcs::payload::GeneralizedTime::from_unix_seconds(CLOCK + 86_400).expect("time");
    // Until just before the execution time: every command accepted, nothing counted.
    sim.with_context(|ctx| {
        let scheduled = gbcs::cos::engine::MigrationContext {
            command: ctx.command.scheduled_at(at),
            ..*ctx
        };
        run.h.run_until(
            &scheduled,
            &sim.fleet.meters,
            gbcs::cos::engine::UnixTime::from_secs(CLOCK + 86_399),
        );
    })
    .expect("context");
    assert_eq!(run.h.engine.awaiting_alerts(), 40);
    assert!(run
        .records()
        .iter()
        .all(|r| r.status == MigrationStatus::AwaitingAlert && r.state == CosState::Tcos));
    assert_eq!(
        run.ledger().total_attempts(),
        0,
        "an acceptance is not yet an attempt"
    );
    // At its time each meter executes and its alert comes over the network: counted once.
    run.run(&sim);
    assert_eq!(run.h.engine.awaiting_alerts(), 0);
    assert!(run
        .records()
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated
            && r.state == CosState::Ecos
            && r.attempts == 1));
    assert_eq!(run.ledger().total_attempts(), 40);
    // The same alert again is not a second attempt.
    let again = run
        .h
        .network
        .sent_alerts()
        .first()
        .cloned()
        .expect("an alert went over the network");
    run.input(&sim, Input::Alert { bytes: again });
    assert_eq!(run.ledger().total_attempts(), 40);
    assert!(run
        .events()
        .iter()
        .any(|e| matches!(e, Event::DuplicateReply { .. })));
}

#[test]
fn auto_stop_stops_the_moment_a_model_crosses_its_threshold() {
    for in_flight in [1, 2] {
        let mut sim = simulation(13, 300, &FleetMix(Vec::new()));
        sim.policy.auto_stop.model_min_samples = 20;
        make_bad_model(&mut sim, 1);
        let config = EngineConfig {
            max_in_flight: in_flight,
            ..EngineConfig::default()
        };
        let mut run = Run::new(&mut sim, config, 1);
        run.run(&sim);
        assert!(
            matches!(
                run.stopped(),
                Some(Incident::ModelFaults {
                    faults: 20,
                    attempts: 20,
                    ..
                })
            ),
            "{in_flight} in flight: {:?}",
            run.stopped()
        );
        // The 20th fault stops it; only the commands already in flight were out beside it.
        let made = run.sent();
        assert!(
            (20..20 + in_flight).contains(&made),
            "{in_flight} in flight: {made} commands"
        );
        assert_eq!(run.ledger().total_attempts(), made as u64);
    }
}

#[test]
fn the_engine_is_deterministic_byte_for_byte() {
    // RustCrypto signatures are deterministic: the same fleet and seed give the same
    // commands, counters, outcomes, records and ledger.
    let outcome = || {
        let mut sim = SimulatedMigration::with_backend(
            b"migration tests",
            99,
            300,
            &FleetMix::default(),
            CLOCK,
            gbcs::crypto::Backend::RustCrypto,
        )
        .expect("simulated fleet");
        let profile = gbcs::sim::network::NetworkProfile {
            rtt_median_ms: 800,
            rtt_p99_ms: 6_000,
            loss: 0.02,
            late: 0.02,
            duplicate: 0.02,
            seed: 5,
        };
        let mut run = Run::over(&mut sim, EngineConfig::default(), 1, profile);
        run.run(&sim);
        (
            run.h.sent.clone(),
            run.h.records.clone(),
            run.records().to_vec(),
            run.ledger().clone(),
            run.clock(),
        )
    };
    let (a, b) = (outcome(), outcome());
    assert!(a.0.len() > 300, "{} commands", a.0.len());
    assert!(a == b, "two runs differ");
}

#[test]
fn the_engine_reaches_the_same_outcomes_on_every_crypto_backend() {
    let outcome = |backend: gbcs::crypto::Backend| {
        let mut sim = SimulatedMigration::with_backend(
            b"migration tests",
            7,
            400,
            &FleetMix::default(),
            CLOCK,
            backend,
        )
        .expect("simulated fleet");
        assert_eq!(sim.pki.backend(), backend);
        assert_eq!(sim.pki.acb.ka.key.backend(), backend);
        let mut run = Run::new(&mut sim, EngineConfig::default(), 1);
        run.run(&sim);
        // One ECDH per meter contacted: every retry's MAC took Z from the cache.
        let contacted = run.records().iter().filter(|r| r.attempts > 0).count();
        let stats = sim.secrets.stats();
        assert_eq!(stats.misses, contacted as u64, "{backend}");
        // One Z per command built and per read checked.
        assert!(
            stats.hits + stats.misses >= run.ledger().total_attempts(),
            "{backend}"
        );
        assert!(stats.hits > 0, "{backend}: retries reuse Z");
        // Public keys compare by their point, whatever backend prepared them.
        (
            run.records().to_vec(),
            run.ledger().summary(run.records(), run.policy()),
            run.clock(),
        )
    };
    let all: Vec<_> = gbcs::crypto::Backend::ALL
        .iter()
        .map(|&b| outcome(b))
        .collect();
    assert!(all.len() >= 2, "both backends compiled in");
    assert!(all.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_local_key_agreement_failure_is_not_a_device_attempt() {
    let (run, _sim) = run_with_flaky_acb(|n| n < 3, 20);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
    assert_eq!(run.local_faults(), 3);
    let faults = run
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::LocalFault {
                    fault: gbcs::cos::migration::LocalFault::KeyAgreement(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(faults, 3);
    // Every device migrated on its first attempt: the faults spent none of theirs.
    assert!(run
        .records()
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated && r.attempts == 1));
    assert_eq!(run.ledger().total_attempts(), 20);
    let summary = run.ledger().summary(run.records(), run.policy());
    assert_eq!(
        summary.values().map(|c| c.failed_attempts).sum::<u64>(),
        0,
        "local faults are not failed attempts"
    );
}

#[test]
fn a_burst_of_local_failures_stops_the_run_before_any_device_is_tried() {
    let (run, _sim) = run_with_flaky_acb(|_| true, 30);
    let limit = run.policy().auto_stop.local_fault_limit;
    match run.stopped() {
        Some(Incident::LocalFaults { in_a_row, .. }) => assert_eq!(*in_a_row, limit),
        other => panic!("expected a local-fault stop, got {other:?}"),
    }
    assert_eq!(run.ledger().total_attempts(), 0);
    assert!(run.records().iter().all(|r| r.attempts == 0));
    // Four builds at a time: the run stopped with at most three more already started.
    assert!(run.local_faults() >= u64::from(limit) && run.local_faults() < u64::from(limit) + 4);
}

#[test]
fn local_faults_stop_the_run_only_when_in_a_row() {
    // Every other key agreement fails: far more local faults than the limit in all, never
    // two in a row, so the run goes on and every device migrates.
    let (run, _sim) = run_with_flaky_acb(|n| n % 2 == 0, 30);
    let limit = u64::from(run.policy().auto_stop.local_fault_limit);
    assert!(run.local_faults() >= limit, "{}", run.local_faults());
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
    assert!(run
        .records()
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated && r.attempts == 1));
}

#[test]
fn the_fleets_december_report_made_after_a_run_into_january_is_the_one_at_midnight() {
    let (_, december_end) = monthly_period(scheduled_creation(2026, 12));
    let midnight = december_end.unix_seconds();
    // Both made when their time comes: January 1st, 06:00.
    let jan_1 = scheduled_creation(2026, 12).unix_seconds();
    let (mut full, ..) = ten_thousand(i64::MAX);
    let (mut stopped, ..) = ten_thousand(midnight);
    assert!(
        full.clock() > midnight + 86_400,
        "the full run went on for days"
    );
    for supplier in ["SUPA01", "SUPB02", "SUPC03", "GASS04"] {
        let id = SecPartyId::new(supplier).expect("id");
        let (a, _) = Ecosmig007::for_month(full.ledger_mut(), id.clone(), 2026, 12, None, jan_1)
            .expect("report");
        let (b, _) = Ecosmig007::for_month(stopped.ledger_mut(), id.clone(), 2026, 12, None, jan_1)
            .expect("report");
        assert_eq!(a, b, "{supplier}");
        // The stopped run's counts now are December's.
        assert_eq!(
            a.counts,
            stopped
                .ledger()
                .summary(stopped.records(), stopped.policy())[&id],
            "{supplier}"
        );
        if supplier == "GASS04" {
            // Its only devices are GPFs of a listed model: non-migratable, never tried.
            assert!(a.counts.non_migratable > 0, "{supplier}");
        } else {
            assert!(a.counts.migrations_completed > 0, "{supplier}");
            assert!(a.counts.failed_attempts > 0, "{supplier}");
        }
        // January changed the full run's counts now (the GPFs with a gas meter are never
        // tried).
        if supplier != "GASS04" {
            assert_ne!(
                a.counts,
                full.ledger().summary(full.records(), full.policy())[&id],
                "{supplier}"
            );
        }
    }
}
