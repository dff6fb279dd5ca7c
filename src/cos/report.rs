//! The ECOSMIG-007 "Summary Report: ECoS Total Counts" (`ecos.md` §5), built and parsed
//! exactly. Monthly: created on the 1st at 06:00 UTC, covering the previous month to 23:59:59
//! of its last day; one per responsible supplier.
//!
//! ```text
//! 00,ECOSMIG-007,<recipient(6)>,<sequence(6)>,<title(1..100)>,<created>,<start>,<end>,DCC Controlled
//! 10,<completed(9)>,<failed(9)>,<ECoS installed(9)>,<remaining TCoS(9)>,<non-migratable(9)>
//! 99,<rows count(6)>,DCC Controlled
//! ```
//! Date-times are `YYYYMMDDThhmmss`, exactly 15 characters, a real UTC date and time. Fields
//! are separated by one character (default `,`; never a letter, a digit, white space or `-`,
//! which the fixed texts contain), one record per line, LF line ends (our decision,
//! configurable in [`ReportFormat`]). A value that does not fit its field is an error, never
//! truncated; an empty title is refused.
//!
//! **What the counts mean.** They are cumulative from the start of the migration *as at the
//! end date-time* (23:59:59 of the month's last day), whenever the report is made:
//! [`Ecosmig007::for_month`] takes them from the [`Ledger`] as at that instant, so a run that
//! goes on into the next month does not change the report. **The start date-time** is the
//! first instant of the reported month (00:00:00 on the 1st): it names the month the report
//! is for; it is *not* where the counting starts (the seed defines only the end, and its totals
//! are cumulative). A month with nothing in it — before the run began, or a supplier with no
//! devices — gives a report of zeros.
//!
//! **Sequence numbers** are per report and recipient and live in the ledger
//! ([`Ledger::issue_sequence`]): monotonic, so a missing report can be noticed.
//!
//! **Rows count.** The trailer's rows count is a policy value ([`RowsCount`]): the number of
//! detail records (1, our default) or of all records (3). The parser checks it against the
//! same policy and accepts it with or without leading zeros.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use crate::cos::ledger::{IssuedSequence, Ledger, StaleSequence, SupplierCounts};
use crate::cos::migration::SecPartyId;
use crate::payload::GeneralizedTime;

/// The report identifier.
pub const REPORT_ID: &str = "ECOSMIG-007";
/// The classification of every report.
pub const CLASSIFICATION: &str = "DCC Controlled";
/// The default title.
pub const TITLE: &str = "Summary Report: ECoS Total Counts";
const MAX_COUNT: u64 = 999_999_999;
const MAX_SEQUENCE: u32 = 999_999;

/// Why a report could not be built or parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// A value too large or too long for its field.
    DoesNotFit {
        /// The field.
        field: &'static str,
    },
    /// A text value with the separator, a line end or another forbidden character.
    InvalidCharacter {
        /// The field.
        field: &'static str,
    },
    /// A text field that must not be empty is.
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A value for a field this report does not carry.
    NotCarried {
        /// The field.
        field: &'static str,
    },
    /// A separator that could occur inside a field (a letter, a digit, white space, `-`), or a
    /// line end that is not LF or CR LF.
    InvalidFormat,
    /// The text is not an ECOSMIG-007 report: the line and column (1-based) where the field
    /// that failed starts, and which field it is.
    Malformed {
        /// The line.
        line: usize,
        /// The column (in characters).
        column: usize,
        /// The field.
        field: &'static str,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DoesNotFit { field } => write!(f, "{field} does not fit its field"),
            Self::InvalidCharacter { field } => {
                write!(f, "{field} contains a separator or line end")
            }
            Self::Empty { field } => write!(f, "{field} is empty"),
            Self::NotCarried { field } => write!(f, "this report does not carry {field}"),
            Self::InvalidFormat => f.write_str(
                "the separator must not be a letter, a digit, white space or `-`, and the line end must be LF or CR LF",
            ),
            Self::Malformed {
                line,
                column,
                field,
            } => write!(f, "line {line}, column {column}: bad {field}"),
        }
    }
}

impl core::error::Error for ReportError {}

