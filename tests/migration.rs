//! Bulk migration end to end on a simulated fleet of 10,000 meters with a seeded mix
//! (healthy, busy then healthy, never answering, device faults, a non-migratable model, one
//! with its firmware fix, ineligible, gas proxy functions, NP005-stale, already ECoS), driven
//! through the engine core on the virtual-time harness: the final states, the ledger and the
//! ECOSMIG-007 counts equal the numbers computed from each device's profile; every
//! NP005-stale device got an attempt; no device is migrated twice; a failure wave triggers
//! auto-stop; the same inputs give the same commands, byte for byte.

#[path = "support/run.rs"]
mod run;

use std::collections::BTreeMap;

use gbcs::cos::engine::{EngineConfig, Event, Input};
use gbcs::cos::migration::{Incident, MigrationStatus, Responsibility, SecPartyId};
use gbcs::cos::report::{monthly_period, scheduled_creation, Ecosmig007, ReportFormat};
use gbcs::cos::{CosState, SupplierCounts};
use gbcs::payload::TrustAnchorCellIdentifier;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use gbcs::sim::pki::ids;
use run::Run;

/// 2026-12-31T20:00:00Z: the fleet test's run goes on into January.
const CLOCK: i64 = 1_798_747_200;

fn simulation(seed: u64, devices: usize, mix: &FleetMix) -> SimulatedMigration {
    SimulatedMigration::new(b"migration tests", seed, devices, mix, CLOCK).expect("simulated fleet")
}

/// What each profile must end as, with the policy's 5 attempts: (migrated, attempts, failed
/// attempts, final status).
fn expected(p: Profile) -> (bool, u32, u64, MigrationStatus) {
    match p {
        Profile::Healthy
        | Profile::FixedFirmware
        | Profile::GasProxy
        | Profile::GasProxyWithGasMeter
        | Profile::Stale
        | Profile::UnknownState => (true, 1, 0, MigrationStatus::Migrated),
        // One attempt, its reply lost: failed when made, completed once the read showed ECoS.
        Profile::LostReply => (true, 1, 0, MigrationStatus::Migrated),
        // A fault, then the fix: a second attempt migrates it.
        Profile::FaultUntilUpgraded => (true, 2, 1, MigrationStatus::Migrated),
        Profile::BusyThenHealthy(k) if k < 5 => {
            (true, k + 1, u64::from(k), MigrationStatus::Migrated)
        }
        Profile::BusyThenHealthy(_) | Profile::NeverAnswers => {
            (false, 5, 5, MigrationStatus::NeedsInvestigation)
        }
        Profile::DeviceFault(_) => (
            false,
            1,
            1,
            MigrationStatus::Faulted(Responsibility::Supplier),
        ),
        Profile::NonMigratableModel | Profile::Ineligible | Profile::AlreadyEcos => {
            (false, 0, 0, MigrationStatus::NotStarted)
        }
    }
}

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
        // A GPF of a listed model is not excluded (the seed's exception to ETMAD 3.10).
        c.non_migratable += u64::from(*profile == Profile::NonMigratableModel);
    }
    eprintln!("profiles: {seen:?}");
    assert!(seen.len() >= 16, "every profile drawn: {seen:?}");

    // The ledger: attempts counted once each, per reporting supplier.
    let got = run.ledger().summary(run.records(), run.policy());
    assert_eq!(got, want);
    let total: u64 = want
        .values()
        .map(|c| c.migrations_completed + c.failed_attempts)
        .sum();
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
    assert_eq!(got[&gas].ecos_installed, with_meter);
    assert_eq!(got[&gas].non_migratable, 0);
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

/// Every `every`-th device becomes model BAD-MODEL, whose meters answer with a device fault.
fn make_bad_model(sim: &mut SimulatedMigration, every: usize) {
    for (n, r) in sim.fleet.records.iter_mut().enumerate() {
        if n % every == 0 {
            r.model = gbcs::cos::ModelKey::new("ACME", "BAD-MODEL");
            sim.fleet
                .meters
                .with_device(r.entity_id, |d| {
                    d.faults.fault_status = Some(gbcs::payload::StatusCode::OTHER)
                })
                .expect("device");
        }
    }
}

#[test]
fn device_faults_of_one_model_trigger_auto_stop() {
    let mut sim = simulation(11, 400, &FleetMix(Vec::new()));
    sim.policy.auto_stop.model_min_samples = 20;
    make_bad_model(&mut sim, 2);
    let config = EngineConfig {
        max_in_flight: 10,
        ..EngineConfig::default()
    };
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

/// The ACB key agreement of an HSM that fails the calls `fails` picks (by call number).
struct FlakyAcb<'a> {
    key: &'a gbcs::crypto::KeyAgreementKey,
    fails: fn(u32) -> bool,
    calls: std::sync::atomic::AtomicU32,
}

