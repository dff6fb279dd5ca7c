//! What runs the migration engine core in real time (feature `tokio`): one task owns the
//! [`Engine`] and only moves data — like quinn's `ConnectionDriver`, it decides nothing. Per
//! turn it takes what arrived (replies and alerts from the [`Transport`], results from the CPU
//! workers, a stop request), hands the engine its inputs, writes the engine's records (and
//! tells it they are durable), gives CPU work to a pool of worker threads sized to the cores
//! (they hold the keys: [`MigrationContext`]), sends the commands, passes the events on, and
//! sleeps until [`Engine::poll_timeout`] or the next arrival. The in-flight window and the CPU
//! pool are separate: thousands of commands wait on the network while the workers are busy.
//!
//! Time: round trips are real time. When nothing is in flight and no work is pending, the
//! clock may jump over a wait (a back-off of hours, an alert's time-out of days) instead of
//! sleeping through it; never while replies are outstanding.
//!
//! Stopping: [`DriverConfig::stop`] (or Ctrl-C when [`DriverConfig::stop_on_ctrl_c`]) pauses
//! the engine: no new command starts, the commands in flight are waited for up to their
//! deadlines and then count as lost replies, and the run returns.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc as tmpsc;

pub use crate::cos::engine::Arrival;
use crate::cos::engine::{
    execute, Engine, Event, Input, JobId, Lsn, MigrationContext, Record, Stats, Transmit, UnixTime,
    WorkResult,
};
use crate::cos::migration::Incident;
use crate::frame::EntityId;

#[cfg(feature = "exec")]
pub mod exec;
mod pool;
use pool::WorkQueue;

/// Where a transport puts what arrives. Cheap to clone; usable from any thread.
#[derive(Clone, Debug)]
pub struct Inbox(tmpsc::UnboundedSender<Arrival>);

impl Inbox {
    /// Hands an arrival to the driver (dropped when the run is over).
    pub fn put(&self, arrival: Arrival) {
        let _ = self.0.send(arrival);
    }

    /// An inbox and where its arrivals come out.
    pub(crate) fn channel() -> (Self, tmpsc::UnboundedReceiver<Arrival>) {
        let (tx, rx) = tmpsc::unbounded_channel::<Arrival>();
        (Self(tx), rx)
    }
}

/// Why a command could not be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError(pub alloc::string::String);

impl core::fmt::Display for TransportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for TransportError {}

/// Carries commands to devices; replies come back through the [`Inbox`], whenever and as
/// often as the network delivers them.
pub trait Transport {
    /// Hands `command` to the network at `now` (the engine's clock), without waiting for a
    /// reply. An error counts as no reply ([`Input::SendFailed`]).
    fn send(
        &mut self,
        now: UnixTime,
        command: Transmit,
        inbox: &Inbox,
    ) -> impl Future<Output = Result<(), TransportError>>;

    /// Called on every turn with the engine's clock (a simulated network's meters run their
    /// future-dated commands then).
    fn tick(&mut self, _now: UnixTime, _inbox: &Inbox) {}

    /// What is still on its way, when the transport can tell (`None`: it cannot — a real
    /// network).
    fn in_transit(&self) -> Option<InTransit> {
        None
    }

    /// When the transport can tell (a simulation): the first attempts resolved per second an
    /// engine costing no CPU would have reached with the same commands sent at the same
    /// times — each device's first command resolved the moment the network delivered its
    /// reply, or at its deadline when the reply was lost or late. What the network alone
    /// allows, for [`RunReport::first_resolved_per_second`] to be read against.
    fn network_bound_resolved_per_second(&self) -> Option<f64> {
        None
    }
}

/// What a transport still has on its way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InTransit {
    /// Replies that will come before their command's deadline (or are still being made):
    /// while any are, the engine is waiting on them. When none are, the commands still in
    /// flight will get no reply in time, and their deadlines may be jumped to rather than
    /// waited out.
    pub awaited: usize,
    /// Everything still to come, late replies and duplicates included (for progress displays:
    /// the driver finishes without waiting for these).
    pub total: usize,
}

