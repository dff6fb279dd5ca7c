//! Bulk migration end to end on a simulated fleet of 10,000 meters with a seeded mix
//! (healthy, busy then healthy, never answering, device faults, a non-migratable model, one
//! with its firmware fix, ineligible, gas proxy functions, NP005-stale, already ECoS): the
//! final states, the ledger and the ECOSMIG-007 counts equal the numbers computed from each
//! device's profile; every NP005-stale device got an attempt; no device is migrated twice;
//! a failure wave triggers auto-stop.

use std::collections::BTreeMap;

use gbcs::cos::engine::{EngineConfig, Event};
use gbcs::cos::migration::{Incident, MigrationStatus, Responsibility, SecPartyId};
use gbcs::cos::report::{scheduled_creation, Ecosmig007, ReportFormat};
use gbcs::cos::{CosState, SupplierCounts};
use gbcs::payload::TrustAnchorCellIdentifier;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use gbcs::sim::pki::ids;

const CLOCK: i64 = 1_700_000_000;

fn simulation(seed: u64, devices: usize, mix: &FleetMix) -> SimulatedMigration {
    SimulatedMigration::new(b"migration tests", seed, devices, mix, CLOCK).expect("simulated fleet")
}

/// What each profile must end as, with the policy's 5 attempts: (migrated, attempts, failed
/// attempts, final status).
fn expected(p: Profile) -> (bool, u32, u64, MigrationStatus) {
    match p {
        Profile::Healthy | Profile::FixedFirmware | Profile::GasProxy | Profile::Stale => {
            (true, 1, 0, MigrationStatus::Migrated)
        }
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
    let mut sim = simulation(20261129, 10_000, &FleetMix::default());
    let profiles = sim.fleet.profiles.clone();
    let suppliers: Vec<SecPartyId> = sim
        .fleet
        .records
        .iter()
        .map(|r| r.reporting_supplier().clone())
        .collect();
    let mut run = sim.start(1_000_000);
    let mut batches = 0;
    let last = sim
        .with_context(|ctx| {
            run.run(
                ctx,
                &sim.fleet.transport,
                &EngineConfig {
                    batch_size: 1000,
                    workers: 2,
                    batch_interval_secs: 600,
                },
                |_| batches += 1,
            )
        })
        .expect("context");
    assert!(
        run.stopped().is_none(),
        "no incident expected: {:?}",
        run.stopped()
    );
    assert!(
        !run.events
            .iter()
            .any(|e| matches!(e, Event::SecurityEvent { .. } | Event::Refused { .. })),
        "{:?}",
        run.events.first()
    );

    // Per device: status, attempts, state, and the meter's own cell.
    let mut want: BTreeMap<SecPartyId, SupplierCounts> = BTreeMap::new();
    let mut seen = BTreeMap::new();
    for ((record, profile), supplier) in run.records.iter().zip(&profiles).zip(&suppliers) {
        *seen.entry(format!("{profile:?}")).or_insert(0) += 1;
        let (migrated, attempts, failed, status) = expected(*profile);
        assert_eq!(
            (record.status, record.attempts),
            (status, attempts),
            "{} {profile:?}",
            record.entity_id
        );
        let ecos_now = migrated || *profile == Profile::AlreadyEcos;
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
            .transport
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
        c.non_migratable += u64::from(*profile == Profile::NonMigratableModel);
    }
    eprintln!("profiles: {seen:?}");
    assert!(seen.len() >= 12, "every profile drawn");

    // The ledger: attempts counted once each, per reporting supplier.
    let got = run.ledger.summary(&run.records, &run.policy);
    assert_eq!(got, want);
    let total: u64 = want
        .values()
        .map(|c| c.migrations_completed + c.failed_attempts)
        .sum();
    assert_eq!(run.ledger.total_attempts(), total);
    assert_eq!(last.attempts, total);
    assert!(got.contains_key(&SecPartyId::new("SUPA01").expect("id")));
    assert!(
        !got.contains_key(&SecPartyId::new("GASS04").expect("id")),
        "GPF reports go to the electricity supplier"
    );
    eprintln!(
        "{batches} batches, {total} attempts, {} migrated",
        last.migrated
    );

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
            .transport
            .with_device(ids::device(n), |d| d.faults.silent = u32::MAX)
            .expect("device");
    }
    let mut run = sim.start(1);
    let config = EngineConfig {
        batch_size: 100,
        workers: 2,
        batch_interval_secs: 60,
    };
    sim.with_context(|ctx| run.run(ctx, &sim.fleet.transport, &config, |_| {}))
        .expect("context");
    let Some(Incident::FailureRatio { failures, window }) = run.stopped().cloned() else {
        panic!("expected auto-stop, got {:?}", run.stopped())
    };
    assert!(failures * 5 > window, "{failures}/{window}");
    let attempted = run.records.iter().filter(|r| r.attempts > 0).count();
    assert!(
        attempted <= 1300,
        "stopped within the wave: {attempted} attempted"
    );
    assert!(
        run.records[1700..]
            .iter()
            .all(|r| r.status == MigrationStatus::NotStarted),
        "nothing sent after the stop"
    );
    // Stopped means stopped: another batch sends nothing until resumed.
    let batch = |run: &mut gbcs::cos::engine::BulkMigration| {
        sim.with_context(|ctx| run.run_batch(ctx, &sim.fleet.transport, &config))
            .expect("context")
    };
    assert_eq!(batch(&mut run), 0);
    run.resume();
    assert!(batch(&mut run) > 0);
}

