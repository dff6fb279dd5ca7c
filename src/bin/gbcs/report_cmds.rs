//! The report subcommands: the six EMRR reports, the notices, and the schedule of what is
//! due. Each reads the ledger file, and a report that issues a sequence number writes the
//! ledger back (atomically) so the next report follows it.

use clap::ArgMatches;
use gbcs::cos::ledger::csv_file::write_notices;
use gbcs::cos::ledger::{Ledger, LedgerEntry};
use gbcs::cos::report::{
    monthly_period, scheduled_creation, weekly_period, DeviceReportKind, Report, ReportFormat,
};
use gbcs::cos::SecPartyId;
use gbcs::payload::GeneralizedTime;

use crate::failure::{Failure, Result};
use crate::input::{read_text, LEDGER};

/// Reads a ledger file (the JSON `gbcs migrate --ledger` writes).
pub fn read_ledger(path: &str) -> Result<Ledger> {
    serde_json::from_str(&read_text(path, LEDGER)?).map_err(|e| Failure::File {
        path: path.to_owned(),
        line: e.line() as u64,
        column: Some(e.column()),
        message: e.to_string(),
    })
}

/// Writes the ledger file whole or not at all: to a temporary file beside it, flushed to disk,
/// then renamed over it, so a kill at any instant leaves the old file or the new, never a
/// truncated one.
pub fn write_ledger(path: &str, ledger: &Ledger) -> Result<()> {
    let text = serde_json::to_string(ledger).map_err(|e| Failure::key(e.to_string()))?;
    crate::input::write_atomically(path, (text + "\n").as_bytes())
}

/// Where a report command's ledger lives: a JSON ledger file (`--ledger`), rewritten whole
/// and atomically, or a store (`--state`), appended to in one transaction.
pub enum State {
    /// A ledger file.
    File(String),
    /// A store, with its URL.
    Store(Box<dyn gbcs::store::MigrationStore>, String),
}

impl State {
    /// The state `--ledger` or `--state` names.
    pub fn from_args(m: &ArgMatches) -> Result<Self> {
        if let Some(url) = m.try_get_one::<String>("state").ok().flatten() {
            // A report reads a run's state: a mistyped path is an error, not a new store.
            let store = gbcs::store::open_existing_url(url).map_err(|e| store_failure(url, &e))?;
            return Ok(Self::Store(store, url.clone()));
        }
        Ok(Self::File(
            m.get_one::<String>("ledger")
                .map(String::as_str)
                .unwrap_or_default()
                .to_owned(),
        ))
    }

    /// The ledger it holds.
    pub fn ledger(&self) -> Result<Ledger> {
        match self {
            Self::File(path) => read_ledger(path),
            Self::Store(store, url) => store.ledger().map_err(|e| store_failure(url, &e)),
        }
    }

    /// Keeps the reports issued (`issued`: report, recipient, sequence number, period):
    /// the file rewritten from `ledger`, or their entries appended to the store.
    pub fn keep(
        &mut self,
        ledger: &Ledger,
        issued: &[(String, SecPartyId, u32, (GeneralizedTime, GeneralizedTime))],
    ) -> Result<()> {
        match self {
            Self::File(path) => write_ledger(path, ledger),
            Self::Store(store, url) => {
                let entries: Vec<LedgerEntry> = issued
                    .iter()
                    .flat_map(|(report, recipient, number, (start, end))| {
                        [
                            LedgerEntry::Sequence {
                                report: report.clone(),
                                recipient: recipient.clone(),
                                number: *number,
                            },
                            LedgerEntry::Made {
                                report: report.clone(),
                                recipient: recipient.clone(),
                                start: start.unix_seconds(),
                                end: end.unix_seconds(),
                            },
                        ]
                    })
                    .collect();
                store.append(&entries).map_err(|e| store_failure(url, &e))
            }
        }
    }
}

