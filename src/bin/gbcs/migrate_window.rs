//! `gbcs migrate --simulate N --state URL` and `--inventory FILE --state URL`: the fleet
//! taken a window of devices at a time (`--window`, default 10,000), so the engine holds one
//! window's records and ledger history (and a simulated run one window's meters), never the
//! fleet's. Each window's engine starts from what the store holds for its
//! devices (their progress, their commands never settled, their history), with counters above
//! every block reserved and its clock where the last window's stopped, and runs to its end;
//! then the store marks the window done (`devices_done_below`) and the next is taken, the
//! auto-stop judgement carried on from the one before. A
//! resumed run starts at the mark; a window done but not yet marked is taken again, finds
//! nothing left to do, and is marked.

use std::collections::BTreeMap;

use gbcs::cos::engine::{Engine, EngineConfig, StartingCounters, Stats, UnixTime};
use gbcs::cos::ledger::SupplierCounts;
use gbcs::cos::migration::{DeviceRecord, MigrationPolicy, SecPartyId};
use gbcs::driver::{rate_to_90_percent, RecordSink, RunReport};
use gbcs::frame::EntityId;
use gbcs::store::MigrationStore;

use crate::failure::{Failure, Result};

/// Runs one window's engine to its end, writing to the sink and showing its progress.
pub type RunWindow<'a, S> = dyn FnMut(
        &S,
        &mut Engine,
        &mut dyn RecordSink,
        &mut dyn FnMut(&Stats),
    ) -> std::result::Result<RunReport, String>
    + 'a;

/// Makes the records of devices `range` (in the run's order), their inventory taken at the
/// instant given; what the window runs over (a simulated fleet's meters) goes in the state.
pub type LoadWindow<'a, S> =
    dyn FnMut(&mut S, core::ops::Range<usize>, UnixTime) -> Result<Vec<DeviceRecord>> + 'a;

/// The run taken a window at a time.
pub struct Windows<'a> {
    pub n: usize,
    pub window: usize,
    pub policy: MigrationPolicy,
    pub config: EngineConfig,
    pub flags: StartingCounters,
    /// When the run started (Unix seconds).
    pub start: i64,
    pub url: &'a str,
    /// Whether the store held this run already.
    pub resuming: bool,
}

/// What the windows did, together.
pub struct WindowsDone {
    pub report: RunReport,
    pub summary: BTreeMap<SecPartyId, SupplierCounts>,
    pub stopped: Option<String>,
    pub finished: bool,
    pub resumed_line: String,
}

/// A rate of first contacts over windows: each window's 90 % of devices over the seconds they
/// took (as [`rate_to_90_percent`] takes it), summed, so the time between windows (the last
/// one's back-offs, jumped over) is not counted as contacting.
#[derive(Default)]
struct Rate {
    devices: f64,
    secs: f64,
}

impl Rate {
    /// Adds a window's times (milliseconds).
    fn add(&mut self, times: Vec<i64>) {
        if times.is_empty() {
            return;
        }
        let n90 = (times.len() * 9).div_ceil(10).max(1);
        let rate = rate_to_90_percent(times);
        self.devices += n90 as f64;
        self.secs += n90 as f64 / rate;
    }

    fn per_second(&self) -> f64 {
        if self.secs > 0.0 {
            self.devices / self.secs
        } else {
            0.0
        }
    }
}

/// `--window N` (at least 1: clap refuses 0), 10,000 when not given.
pub fn window_flag(m: &clap::ArgMatches) -> usize {
    m.get_one::<u64>("window")
        .copied()
        .map_or(10_000, |w| usize::try_from(w).unwrap_or(usize::MAX))
}

/// Adds one child's malformed lines (how many, and the first) to the run's tally.
pub fn tally_malformed(tally: &mut (u64, Option<String>), child: (u64, Option<String>)) {
    tally.0 += child.0;
    if tally.1.is_none() {
        tally.1 = child.1;
    }
}

/// Adds `b`'s counts to `a`'s.
fn add(a: &mut SupplierCounts, b: &SupplierCounts) {
    a.migrations_completed += b.migrations_completed;
    a.failed_attempts += b.failed_attempts;
    a.ecos_installed += b.ecos_installed;
    a.remaining_tcos += b.remaining_tcos;
    a.non_migratable += b.non_migratable;
}

/// The stats of windows `a` and then `b`.
fn sum(a: Stats, b: Stats) -> Stats {
    Stats {
        devices: a.devices,
        migrated: a.migrated + b.migrated,
        attempts: a.attempts + b.attempts,
        sent: a.sent + b.sent,
        in_flight: b.in_flight,
        peak_in_flight: a.peak_in_flight.max(b.peak_in_flight),
        work_pending: b.work_pending,
        late_replies: a.late_replies + b.late_replies,
        duplicate_replies: a.duplicate_replies + b.duplicate_replies,
        security_events: a.security_events + b.security_events,
        local_faults: a.local_faults + b.local_faults,
        now: b.now,
    }
}