/// A blocking exchange (send one command, wait for at most one reply) as a [`Transport`]:
/// each exchange runs on tokio's blocking pool. What a transport written for the engine of
/// earlier versions becomes.
pub struct BlockingTransport<F> {
    exchange: Arc<F>,
    in_transit: Arc<core::sync::atomic::AtomicUsize>,
}

impl<F> BlockingTransport<F>
where
    F: Fn(EntityId, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    /// Wraps `exchange` (`None`: no reply came).
    pub fn new(exchange: F) -> Self {
        Self {
            exchange: Arc::new(exchange),
            in_transit: Arc::default(),
        }
    }
}

impl<F> Transport for BlockingTransport<F>
where
    F: Fn(EntityId, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    async fn send(
        &mut self,
        _now: UnixTime,
        command: Transmit,
        inbox: &Inbox,
    ) -> Result<(), TransportError> {
        let (exchange, inbox) = (Arc::clone(&self.exchange), inbox.clone());
        let in_transit = Arc::clone(&self.in_transit);
        in_transit.fetch_add(1, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || {
            if let Some(bytes) = exchange(command.device, &command.bytes) {
                inbox.put(Arrival::Reply {
                    device: command.device,
                    bytes,
                });
            }
            in_transit.fetch_sub(1, Ordering::SeqCst);
        });
        Ok(())
    }

    fn in_transit(&self) -> Option<InTransit> {
        let n = self.in_transit.load(Ordering::SeqCst);
        Some(InTransit {
            awaited: n,
            total: n,
        })
    }
}

/// Where records go: a store writes them and says when they are durable. The driver commits
/// after each turn's records, then tells the engine.
pub trait RecordSink {
    /// Takes one record.
    ///
    /// # Errors
    /// A message when the store cannot take it: the run stops.
    fn append(&mut self, lsn: u64, record: &Record) -> Result<(), alloc::string::String>;

    /// Makes everything taken so far durable.
    ///
    /// # Errors
    /// A message when it cannot: the run stops.
    fn commit(&mut self) -> Result<(), alloc::string::String>;

    /// Called as the driver waits (at least every 100 ms): a store that holds something on a
    /// clock — PostgreSQL leases — keeps it. Nothing by default.
    ///
    /// # Errors
    /// A message when it cannot: the run stops.
    fn keepalive(&mut self) -> Result<(), alloc::string::String> {
        Ok(())
    }
}

/// Keeps nothing: for runs whose state lives only in memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStore;

impl RecordSink for NoStore {
    fn append(&mut self, _: u64, _: &Record) -> Result<(), alloc::string::String> {
        Ok(())
    }
    fn commit(&mut self) -> Result<(), alloc::string::String> {
        Ok(())
    }
}

/// How the driver runs.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// CPU worker threads (default: the cores).
    pub workers: usize,
    /// Whether the clock may jump over waits when nothing is in flight (default true).
    pub clock_jumps: bool,
    /// Set to stop gracefully.
    pub stop: Arc<AtomicBool>,
    /// Stop gracefully on Ctrl-C.
    pub stop_on_ctrl_c: bool,
    /// Inputs taken per turn at most before the engine's outputs are polled.
    pub inputs_per_turn: usize,
    /// How often `progress` is called, at most.
    pub progress_every: Duration,
    /// Group commit: records are committed together, when the driver has nothing to send
    /// until they are durable, or when this many are waiting (default 4,096) …
    pub commit_records: usize,
    /// … or when the oldest has waited this long (default 5 ms). No command leaves before
    /// its records are committed, whatever these say.
    pub commit_delay: Duration,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            clock_jumps: true,
            stop: Arc::default(),
            stop_on_ctrl_c: false,
            inputs_per_turn: 256,
            progress_every: Duration::from_millis(200),
            commit_records: 4096,
            commit_delay: Duration::from_millis(5),
        }
    }
}