impl gbcs::crypto::KeyAgreement for FlakyAcb<'_> {
    fn agree(
        &self,
        peer: &gbcs::crypto::PublicKey,
    ) -> Result<gbcs::crypto::SharedSecret, gbcs::crypto::CryptoError> {
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if (self.fails)(n) {
            Err(gbcs::crypto::CryptoError::Backend)
        } else {
            self.key.agree(peer)
        }
    }
}

fn run_with_flaky_acb(fails: fn(u32) -> bool, devices: usize) -> (Run, SimulatedMigration) {
    let mix = FleetMix(vec![(Profile::Healthy, 1000)]);
    let mut sim = simulation(5, devices, &mix);
    // Four commands built at a time, as a small pool would.
    let config = EngineConfig {
        max_work: 4,
        ..EngineConfig::default()
    };
    let mut run = Run::new(&mut sim, config, 1);
    let acb = FlakyAcb {
        key: &sim.pki.acb.ka.key,
        fails,
        calls: std::sync::atomic::AtomicU32::new(0),
    };
    sim.with_context_using(sim.pki.tcos.signer(), &acb, |ctx| {
        run.run_with(ctx, &sim.fleet.meters)
    })
    .expect("context");
    (run, sim)
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

/// The 10,000-meter run of the default mix, starting on the 31st of December at 20:00: an HSM
/// burst (three failed key agreements) among the first commands; after the run the faulty
/// meters of `FaultUntilUpgraded` get their fix and the run goes on. Nothing happens after
/// `until`. Returns the run, the simulation and the local faults.
fn ten_thousand(until: i64) -> (Run, SimulatedMigration, u64) {
    let mut sim = simulation(20261129, 10_000, &FleetMix::default());
    let mut run = Run::new(&mut sim, EngineConfig::default(), 1_000_000);
    run.h.keep_records = false;
    let acb = FlakyAcb {
        key: &sim.pki.acb.ka.key,
        fails: |n| (100..103).contains(&n),
        calls: std::sync::atomic::AtomicU32::new(0),
    };
    sim.with_context_using(sim.pki.tcos.signer(), &acb, |ctx| {
        run.h.run_until(
            ctx,
            &sim.fleet.meters,
            gbcs::cos::engine::UnixTime::from_secs(until),
        );
    })
    .expect("context");
    let upgraded: Vec<_> = run
        .records()
        .iter()
        .zip(&sim.fleet.profiles)
        .filter(|(r, p)| {
            **p == Profile::FaultUntilUpgraded && matches!(r.status, MigrationStatus::Faulted(_))
        })
        .map(|(r, _)| r.entity_id)
        .collect();
    if until == i64::MAX {
        assert!(!upgraded.is_empty());
        for d in upgraded {
            let update = sim.upgrade_firmware(d, "1.0.1");
            run.input(&sim, update);
        }
        run.run(&sim);
    }
    let faults = run.local_faults();
    (run, sim, faults)
}

#[test]
fn the_fleets_december_report_made_after_a_run_into_january_is_the_one_at_midnight() {
    let (_, december_end) = monthly_period(scheduled_creation(2026, 12));
    let midnight = december_end.unix_seconds();
    let (mut full, ..) = ten_thousand(i64::MAX);
    let (mut stopped, ..) = ten_thousand(midnight);
    assert!(
        full.clock() > midnight + 86_400,
        "the full run went on for days"
    );
    for supplier in ["SUPA01", "SUPB02", "SUPC03", "GASS04"] {
        let id = SecPartyId::new(supplier).expect("id");
        let (a, _) = Ecosmig007::for_month(full.ledger_mut(), id.clone(), 2026, 12, None);
        let (b, _) = Ecosmig007::for_month(stopped.ledger_mut(), id.clone(), 2026, 12, None);
        assert_eq!(a, b, "{supplier}");
        // The stopped run's counts now are December's.
        assert_eq!(
            a.counts,
            stopped
                .ledger()
                .summary(stopped.records(), stopped.policy())[&id],
            "{supplier}"
        );
        assert!(a.counts.migrations_completed > 0, "{supplier}");
        if supplier != "GASS04" {
            assert!(a.counts.failed_attempts > 0, "{supplier}");
        }
        // January changed the full run's counts now (the GPFs with a gas meter were all
        // done in December).
        if supplier != "GASS04" {
            assert_ne!(
                a.counts,
                full.ledger().summary(full.records(), full.policy())[&id],
                "{supplier}"
            );
        }
    }
}
