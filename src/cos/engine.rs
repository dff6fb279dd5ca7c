//! The migration engine core: every rule of a bulk migration in one deterministic state machine
//! without I/O (the shape of quinn-proto's `Connection`; `../shared/design/engine.md`). It
//! has no threads, sockets, clock, keys or database: it is fed time and events and hands out
//! what to do.
//!
//! - **Inputs** are [`Engine::handle`] (a reply, an alert, a CPU job's result, an inventory
//!   update, pause and resume) and [`Engine::handle_timeout`] (time passing: deadlines,
//!   back-offs, pacing). Every input carries `now`; an older `now` is taken as the engine's
//!   own (time never goes back).
//! - **Outputs** are polled, and polls are cheap and safe to repeat. After any input, in
//!   this order: [`Engine::poll_record`] (write them, commit, then
//!   [`Engine::handle_durable`]), [`Engine::poll_work`] (CPU jobs for a pool:
//!   [`execute`] with the keys), [`Engine::poll_transmit`] (commands to send, each with its
//!   deadline), [`Engine::poll_event`], and [`Engine::poll_timeout`] (when to call
//!   [`Engine::handle_timeout`]).
//! - **Write-ahead is enforced here**: a transmit or an event is withheld until the records
//!   it depends on are durable. A command's counter block and `Sent` record come before its
//!   bytes; an outcome's records before its event.
//! - **No batches**: devices are taken one at a time as the caps allow — commands in flight,
//!   per model, per second ([`EngineConfig`]) — and a device waiting on a slow reply holds
//!   nothing else up. At most one command per device is in flight.
//! - **Replies as they arrive**: any order; a reply after its deadline is verified and
//!   recorded without a second attempt; a duplicate is ignored and counted; a reply to a
//!   counter never sent, or one that fails verification, is a security event (a command
//!   stays in flight until a *valid* reply or its deadline).
//!
//! The rules are those of `cos::migration` and `cos::ledger`, called from here: selection
//! ([`select`]), a read of the role-5 cell before any retry of a command that got no reply,
//! unknown devices read first, local faults that are not device attempts, auto-stop, back-off,
//! firmware and GPF rules, the ledger and its notices.
//!
//! ```
//! use gbcs::cos::engine::{Engine, EngineConfig, StartingCounters, UnixTime};
//! use gbcs::cos::migration::MigrationPolicy;
//!
//! // An empty fleet: nothing to do, nothing to wait for.
//! let mut engine = Engine::new(
//!     Vec::new(),
//!     MigrationPolicy::default(),
//!     EngineConfig::default(),
//!     StartingCounters { tcos: 1, acb: 1 },
//!     UnixTime::from_secs(1_764_547_200),
//! );
//! engine.handle_timeout(UnixTime::from_secs(1_764_547_201));
//! assert!(engine.poll_transmit().is_none());
//! assert!(engine.is_finished());
//! ```

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use crate::cos::classify::EvidenceSource;
use crate::cos::ledger::{Ledger, LedgerEntry};
#[cfg(doc)]
use crate::cos::migration::select;
use crate::cos::migration::{AutoStop, DeviceRecord, Incident, MigrationPolicy, MigrationStatus};
use crate::frame::EntityId;

mod activity;
mod apply;
mod flow;
mod replies;
mod restart;
mod select;
mod types;
mod work;

pub use activity::{Activity, Buckets, Mark, MarkKind};
use flow::{Counter, Flow};
pub use restart::Unresolved;
pub use types::{
    Arrival, CommandKind, CounterParty, EngineConfig, Event, Input, InventoryChange, JobId, Lsn,
    Reading, Record, Resolution, StartingCounters, Stats, Transmit, UnixTime, Work, WorkResult,
};
pub use work::{execute, MigrationContext};

/// What a busy device is doing (at most one command per device).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Busy {
    /// Its command is being built.
    Building { kind: CommandKind, counter: u64 },
    /// Its command is out, a reply awaited until `deadline`.
    InFlight {
        kind: CommandKind,
        counter: u64,
        deadline: UnixTime,
    },
    /// A reply came and is being verified.
    Checking {
        kind: CommandKind,
        counter: u64,
        deadline: UnixTime,
    },
}

/// What became of a command sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sent {
    /// Its deadline passed, or a valid reply was taken.
    resolved: bool,
    /// A valid reply was taken (a further one is a duplicate).
    replied: bool,
    /// A reply's check is outstanding.
    checking: bool,
    /// Its place in the order commands were sent (auto-stop judges outcomes in that order).
    order: u64,
}

