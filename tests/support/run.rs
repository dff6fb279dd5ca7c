//! A simulated migration run through the engine core on the virtual-time harness, with the
//! accessors the migration tests use.
#![allow(dead_code)]

use gbcs::cos::engine::{EngineConfig, Event, Input, MigrationContext, StartingCounters, UnixTime};
use gbcs::cos::ledger::Ledger;
use gbcs::cos::migration::{DeviceRecord, Incident, MigrationPolicy};
use gbcs::sim::fleet::SimulatedMigration;
use gbcs::sim::harness::Harness;
use gbcs::sim::network::{Meters, NetworkProfile};

/// The engine of `sim` in a harness with zero-latency network, counters from `first`.
pub struct Run {
    pub h: Harness,
}

impl Run {
    pub fn new(sim: &mut SimulatedMigration, config: EngineConfig, first: u64) -> Self {
        Self::over(sim, config, first, NetworkProfile::default())
    }

    pub fn over(
        sim: &mut SimulatedMigration,
        config: EngineConfig,
        first: u64,
        profile: NetworkProfile,
    ) -> Self {
        Self {
            h: sim.harness(
                config,
                StartingCounters {
                    tcos: first,
                    acb: first,
                },
                profile,
            ),
        }
    }

    pub fn records(&self) -> &[DeviceRecord] {
        self.h.engine.records()
    }

    pub fn ledger(&self) -> &Ledger {
        self.h.engine.ledger()
    }

    pub fn ledger_mut(&mut self) -> &mut Ledger {
        self.h.engine.ledger_mut()
    }

    pub fn policy(&self) -> &MigrationPolicy {
        self.h.engine.policy()
    }

    pub fn stopped(&self) -> Option<&Incident> {
        self.h.engine.stopped()
    }

    pub fn local_faults(&self) -> u64 {
        self.h.engine.stats().local_faults
    }

    pub fn events(&self) -> &[Event] {
        &self.h.events
    }

    /// The clock, Unix seconds.
    pub fn clock(&self) -> i64 {
        self.h.now().secs()
    }

    /// Runs to the end with the simulation's own keys.
    pub fn run(&mut self, sim: &SimulatedMigration) {
        sim.run(&mut self.h).expect("context");
    }

    /// Runs to the end with `ctx`.
    pub fn run_with(&mut self, ctx: &MigrationContext<'_>, meters: &Meters) {
        self.h.run(ctx, meters);
    }

    /// Runs until nothing more happens by `until` (Unix seconds).
    pub fn run_until(&mut self, sim: &SimulatedMigration, until: i64) {
        sim.run_until(&mut self.h, until).expect("context");
    }

    /// Feeds an input at the harness's clock.
    pub fn input(&mut self, sim: &SimulatedMigration, input: Input) {
        sim.with_context(|ctx| self.h.handle(ctx, input))
            .expect("context");
    }

    /// Moves the clock to `t` (Unix seconds).
    pub fn advance_clock(&mut self, sim: &SimulatedMigration, t: i64) {
        sim.with_context(|ctx| self.h.set_clock(ctx, UnixTime::from_secs(t)))
            .expect("context");
    }

    /// Commands sent, in order.
    pub fn sent(&self) -> usize {
        self.h.sent.len()
    }
}