/// A store that could not be used: exit 4 (a file that could not be read), naming it.
pub fn store_failure(url: &str, e: &gbcs::store::StoreError) -> Failure {
    match e {
        gbcs::store::StoreError::Url(_) => Failure::usage(format!("--state {e}")),
        _ => Failure::File {
            path: url.to_owned(),
            line: 0,
            column: None,
            message: e.to_string(),
        },
    }
}

fn supplier_arg(m: &ArgMatches) -> Result<SecPartyId> {
    let supplier = m
        .get_one::<String>("supplier")
        .map(String::as_str)
        .unwrap_or_default();
    SecPartyId::new(supplier).map_err(|e| Failure::usage(format!("--supplier: {e}")))
}

fn text_arg<'a>(m: &'a ArgMatches, name: &str) -> &'a str {
    m.get_one::<String>(name)
        .map(String::as_str)
        .unwrap_or_default()
}

/// `YYYY-MM-DD` at 00:00:00 UTC.
fn date_arg(m: &ArgMatches, name: &str) -> Result<GeneralizedTime> {
    let text = text_arg(m, name);
    let mut parts = text.splitn(3, '-').map(str::parse::<u16>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(y)), Some(Ok(mo)), Some(Ok(d))) => u8::try_from(mo)
            .ok()
            .zip(u8::try_from(d).ok())
            .and_then(|(mo, d)| GeneralizedTime::new(y, mo, d, 0, 0, 0)),
        _ => None,
    }
    .ok_or_else(|| Failure::usage(format!("--{name} {text}: expected a date, YYYY-MM-DD")))
}

/// `YYYY-MM`: the year and month.
fn month_arg(m: &ArgMatches) -> Result<(u16, u8)> {
    let month = text_arg(m, "month");
    month
        .split_once('-')
        .and_then(|(y, m)| {
            Some((
                y.parse::<u16>().ok()?,
                m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?,
            ))
        })
        .ok_or_else(|| Failure::usage(format!("--month {month}: expected YYYY-MM")))
}

/// The calendar month `--month` names, refused outside the years a report can carry.
fn month_period(m: &ArgMatches) -> Result<(GeneralizedTime, GeneralizedTime)> {
    let (y, mo) = month_arg(m)?;
    if !(2000..=9999).contains(&y) {
        return Err(Failure::usage(format!(
            "report refused: year {y} is outside 2000-9999"
        )));
    }
    Ok(monthly_period(scheduled_creation(y, mo)))
}

pub fn at(t: i64, what: &str) -> Result<GeneralizedTime> {
    GeneralizedTime::from_unix_seconds(t)
        .ok_or_else(|| Failure::usage(format!("{what}: out of range")))
}

pub fn report(m: &ArgMatches) -> Result<String> {
    match m.subcommand() {
        Some(("ecosmig-001", m)) => devices(m, DeviceReportKind::Migrated),
        Some(("ecosmig-002", m)) => devices(m, DeviceReportKind::Failed),
        Some(("ecosmig-004", m)) => devices(m, DeviceReportKind::NonMigratable),
        Some(("ecosmig-005", m)) => ecosmig_005(m),
        Some(("ecosmig-006", m)) => devices(m, DeviceReportKind::EcosInstalled),
        Some(("ecosmig-007", m)) => ecosmig_007(m),
        Some(("notices", m)) => notices(m),
        Some(("due", m)) => crate::report_due::due(m),
        _ => Err(Failure::usage("unknown report")),
    }
}

