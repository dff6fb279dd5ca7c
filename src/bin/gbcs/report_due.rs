//! `gbcs report due`: every report due by an instant and not yet made; with `--write DIR`,
//! makes each and writes it to its own file, named by report, recipient and sequence number.
//!
//! Crash safety: the files are written first (each by temporary file and rename), the ledger
//! once at the end. A kill before the ledger is written leaves files the ledger does not know;
//! the next run issues the same numbers, finds each file already there and, when it is the
//! same report (its creation time aside), keeps it. A file of that name holding anything else
//! is never overwritten: the run stops and the ledger is left as it was.

use clap::ArgMatches;
use gbcs::cos::report::{due as schedule, Made, ReportFormat};
use std::fmt::Write as _;
use std::path::Path;

use crate::failure::{Failure, Result};
use crate::report_cmds::{at, State};

fn time(t: gbcs::payload::GeneralizedTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

pub fn due(m: &ArgMatches) -> Result<String> {
    let mut state = State::from_args(m)?;
    let mut ledger = state.ledger()?;
    let now = crate::input::now(m)?;
    let until = match m.get_one::<String>("at") {
        Some(t) => gbcs::cli::parse_time(t).ok_or_else(|| {
            Failure::usage(format!(
                "--at {t}: not an RFC 3339 date-time with a zone, e.g. 2026-12-07T06:00:00Z"
            ))
        })?,
        None => now,
    };
    let list = schedule(&ledger, until);
    let mut out = String::new();
    let Some(dir) = m.get_one::<String>("write") else {
        for d in &list {
            let _ = writeln!(
                out,
                "{} {} due {} period {}-{}",
                d.report,
                d.recipient,
                time(d.created),
                time(d.period.0),
                time(d.period.1)
            );
        }
        return Ok(out);
    };
    if until > now {
        return Err(Failure::usage(format!(
            "--at is after the time of making ({}): reports are made only for periods that have ended",
            time(at(now, "--now")?)
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Failure::io(dir, e))?;
    remove_stale_temporaries(dir)?;
    let format = ReportFormat::default();
    let (mut wrote, mut kept) = (0usize, 0usize);
    let mut issued_all = Vec::with_capacity(list.len());
    for d in &list {
        let (made, issued) = d
            .report
            .make(&mut ledger, d.recipient.clone(), d.period, None, now)
            .map_err(|e| {
                Failure::usage(format!(
                    "{} to {}: report refused: {e}",
                    d.report, d.recipient
                ))
            })?;
        let text = made
            .to_text(&format)
            .map_err(|e| Failure::decode(e.to_string()))?;
        issued_all.push((
            d.report.id().to_owned(),
            d.recipient.clone(),
            issued.number,
            d.period,
        ));
        let name = format!("{}_{}_{:06}.txt", d.report, d.recipient, issued.number);
        let file = Path::new(dir).join(&name);
        let shown = file.display().to_string();
        match std::fs::read_to_string(&file) {
            Ok(existing) => {
                let same = Made::parse(&existing, &format).is_ok_and(|e| e.same_but_created(&made));
                if !same {
                    return Err(Failure::usage(format!(
                        "{shown} exists and is not this report: refusing to overwrite it (the ledger is unchanged)"
                    )));
                }
                kept += 1;
                let _ = writeln!(
                    out,
                    "kept {shown} (written by a run that stopped before saving the ledger)"
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::input::write_atomically(&shown, text.as_bytes())?;
                wrote += 1;
                let _ = writeln!(out, "wrote {shown}");
            }
            Err(e) => return Err(Failure::io(&shown, e)),
        }
    }
    state.keep(&ledger, &issued_all)?;
    let _ = writeln!(
        out,
        "{wrote} reports written, {kept} kept, the ledger updated"
    );
    Ok(out)
}

/// Removes the temporary files a killed run left in `dir` (`.ECOSMIG-….tmp`, the names
/// [`crate::input::write_atomically`] gives report files before renaming them): never a
/// report, which is only ever renamed into place whole.
fn remove_stale_temporaries(dir: &str) -> Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| Failure::io(dir, e))? {
        let path = e.map_err(|e| Failure::io(dir, e))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with(".ECOSMIG-") && name.ends_with(".tmp") {
            std::fs::remove_file(&path).map_err(|e| Failure::io(&path.display().to_string(), e))?;
        }
    }
    Ok(())
}
