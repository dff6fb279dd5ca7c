//! What `migrate` keeps in `--state`, for a simulated run and an inventory's alike: which run
//! a store holds (a new store is marked with it; another run's store is refused), an
//! unfinished run resumed from it, and the lines and exit a run ends with.

use gbcs::cos::engine::Engine;
use gbcs::cos::ledger::csv_file::write_csv;
use gbcs::cos::ledger::SupplierCounts;
use gbcs::cos::migration::SecPartyId;
use gbcs::store::{MigrationStore, RunKind};

use crate::failure::{Failure, Result};
use crate::report_cmds::write_ledger;

/// The run `migrate` was asked for: its kind and two numbers (see [`RunKind`]), and how the
/// messages name it (`run of …`).
pub struct RunId {
    pub kind: RunKind,
    pub a: u64,
    pub b: u64,
    pub name: String,
}

impl RunId {
    /// A run of `kind` marked with `a` and `b`.
    pub fn new(kind: RunKind, a: u64, b: u64) -> Self {
        Self {
            kind,
            a,
            b,
            name: Self::describe(kind, a, b),
        }
    }
}

impl RunId {
    /// How the messages name a run of `kind` marked with `a` and `b`.
    fn describe(kind: RunKind, a: u64, b: u64) -> String {
        match kind {
            RunKind::Simulated => format!("run of --simulate {a} --seed {b}"),
            RunKind::Inventory => {
                format!("run of an inventory of {a} devices (fingerprint {b:016X})")
            }
        }
    }
}

/// What `--state` holds for this run.
pub enum RunStore {
    /// Nothing yet: the run starts.
    Fresh(Box<dyn MigrationStore>),
    /// This run, unfinished: it resumes.
    Resume(Box<dyn MigrationStore>),
    /// This run, finished: the line to print.
    Complete(String),
}

/// Opens `--state URL` for `run`: a new store is marked with it, this run's is taken to resume
/// (each window then reads its own devices back: `migrate_window`), a run an incident stopped
/// exits 5, and another run's store is refused.
pub fn open_run_store(url: &str, run: &RunId) -> Result<RunStore> {
    let fail = |e: gbcs::store::StoreError| crate::report_cmds::store_failure(url, &e);
    let mut store = gbcs::store::open_url(url).map_err(fail)?;
    let name = &run.name;
    let other = match run.kind {
        RunKind::Simulated => RunKind::Inventory,
        RunKind::Inventory => RunKind::Simulated,
    };
    if let Some(r) = store.run_mark(other).map_err(fail)? {
        return Err(Failure::usage(format!(
            "--state {url} holds the {}, not this one: nothing is overwritten or mixed",
            RunId::describe(other, r.meters, r.seed)
        )));
    }
    match store.run_mark(run.kind).map_err(fail)? {
        Some(r) if r.meters == run.a && r.seed == run.b && r.complete => Ok(RunStore::Complete(
            format!("complete: {url} holds the finished {name}; nothing to do\n"),
        )),
        Some(r) if r.meters == run.a && r.seed == run.b => {
            if let Some(reason) = store.resumption_of(&[]).map_err(fail)?.stopped {
                return Err(Failure::Stopped {
                    out: format!(
                        "{url} holds the {name}, stopped by an incident; nothing was sent\n"
                    ),
                    reason: format!("the run stands stopped by: {reason}"),
                });
            }
            Ok(RunStore::Resume(store))
        }
        Some(r) => Err(Failure::usage(format!(
            "--state {url} holds the {}, not this one: nothing is overwritten or mixed",
            RunId::describe(run.kind, r.meters, r.seed)
        ))),
        None if !store.is_empty().map_err(fail)? => Err(Failure::usage(format!(
            "--state {url} already holds something other than the {name}: nothing is overwritten or mixed"
        ))),
        None => {
            store
                .set_run_mark(run.kind, run.a, run.b)
                .map_err(fail)?;
            Ok(RunStore::Fresh(store))
        }
    }
}

/// A run that has ended (finished, stopped or interrupted), and what `migrate` prints of it.
pub struct Concluded<'a> {
    /// Each reporting supplier's counts.
    pub summary: std::collections::BTreeMap<SecPartyId, SupplierCounts>,
    /// The incident that stopped the run, in words.
    pub stopped: Option<String>,
    /// Whether every device is done with.
    pub finished: bool,
    /// The ledger `--ledger` writes, when there is one to write.
    pub ledger: Option<&'a gbcs::cos::ledger::Ledger>,
    pub report: &'a gbcs::driver::RunReport,
    /// Lines from an `exec:` transport that were not replies: how many, and the first.
    pub malformed: Option<(u64, Option<String>)>,
    pub devices: usize,
    pub resumed_line: String,
}

