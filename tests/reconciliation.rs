//! ECOSMIG-005, the reconciliation report: its exact text both ways, the week it covers,
//! refusals that use no sequence number, and — over a simulated migration with lost replies
//! read back, busy meters backing off for days and faults — its consistency with ECOSMIG-007:
//! a report from the start of the migration to any instant has 007's first two totals as at
//! that instant, and the weekly reports add up to them.

#[path = "support/run.rs"]
mod run;

use gbcs::cos::engine::EngineConfig;
use gbcs::cos::migration::{Outcome, TransientCause};
use gbcs::cos::report::reconciliation::{REPORT_ID, TITLE};
use gbcs::cos::report::{weekly_period, Ecosmig005, ReportError, ReportFormat, ReportRefused};
use gbcs::cos::{Ledger, SecPartyId};
use gbcs::frame::EntityId;
use gbcs::payload::GeneralizedTime;
use gbcs::sim::fleet::{FleetMix, SimulatedMigration};

/// 2026-12-31T22:00:00Z.
const CLOCK: i64 = 1_798_754_400;

fn t(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> GeneralizedTime {
    GeneralizedTime::new(y, mo, d, h, mi, s).expect("valid")
}

fn supplier() -> SecPartyId {
    SecPartyId::new("SUPA01").expect("id")
}

/// A ledger with three attempts in the week of Monday 2026-12-07: one migrated, one lost
/// and read back as having run on the Friday, one busy.
fn scripted() -> Ledger {
    let mut ledger = Ledger::new();
    let s = supplier();
    let d = |n: u64| EntityId::from_u64(0x00DB_1234_5678_0000 + n);
    let tue = t(2026, 12, 8, 10, 0, 0).unix_seconds();
    ledger
        .record(&s, d(1), 1, &Outcome::Migrated, tue)
        .expect("attempt");
    let lost = Outcome::Transient(TransientCause::NoResponse);
    ledger.record(&s, d(2), 2, &lost, tue).expect("attempt");
    let fri = t(2026, 12, 11, 9, 0, 0).unix_seconds();
    assert!(ledger.resolve_completed(d(2), 2, fri));
    let busy = Outcome::Transient(TransientCause::Busy);
    ledger.record(&s, d(3), 3, &busy, tue).expect("attempt");
    ledger
}

const TEXT: &str = "00,ECOSMIG-005,SUPA01,1,Reconciliation Report: ECoS Migration Counts,20261214T060000,20261207T000000,20261213T235959,DCC Controlled\n\
10,2,2\n\
99,1,DCC Controlled\n";

#[test]
fn a_week_is_reported_in_the_exact_layout_and_parses_back() {
    let mut ledger = scripted();
    let created = t(2026, 12, 14, 6, 0, 0);
    let (r, issued) = Ecosmig005::weekly(
        &mut ledger,
        supplier(),
        created,
        None,
        created.unix_seconds(),
    )
    .expect("report");
    assert!(!issued.overridden());
    // Two completed (one read back), two failed (the lost one stays failed, and the busy one).
    assert_eq!((r.migrations_completed, r.failed_attempts), (2, 2));
    assert_eq!(r.title, TITLE);
    let text = r.to_text(&ReportFormat::default()).expect("text");
    assert_eq!(text, TEXT);
    assert_eq!(Ecosmig005::parse(&text, &ReportFormat::default()), Ok(r));
    // The next week: nothing happened, and the report is still made, with zeros.
    let next = t(2026, 12, 21, 6, 0, 0);
    let (zero, _) = Ecosmig005::weekly(&mut ledger, supplier(), next, None, next.unix_seconds())
        .expect("report");
    assert_eq!((zero.migrations_completed, zero.failed_attempts), (0, 0));
    assert_eq!(zero.sequence_number, 2);
    assert!(zero
        .to_text(&ReportFormat::default())
        .expect("text")
        .contains("\n10,0,0\n"));
    // 005's numbers are its own: 007 for this supplier still starts at 1.
    assert_eq!(ledger.next_sequence("ECOSMIG-007", &supplier()), 1);
    assert_eq!(ledger.next_sequence(REPORT_ID, &supplier()), 3);
}

#[test]
fn the_week_runs_monday_to_sunday_before_the_week_of_creation() {
    for created in [
        t(2026, 12, 14, 6, 0, 0),
        t(2026, 12, 14, 0, 0, 0),
        t(2026, 12, 20, 23, 59, 59),
    ] {
        assert_eq!(
            weekly_period(created),
            (t(2026, 12, 7, 0, 0, 0), t(2026, 12, 13, 23, 59, 59)),
            "{created:?}"
        );
    }
    // Across a year's end.
    assert_eq!(
        weekly_period(t(2027, 1, 4, 6, 0, 0)),
        (t(2026, 12, 28, 0, 0, 0), t(2027, 1, 3, 23, 59, 59))
    );
}

#[test]
fn refusals_use_no_sequence_number() {
    let mut ledger = scripted();
    let created = t(2026, 12, 14, 6, 0, 0);
    let (start, end) = weekly_period(created);
    let now = created.unix_seconds();
    let s = supplier();
    let stranger = SecPartyId::new("NOBODY").expect("id");
    let cases = [
        (
            Ecosmig005::for_period(&mut ledger, s.clone(), end, start, created, None, now),
            "empty period",
        ),
        (
            Ecosmig005::for_period(
                &mut ledger,
                s.clone(),
                start,
                end,
                created,
                None,
                end.unix_seconds(),
            ),
            "not ended",
        ),
        (
            Ecosmig005::for_period(&mut ledger, stranger, start, end, created, None, now),
            "unknown recipient",
        ),
        (
            Ecosmig005::for_period(&mut ledger, s.clone(), start, end, created, Some(0), now),
            "sequence 0",
        ),
        (
            Ecosmig005::for_period(
                &mut ledger,
                s.clone(),
                start,
                end,
                created,
                Some(1_000_000),
                now,
            ),
            "sequence too long",
        ),
    ];
    for (r, what) in cases {
        assert!(r.is_err(), "{what}");
    }
    assert_eq!(ledger.next_sequence(REPORT_ID, &s), 1);
    let old = t(1999, 12, 31, 0, 0, 0);
    assert_eq!(
        Ecosmig005::for_period(&mut ledger, s.clone(), old, old, created, None, now),
        Err(ReportRefused::Year(1999))
    );
    assert_eq!(ledger.next_sequence(REPORT_ID, &s), 1);
    // Reusing a number is refused once one is issued.
    Ecosmig005::for_period(&mut ledger, s.clone(), start, end, created, Some(4), now)
        .expect("skips ahead");
    for stale in [1, 4] {
        assert!(matches!(
            Ecosmig005::for_period(
                &mut ledger,
                s.clone(),
                start,
                end,
                created,
                Some(stale),
                now
            ),
            Err(ReportRefused::Sequence(_))
        ));
    }
    assert_eq!(ledger.issued_sequences(REPORT_ID, &s), [4]);
}

#[test]
fn malformed_reports_are_refused_at_their_line_and_column() {
    let f = ReportFormat::default();
    let cases = [
        (
            TEXT.replace("ECOSMIG-005", "ECOSMIG-007"),
            1,
            "report identifier",
        ),
        (TEXT.replace("\n10,2,2\n", "\n10,2\n"), 2, "separator"),
        (
            TEXT.replace("\n10,2,2\n", "\n10,2,2,0\n"),
            2,
            "end of the detail record",
        ),
        (
            TEXT.replace("\n10,2,2\n", "\n10,2,1234567890\n"),
            2,
            "failed migration attempts",
        ),
        (TEXT.replace("99,1,", "99,3,"), 3, "rows count"),
    ];
    for (text, line, field) in cases {
        match Ecosmig005::parse(&text, &f) {
            Err(ReportError::Malformed {
                line: l,
                field: fld,
                ..
            }) => {
                assert_eq!((l, fld), (line, field), "{text}");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(Ecosmig005::parse(&TEXT[..TEXT.len() - 20], &f).is_err());
}

#[test]
fn from_the_start_to_any_instant_005_has_007s_totals_and_the_weeks_add_up_to_them() {
    let mut sim = SimulatedMigration::new(b"reconciliation", 5, 2_000, &FleetMix::default(), CLOCK)
        .expect("fleet");
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    run.run(&sim);
    let ledger = run.ledger();
    let entries = ledger.entries();
    assert!(
        entries.iter().any(|a| a.resolved.is_some()),
        "a lost reply read back"
    );
    let first = entries.iter().map(|a| a.at).min().expect("attempts");
    let last = entries
        .iter()
        .map(|a| a.resolved.map_or(a.at, |r| r.0.max(a.at)))
        .max()
        .expect("attempts");
    assert!(last - first > 7 * 86_400, "the run spans weeks");
    let start = GeneralizedTime::from_unix_seconds(CLOCK - 3600).expect("start");
    let suppliers: Vec<SecPartyId> = ledger.summary_as_at(i64::MAX).into_keys().collect();
    let mut checked = 0;
    // Every day's end, and a few instants inside days.
    let instants = (0..)
        .map(|d| CLOCK + 7_200 + d * 86_400)
        .take_while(|t| *t < last + 2 * 86_400)
        .flat_map(|t| [t - 1, t + 37_123]);
    for at in instants {
        let end = GeneralizedTime::from_unix_seconds(at).expect("instant");
        for s in &suppliers {
            let c = ledger.counts_as_at(s, at);
            let mut scratch = ledger.clone();
            let (r, _) =
                Ecosmig005::for_period(&mut scratch, s.clone(), start, end, end, None, i64::MAX)
                    .expect("report");
            assert_eq!(
                (r.migrations_completed, r.failed_attempts),
                (c.migrations_completed, c.failed_attempts),
                "{s} at {at}"
            );
            checked += 1;
        }
    }
    assert!(checked > 20);
    // The weekly reports from the week of the first attempt add up to 007's totals at the
    // end of the last week.
    for s in &suppliers {
        let mut scratch = ledger.clone();
        let mut created = GeneralizedTime::from_unix_seconds(first + 7 * 86_400).expect("t");
        let (mut completed, mut failed, mut week_end) = (0, 0, 0);
        while week_end <= last {
            let (r, _) = Ecosmig005::weekly(&mut scratch, s.clone(), created, None, i64::MAX)
                .expect("weekly");
            completed += r.migrations_completed;
            failed += r.failed_attempts;
            week_end = r.period_end.unix_seconds();
            created =
                GeneralizedTime::from_unix_seconds(created.unix_seconds() + 7 * 86_400).expect("t");
        }
        let c = ledger.counts_as_at(s, week_end);
        assert_eq!(
            (completed, failed),
            (c.migrations_completed, c.failed_attempts),
            "{s}"
        );
        assert!(scratch.missing_sequences(REPORT_ID, s).is_empty());
    }
}

#[test]
fn ecosmig_007_is_made_for_calendar_months_only() {
    use gbcs::cos::report::{monthly_period, scheduled_creation, Report};
    let mut ledger = scripted();
    let now = t(2027, 1, 1, 6, 0, 0).unix_seconds();
    // A week is not ECOSMIG-007's period: refused, no number used.
    let week = weekly_period(t(2026, 12, 14, 6, 0, 0));
    assert_eq!(
        Report::Summary.make(&mut ledger, supplier(), week, None, now),
        Err(ReportRefused::NotItsPeriod)
    );
    assert_eq!(ledger.next_sequence("ECOSMIG-007", &supplier()), 1);
    let month = monthly_period(scheduled_creation(2026, 12));
    let (made, issued) = Report::Summary
        .make(&mut ledger, supplier(), month, None, now)
        .expect("a month");
    assert_eq!(issued.number, 1);
    assert!(made
        .to_text(&ReportFormat::default())
        .expect("text")
        .starts_with("00,ECOSMIG-007,SUPA01,1,"));
}
