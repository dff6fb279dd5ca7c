//! The `gbcs` binary migrating a simulated fleet and reporting from its ledger: the run's
//! figures close its output, ECOSMIG-007 and ECOSMIG-005 from the ledger file with their own
//! sequence numbers, and the refusals that use no number.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/softhsm.rs"]
mod softhsm;
use common::*;
use std::path::PathBuf;

#[test]
fn migrates_a_simulated_fleet_and_reports_from_its_ledger() {
    let ledger = tmp("ledger.json");
    let out = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "300",
        "--seed",
        "5",
        "--ledger",
        ledger.to_str().expect("path"),
    ]));
    // "300 devices, M migrated, A attempts in …": the printed totals are the ledger's.
    let first = out.lines().next().unwrap_or_default();
    let words: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(
        (words.first(), words.get(1)),
        (Some(&"300"), Some(&"devices,")),
        "{out}"
    );
    let migrated: u64 = words[2].parse().expect("migrated count");
    let attempts: u64 = words[4].parse().expect("attempt count");
    // A rate of attempts is called one.
    assert!(
        first.contains("attempts/s)") && !first.contains("devices/s"),
        "{first}"
    );
    // The run's figures close the output, for scripts.
    let last: Vec<&str> = out.lines().rev().take(4).collect();
    assert!(last[3].starts_with("first commands per second: "), "{out}");
    assert!(
        last[2].starts_with("first attempts resolved per second: "),
        "{out}"
    );
    assert!(last[1].starts_with("peak in flight: "), "{out}");
    // A finished run says so last.
    assert!(last[0].starts_with("complete: 300 devices, "), "{out}");
    let text = std::fs::read_to_string(&ledger).expect("ledger");
    let file: gbcs::cos::ledger::Ledger = serde_json::from_str(&text).expect("ledger parses");
    let rows: Vec<_> = file.summary_as_at(i64::MAX).into_iter().collect();
    assert!(!rows.is_empty());
    let sum =
        |f: fn(&gbcs::cos::SupplierCounts) -> u64| rows.iter().map(|(_, c)| f(c)).sum::<u64>();
    assert_eq!(
        sum(|c| c.ecos_installed + c.remaining_tcos),
        300,
        "every device counted once"
    );
    assert_eq!(sum(|c| c.migrations_completed), migrated);
    // Each attempt once, and once more the failed ones a reading later showed had run
    // (counts never go down: they stay failed and count as completed from the reading on).
    let read_back = file
        .entries()
        .iter()
        .filter(|a| a.resolved.is_some() && !a.result.is_completed())
        .count();
    assert_eq!(
        sum(|c| c.migrations_completed + c.failed_attempts),
        attempts + read_back as u64
    );
    assert!(migrated > 200, "most of a default mix migrates: {migrated}");
    let supplier = rows[0].0.as_str().to_owned();
    // `report ecosmig-007` for the supplier and `month`, with `extra` arguments.
    let report_for = |month: &str, extra: &[&str]| {
        let mut args = vec![
            "report",
            "ecosmig-007",
            "--ledger",
            ledger.to_str().expect("path"),
            "--supplier",
            &supplier,
            "--month",
            month,
        ];
        if !extra.contains(&"--now") {
            args.extend_from_slice(&["--now", "2027-01-01T06:00:00Z"]);
        }
        args.extend_from_slice(extra);
        gbcs(&args)
    };
    let report = ok(&report_for("2026-11", &[]));
    let parsed = gbcs::cos::Ecosmig007::parse(&report, &gbcs::cos::report::ReportFormat::default())
        .expect("report parses");
    assert_eq!(parsed.counts, rows[0].1);
    assert!(report.starts_with(&format!("00,ECOSMIG-007,{supplier},1,")));
    // Created when made (`--now`), not stamped with the schedule's date.
    assert!(report.contains(",20270101T060000,20261101T000000,20261130T235959,"));

    // The issued number is in the ledger now: the next report gets 2; an explicit number
    // overrides and says so.
    let again = |extra: &[&str]| report_for("2026-12", extra);
    let second = again(&[]);
    assert!(ok(&second).starts_with(&format!("00,ECOSMIG-007,{supplier},2,")));
    assert!(second.stderr.is_empty());
    let forced = again(&["--sequence", "9"]);
    assert!(ok(&forced).starts_with(&format!("00,ECOSMIG-007,{supplier},9,")));
    let note = String::from_utf8_lossy(&forced.stderr);
    assert!(
        note.contains("sequence number 9 given with --sequence; the ledger's next was 3"),
        "{note}"
    );
    let text = std::fs::read_to_string(&ledger).expect("ledger");
    let file: gbcs::cos::ledger::Ledger = serde_json::from_str(&text).expect("ledger parses");
    let id = gbcs::cos::SecPartyId::new(&supplier).expect("id");
    assert_eq!(file.issued_sequences("ECOSMIG-007", &id), vec![1, 2, 9]);
    assert_eq!(
        file.missing_sequences("ECOSMIG-007", &id),
        vec![3, 4, 5, 6, 7, 8]
    );

    // A month before the run: zeros, not an error.
    let before = ok(&report_for("2025-10", &[]));
    assert!(before.contains("\n10,0,0,0,0,0\n"), "{before}");
    let issued = |ledger: &PathBuf| {
        let text = std::fs::read_to_string(ledger).expect("ledger");
        let file: gbcs::cos::ledger::Ledger = serde_json::from_str(&text).expect("ledger");
        file.issued_sequences("ECOSMIG-007", &id)
    };
    let before_refusals = issued(&ledger);
    // Refused, exit 2, before any sequence number is used: a number issued already or
    // below the highest, a month not ended by --now, a year outside 2000-9999, a supplier
    // the ledger has never reported to.
    for (what, out) in [
        ("reused", again(&["--sequence", "2"])),
        ("back", again(&["--sequence", "5"])),
        ("not ended", again(&["--now", "2026-12-31T23:59:59Z"])),
        ("year 1999", report_for("1999-12", &[])),
        ("year 65535", report_for("65535-01", &[])),
    ] {
        assert_eq!(out.status.code(), Some(2), "{what}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("report refused: "), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}");
    }
    let stranger = gbcs(&[
        "report",
        "ecosmig-007",
        "--ledger",
        ledger.to_str().expect("path"),
        "--supplier",
        "NOBODY",
        "--month",
        "2026-11",
        "--now",
        "2027-01-01T06:00:00Z",
    ]);
    assert_eq!(stranger.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&stranger.stderr).contains("not a recipient the ledger knows"));
    assert_eq!(issued(&ledger), before_refusals);

    // ECOSMIG-005 for the run's first week (it started Monday 2025-12-01): its own numbers.
    let weekly = |week: &str| {
        gbcs(&[
            "report",
            "ecosmig-005",
            "--ledger",
            ledger.to_str().expect("path"),
            "--supplier",
            &supplier,
            "--week",
            week,
            "--now",
            "2027-01-01T06:00:00Z",
        ])
    };
    let week = ok(&weekly("2025-12-03"));
    let parsed = gbcs::cos::report::Ecosmig005::parse(&week, &Default::default())
        .expect("ECOSMIG-005 parses");
    assert_eq!(parsed.sequence_number, 1);
    assert!(
        week.contains(",20270101T060000,20251201T000000,20251207T235959,"),
        "{week}"
    );
    assert!(parsed.migrations_completed <= rows[0].1.migrations_completed);
    let second = ok(&weekly("2025-12-10"));
    assert!(second.starts_with(&format!("00,ECOSMIG-005,{supplier},2,")));
    assert_eq!(weekly("2025-12-32").status.code(), Some(2));
}
