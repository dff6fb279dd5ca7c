//! `gbcs report due` and the per-device report subcommands over a simulated migration's
//! ledger file: what is listed is what the schedule says; `--write` makes every report once,
//! each file named by report, recipient and sequence; a run killed at any instant (by
//! `kill -9`) and run again ends with each report made exactly once, nothing lost; a file of
//! the same name holding anything else is never overwritten.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
use common::*;
use gbcs::cos::report::{Made, ReportFormat};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const NOW: &str = "2026-03-01T07:00:00Z";

fn simulated_ledger(name: &str) -> PathBuf {
    let ledger = tmp(name);
    migrate_simulated(&["--ledger", ledger.to_str().expect("path")]);
    ledger
}

/// `gbcs report ARGS… --ledger LEDGER --now NOW`.
fn report_args<'a>(ledger: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--ledger", ledger.to_str().expect("path"), "--now", NOW]);
    all
}

fn run_report(ledger: &Path, args: &[&str]) -> std::process::Output {
    gbcs(&report_args(ledger, args))
}

fn due(ledger: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["due"];
    args.extend_from_slice(extra);
    run_report(ledger, &args)
}

fn read(ledger: &Path) -> gbcs::cos::Ledger {
    serde_json::from_str(&std::fs::read_to_string(ledger).expect("ledger")).expect("parses")
}

/// Every report file in `dir`: (report, recipient, period) → sequence, each parsed.
fn made_in(dir: &Path) -> Vec<(String, String, (i64, i64), u32)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let path = e.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(!name.ends_with(".tmp"), "a temporary file left: {name}");
        let text = std::fs::read_to_string(&path).expect("report");
        let made =
            Made::parse(&text, &ReportFormat::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (id, recipient, period, seq) = match &made {
            Made::Devices(r) => (
                r.kind.id(),
                &r.recipient,
                (r.period_start, r.period_end),
                r.sequence_number,
            ),
            Made::Reconciliation(r) => (
                "ECOSMIG-005",
                &r.recipient,
                (r.period_start, r.period_end),
                r.sequence_number,
            ),
            Made::Summary(r) => (
                "ECOSMIG-007",
                &r.recipient,
                (r.period_start, r.period_end),
                r.sequence_number,
            ),
        };
        assert_eq!(name, format!("{id}_{recipient}_{seq:06}.txt"));
        out.push((
            id.to_owned(),
            recipient.to_string(),
            (period.0.unix_seconds(), period.1.unix_seconds()),
            seq,
        ));
    }
    out.sort();
    out
}

#[test]
fn due_lists_the_schedule_and_write_makes_each_report_once() {
    let ledger = simulated_ledger("due-ledger.json");
    let now = gbcs::cli::parse_time(NOW).expect("time");
    let expected = gbcs::cos::report::due(&read(&ledger), now);
    assert!(
        expected.len() > 50,
        "weeks of daily reports: {}",
        expected.len()
    );
    let listed = ok(&due(&ledger, &[]));
    assert_eq!(listed.lines().count(), expected.len());
    for (line, d) in listed.lines().zip(&expected) {
        assert!(
            line.starts_with(&format!("{} {} due ", d.report, d.recipient)),
            "{line}"
        );
    }
    // Every report of every cadence, for every recipient.
    for id in [
        "ECOSMIG-001",
        "ECOSMIG-002",
        "ECOSMIG-004",
        "ECOSMIG-005",
        "ECOSMIG-006",
        "ECOSMIG-007",
    ] {
        assert!(listed.contains(&format!("{id} ")), "{id}");
    }
    // An earlier instant lists a prefix of it.
    let early = ok(&due(&ledger, &["--at", "2025-12-20T00:00:00Z"]));
    assert!(early.lines().count() < expected.len());

    let dir = tmp("due-reports");
    let _ = std::fs::remove_dir_all(&dir);
    let out = ok(&due(&ledger, &["--write", dir.to_str().expect("path")]));
    assert!(
        out.ends_with(&format!(
            "{} reports written, 0 kept, the ledger updated\n",
            expected.len()
        )),
        "{out}"
    );
    let files = made_in(&dir);
    assert_eq!(files.len(), expected.len());
    // One file per (report, recipient, period), numbered 1, 2, … per report and recipient.
    let keys: BTreeSet<_> = files.iter().map(|f| (&f.0, &f.1, f.2)).collect();
    assert_eq!(keys.len(), files.len());
    let after = read(&ledger);
    for (id, recipient, _, _) in &files {
        let r = gbcs::cos::SecPartyId::new(recipient).expect("id");
        assert!(after.missing_sequences(id, &r).is_empty());
    }
    // Nothing is due any more; a second run writes nothing.
    assert_eq!(ok(&due(&ledger, &[])), "");
    let again = ok(&due(&ledger, &["--write", dir.to_str().expect("path")]));
    assert_eq!(again, "0 reports written, 0 kept, the ledger updated\n");
    // A period not ended by the time of making is refused.
    let ahead = due(
        &ledger,
        &[
            "--at",
            "2026-04-01T07:00:00Z",
            "--write",
            dir.to_str().expect("path"),
        ],
    );
    assert_eq!(ahead.status.code(), Some(2));
}