/// Why a report is not made (nothing is recorded: no sequence number is used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportRefused {
    /// A year outside 2000–9999.
    Year(u16),
    /// A month outside 1–12.
    Month(u8),
    /// The period has not ended by the time given.
    PeriodNotEnded {
        /// The period's end.
        end: GeneralizedTime,
    },
    /// A recipient the ledger has never reported to.
    UnknownRecipient(SecPartyId),
    /// A sequence number outside 1–999,999.
    SequenceDoesNotFit(u32),
    /// A sequence number that would reuse one already issued, or go back.
    Sequence(StaleSequence),
    /// A period that ends before it starts.
    EmptyPeriod,
    /// A time of making (Unix seconds) that is not a date-time a report can carry.
    Clock(i64),
    /// A period the report is not made for (ECOSMIG-007 covers calendar months only).
    NotItsPeriod,
    /// A device the report must list whose type, model and firmware the ledger does not
    /// hold (a ledger written before they were kept): it cannot be named as the report
    /// requires.
    NoDescriptor(crate::frame::EntityId),
}

impl fmt::Display for ReportRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Year(y) => write!(f, "year {y} is outside 2000-9999"),
            Self::Month(m) => write!(f, "month {m} is outside 1-12"),
            Self::PeriodNotEnded { end } => {
                write!(f, "the period has not ended (it ends {})", time_text(end))
            }
            Self::UnknownRecipient(p) => {
                write!(f, "{p} is not a recipient the ledger knows")
            }
            Self::SequenceDoesNotFit(n) => {
                write!(f, "sequence number {n} is outside 1-999999")
            }
            Self::Sequence(e) => e.fmt(f),
            Self::EmptyPeriod => f.write_str("the period ends before it starts"),
            Self::NotItsPeriod => f.write_str("ECOSMIG-007 is made for calendar months only"),
            Self::Clock(t) => write!(f, "the time of making ({t}) is not a date-time a report can carry"),
            Self::NoDescriptor(d) => write!(
                f,
                "the ledger does not hold device {d}'s type, model and firmware: run the migration again to record them"
            ),
        }
    }
}

impl core::error::Error for ReportRefused {}

/// What the trailer's rows count counts (a policy value; the seed does not say).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RowsCount {
    /// The detail records: `1` (our default).
    #[default]
    DetailRecords,
    /// All records, header and trailer included: `3`.
    AllRecords,
}

impl RowsCount {
    /// The value written for a report with its one detail record.
    #[must_use]
    pub const fn value(self) -> u64 {
        self.for_details(1)
    }

    /// The value written for a report with `details` detail records.
    #[must_use]
    pub const fn for_details(self, details: u64) -> u64 {
        match self {
            Self::DetailRecords => details,
            Self::AllRecords => details.saturating_add(2),
        }
    }
}

/// Layout options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportFormat {
    /// The field separator (default `,`).
    pub separator: char,
    /// The line end (default LF; LF or CR LF).
    pub line_end: &'static str,
    /// What the trailer's rows count counts.
    pub rows_count: RowsCount,
}

impl Default for ReportFormat {
    fn default() -> Self {
        Self {
            separator: ',',
            line_end: "\n",
            rows_count: RowsCount::DetailRecords,
        }
    }
}

impl ReportFormat {
    /// Checks the separator and line end.
    ///
    /// # Errors
    /// [`ReportError::InvalidFormat`] for a separator that is a letter, a digit, white space
    /// or `-` (each occurs inside fields), or a line end other than LF and CR LF.
    pub fn check(&self) -> Result<(), ReportError> {
        let sep = self.separator;
        if sep.is_alphanumeric() || sep.is_whitespace() || sep == '-' || sep.is_control() {
            return Err(ReportError::InvalidFormat);
        }
        if !matches!(self.line_end, "\n" | "\r\n") {
            return Err(ReportError::InvalidFormat);
        }
        Ok(())
    }
}

