//! Helpers shared by the tests split out of `tests/migration.rs`.
#![allow(dead_code)]

use super::run;
use gbcs::cos::engine::EngineConfig;
use gbcs::cos::migration::{MigrationStatus, Responsibility};
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use run::Run;

/// 2026-12-31T20:00:00Z: the fleet test's run goes on into January.
pub const CLOCK: i64 = 1_798_747_200;

pub fn simulation(seed: u64, devices: usize, mix: &FleetMix) -> SimulatedMigration {
    SimulatedMigration::new(b"migration tests", seed, devices, mix, CLOCK).expect("simulated fleet")
}

/// What each profile must end as, with the policy's 5 attempts: (migrated, attempts, failed
/// attempts, final status).
pub fn expected(p: Profile) -> (bool, u32, u64, MigrationStatus) {
    match p {
        Profile::Healthy
        | Profile::FixedFirmware
        | Profile::GasProxy
        | Profile::Stale
        | Profile::UnknownState => (true, 1, 0, MigrationStatus::Migrated),
        // One attempt, its reply lost: failed when made, and it stays failed; completed too,
        // from when the read showed ECoS (counts never go down).
        Profile::LostReply => (true, 1, 1, MigrationStatus::Migrated),
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
        // A GPF of a listed model is non-migratable too: no commands while listed (revised
        // ETMAD 3.10 keeps DCC's obligation to resolve it, not its migratability).
        Profile::NonMigratableModel
        | Profile::GasProxyWithGasMeter
        | Profile::Ineligible
        | Profile::AlreadyEcos => (false, 0, 0, MigrationStatus::NotStarted),
    }
}

/// 400 meters, every other one of model BAD-MODEL whose meters fault, judged from 20
/// attempts of a model, 10 commands in flight: a run its model's faults stop.
pub fn bad_model_run() -> (SimulatedMigration, EngineConfig) {
    let mut sim = simulation(11, 400, &FleetMix(Vec::new()));
    sim.policy.auto_stop.model_min_samples = 20;
    make_bad_model(&mut sim, 2);
    let config = EngineConfig {
        max_in_flight: 10,
        ..EngineConfig::default()
    };
    (sim, config)
}

/// Every `every`-th device becomes model BAD-MODEL, whose meters answer with a device fault.
pub fn make_bad_model(sim: &mut SimulatedMigration, every: usize) {
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

/// The ACB key agreement of an HSM that fails the calls `fails` picks (by call number).
pub struct FlakyAcb<'a> {
    pub key: &'a gbcs::crypto::KeyAgreementKey,
    pub fails: fn(u32) -> bool,
    pub calls: std::sync::atomic::AtomicU32,
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

pub fn run_with_flaky_acb(fails: fn(u32) -> bool, devices: usize) -> (Run, SimulatedMigration) {
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

/// The 10,000-meter run of the default mix, starting on the 31st of December at 20:00: an HSM
/// burst (three failed key agreements) among the first commands; after the run the faulty
/// meters of `FaultUntilUpgraded` get their fix and the run goes on. Nothing happens after
/// `until`. Returns the run, the simulation and the local faults.
pub fn ten_thousand(until: i64) -> (Run, SimulatedMigration, u64) {
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