#[test]
fn a_run_stopped_before_the_ledger_was_saved_keeps_its_files_and_never_overwrites_others() {
    let ledger = simulated_ledger("due-crash-ledger.json");
    let before = std::fs::read(&ledger).expect("ledger");
    let dir = tmp("due-crash-reports");
    let _ = std::fs::remove_dir_all(&dir);
    let first = ok(&due(&ledger, &["--write", dir.to_str().expect("path")]));
    let written = made_in(&dir);
    let saved = read(&ledger);
    // As if killed after the files and before the ledger: the old ledger again.
    std::fs::write(&ledger, &before).expect("restore");
    let later = "2026-03-01T09:30:00Z";
    let rerun = ok(&gbcs(&[
        "report",
        "due",
        "--ledger",
        ledger.to_str().expect("path"),
        "--now",
        later,
        "--at",
        NOW,
        "--write",
        dir.to_str().expect("path"),
    ]));
    let n = first.lines().filter(|l| l.starts_with("wrote ")).count();
    assert!(
        rerun.ends_with(&format!(
            "0 reports written, {n} kept, the ledger updated\n"
        )),
        "{rerun}"
    );
    assert_eq!(made_in(&dir), written);
    assert_eq!(
        read(&ledger),
        saved,
        "the same numbers and periods as the run that finished"
    );
    // A file of that name that is another report: never overwritten, the ledger unchanged.
    std::fs::write(&ledger, &before).expect("restore");
    let victim = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().contains("ECOSMIG-005"))
        .expect("a weekly report");
    let original = std::fs::read_to_string(&victim).expect("read");
    let tampered = original.replacen("\n10,", "\n10,9", 1);
    std::fs::write(&victim, &tampered).expect("tamper");
    let refused = due(&ledger, &["--write", dir.to_str().expect("path")]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), tampered);
    assert_eq!(std::fs::read(&ledger).expect("ledger"), before);
}

#[test]
fn killed_at_random_moments_the_reports_end_made_once_each() {
    let ledger = simulated_ledger("due-kill-ledger.json");
    let expected =
        gbcs::cos::report::due(&read(&ledger), gbcs::cli::parse_time(NOW).expect("t")).len();
    let dir = tmp("due-kill-reports");
    let _ = std::fs::remove_dir_all(&dir);
    // Delays spread over a run's length (a deterministic spread, not a clock assertion).
    let mut killed = 0;
    for delay_ms in [1u64, 3, 7, 15, 30, 60, 120, 250] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
            .args(report_args(
                &ledger,
                &["due", "--write", dir.to_str().expect("path")],
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if child.try_wait().expect("wait").is_none() {
            // SIGKILL: no destructor, no flush.
            child.kill().expect("kill");
            killed += 1;
        }
        let _ = child.wait();
        // The ledger is always whole: the old or the new.
        let _ = read(&ledger);
    }
    eprintln!("killed {killed} of 8 runs before they finished");
    // Finish, and check: every report once, numbered without gaps.
    ok(&due(&ledger, &["--write", dir.to_str().expect("path")]));
    let files = made_in(&dir);
    assert_eq!(files.len(), expected);
    let keys: BTreeSet<_> = files.iter().map(|f| (&f.0, &f.1, f.2)).collect();
    assert_eq!(keys.len(), files.len(), "a report made twice");
    let after = read(&ledger);
    for (id, recipient, _, seq) in &files {
        let r = gbcs::cos::SecPartyId::new(recipient).expect("id");
        assert!(
            after.missing_sequences(id, &r).is_empty(),
            "{id} {recipient}"
        );
        assert!(after.issued_sequences(id, &r).contains(seq));
    }
    assert_eq!(ok(&due(&ledger, &[])), "");
}

#[test]
fn per_device_reports_from_the_start_list_what_ecosmig_007_counts() {
    let ledger = simulated_ledger("devices-ledger.json");
    let recipients = read(&ledger).recipients();
    let mut listed = 0;
    for r in &recipients {
        let report = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend_from_slice(&["--supplier", r.as_str()]);
            ok(&run_report(&ledger, &all))
        };
        let summary = report(&["ecosmig-007", "--month", "2025-12"]);
        let Made::Summary(s) = Made::parse(&summary, &ReportFormat::default()).expect("007") else {
            panic!("not ECOSMIG-007");
        };
        let rows = |text: &str| text.lines().filter(|l| l.starts_with("10,")).count() as u64;
        let installed = report(&["ecosmig-006", "--month", "2025-12", "--from-start"]);
        assert_eq!(rows(&installed), s.counts.ecos_installed, "{r}");
        let excluded = report(&["ecosmig-004", "--day", "2025-12-31", "--from-start"]);
        assert_eq!(rows(&excluded), s.counts.non_migratable, "{r}");
        // Without --from-start: the day's own additions, a part of it.
        let day = report(&["ecosmig-004", "--day", "2025-12-31"]);
        assert!(rows(&day) <= rows(&excluded));
        for id in ["ecosmig-001", "ecosmig-002"] {
            let text = report(&[id, "--day", "2025-12-02"]);
            assert!(
                Made::parse(&text, &ReportFormat::default()).is_ok(),
                "{text}"
            );
            listed += rows(&text);
        }
        listed += rows(&installed);
    }
    assert!(listed > 0);
    for id in [
        "ecosmig-001",
        "ecosmig-002",
        "ecosmig-004",
        "ecosmig-006",
        "due",
    ] {
        let help = ok(&gbcs(&["report", id, "--help"]));
        assert!(help.contains("Example"), "{id}: {help}");
    }
}
