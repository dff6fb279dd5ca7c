//! Helpers shared by the tests split out of `tests/engine.rs`.
#![allow(dead_code)]

use gbcs::cos::engine::{
    execute, CommandKind, CounterParty, Engine, EngineConfig, Event, Input, MigrationContext,
    Record, StartingCounters, Transmit, UnixTime,
};
use gbcs::crypto::Backend;
use gbcs::frame::EntityId;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use std::collections::{BTreeMap, BTreeSet};

pub const CLOCK: i64 = 1_764_547_200;

pub fn healthy(devices: usize) -> SimulatedMigration {
    SimulatedMigration::with_backend(
        b"engine tests",
        1,
        devices,
        &FleetMix(vec![(Profile::Healthy, 1000)]),
        CLOCK,
        Backend::RustCrypto,
    )
    .expect("fleet")
}

/// The engine, driven by hand: records durable at once (unless told otherwise), work run
/// inline, transmits kept for the test to deliver.
pub struct Manual {
    pub engine: Engine,
    pub now: UnixTime,
    pub durable: u64,
    pub auto_durable: bool,
    pub records: Vec<Record>,
    pub events: Vec<Event>,
    pub out: Vec<Transmit>,
}

impl Manual {
    pub fn new(sim: &mut SimulatedMigration, config: EngineConfig) -> Self {
        let engine = sim.engine(
            config,
            StartingCounters {
                tcos: 100,
                acb: 5000,
            },
        );
        Self {
            engine,
            now: UnixTime::from_secs(CLOCK),
            durable: 0,
            auto_durable: true,
            records: Vec::new(),
            events: Vec::new(),
            out: Vec::new(),
        }
    }

    pub fn drain(&mut self, ctx: &MigrationContext<'_>) {
        loop {
            let mut progressed = false;
            while let Some((lsn, r)) = self.engine.poll_record() {
                if self.auto_durable {
                    self.durable = lsn;
                }
                self.records.push(r);
                progressed = true;
            }
            self.engine.handle_durable(self.durable);
            while let Some(w) = self.engine.poll_work() {
                let result = execute(ctx, &w);
                self.engine.handle(
                    self.now,
                    Input::WorkDone {
                        job: w.job(),
                        result,
                    },
                );
                progressed = true;
            }
            while let Some(t) = self.engine.poll_transmit() {
                self.out.push(t);
                progressed = true;
            }
            while let Some(e) = self.engine.poll_event() {
                self.events.push(e);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
    }

    pub fn input(&mut self, ctx: &MigrationContext<'_>, input: Input) {
        self.engine.handle(self.now, input);
        self.drain(ctx);
    }

    pub fn at(&mut self, ctx: &MigrationContext<'_>, secs_after_start: i64) {
        self.now = UnixTime::from_secs(CLOCK + secs_after_start);
        self.engine.handle_timeout(self.now);
        self.drain(ctx);
    }

    pub fn take(&mut self) -> Vec<Transmit> {
        std::mem::take(&mut self.out)
    }

    pub fn count<F: Fn(&Event) -> bool>(&self, f: F) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }
}

/// The meter's reply to `t` (it executes the command).
pub fn answer(sim: &SimulatedMigration, t: &Transmit, now: UnixTime) -> Vec<u8> {
    sim.fleet
        .meters
        .deliver(t.device, &t.bytes, now.secs())
        .0
        .expect("the meter answers")
}

/// What must hold of a run, whatever happened: checked on the records it wrote.
pub fn check_run(records: &[Record], sent: &[(UnixTime, Transmit)], config: &EngineConfig) {
    // Counters strictly increase per party, in the order commands leave.
    let mut last: BTreeMap<CommandKind, u64> = BTreeMap::new();
    for (_, t) in sent {
        if let Some(prev) = last.insert(t.kind, t.counter) {
            assert!(
                t.counter > prev,
                "{:?} counter {} after {prev}",
                t.kind,
                t.counter
            );
        }
    }
    // One command in flight per device: each Sent is resolved before the device's next.
    let mut open: BTreeSet<EntityId> = BTreeSet::new();
    let mut attempts: BTreeSet<(EntityId, u64)> = BTreeSet::new();
    let mut reserved: BTreeMap<CounterParty, u64> = BTreeMap::new();
    for r in records {
        match r {
            Record::CounterBlock { party, below } => {
                reserved.insert(*party, *below);
            }
            Record::Sent {
                device,
                kind,
                counter,
                ..
            } => {
                assert!(open.insert(*device), "{device}: two commands in flight");
                let below = reserved.get(&kind.party()).copied().unwrap_or(0);
                assert!(
                    *counter < below,
                    "counter {counter} used before its block ({below})"
                );
            }
            Record::Resolved { device, how, .. }
                if *how != gbcs::cos::engine::Resolution::LateReply =>
            {
                assert!(open.remove(device), "{device}: resolved, not in flight");
            }
            Record::Ledger(gbcs::cos::ledger::LedgerEntry::Attempt(a)) => {
                assert!(
                    attempts.insert((a.device, a.counter)),
                    "attempt counted twice"
                );
            }
            _ => {}
        }
    }
    // The rate cap, over any second.
    if let Some(rate) = config.max_rate {
        let times: Vec<i64> = sent.iter().map(|(t, _)| t.millis()).collect();
        for (i, t) in times.iter().enumerate() {
            let within = times[i..].iter().take_while(|u| **u < t + 1000).count();
            assert!(
                within <= rate as usize + 1,
                "{within} commands in one second, cap {rate}"
            );
        }
    }
}

/// Checked after every step of the harness: the caps.
pub fn check_caps(engine: &Engine) {
    let c = engine.config();
    assert!(
        engine.stats().in_flight <= c.max_in_flight,
        "in flight over the cap"
    );
    if let Some(cap) = c.max_in_flight_per_model {
        for (model, n) in engine.busy_per_model() {
            assert!(n <= cap, "{model}: {n} in flight, cap {cap}");
        }
    }
    assert!(engine.stats().work_pending <= c.max_work.max(1) + engine.stats().in_flight);
}