/// Runs the windows from the store's mark to the fleet's end (or to a stop).
pub fn run<S>(
    state: &mut S,
    load: &mut LoadWindow<'_, S>,
    run_window: &mut RunWindow<'_, S>,
    store: &mut dyn MigrationStore,
    w: &Windows<'_>,
    bar: &indicatif::ProgressBar,
) -> Result<WindowsDone> {
    let url = w.url;
    let fail = |e: gbcs::store::StoreError| crate::report_cmds::store_failure(url, &e);
    let window = w.window.max(1);
    let mut from = usize::try_from(store.done_below().map_err(fail)?)
        .unwrap_or(usize::MAX)
        .min(w.n);
    // Time never goes back: a resumed run starts after the last instant its store holds.
    let mut now = UnixTime::from_secs(
        store
            .events_span()
            .map_err(fail)?
            .map_or(w.start, |s| s.1.saturating_add(1))
            .max(w.start),
    );
    let mut counters = w.flags;
    let mut report = RunReport {
        stats: Stats {
            devices: w.n,
            ..Stats::default()
        },
        ..RunReport::default()
    };
    let (mut sent_at, mut resolved_at) = (Rate::default(), Rate::default());
    let mut done = WindowsDone {
        report: RunReport::default(),
        summary: BTreeMap::new(),
        stopped: None,
        finished: true,
        resumed_line: String::new(),
    };
    let mut migrated_before = 0usize;
    // The run's auto-stop judgement goes on from window to window.
    let mut monitor: Option<gbcs::cos::migration::AutoStop> = None;
    if w.resuming {
        let kept = store.resumption_of(&[]).map_err(fail)?.counters;
        done.resumed_line = format!(
            "resumed: devices below {from} done with; windows of {window} from there, counters from TCoS {} and ACB {}\n",
            kept.tcos.max(w.flags.tcos),
            kept.acb.max(w.flags.acb),
        );
    }
    while from < w.n {
        let end = from.saturating_add(window).min(w.n);
        let mut records = load(state, from..end, now)?;
        let ids: Vec<EntityId> = records.iter().map(|r| r.entity_id).collect();
        let r = store.resumption_of(&ids).map_err(fail)?;
        if let Some(reason) = r.stopped {
            return Err(Failure::Stopped {
                out: format!("{url} holds a run stopped by an incident; nothing was sent\n"),
                reason: format!("the run stands stopped by: {reason}"),
            });
        }
        let ledger = store.ledger_of(&ids).map_err(fail)?;
        if let Some(last) = ledger.last_instant() {
            now = now.max(UnixTime::from_secs(last.saturating_add(1)));
        }
        if w.resuming && (!r.progress.is_empty() || !r.unresolved.is_empty()) {
            done.resumed_line += &format!(
                "resumed window {from}..{end}: {} devices with progress, {} commands sent and never settled (taken as lost replies: read before any retry)\n",
                r.progress.len(),
                r.unresolved.len()
            );
        }
        let mut progress: BTreeMap<_, _> = r.progress.into_iter().collect();
        for d in &mut records {
            if let Some(p) = progress.remove(&d.entity_id) {
                d.restore(p);
            }
        }
        // Each party's counters above every block reserved, by any window or life.
        counters = StartingCounters {
            tcos: counters.tcos.max(r.counters.tcos),
            acb: counters.acb.max(r.counters.acb),
        };
        let mut engine = Engine::restart(
            records,
            ledger,
            &r.unresolved,
            w.policy.clone(),
            w.config,
            counters,
            now,
        );
        if let Some(m) = monitor.take() {
            engine.carry_auto_stop(m);
        }
        let mut on_progress = |p: &Stats| {
            let shown = Stats {
                devices: w.n,
                migrated: migrated_before + p.migrated,
                attempts: report.stats.attempts + p.attempts,
                ..*p
            };
            crate::migrate_store::show_progress(bar, &shown);
        };
        let r = run_window(state, &mut engine, store.as_sink(), &mut on_progress)
            .map_err(Failure::key)?;
        for (summary_of, counts) in engine.ledger().summary(engine.records(), engine.policy()) {
            add(done.summary.entry(summary_of).or_default(), &counts);
        }
        let (mut sent, mut resolved) = (Vec::new(), Vec::new());
        for (s, z) in engine.first_contacts() {
            sent.extend(s.map(UnixTime::millis));
            resolved.extend(z.map(UnixTime::millis));
        }
        sent_at.add(sent);
        resolved_at.add(resolved);
        report.stats = sum(report.stats, r.stats);
        migrated_before = report.stats.migrated;
        report.wall_secs += r.wall_secs;
        report.jumped_secs += r.jumped_secs;
        report.network_bound_resolved_per_second = match (
            report.network_bound_resolved_per_second,
            r.network_bound_resolved_per_second,
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        report.interrupted |= r.interrupted;
        counters = engine.next_counters();
        monitor = Some(engine.auto_stop().clone());
        now = now.max(engine.now());
        if let Some(i) = engine.stopped() {
            done.stopped = Some(i.to_string());
            done.finished = false;
            break;
        }
        if r.interrupted || !engine.is_finished() {
            done.finished = false;
            break;
        }
        // Every record of the window is committed (the driver commits before it returns).
        store
            .set_done_below(u64::try_from(end).unwrap_or(u64::MAX))
            .map_err(fail)?;
        from = end;
    }
    report.first_commands_per_second = sent_at.per_second();
    report.first_resolved_per_second = resolved_at.per_second();
    done.report = report;
    Ok(done)
}
