//! `gbcs dashboard`: the migration at a glance, one self-contained HTML file.

use clap::ArgMatches;
use gbcs::cos::engine::{Activity, Buckets};
use gbcs::cos::migration::MigrationPolicy;
use gbcs::dashboard::{render, Figures};

use crate::failure::{Failure, Result};
use crate::report_cmds::{read_ledger, store_failure};

fn time_arg(m: &ArgMatches, name: &str) -> Result<Option<i64>> {
    m.get_one::<String>(name)
        .map(|t| {
            gbcs::cli::parse_time(t).ok_or_else(|| {
                Failure::usage(format!(
                    "--{name} {t}: not an RFC 3339 date-time with a zone, e.g. 2026-12-07T06:00:00Z"
                ))
            })
        })
        .transpose()
}

/// Writes the dashboard of `--state` (or `--ledger`) to `--out`.
pub fn dashboard(m: &ArgMatches) -> Result<String> {
    let out = m
        .get_one::<String>("out")
        .map(String::as_str)
        .unwrap_or_default();
    if std::path::Path::new(out).exists() && !m.get_flag("replace") {
        return Err(Failure::usage(format!(
            "--out {out} exists: nothing is overwritten silently; give a new path, or --replace"
        )));
    }
    let rule = match m.get_one::<String>("policy") {
        Some(path) => {
            let text = crate::input::read_text(path, crate::input::POLICY)?;
            let policy: MigrationPolicy =
                serde_json::from_str(&text).map_err(|e| Failure::File {
                    path: path.clone(),
                    line: e.line() as u64,
                    column: Some(e.column()),
                    message: e.to_string(),
                })?;
            policy.auto_stop
        }
        None => MigrationPolicy::default().auto_stop,
    };
    let (ledger, store, source) = match m.get_one::<String>("state") {
        Some(url) => {
            let store = gbcs::store::open_existing_url(url).map_err(|e| store_failure(url, &e))?;
            let ledger = store.ledger().map_err(|e| store_failure(url, &e))?;
            (ledger, Some((store, url.clone())), url.clone())
        }
        None => {
            let path = m.get_one::<String>("ledger").cloned().unwrap_or_default();
            (read_ledger(&path)?, None, path)
        }
    };
    let span = match &store {
        Some((s, url)) => s.events_span().map_err(|e| store_failure(url, &e))?,
        None => None,
    };
    let first = [ledger.first_instant(), span.map(|s| s.0)]
        .into_iter()
        .flatten()
        .min();
    let last = [ledger.last_instant(), span.map(|s| s.1)]
        .into_iter()
        .flatten()
        .max();
    let now = crate::input::now(m)?;
    let from = time_arg(m, "from")?.or(first).unwrap_or(now);
    let to = time_arg(m, "to")?.or(last).unwrap_or(now);
    if to < from {
        return Err(Failure::usage(format!(
            "--to is before --from ({} < {})",
            gbcs::dashboard::instant(to),
            gbcs::dashboard::instant(from)
        )));
    }
    let buckets = Buckets::covering(from, to);
    let activity = match &store {
        Some((s, url)) => s.activity(buckets).map_err(|e| store_failure(url, &e))?,
        None => Activity::empty(buckets),
    };
    let figures = Figures::of(&ledger, buckets, activity, rule);
    let html = render(&figures, &source, now).map_err(|e| Failure::key(e.to_string()))?;
    crate::input::write_atomically(out, html.as_bytes())?;
    Ok(format!(
        "dashboard of {} devices, {} to {} (one bar per {}), written to {out} ({} bytes)\n",
        figures.devices,
        gbcs::dashboard::instant(buckets.start),
        gbcs::dashboard::instant(figures.as_at),
        buckets.unit(),
        html.len()
    ))
}