/// Every `every`-th device becomes model BAD-MODEL, whose meters answer with a device fault.
fn make_bad_model(sim: &mut SimulatedMigration, every: usize) {
    for (n, r) in sim.fleet.records.iter_mut().enumerate() {
        if n % every == 0 {
            r.model = "BAD-MODEL".into();
            sim.fleet
                .transport
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
    let mut run = sim.start(1);
    let config = EngineConfig {
        batch_size: 10,
        workers: 1,
        batch_interval_secs: 60,
    };
    sim.with_context(|ctx| run.run(ctx, &sim.fleet.transport, &config, |_| {}))
        .expect("context");
    assert!(
        matches!(run.stopped(), Some(Incident::ModelFaults { model, faults: 20, attempts: 20 }) if model == "BAD-MODEL"),
        "{:?}",
        run.stopped()
    );
}

#[test]
fn future_dated_migrations_wait_for_their_alerts_and_count_once() {
    let mut sim = simulation(3, 40, &FleetMix(Vec::new()));
    let mut run = sim.start(1);
    let at = gbcs::payload::GeneralizedTime::from_unix_seconds(CLOCK + 86_400).expect("time");
    let config = EngineConfig {
        batch_size: 100,
        workers: 2,
        batch_interval_secs: 60,
    };
    sim.with_context(|ctx| {
        let scheduled = gbcs::cos::engine::MigrationContext {
            command: ctx.command.scheduled_at(at),
            ..*ctx
        };
        run.run(&scheduled, &sim.fleet.transport, &config, |_| {})
    })
    .expect("context");
    assert_eq!(run.awaiting_alerts(), 40);
    assert!(run
        .records
        .iter()
        .all(|r| r.status == MigrationStatus::AwaitingAlert && r.state == CosState::Tcos));
    assert_eq!(
        run.ledger.total_attempts(),
        0,
        "an acceptance is not yet an attempt"
    );
    let mut alerts = Vec::new();
    for r in &run.records {
        alerts.extend(
            sim.fleet
                .transport
                .with_device(r.entity_id, |d| d.advance_to(CLOCK + 86_400))
                .expect("device"),
        );
    }
    assert_eq!(alerts.len(), 40);
    for a in &alerts {
        assert_eq!(run.on_alert(a), Some(gbcs::cos::Outcome::Migrated));
    }
    assert!(run
        .records
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated
            && r.state == CosState::Ecos
            && r.attempts == 1));
    assert_eq!(run.ledger.total_attempts(), 40);
    // The same alert again is not a second attempt.
    assert_eq!(run.on_alert(&alerts[0]), None);
    assert_eq!(run.ledger.total_attempts(), 40);
}

#[test]
fn auto_stop_stops_inside_the_batch_the_moment_a_model_crosses_its_threshold() {
    for workers in [1, 2] {
        let mut sim = simulation(13, 300, &FleetMix(Vec::new()));
        sim.policy.auto_stop.model_min_samples = 20;
        make_bad_model(&mut sim, 1);
        let mut run = sim.start(1);
        // One batch big enough for the whole fleet: only the stop can cut it short.
        let config = EngineConfig {
            batch_size: 300,
            workers,
            batch_interval_secs: 60,
        };
        let made = sim
            .with_context(|ctx| run.run_batch(ctx, &sim.fleet.transport, &config))
            .expect("context");
        assert!(
            matches!(
                run.stopped(),
                Some(Incident::ModelFaults {
                    faults: 20,
                    attempts: 20,
                    ..
                })
            ),
            "{workers} workers: {:?}",
            run.stopped()
        );
        // The 20th fault stops it; at most one command per other worker was already out.
        assert!(
            (20..20 + workers).contains(&made),
            "{workers} workers: {made} commands in the batch"
        );
        assert_eq!(run.ledger.total_attempts(), made as u64);
    }
}

#[test]
fn the_engine_is_deterministic_whatever_the_number_of_threads() {
    let outcome = |workers: usize| {
        let mut sim = simulation(99, 400, &FleetMix::default());
        let mut run = sim.start(1);
        let config = EngineConfig {
            batch_size: 64,
            workers,
            batch_interval_secs: 600,
        };
        sim.with_context(|ctx| run.run(ctx, &sim.fleet.transport, &config, |_| {}))
            .expect("context");
        (
            run.records.clone(),
            run.ledger.summary(&run.records, &run.policy),
            run.clock(),
        )
    };
    assert_eq!(outcome(1), outcome(2));
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
        let mut run = sim.start(1);
        let config = EngineConfig {
            batch_size: 64,
            workers: 2,
            batch_interval_secs: 600,
        };
        sim.with_context(|ctx| run.run(ctx, &sim.fleet.transport, &config, |_| {}))
            .expect("context");
        // One ECDH per meter contacted: every retry's MAC took Z from the cache.
        let contacted = run.records.iter().filter(|r| r.attempts > 0).count();
        let stats = sim.secrets.stats();
        assert_eq!(stats.misses, contacted as u64, "{backend}");
        assert_eq!(
            stats.hits + stats.misses,
            run.ledger.total_attempts(),
            "{backend}"
        );
        assert!(stats.hits > 0, "{backend}: retries reuse Z");
        // Public keys compare by their point, whatever backend prepared them.
        (
            run.records.clone(),
            run.ledger.summary(&run.records, &run.policy),
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

fn run_with_flaky_acb(
    fails: fn(u32) -> bool,
    devices: usize,
) -> (gbcs::cos::engine::BulkMigration, SimulatedMigration) {
    let mix = FleetMix(vec![(Profile::Healthy, 1000)]);
    let mut sim = simulation(5, devices, &mix);
    let mut run = sim.start(1);
    let acb = FlakyAcb {
        key: &sim.pki.acb.ka.key,
        fails,
        calls: std::sync::atomic::AtomicU32::new(0),
    };
    let config = EngineConfig {
        batch_size: 4,
        workers: 1,
        batch_interval_secs: 600,
    };
    sim.with_context_using(sim.pki.tcos.signer(), &acb, |ctx| {
        run.run(ctx, &sim.fleet.transport, &config, |_| {})
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
        .events
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
        .records
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated && r.attempts == 1));
    assert_eq!(run.ledger.total_attempts(), 20);
    let summary = run.ledger.summary(&run.records, &run.policy);
    assert_eq!(
        summary.values().map(|c| c.failed_attempts).sum::<u64>(),
        0,
        "local faults are not failed attempts"
    );
}

#[test]
fn a_burst_of_local_failures_stops_the_run_before_any_device_is_tried() {
    let (run, _sim) = run_with_flaky_acb(|_| true, 30);
    let limit = run.policy.auto_stop.local_fault_limit;
    match run.stopped() {
        Some(Incident::LocalFaults { in_a_row, .. }) => assert_eq!(*in_a_row, limit),
        other => panic!("expected a local-fault stop, got {other:?}"),
    }
    assert_eq!(run.ledger.total_attempts(), 0);
    assert!(run.records.iter().all(|r| r.attempts == 0));
    // Batches of 4: the run stopped in the batch that reached the limit.
    assert!(run.local_faults() >= u64::from(limit) && run.local_faults() < u64::from(limit) + 4);
}

#[test]
fn local_faults_stop_the_run_only_when_in_a_row() {
    // Every other key agreement fails: far more local faults than the limit in all, never
    // two in a row, so the run goes on and every device migrates.
    let (run, _sim) = run_with_flaky_acb(|n| n % 2 == 0, 30);
    let limit = u64::from(run.policy.auto_stop.local_fault_limit);
    assert!(run.local_faults() >= limit, "{}", run.local_faults());
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
    assert!(run
        .records
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated && r.attempts == 1));
}