impl<'a> Concluded<'a> {
    /// The end of a run of one engine over the whole fleet.
    pub fn of_engine(
        engine: &'a Engine,
        report: &'a gbcs::driver::RunReport,
        malformed: Option<(u64, Option<String>)>,
        devices: usize,
        resumed_line: String,
    ) -> Self {
        Self {
            summary: engine.ledger().summary(engine.records(), engine.policy()),
            stopped: engine.stopped().map(ToString::to_string),
            finished: engine.is_finished(),
            ledger: Some(engine.ledger()),
            report,
            malformed,
            devices,
            resumed_line,
        }
    }
}

impl Concluded<'_> {
    /// The lines `migrate` prints, its exit (5 when the run stopped or did not finish), and
    /// the store marked complete when the run finished.
    pub fn conclude(
        self,
        m: &clap::ArgMatches,
        store: Option<&mut (dyn MigrationStore + 'static)>,
        kind: RunKind,
    ) -> Result<String> {
        let report = self.report;
        if let Some(path) = m.get_one::<String>("ledger") {
            match (self.ledger, store.as_deref()) {
                (Some(ledger), _) => write_ledger(path, ledger)?,
                (None, Some(s)) => {
                    let ledger = s.ledger().map_err(|e| {
                        crate::report_cmds::store_failure(
                            m.get_one::<String>("state").map_or("", String::as_str),
                            &e,
                        )
                    })?;
                    write_ledger(path, &ledger)?;
                }
                (None, None) => {}
            }
        }
        let stats = report.stats;
        let mut out = self.resumed_line;
        out += &format!(
            "{} devices, {} migrated, {} attempts in {:.1} s ({:.0} attempts/s); {} commands sent, {} late and {} duplicate replies\n",
            self.devices,
            stats.migrated,
            stats.attempts,
            report.wall_secs,
            stats.attempts as f64 / report.wall_secs.max(1e-9),
            stats.sent,
            stats.late_replies,
            stats.duplicate_replies,
        );
        if let Some((n, Some(first))) = self.malformed.filter(|(n, _)| *n > 0) {
            out += &format!(
                "MALFORMED LINES from the transport: {n} (skipped; their commands counted as unanswered); the first: {first}\n"
            );
        }
        if stats.local_faults > 0 {
            out += &format!(
                "LOCAL FAULTS: {} (the engine's keys failed; not device attempts)\n",
                stats.local_faults
            );
        }
        if let Some(i) = &self.stopped {
            out += &format!("AUTO-STOP: {i}\n");
        }
        out += &write_csv(&self.summary).map_err(|e| Failure::key(e.to_string()))?;
        out += &crate::input::figures(report);
        match self.stopped {
            Some(reason) => Err(Failure::Stopped { out, reason }),
            None if report.interrupted || !self.finished => Err(Failure::Stopped {
                out,
                reason: String::from(
                    "interrupted: the commands in flight were waited for; the run did not finish",
                ),
            }),
            None => {
                if let (Some(store), Some(url)) = (store, m.get_one::<String>("state")) {
                    store
                        .set_run_complete(kind)
                        .map_err(|e| crate::report_cmds::store_failure(url, &e))?;
                }
                let remaining = stats.devices.saturating_sub(stats.migrated);
                out += &format!(
                    "complete: {} devices, {} migrated, {} not migrated (excluded or failed: see the notices), {} attempts\n",
                    stats.devices, stats.migrated, remaining, stats.attempts
                );
                Ok(out)
            }
        }
    }
}

/// How `migrate` drives its engines: Ctrl-C stops gracefully.
pub fn driver_config() -> gbcs::driver::DriverConfig {
    gbcs::driver::DriverConfig {
        stop_on_ctrl_c: true,
        ..gbcs::driver::DriverConfig::default()
    }
}

/// The progress bar of a run of `n` devices (drawn on stderr only when it is a terminal:
/// indicatif's own check).
pub fn progress_bar(n: usize) -> Result<indicatif::ProgressBar> {
    Ok(
        indicatif::ProgressBar::new(u64::try_from(n).unwrap_or(u64::MAX)).with_style(
            indicatif::ProgressStyle::with_template("[{bar:30}] {pos:>6}/{len} migrated, {msg}")
                .map_err(|e| Failure::key(e.to_string()))?
                .progress_chars("#>-"),
        ),
    )
}

/// Shows `p` on `bar`.
pub fn show_progress(bar: &indicatif::ProgressBar, p: &gbcs::cos::engine::Stats) {
    bar.set_length(u64::try_from(p.devices).unwrap_or(u64::MAX));
    bar.set_position(u64::try_from(p.migrated).unwrap_or(u64::MAX));
    bar.set_message(format!(
        "{} attempts, {} in flight",
        p.attempts, p.in_flight
    ));
}
