//! ECOSMIG-005, the reconciliation report: how many migrations were successfully completed
//! and how many migration attempts failed in a period, for one recipient. DCC's response
//! (¶25a) makes it weekly and always issued, even when there were no migrations, so that a
//! recipient can see when one is missing; ECOSMIG-007's first two totals are its cumulative
//! sums.
//!
//! ```text
//! 00,ECOSMIG-005,<recipient(6)>,<sequence(6)>,<title(1..100)>,<created>,<start>,<end>,DCC Controlled
//! 10,<completed(9)>,<failed(9)>
//! 99,<rows count(6)>,DCC Controlled
//! ```
//!
//! **Our decisions** (the layout is not public): the header and trailer are ECOSMIG-007's;
//! the detail record carries the two counts, as 007's first two fields. A week runs from
//! Monday 00:00:00 to Sunday 23:59:59 UTC and its report is created on the Monday after at
//! 06:00, as 007's on the 1st. The counts are those of the period: the cumulative totals as
//! at its end less those as at the second before its start — and since the totals never go
//! down, the reports of consecutive periods add up to 007's totals, and a report for the
//! period from the start of the migration to T has 007's totals as at T.

use alloc::string::String;

use super::{
    grammar, issue, parse_one_detail, write_counts, write_trailer, Header, ReportError,
    ReportFormat, ReportRefused,
};
use crate::cos::ledger::{IssuedSequence, Ledger};
use crate::cos::migration::SecPartyId;
use crate::payload::GeneralizedTime;

/// The report identifier.
pub const REPORT_ID: &str = "ECOSMIG-005";
/// The default title.
pub const TITLE: &str = "Reconciliation Report: ECoS Migration Counts";

const DAY: i64 = 86_400;

/// The week a report created at `created` covers: Monday 00:00:00 to Sunday 23:59:59 (UTC)
/// of the week before the one `created` falls in.
#[must_use]
pub fn weekly_period(created: GeneralizedTime) -> (GeneralizedTime, GeneralizedTime) {
    let t = created.unix_seconds();
    let day = t.div_euclid(DAY);
    // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays.
    let this_monday = (day - (day + 3).rem_euclid(7)) * DAY;
    let start = this_monday - 7 * DAY;
    let at = |s: i64| GeneralizedTime::from_unix_seconds(s).unwrap_or(created);
    (at(start), at(this_monday - 1))
}

/// One ECOSMIG-005 report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ecosmig005 {
    /// The recipient's SEC party ID.
    pub recipient: SecPartyId,
    /// The report's sequence number (at most 6 digits), ECOSMIG-005's own for the recipient.
    pub sequence_number: u32,
    /// The title (at most 100 characters).
    pub title: String,
    /// When the report was created.
    pub created: GeneralizedTime,
    /// The first second of the period.
    pub period_start: GeneralizedTime,
    /// The last second of the period.
    pub period_end: GeneralizedTime,
    /// Migrations successfully completed in the period.
    pub migrations_completed: u64,
    /// Migration attempts that failed in the period.
    pub failed_attempts: u64,
}

