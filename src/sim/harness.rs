//! A test harness for the engine core, like quinn-proto's `Pair`: the engine, a simulated
//! network ([`VirtualNetwork`]) over simulated meters, an in-memory store and a virtual clock.
//! Each [`Harness::step`] makes the records durable, runs the CPU work inline in the order the
//! engine asked for it, hands the transmits to the network, then moves the clock to the next
//! thing to happen — a reply, a deadline, a back-off — and lets it happen. Deterministic: with
//! deterministic signatures (RustCrypto), the same fleet, seed and inputs give the same
//! commands, counters, outcomes and ledger, byte for byte.

use alloc::vec::Vec;

use crate::cos::engine::{
    execute, Engine, Event, Input, Lsn, MigrationContext, Record, Transmit, UnixTime,
};
use crate::sim::network::{Meters, NetworkProfile, VirtualNetwork};

/// The engine on a virtual clock, with what it did.
#[derive(Debug)]
pub struct Harness {
    /// The engine.
    pub engine: Engine,
    /// The network.
    pub network: VirtualNetwork,
    now: UnixTime,
    durable: Lsn,
    /// Every record written, in order.
    pub records: Vec<(Lsn, Record)>,
    /// Every event, in order.
    pub events: Vec<Event>,
    /// Every command sent, with its time, in order.
    pub sent: Vec<(UnixTime, Transmit)>,
    /// Whether records are kept in [`Self::records`] (off for large runs).
    pub keep_records: bool,
    /// After each step, a check of the engine (for property tests: caps never exceeded, …).
    pub check: Option<fn(&Engine)>,
}

impl Harness {
    /// A harness for `engine` over a network with `profile`, its clock at the engine's.
    #[must_use]
    pub fn new(engine: Engine, profile: NetworkProfile) -> Self {
        let now = engine.now();
        Self {
            engine,
            network: VirtualNetwork::new(profile),
            now,
            durable: 0,
            records: Vec::new(),
            events: Vec::new(),
            sent: Vec::new(),
            keep_records: true,
            check: None,
        }
    }

    /// The virtual clock.
    #[must_use]
    pub const fn now(&self) -> UnixTime {
        self.now
    }

    /// Feeds `input` at the harness's clock, then lets everything it causes happen at once.
    pub fn handle(&mut self, ctx: &MigrationContext<'_>, input: Input) {
        self.engine.handle(self.now, input);
        self.drain(ctx);
    }

    /// Moves the clock to `t` (never back) and lets time-outs due by then happen; nothing on
    /// the network is delivered by this alone.
    pub fn set_clock(&mut self, ctx: &MigrationContext<'_>, t: UnixTime) {
        self.now = self.now.max(t);
        self.engine.handle_timeout(self.now);
        self.drain(ctx);
    }

    /// Everything the engine has to hand out, handed out: records made durable, work run,
    /// transmits to the network, events kept.
    pub fn drain(&mut self, ctx: &MigrationContext<'_>) {
        loop {
            let mut progressed = false;
            while let Some((lsn, record)) = self.engine.poll_record() {
                self.durable = lsn;
                if self.keep_records {
                    self.records.push((lsn, record));
                }
                progressed = true;
            }
            self.engine.handle_durable(self.durable);
            while let Some(work) = self.engine.poll_work() {
                let result = execute(ctx, &work);
                self.engine.handle(
                    self.now,
                    Input::WorkDone {
                        job: work.job(),
                        result,
                    },
                );
                progressed = true;
            }
            while let Some(t) = self.engine.poll_transmit() {
                self.sent.push((self.now, t.clone()));
                self.network.send(self.now, t);
                progressed = true;
            }
            while let Some(e) = self.engine.poll_event() {
                self.events.push(e);
                progressed = true;
            }
            if let Some(check) = self.check {
                check(&self.engine);
            }
            if !progressed {
                break;
            }
        }
    }

    /// One step: drains the engine, then moves the clock to the next thing to happen (no
    /// later than `until`) and lets it happen. Returns `false` when nothing more happens by
    /// `until`.
    pub fn step(&mut self, ctx: &MigrationContext<'_>, meters: &Meters, until: UnixTime) -> bool {
        self.drain(ctx);
        let next = [self.engine.poll_timeout(), self.network.next_time()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next else {
            return false;
        };
        if t > until {
            return false;
        }
        self.now = self.now.max(t);
        for a in self.network.pop_due(self.now, meters) {
            self.engine.handle(self.now, a.into());
            self.drain(ctx);
        }
        self.engine.handle_timeout(self.now);
        self.drain(ctx);
        true
    }

    /// Steps until nothing more happens by `until`, at most `max_steps` steps (a livelock
    /// guard); returns the steps taken.
    ///
    /// # Panics
    /// When `max_steps` steps did not reach quiet: the engine or the network livelocks.
    pub fn run_bounded(
        &mut self,
        ctx: &MigrationContext<'_>,
        meters: &Meters,
        until: UnixTime,
        max_steps: usize,
    ) -> usize {
        let mut steps = 0;
        while self.step(ctx, meters, until) {
            steps += 1;
            assert!(steps < max_steps, "no quiet after {max_steps} steps");
        }
        steps
    }

    /// Runs until nothing more happens by `until` (the clock then stands at `until`, or at the
    /// last thing that happened if that was later).
    pub fn run_until(&mut self, ctx: &MigrationContext<'_>, meters: &Meters, until: UnixTime) {
        while self.step(ctx, meters, until) {}
        if until < UnixTime(i64::MAX) {
            self.set_clock(ctx, until);
        }
    }

    /// Runs until nothing more happens at all: every device tried as often as the rules say,
    /// back-offs waited out on the virtual clock, every reply delivered.
    pub fn run(&mut self, ctx: &MigrationContext<'_>, meters: &Meters) {
        while self.step(ctx, meters, UnixTime(i64::MAX)) {}
    }
}