/// Makes `report` to the `--supplier` for `period` at `--now`, writes the ledger back, and
/// returns the text.
fn make(
    m: &ArgMatches,
    report: Report,
    period: (GeneralizedTime, GeneralizedTime),
) -> Result<String> {
    let mut state = State::from_args(m)?;
    let mut ledger = state.ledger()?;
    let id = supplier_arg(m)?;
    let explicit = m.get_one::<u32>("sequence").copied();
    let now = crate::input::now(m)?;
    let (made, issued) = report
        .make(&mut ledger, id.clone(), period, explicit, now)
        .map_err(|e| Failure::usage(format!("report refused: {e}")))?;
    let text = made
        .to_text(&ReportFormat::default())
        .map_err(|e| Failure::decode(e.to_string()))?;
    if issued.overridden() {
        eprintln!(
            "note: sequence number {} given with --sequence; the ledger's next was {}",
            issued.number, issued.expected
        );
    }
    // The issued number is kept: the next report to this recipient follows it.
    state.keep(
        &ledger,
        &[(report.id().to_owned(), id, issued.number, period)],
    )?;
    Ok(text)
}

fn ecosmig_007(m: &ArgMatches) -> Result<String> {
    make(m, Report::Summary, month_period(m)?)
}

fn ecosmig_005(m: &ArgMatches) -> Result<String> {
    let day = date_arg(m, "week")?;
    // The week holding `day`, Monday to Sunday.
    let period = weekly_period(at(day.unix_seconds() + 7 * 86_400, "--week")?);
    make(m, Report::Reconciliation, period)
}

fn devices(m: &ArgMatches, kind: DeviceReportKind) -> Result<String> {
    let (start, end) = if kind == DeviceReportKind::EcosInstalled {
        month_period(m)?
    } else {
        let day = date_arg(m, "day")?;
        (day, at(day.unix_seconds() + 86_399, "--day")?)
    };
    let start = if m.get_flag("from-start") {
        let ledger = State::from_args(m)?.ledger()?;
        match ledger.first_instant() {
            Some(first) if first < start.unix_seconds() => at(first, "the ledger's first instant")?,
            _ => start,
        }
    } else {
        start
    };
    make(m, Report::Devices(kind), (start, end))
}

fn notices(m: &ArgMatches) -> Result<String> {
    let ledger = State::from_args(m)?.ledger()?;
    let notices = if m.get_flag("dcc") {
        ledger.dcc_notices()
    } else {
        ledger.notices(&supplier_arg(m)?)
    };
    write_notices(&notices).map_err(|e| Failure::key(e.to_string()))
}

/// `gbcs state export|import`: the ledger between a store and a JSON ledger file, nothing
/// overwritten.
pub fn state(m: &ArgMatches) -> Result<String> {
    let url = |m: &ArgMatches| {
        m.get_one::<String>("state")
            .map(String::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match m.subcommand() {
        Some(("export", m)) => {
            let url = url(m);
            let out = m
                .get_one::<String>("out")
                .map(String::as_str)
                .unwrap_or_default();
            if std::path::Path::new(out).exists() {
                return Err(Failure::usage(format!(
                    "--out {out} exists: nothing is overwritten; give a new path"
                )));
            }
            let store =
                gbcs::store::open_existing_url(&url).map_err(|e| store_failure(&url, &e))?;
            let ledger = store.ledger().map_err(|e| store_failure(&url, &e))?;
            write_ledger(out, &ledger)?;
            Ok(format!(
                "{} ledger entries from {url} written to {out}\n",
                ledger.to_entries().len()
            ))
        }
        Some(("import", m)) => {
            let url = url(m);
            let path = m
                .get_one::<String>("ledger")
                .map(String::as_str)
                .unwrap_or_default();
            let ledger = read_ledger(path)?;
            let mut store = gbcs::store::open_url(&url).map_err(|e| store_failure(&url, &e))?;
            if !store.is_empty().map_err(|e| store_failure(&url, &e))? {
                return Err(Failure::usage(format!(
                    "--state {url} is not empty: nothing is overwritten or mixed"
                )));
            }
            let entries = ledger.to_entries();
            store
                .append(&entries)
                .map_err(|e| store_failure(&url, &e))?;
            Ok(format!(
                "{} ledger entries from {path} written to {url}\n",
                entries.len()
            ))
        }
        _ => Err(Failure::usage("unknown state command")),
    }
}