/// What an outstanding job is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Build {
        device: usize,
        kind: CommandKind,
        counter: u64,
    },
    Check {
        device: usize,
        kind: CommandKind,
        counter: u64,
        late: bool,
    },
    Alert {
        device: usize,
        counter: u64,
    },
}

/// The migration engine core. See the module docs.
#[derive(Debug)]
pub struct Engine {
    policy: MigrationPolicy,
    config: EngineConfig,
    records: Vec<DeviceRecord>,
    index: BTreeMap<EntityId, usize>,
    ledger: Ledger,
    auto_stop: AutoStop,
    now: UnixTime,
    tcos: Counter,
    acb: Counter,
    busy: BTreeMap<usize, Busy>,
    deadlines: BTreeSet<(UnixTime, usize)>,
    sent: BTreeMap<(usize, CommandKind, u64), Sent>,
    pending_alerts: BTreeMap<usize, u64>,
    first_sent: Vec<Option<UnixTime>>,
    first_resolved: Vec<Option<UnixTime>>,
    flow: Flow,
    next_job: u64,
    jobs: BTreeMap<JobId, Job>,
    checks: VecDeque<Work>,
    builds: VecDeque<Work>,
    next_lsn: Lsn,
    durable: Lsn,
    out_records: VecDeque<(Lsn, Record)>,
    out_transmits: VecDeque<(Lsn, Transmit)>,
    out_events: VecDeque<(Lsn, Event)>,
    stopped: Option<Incident>,
    /// The devices in the window that raised the stopping incident.
    stopped_window: Vec<EntityId>,
    /// While a restart settles the commands its last life left unsettled: their outcomes
    /// are the engine's own loss, not evidence for auto-stop.
    restarting: bool,
    paused: bool,
    local_faults_in_a_row: u32,
    stats: Stats,
    /// Where this engine's commands start in the run's order (after the outcomes of an
    /// auto-stop monitor carried on from an earlier engine of the run).
    order_base: u64,
}

impl Engine {
    /// A migration of `records` under `policy` and `config`, starting at `now` with each
    /// party's counters where `counters` says. The ledger starts from the inventory: each
    /// device's supplier, state and standing as at `now` (as records to keep).
    #[must_use]
    pub fn new(
        records: Vec<DeviceRecord>,
        policy: MigrationPolicy,
        config: EngineConfig,
        counters: StartingCounters,
        now: UnixTime,
    ) -> Self {
        let mut engine = Self::blank(records, policy, config, counters, now, Ledger::new());
        engine.start_tracking();
        engine.pump();
        engine
    }