pub(crate) fn time_text(t: &GeneralizedTime) -> String {
    let mut s = String::with_capacity(15);
    let _ = write!(
        s,
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    s
}

/// Issues the sequence number of report `id` to `recipient` for the period `start..=end`
/// (and records the period as made),
/// after the checks every report makes (nothing is recorded when one fails): the period's
/// year within 2000–9999 and ended at `now`, a recipient the ledger knows, a number that
/// fits and does not reuse or go back.
pub(crate) fn issue(
    ledger: &mut Ledger,
    id: &str,
    asset_providers_too: bool,
    recipient: &SecPartyId,
    (start, end): (GeneralizedTime, GeneralizedTime),
    sequence: Option<u32>,
    now: i64,
) -> Result<IssuedSequence, ReportRefused> {
    if !(2000..=9999).contains(&end.year) {
        return Err(ReportRefused::Year(end.year));
    }
    if end.unix_seconds() >= now {
        return Err(ReportRefused::PeriodNotEnded { end });
    }
    let known = ledger.knows_recipient(recipient)
        || (asset_providers_too && ledger.knows_asset_provider(recipient));
    if !known {
        return Err(ReportRefused::UnknownRecipient(recipient.clone()));
    }
    let number = sequence.unwrap_or_else(|| ledger.next_sequence(id, recipient));
    if !(1..=MAX_SEQUENCE).contains(&number) {
        return Err(ReportRefused::SequenceDoesNotFit(number));
    }
    let issued = ledger
        .issue_sequence(id, recipient, sequence)
        .map_err(ReportRefused::Sequence)?;
    ledger.record_made(id, recipient, start.unix_seconds(), end.unix_seconds());
    Ok(issued)
}

/// The creation date-time of a report made at `now` (Unix seconds).
pub(crate) fn made_at(now: i64) -> Result<GeneralizedTime, ReportRefused> {
    GeneralizedTime::from_unix_seconds(now)
        .filter(|t| (2000..=9999).contains(&t.year))
        .ok_or(ReportRefused::Clock(now))
}

/// The header record every report shares:
/// `00 SEP id SEP recipient SEP sequence SEP title SEP created SEP start SEP end SEP
/// "DCC Controlled"`.
pub(crate) struct Header<'a> {
    pub(crate) id: &'static str,
    pub(crate) recipient: &'a SecPartyId,
    pub(crate) sequence_number: u32,
    pub(crate) title: &'a str,
    pub(crate) created: GeneralizedTime,
    pub(crate) period_start: GeneralizedTime,
    pub(crate) period_end: GeneralizedTime,
}

impl Header<'_> {
    /// The header record and its line end, after checking the format, the sequence number
    /// (1–999,999) and the title (1–100 characters, no separator, no line end).
    pub(crate) fn to_text(&self, format: &ReportFormat) -> Result<String, ReportError> {
        format.check()?;
        let sep = format.separator;
        if self.title.is_empty() {
            return Err(ReportError::Empty { field: "title" });
        }
        if self.sequence_number > MAX_SEQUENCE {
            return Err(ReportError::DoesNotFit {
                field: "sequence number",
            });
        }
        if self.title.chars().count() > 100 {
            return Err(ReportError::DoesNotFit { field: "title" });
        }
        if self.title.contains(sep) || self.title.contains(['\n', '\r']) {
            return Err(ReportError::InvalidCharacter { field: "title" });
        }
        let mut s = String::new();
        let _ = write!(
            s,
            "00{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{CLASSIFICATION}{}",
            self.id,
            self.recipient,
            self.sequence_number,
            self.title,
            time_text(&self.created),
            time_text(&self.period_start),
            time_text(&self.period_end),
            format.line_end,
        );
        Ok(s)
    }
}