impl Ecosmig005 {
    /// The report for the period from `start` to `end` (both included) to `recipient`,
    /// from `ledger`, created at `created`, with the recipient's next ECOSMIG-005 sequence
    /// number — or `sequence`, an override the result says it is — recorded in the ledger.
    ///
    /// ```
    /// use gbcs::cos::ledger::Ledger;
    /// use gbcs::cos::migration::{Outcome, TransientCause};
    /// use gbcs::cos::report::{weekly_period, Ecosmig005};
    /// use gbcs::cos::SecPartyId;
    /// use gbcs::payload::GeneralizedTime;
    ///
    /// let mut ledger = Ledger::new();
    /// let supplier = SecPartyId::new("SUPA01")?;
    /// let device = gbcs::frame::EntityId::from_u64(0x00DB_1234_5678_0001);
    /// // Thursday 2026-12-10: an attempt whose reply was lost.
    /// let lost = Outcome::Transient(TransientCause::NoResponse);
    /// ledger.record(&supplier, device, 1, &lost, 1_796_860_800)?;
    /// // Made on Monday 2026-12-14 at 06:00, for the week of Monday 2026-12-07.
    /// let created = GeneralizedTime::new(2026, 12, 14, 6, 0, 0).ok_or("date")?;
    /// let (start, end) = weekly_period(created);
    /// assert_eq!((start.day, end.day), (7, 13));
    /// let now = created.unix_seconds();
    /// let (report, _) =
    ///     Ecosmig005::for_period(&mut ledger, supplier, start, end, created, None, now)?;
    /// assert_eq!((report.migrations_completed, report.failed_attempts), (0, 1));
    /// assert!(report.to_text(&Default::default())?.contains("\n10,0,1\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ReportRefused`], before any sequence number is used: a period that ends before it
    /// starts, a year outside 2000–9999, a period not ended at `now`, a recipient the ledger
    /// has never reported to, a `sequence` that would reuse a number, go back, or not fit.
    pub fn for_period(
        ledger: &mut Ledger,
        recipient: SecPartyId,
        start: GeneralizedTime,
        end: GeneralizedTime,
        created: GeneralizedTime,
        sequence: Option<u32>,
        now: i64,
    ) -> Result<(Self, IssuedSequence), ReportRefused> {
        if end.unix_seconds() < start.unix_seconds() {
            return Err(ReportRefused::EmptyPeriod);
        }
        let issued = issue(
            ledger,
            REPORT_ID,
            false,
            &recipient,
            (start, end),
            sequence,
            now,
        )?;
        let at_end = ledger.counts_as_at(&recipient, end.unix_seconds());
        let before = ledger.counts_as_at(&recipient, start.unix_seconds().saturating_sub(1));
        Ok((
            Self {
                recipient,
                sequence_number: issued.number,
                title: String::from(TITLE),
                created,
                period_start: start,
                period_end: end,
                migrations_completed: at_end
                    .migrations_completed
                    .saturating_sub(before.migrations_completed),
                failed_attempts: at_end
                    .failed_attempts
                    .saturating_sub(before.failed_attempts),
            },
            issued,
        ))
    }

    /// The weekly report created at `created` (the Monday 06:00 after its week, on
    /// schedule): the week before [`weekly_period`].
    ///
    /// # Errors
    /// As [`Self::for_period`].
    pub fn weekly(
        ledger: &mut Ledger,
        recipient: SecPartyId,
        created: GeneralizedTime,
        sequence: Option<u32>,
        now: i64,
    ) -> Result<(Self, IssuedSequence), ReportRefused> {
        let (start, end) = weekly_period(created);
        Self::for_period(ledger, recipient, start, end, created, sequence, now)
    }

    /// The report as text.
    ///
    /// # Errors
    /// As [`Ecosmig007::to_text`](super::Ecosmig007::to_text).
    pub fn to_text(&self, format: &ReportFormat) -> Result<String, ReportError> {
        let mut s = Header {
            id: REPORT_ID,
            recipient: &self.recipient,
            sequence_number: self.sequence_number,
            title: &self.title,
            created: self.created,
            period_start: self.period_start,
            period_end: self.period_end,
        }
        .to_text(format)?;
        write_counts(
            &mut s,
            format,
            &[
                (
                    self.migrations_completed,
                    "migrations successfully completed",
                ),
                (self.failed_attempts, "failed migration attempts"),
            ],
        )?;
        write_trailer(&mut s, format, 1)?;
        Ok(s)
    }

    /// Parses a report: header `00` (as ECOSMIG-007's, identifier `ECOSMIG-005`), detail
    /// `10 SEP count SEP count` (1 to 9 digits each), trailer `99`.
    ///
    /// # Errors
    /// [`ReportError::Malformed`] naming the line, column and field;
    /// [`ReportError::InvalidFormat`] for a format [`ReportFormat::check`] refuses.
    pub fn parse(text: &str, format: &ReportFormat) -> Result<Self, ReportError> {
        let (
            (recipient, sequence_number, title, created, period_start, period_end),
            (migrations_completed, failed_attempts),
        ) = parse_one_detail(text, format, REPORT_ID, grammar::reconciliation_detail)?;
        Ok(Self {
            recipient,
            sequence_number,
            title: String::from(title),
            created,
            period_start,
            period_end,
            migrations_completed,
            failed_attempts,
        })
    }
}