    /// An engine with nothing tracked, scheduled or started yet.
    fn blank(
        records: Vec<DeviceRecord>,
        policy: MigrationPolicy,
        config: EngineConfig,
        counters: StartingCounters,
        now: UnixTime,
        ledger: Ledger,
    ) -> Self {
        let n = records.len();
        let index = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.entity_id, i))
            .collect();
        Self {
            auto_stop: AutoStop::new(policy.auto_stop),
            policy,
            config,
            records,
            index,
            ledger,
            now,
            tcos: Counter::starting(CounterParty::Tcos, counters.tcos),
            acb: Counter::starting(CounterParty::Acb, counters.acb),
            busy: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            sent: BTreeMap::new(),
            pending_alerts: BTreeMap::new(),
            first_sent: alloc::vec![None; n],
            first_resolved: alloc::vec![None; n],
            flow: Flow::default(),
            next_job: 0,
            jobs: BTreeMap::new(),
            checks: VecDeque::new(),
            builds: VecDeque::new(),
            next_lsn: 0,
            durable: 0,
            out_records: VecDeque::new(),
            out_transmits: VecDeque::new(),
            out_events: VecDeque::new(),
            stopped: None,
            stopped_window: Vec::new(),
            restarting: false,
            paused: false,
            local_faults_in_a_row: 0,
            order_base: 0,
            stats: Stats {
                devices: n,
                now,
                ..Stats::default()
            },
        }
    }

    /// Brings every device's ledger history up to date from the inventory and puts it where
    /// its selection says (a busy device stays busy).
    fn start_tracking(&mut self) {
        for i in 0..self.records.len() {
            self.track(i, EvidenceSource::Inventory);
            self.reschedule(i);
        }
        self.stats.migrated = self
            .records
            .iter()
            .filter(|r| r.status == MigrationStatus::Migrated)
            .count();
    }

    /// Takes an input at `now`.
    pub fn handle(&mut self, now: UnixTime, input: Input) {
        self.advance(now);
        match input {
            Input::Reply { device, bytes } => self.on_reply(device, bytes),
            Input::Alert { bytes } => self.on_alert(bytes),
            Input::WorkDone { job, result } => self.on_work_done(job, result),
            Input::SendFailed { device, counter } => self.on_send_failed(device, counter),
            Input::Inventory { device, change } => self.on_inventory(device, change),
            Input::ListModel { model, fixed_from } => self.on_list_model(model, fixed_from),
            Input::Clear { device, by } => self.on_clear(device, by),
            Input::Pause => {
                if !self.paused {
                    self.paused = true;
                    let at = self.now;
                    self.record(Record::Paused { at, paused: true });
                }
            }
            Input::Resume => self.resume(),
            Input::MarkHighPriority => self.mark_high_priority(),
        }
        self.pump();
    }

    /// Time has passed: deadlines, back-offs and pacing up to `now` take effect.
    pub fn handle_timeout(&mut self, now: UnixTime) {
        self.advance(now);
        while let Some(&(t, i)) = self.deadlines.first() {
            if t > self.now {
                break;
            }
            self.deadlines.remove(&(t, i));
            self.expire(i);
        }
        while let Some(&(t, i)) = self.flow.timers.first() {
            if t > self.now {
                break;
            }
            self.flow.timers.remove(&(t, i));
            self.reschedule(i);
        }
        self.pump();
    }

    /// The records up to `upto` are durable: what depends on them may go out.
    pub fn handle_durable(&mut self, upto: Lsn) {
        self.durable = self.durable.max(upto);
    }

    /// The next record to keep, with its sequence number.
    pub fn poll_record(&mut self) -> Option<(Lsn, Record)> {
        self.out_records.pop_front()
    }

    /// The next CPU job: replies to check first, then commands to build.
    pub fn poll_work(&mut self) -> Option<Work> {
        self.checks.pop_front().or_else(|| self.builds.pop_front())
    }

    /// The next command to send, once the records it depends on are durable. Taking one
    /// from a full queue (see [`EngineConfig::max_work`]) lets the next command start, so
    /// new records and work may follow: poll them again.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let full = self.jobs.len() + self.out_transmits.len() >= self.config.max_work.max(1);
        let t = match self.out_transmits.front() {
            Some((lsn, _)) if *lsn <= self.durable => self.out_transmits.pop_front().map(|t| t.1),
            _ => None,
        };
        if full && t.is_some() {
            self.pump();
        }
        t
    }

    /// The next event, once the records it depends on are durable.
    pub fn poll_event(&mut self) -> Option<Event> {
        match self.out_events.front() {
            Some((lsn, _)) if *lsn <= self.durable => self.out_events.pop_front().map(|e| e.1),
            _ => None,
        }
    }

    /// When [`Self::handle_timeout`] next has something to do: the earliest deadline of a
    /// command in flight, back-off or alert time-out, or (under a rate cap, with devices
    /// waiting) the next moment a command may start.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        // Pacing wakes the engine only when pacing is what holds a waiting device back.
        let pacing = if self.flow.has_candidates()
            && self.may_start()
            && !self.flow.paced(&self.config, self.now)
        {
            self.flow.pacing_wake(&self.config)
        } else {
            None
        };
        [
            self.deadlines.first().map(|d| d.0),
            self.flow.timers.first().map(|t| t.0),
            pacing,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The earliest time something waits for other than replies in flight: a back-off or an
    /// alert's time-out. A driver may jump its clock there when nothing is in flight.
    #[must_use]
    pub fn next_wait(&self) -> Option<UnixTime> {
        self.flow.timers.first().map(|t| t.0)
    }

    /// Where the run stands.
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            in_flight: self.in_flight(),
            work_pending: self.jobs.len(),
            attempts: self.ledger.total_attempts(),
            now: self.now,
            ..self.stats
        }
    }

    /// Whether nothing is left to do: no command in flight or being built or checked, no
    /// device waiting to be tried now or later. (A run stopped by an incident is finished
    /// when its commands in flight are resolved.)
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.busy.is_empty()
            && self.jobs.is_empty()
            && (self.stopped.is_some()
                || self.paused
                || (!self.flow.has_candidates() && self.flow.timers.is_empty()))
    }

    /// Whether nothing is in flight, being built or being checked (the driver may then jump
    /// its clock over a wait).
    #[must_use]
    pub fn is_quiet(&self) -> bool {
        self.busy.is_empty() && self.jobs.is_empty()
    }

    /// The incident that stopped the run, if any.
    #[must_use]
    pub const fn stopped(&self) -> Option<&Incident> {
        self.stopped.as_ref()
    }

    /// The device records.
    #[must_use]
    pub fn records(&self) -> &[DeviceRecord] {
        &self.records
    }

    /// The record of `device`.
    #[must_use]
    pub fn record_of(&self, device: EntityId) -> Option<&DeviceRecord> {
        self.index.get(&device).and_then(|&i| self.records.get(i))
    }

    /// The ledger.
    #[must_use]
    pub const fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The ledger, to issue reports from (a report takes the recipient's next sequence number).
    pub fn ledger_mut(&mut self) -> &mut Ledger {
        &mut self.ledger
    }

    /// The auto-stop monitor: the run's window of outcomes and each model's.
    #[must_use]
    pub const fn auto_stop(&self) -> &AutoStop {
        &self.auto_stop
    }

    /// Carries on the auto-stop judgement of an earlier engine of the same run (the window of
    /// devices before this one): its windows of outcomes, so this engine judges the run
    /// with them rather than afresh from its first handful of outcomes — a first sample of 100
    /// crosses the threshold by chance in a fleet whose failures run close to it, and a
    /// window smaller than the sample is never judged at all. This engine's
    /// commands are ordered after those outcomes. Call it before the first input.
    pub fn carry_auto_stop(&mut self, monitor: AutoStop) {
        self.order_base = self
            .order_base
            .max(monitor.next_order())
            .max(self.auto_stop.next_order());
        self.auto_stop = monitor;
    }

    /// The policy.
    #[must_use]
    pub const fn policy(&self) -> &MigrationPolicy {
        &self.policy
    }

    /// The clock.
    #[must_use]
    pub const fn now(&self) -> UnixTime {
        self.now
    }

    /// Devices that accepted a future-dated command and whose alert has not come.
    #[must_use]
    pub fn awaiting_alerts(&self) -> usize {
        self.pending_alerts.len()
    }

    /// Each device's first command's time and the time that command was resolved (its reply
    /// verified, or its deadline passed), in device order: what a driver's figures of first
    /// commands per second are taken from.
    pub fn first_contacts(
        &self,
    ) -> impl Iterator<Item = (Option<UnixTime>, Option<UnixTime>)> + '_ {
        self.first_sent
            .iter()
            .copied()
            .zip(self.first_resolved.iter().copied())
    }

    /// Devices busy (a command being built, in flight or being checked) per model.
    pub fn busy_per_model(&self) -> impl Iterator<Item = (&crate::cos::device::ModelKey, usize)> {
        self.flow.per_model.iter().map(|(m, n)| (m, *n))
    }

    /// The engine's flow control.
    #[must_use]
    pub const fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The next counter each party's commands would carry.
    #[must_use]
    pub const fn next_counters(&self) -> StartingCounters {
        StartingCounters {
            tcos: self.tcos.next,
            acb: self.acb.next,
        }
    }

    fn advance(&mut self, now: UnixTime) {
        self.now = self.now.max(now);
        self.stats.now = self.now;
    }

    fn in_flight(&self) -> usize {
        self.busy.len()
    }

    /// Whether new commands may start at all (no incident, no pause).
    fn may_start(&self) -> bool {
        self.stopped.is_none() && !self.paused
    }

    /// Writes a record; returns its sequence number.
    fn record(&mut self, record: Record) -> Lsn {
        self.next_lsn += 1;
        self.out_records.push_back((self.next_lsn, record));
        self.next_lsn
    }

    fn event(&mut self, event: Event) {
        self.out_events.push_back((self.next_lsn, event));
    }

    fn ledger_entries(&mut self, entries: Vec<LedgerEntry>) {
        for e in entries {
            self.record(Record::Ledger(e));
        }
    }

    /// Brings device `i`'s ledger history up to date (from `source`) and records what changed
    /// and its progress.
    fn track(&mut self, i: usize, source: EvidenceSource) {
        let Some(r) = self.records.get(i) else {
            return;
        };
        let tracked = self.ledger.track(r, &self.policy, self.now.secs(), source);
        let entries = self.ledger.entries_of(r.entity_id, tracked);
        let (device, progress) = (r.entity_id, r.progress());
        self.ledger_entries(entries);
        self.record(Record::Device { device, progress });
    }
}