/// What a run did, with the figures scripts read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunReport {
    /// The engine's stats at the end.
    pub stats: Stats,
    /// Devices whose first command was sent, per second, from the first command sent until
    /// 90 % of the devices that got any command had theirs.
    pub first_commands_per_second: f64,
    /// The same, counting a device when its first command was resolved.
    pub first_resolved_per_second: f64,
    /// What the network alone allows of [`Self::first_resolved_per_second`], when the
    /// transport can tell ([`Transport::network_bound_resolved_per_second`]).
    pub network_bound_resolved_per_second: Option<f64>,
    /// Wall-clock seconds of the run.
    pub wall_secs: f64,
    /// Seconds the clock jumped over waits.
    pub jumped_secs: f64,
    /// The incident that stopped the run, if any.
    pub stopped: Option<Incident>,
    /// Whether a stop request (or Ctrl-C) ended it.
    pub interrupted: bool,
}

/// The rate of a set of times (milliseconds), as the run's figures are taken: `n90` (90 % of
/// them, rounded up) divided by the seconds from the first to the `n90`-th.
pub fn rate_to_90_percent(mut times: Vec<i64>) -> f64 {
    if times.is_empty() {
        return 0.0;
    }
    times.sort_unstable();
    let n90 = (times.len() * 9).div_ceil(10).max(1);
    let first = times.first().copied().unwrap_or(0);
    let at90 = times.get(n90 - 1).copied().unwrap_or(first);
    let secs = ((at90 - first) as f64 / 1000.0).max(0.001);
    n90 as f64 / secs
}

/// The figures of `engine`'s first contacts.
#[must_use]
pub fn first_contact_rates(engine: &Engine) -> (f64, f64) {
    let (mut sent, mut resolved) = (Vec::new(), Vec::new());
    for (s, r) in engine.first_contacts() {
        if let Some(s) = s {
            sent.push(s.millis());
        }
        if let Some(r) = r {
            resolved.push(r.millis());
        }
    }
    (rate_to_90_percent(sent), rate_to_90_percent(resolved))
}

/// The clock: system time plus whatever was jumped over.
struct Clock {
    offset_ms: i64,
}

impl Clock {
    fn now(&self) -> UnixTime {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        UnixTime(ms.saturating_add(self.offset_ms))
    }
}