/// A detail record of counts, `10 SEP count …`, each at most nine digits.
pub(crate) fn write_counts(
    s: &mut String,
    format: &ReportFormat,
    counts: &[(u64, &'static str)],
) -> Result<(), ReportError> {
    if let Some((_, field)) = counts.iter().find(|(v, _)| *v > MAX_COUNT) {
        return Err(ReportError::DoesNotFit { field });
    }
    s.push_str("10");
    for (v, _) in counts {
        let _ = write!(s, "{}{v}", format.separator);
    }
    s.push_str(format.line_end);
    Ok(())
}

/// The trailer record of a report with `details` detail records.
///
/// # Errors
/// [`ReportError::DoesNotFit`] when the rows count has more than six digits.
pub(crate) fn write_trailer(
    s: &mut String,
    format: &ReportFormat,
    details: usize,
) -> Result<(), ReportError> {
    let sep = format.separator;
    let rows = format
        .rows_count
        .for_details(u64::try_from(details).unwrap_or(u64::MAX));
    if rows > u64::from(MAX_SEQUENCE) {
        return Err(ReportError::DoesNotFit {
            field: "rows count",
        });
    }
    let _ = write!(s, "99{sep}{rows}{sep}{CLASSIFICATION}{}", format.line_end);
    Ok(())
}

/// Parses a report of one header, one detail and one trailer record: checks the
/// format, splits the lines (none empty) and reads each record with its grammar,
/// naming the line of the first failure.
fn parse_one_detail<'a, T>(
    text: &'a str,
    format: &ReportFormat,
    id: &str,
    detail: impl FnOnce(&'a str, char) -> Result<T, grammar::Stop<'a>>,
) -> Result<(grammar::Header<'a>, T), ReportError> {
    format.check()?;
    let lines: Vec<&'a str> = text
        .split(format.line_end)
        .filter(|l| !l.is_empty())
        .collect();
    let [header, body, trailer] = lines.as_slice() else {
        return Err(ReportError::Malformed {
            line: lines.len().min(3) + 1,
            column: 1,
            field: "record count",
        });
    };
    let sep = format.separator;
    let header = grammar::header(header, sep, id).map_err(|e| e.at(1, header))?;
    let body = detail(body, sep).map_err(|e| e.at(2, body))?;
    grammar::trailer(trailer, sep, format.rows_count.value()).map_err(|e| e.at(3, trailer))?;
    Ok((header, body))
}

/// One ECOSMIG-007 report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ecosmig007 {
    /// The recipient's SEC party ID.
    pub recipient: SecPartyId,
    /// The report's sequence number (at most 6 digits).
    pub sequence_number: u32,
    /// The title (at most 100 characters).
    pub title: String,
    /// When the report was created.
    pub created: GeneralizedTime,
    /// The start of the period it covers.
    pub period_start: GeneralizedTime,
    /// The end of the period it covers.
    pub period_end: GeneralizedTime,
    /// The detail record.
    pub counts: SupplierCounts,
}

impl Ecosmig007 {
    /// The monthly report created at `created`, with the period computed from it.
    #[must_use]
    pub fn monthly(
        recipient: SecPartyId,
        sequence_number: u32,
        created: GeneralizedTime,
        counts: SupplierCounts,
    ) -> Self {
        let (period_start, period_end) = monthly_period(created);
        Self {
            recipient,
            sequence_number,
            title: String::from(TITLE),
            created,
            period_start,
            period_end,
            counts,
        }
    }

    /// The report for the month `year`-`month` to `recipient`, from `ledger`: counts as at
    /// the period's end, created at `now` (the time of making: on schedule, the
    /// [`scheduled_creation`]), with the next sequence number of
    /// that recipient — or `sequence` when given, an override the result says it is — which
    /// is recorded in the ledger as issued. A month with no activity gives zeros.
    ///
    /// ```
    /// use gbcs::cos::ledger::Ledger;
    /// use gbcs::cos::migration::{Outcome, TransientCause};
    /// use gbcs::cos::report::Ecosmig007;
    /// use gbcs::cos::SecPartyId;
    ///
    /// let mut ledger = Ledger::new();
    /// let supplier = SecPartyId::new("SUPA01")?;
    /// // 2027-01-01T06:00:00Z: December 2026 has ended.
    /// let now = 1_798_783_200;
    /// // A supplier the ledger has never reported to is refused.
    /// assert!(Ecosmig007::for_month(&mut ledger, supplier.clone(), 2026, 12, None, now).is_err());
    /// // One attempt on 2026-12-10 whose reply was lost: one failed attempt.
    /// let device = gbcs::frame::EntityId::from_u64(0x00DB_1234_5678_0001);
    /// let lost = Outcome::Transient(TransientCause::NoResponse);
    /// ledger.record(&supplier, device, 1, &lost, 1_796_860_800)?;
    /// let (report, seq) = Ecosmig007::for_month(&mut ledger, supplier.clone(), 2026, 12, None, now)?;
    /// assert_eq!((report.sequence_number, seq.overridden()), (1, false));
    /// assert_eq!((report.counts.migrations_completed, report.counts.failed_attempts), (0, 1));
    /// assert_eq!(ledger.next_sequence("ECOSMIG-007", &supplier), 2);
    /// // Sequence 1 again is refused, and uses nothing up.
    /// assert!(Ecosmig007::for_month(&mut ledger, supplier.clone(), 2026, 12, Some(1), now).is_err());
    /// assert_eq!(ledger.next_sequence("ECOSMIG-007", &supplier), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ReportRefused`], before any sequence number is used: a year outside 2000–9999 or a
    /// month outside 1–12, a month that has not ended at `now` (Unix seconds), a recipient
    /// the ledger has never reported to, or a `sequence` that would reuse a number or go
    /// back, or does not fit its six digits.
    pub fn for_month(
        ledger: &mut Ledger,
        recipient: SecPartyId,
        year: u16,
        month: u8,
        sequence: Option<u32>,
        now: i64,
    ) -> Result<(Self, IssuedSequence), ReportRefused> {
        if !(2000..=9999).contains(&year) {
            return Err(ReportRefused::Year(year));
        }
        if !(1..=12).contains(&month) {
            return Err(ReportRefused::Month(month));
        }
        let (start, end) = monthly_period(scheduled_creation(year, month));
        let created = made_at(now)?;
        let issued = issue(
            ledger,
            REPORT_ID,
            false,
            &recipient,
            (start, end),
            sequence,
            now,
        )?;
        let counts = ledger.counts_as_at(&recipient, end.unix_seconds());
        Ok((
            Self {
                recipient,
                sequence_number: issued.number,
                title: String::from(TITLE),
                created,
                period_start: start,
                period_end: end,
                counts,
            },
            issued,
        ))
    }

    /// The report as text.
    ///
    /// # Errors
    /// [`ReportError::DoesNotFit`] for a value over its maximum; [`ReportError::InvalidCharacter`]
    /// for a title with the separator or a line end; [`ReportError::Empty`] for an empty title;
    /// [`ReportError::InvalidFormat`] for a separator or line end [`ReportFormat::check`]
    /// refuses.
    pub fn to_text(&self, format: &ReportFormat) -> Result<String, ReportError> {
        let c = &self.counts;
        let mut s = self.header().to_text(format)?;
        let details = [
            (c.migrations_completed, "migrations successfully completed"),
            (c.failed_attempts, "failed migration attempts"),
            (c.ecos_installed, "ECoS installed devices"),
            (c.remaining_tcos, "remaining TCoS devices"),
            (c.non_migratable, "non-migratable devices"),
        ];
        write_counts(&mut s, format, &details)?;
        write_trailer(&mut s, format, 1)?;
        Ok(s)
    }

    fn header(&self) -> Header<'_> {
        Header {
            id: REPORT_ID,
            recipient: &self.recipient,
            sequence_number: self.sequence_number,
            title: &self.title,
            created: self.created,
            period_start: self.period_start,
            period_end: self.period_end,
        }
    }

    /// Parses a report: three records (header `00`, detail `10`, trailer `99`), each a
    /// nom grammar over the fields:
    ///
    /// ```text
    /// header  = "00" SEP "ECOSMIG-007" SEP party SEP seq SEP title SEP time SEP time SEP time
    ///           SEP "DCC Controlled"
    /// detail  = "10" 5*(SEP count)
    /// trailer = "99" SEP rows SEP "DCC Controlled"   ; rows = 1*6 digit, the format's value
    /// party   = 1*6(letter | digit)      seq   = 1*6 digit      count = 1*9 digit
    /// title   = 1*100 (any but SEP)      time  = 8 digit "T" 6 digit   ; a valid UTC date-time
    /// ```
    ///
    /// # Errors
    /// [`ReportError::Malformed`] naming the line, column and field;
    /// [`ReportError::InvalidFormat`] for a format [`ReportFormat::check`] refuses.
    pub fn parse(text: &str, format: &ReportFormat) -> Result<Self, ReportError> {
        let ((recipient, sequence_number, title, created, period_start, period_end), counts) =
            parse_one_detail(text, format, REPORT_ID, grammar::detail)?;
        Ok(Self {
            recipient,
            sequence_number,
            title: String::from(title),
            created,
            period_start,
            period_end,
            counts,
        })
    }
}

pub mod devices;
mod grammar;
mod period;
pub mod reconciliation;
pub mod schedule;

pub use devices::{daily_period, DeviceReport, DeviceReportKind, DeviceRow, Failure};
pub use period::{monthly_period, scheduled_creation};
pub use reconciliation::{weekly_period, Ecosmig005};
pub use schedule::{due, Due, Made, Report};