/// Runs `engine` until it is finished (or stopped and quiet): CPU work on
/// [`DriverConfig::workers`] threads with the keys of `ctx`, commands through `transport`,
/// records to `store`. `on_event` hears every event; `progress` is called now and then.
///
/// # Errors
/// When the store fails (the run stops at once; nothing unrecorded was sent), or the runtime
/// cannot start.
pub fn run<T: Transport>(
    engine: &mut Engine,
    ctx: &MigrationContext<'_>,
    transport: &mut T,
    store: &mut dyn RecordSink,
    config: &DriverConfig,
    on_event: &mut dyn FnMut(&Event),
    progress: &mut dyn FnMut(&Stats),
) -> Result<RunReport, alloc::string::String> {
    let started = std::time::Instant::now();
    let queue = WorkQueue::default();
    let (done_tx, done_rx) = tmpsc::unbounded_channel::<(JobId, WorkResult)>();
    // The clock starts at the engine's: a simulated run may start in the past or the future.
    let offset_ms = engine
        .now()
        .millis()
        .saturating_sub(Clock { offset_ms: 0 }.now().millis());
    let mut clock = Clock { offset_ms };
    let outcome = std::thread::scope(|s| {
        for _ in 0..config.workers.max(1) {
            let (queue, tx) = (&queue, done_tx.clone());
            s.spawn(move || loop {
                let Some(work) = queue.pop() else {
                    break;
                };
                let result = execute(ctx, &work);
                if tx.send((work.job(), result)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| alloc::format!("tokio runtime: {e}"));
        let result = runtime.and_then(|rt| {
            rt.block_on(drive(
                engine, transport, store, config, &mut clock, &queue, done_rx, on_event, progress,
            ))
        });
        queue.close();
        result
    })?;
    let (first_commands_per_second, first_resolved_per_second) = first_contact_rates(engine);
    Ok(RunReport {
        stats: engine.stats(),
        first_commands_per_second,
        first_resolved_per_second,
        network_bound_resolved_per_second: transport.network_bound_resolved_per_second(),
        wall_secs: started.elapsed().as_secs_f64(),
        jumped_secs: (clock.offset_ms - offset_ms) as f64 / 1000.0,
        stopped: engine.stopped().cloned(),
        interrupted: outcome,
    })
}

/// The event loop. Returns whether a stop request ended the run.
#[allow(clippy::too_many_arguments)]
async fn drive<T: Transport>(
    engine: &mut Engine,
    transport: &mut T,
    store: &mut dyn RecordSink,
    config: &DriverConfig,
    clock: &mut Clock,
    queue: &WorkQueue,
    mut done_rx: tmpsc::UnboundedReceiver<(JobId, WorkResult)>,
    on_event: &mut dyn FnMut(&Event),
    progress: &mut dyn FnMut(&Stats),
) -> Result<bool, alloc::string::String> {
    let (inbox, mut inbox_rx) = Inbox::channel();
    let mut group = GroupCommit::new(config);
    let mut stopping = false;
    let mut last_progress = std::time::Instant::now();
    let ctrl_c = async {
        if config.stop_on_ctrl_c {
            let _ = tokio::signal::ctrl_c().await;
        } else {
            core::future::pending::<()>().await;
        }
    };
    tokio::pin!(ctrl_c);
    loop {
        // The engine's outputs, in order: records (committed, then durable), work,
        // transmits, events.
        loop {
            // Each command taken may let another start: its records and work go first.
            persist_and_dispatch(engine, store, queue, &mut group)?;
            let Some(t) = engine.poll_transmit() else {
                // Nothing more to send until what is written is committed: commit the group,
                // and send what that lets go.
                if group.commit(engine, store)? {
                    continue;
                }
                break;
            };
            let (device, counter) = (t.device, t.counter);
            // A transport may hold a command back (backpressure); meanwhile what arrives is
            // still taken and checked, so outcomes do not wait on the next send.
            let send = transport.send(clock.now(), t, &inbox);
            tokio::pin!(send);
            let sent = loop {
                tokio::select! {
                    biased;
                    r = &mut send => break r,
                    Some((job, result)) = done_rx.recv() => {
                        engine.handle(clock.now(), Input::WorkDone { job, result });
                    }
                    Some(arrival) = inbox_rx.recv() => take(engine, clock.now(), arrival),
                }
                persist_and_dispatch(engine, store, queue, &mut group)?;
            };
            if sent.is_err() {
                engine.handle(clock.now(), Input::SendFailed { device, counter });
            }
        }
        while let Some(e) = engine.poll_event() {
            on_event(&e);
        }
        if last_progress.elapsed() >= config.progress_every {
            progress(&engine.stats());
            last_progress = std::time::Instant::now();
        }
        if !stopping && config.stop.load(Ordering::SeqCst) {
            stopping = true;
            engine.handle(clock.now(), Input::Pause);
            continue;
        }
        // Finished when nothing is in flight and nothing that could still answer in time is
        // on its way. A reply still coming late, or a duplicate, is not waited for: its
        // command is resolved, and what it would tell a read before any retry tells too.
        store.keepalive()?;
        let nothing_coming = transport.in_transit().is_none_or(|t| t.awaited == 0);
        let quiet = engine.is_quiet() && nothing_coming;
        if quiet && (engine.is_finished() || stopping) {
            break;
        }
        transport.tick(clock.now(), &inbox);
        let now = clock.now();
        let mut wake = engine.poll_timeout();
        // No CPU work pending, and nothing in flight — or nothing in flight that can still be
        // answered in time: jump to the next thing to happen instead of sleeping until it.
        // (Late replies still on their way are not waited for: their commands are resolved.)
        let jumpable = engine.stats().work_pending == 0
            && (engine.is_quiet() || transport.in_transit().is_some_and(|t| t.awaited == 0));
        if jumpable && config.clock_jumps && !stopping {
            if let Some(t) = wake.filter(|t| *t > now) {
                clock.offset_ms = clock.offset_ms.saturating_add(t.millis() - now.millis());
                engine.handle_timeout(clock.now());
                continue;
            }
        }
        if wake.is_some_and(|t| t <= now) {
            // What has already arrived is taken first: a reply that came before its deadline
            // is not judged by a deadline that passed while it waited in the inbox.
            while let Ok(arrival) = inbox_rx.try_recv() {
                take(engine, clock.now(), arrival);
            }
            while let Ok((job, result)) = done_rx.try_recv() {
                engine.handle(clock.now(), Input::WorkDone { job, result });
            }
            engine.handle_timeout(clock.now());
            continue;
        }
        // Wake at least every 100 ms: stop requests and the simulated meters' clocks.
        let cap = now.plus_millis(100);
        wake = Some(wake.map_or(cap, |t| t.min(cap)));
        let sleep_ms = wake.map_or(100, |t| (t.millis() - now.millis()).max(0));
        let sleep = tokio::time::sleep(Duration::from_millis(u64::try_from(sleep_ms).unwrap_or(0)));
        tokio::select! {
            biased;
            Some((job, result)) = done_rx.recv() => {
                engine.handle(clock.now(), Input::WorkDone { job, result });
                for _ in 1..config.inputs_per_turn {
                    let Ok((job, result)) = done_rx.try_recv() else { break };
                    engine.handle(clock.now(), Input::WorkDone { job, result });
                }
            }
            Some(arrival) = inbox_rx.recv() => {
                take(engine, clock.now(), arrival);
                for _ in 1..config.inputs_per_turn {
                    let Ok(arrival) = inbox_rx.try_recv() else { break };
                    take(engine, clock.now(), arrival);
                }
            }
            () = &mut ctrl_c => {
                config.stop.store(true, Ordering::SeqCst);
            }
            () = sleep => {
                while let Ok(arrival) = inbox_rx.try_recv() {
                    take(engine, clock.now(), arrival);
                }
                engine.handle_timeout(clock.now());
            }
        }
    }
    // What the last input wrote is committed before returning: a caller acts on it.
    while let Some((lsn, record)) = engine.poll_record() {
        store.append(lsn, &record)?;
        group.written(lsn);
    }
    group.commit(engine, store)?;
    progress(&engine.stats());
    Ok(stopping)
}

/// Writes the engine's records (committed, then durable) and hands its CPU work to the pool.
fn persist_and_dispatch(
    engine: &mut Engine,
    store: &mut dyn RecordSink,
    queue: &WorkQueue,
    group: &mut GroupCommit,
) -> Result<(), alloc::string::String> {
    while let Some((lsn, record)) = engine.poll_record() {
        store.append(lsn, &record)?;
        group.written(lsn);
    }
    if group.due() {
        group.commit(engine, store)?;
    }
    while let Some(work) = engine.poll_work() {
        if !queue.push(work) {
            return Err(alloc::string::String::from("the CPU workers stopped"));
        }
    }
    Ok(())
}

/// Records written and not yet committed: committed together (one transaction, one sync)
/// when the driver would otherwise wait for them, or when enough are waiting or the oldest
/// has waited long enough.
struct GroupCommit {
    /// The last record written and not committed.
    upto: Option<Lsn>,
    /// How many are waiting.
    waiting: usize,
    /// Since when the oldest has waited.
    since: Option<std::time::Instant>,
    most: usize,
    delay: Duration,
}

impl GroupCommit {
    fn new(config: &DriverConfig) -> Self {
        Self {
            upto: None,
            waiting: 0,
            since: None,
            most: config.commit_records.max(1),
            delay: config.commit_delay,
        }
    }

    fn written(&mut self, lsn: Lsn) {
        self.upto = Some(lsn);
        self.waiting += 1;
        self.since.get_or_insert_with(std::time::Instant::now);
    }

    fn due(&self) -> bool {
        self.waiting >= self.most || self.since.is_some_and(|t| t.elapsed() >= self.delay)
    }

    /// Commits what is waiting and tells the engine; whether there was anything.
    fn commit(
        &mut self,
        engine: &mut Engine,
        store: &mut dyn RecordSink,
    ) -> Result<bool, alloc::string::String> {
        let Some(lsn) = self.upto.take() else {
            return Ok(false);
        };
        store.commit()?;
        engine.handle_durable(lsn);
        self.waiting = 0;
        self.since = None;
        Ok(true)
    }
}

fn take(engine: &mut Engine, now: UnixTime, arrival: Arrival) {
    engine.handle(now, arrival.into());
}
