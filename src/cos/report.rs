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
//! **Sequence numbers** are per recipient and live in the ledger ([`Ledger::issue_sequence`]):
//! monotonic, so a missing report can be noticed.
//!
//! **Rows count.** The trailer's rows count is a policy value ([`RowsCount`]): the number of
//! detail records (1, our default) or of all records (3). The parser checks it against the
//! same policy and accepts it with or without leading zeros.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use crate::cos::ledger::{IssuedSequence, Ledger, SupplierCounts};
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
        match self {
            Self::DetailRecords => 1,
            Self::AllRecords => 3,
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

/// The reporting period a report created at `created` covers: the previous calendar month,
/// from 00:00:00 on its first day to 23:59:59 on its last.
#[must_use]
pub fn monthly_period(created: GeneralizedTime) -> (GeneralizedTime, GeneralizedTime) {
    let (y, m) = if created.month == 1 {
        (created.year.saturating_sub(1), 12)
    } else {
        (created.year, created.month - 1)
    };
    let start = GeneralizedTime {
        year: y,
        month: m,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    };
    let first_of_this = GeneralizedTime {
        year: created.year,
        month: created.month,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    };
    let end = GeneralizedTime::from_unix_seconds(first_of_this.unix_seconds() - 1)
        .unwrap_or(first_of_this);
    (start, end)
}

/// When the report for the month `year`-`month` is created: the 1st of the next month, 06:00.
#[must_use]
pub fn scheduled_creation(year: u16, month: u8) -> GeneralizedTime {
    let (y, m) = if month >= 12 {
        (year.saturating_add(1), 1)
    } else {
        (year, month + 1)
    };
    GeneralizedTime {
        year: y,
        month: m,
        day: 1,
        hour: 6,
        minute: 0,
        second: 0,
    }
}

fn time_text(t: &GeneralizedTime) -> String {
    let mut s = String::with_capacity(15);
    let _ = write!(
        s,
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    s
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
    /// the period's end, created at [`scheduled_creation`], with the next sequence number of
    /// that recipient — or `sequence` when given, an override the result says it is — which
    /// is recorded in the ledger as issued. A month with no activity gives zeros.
    ///
    /// ```
    /// use gbcs::cos::ledger::Ledger;
    /// use gbcs::cos::report::Ecosmig007;
    /// use gbcs::cos::SecPartyId;
    ///
    /// let mut ledger = Ledger::new();
    /// let supplier = SecPartyId::new("SUPA01")?;
    /// let (report, seq) = Ecosmig007::for_month(&mut ledger, supplier.clone(), 2026, 12, None);
    /// assert_eq!((report.sequence_number, seq.overridden()), (1, false));
    /// assert_eq!(report.counts.migrations_completed, 0);
    /// assert_eq!(ledger.next_sequence(&supplier), 2);
    /// # Ok::<(), gbcs::cos::migration::InvalidPartyId>(())
    /// ```
    pub fn for_month(
        ledger: &mut Ledger,
        recipient: SecPartyId,
        year: u16,
        month: u8,
        sequence: Option<u32>,
    ) -> (Self, IssuedSequence) {
        let created = scheduled_creation(year, month);
        let (_, end) = monthly_period(created);
        let counts = ledger.counts_as_at(&recipient, end.unix_seconds());
        let issued = ledger.issue_sequence(&recipient, sequence);
        (
            Self::monthly(recipient, issued.number, created, counts),
            issued,
        )
    }

    /// The report as text.
    ///
    /// # Errors
    /// [`ReportError::DoesNotFit`] for a value over its maximum; [`ReportError::InvalidCharacter`]
    /// for a title with the separator or a line end; [`ReportError::Empty`] for an empty title;
    /// [`ReportError::InvalidFormat`] for a separator or line end [`ReportFormat::check`]
    /// refuses.
    pub fn to_text(&self, format: &ReportFormat) -> Result<String, ReportError> {
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
        let c = &self.counts;
        for (v, field) in [
            (c.migrations_completed, "migrations successfully completed"),
            (c.failed_attempts, "failed migration attempts"),
            (c.ecos_installed, "ECoS installed devices"),
            (c.remaining_tcos, "remaining TCoS devices"),
            (c.non_migratable, "non-migratable devices"),
        ] {
            if v > MAX_COUNT {
                return Err(ReportError::DoesNotFit { field });
            }
        }
        let mut s = String::new();
        let end = format.line_end;
        let _ = write!(
            s,
            "00{sep}{REPORT_ID}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{CLASSIFICATION}{end}",
            self.recipient,
            self.sequence_number,
            self.title,
            time_text(&self.created),
            time_text(&self.period_start),
            time_text(&self.period_end),
        );
        let _ = write!(
            s,
            "10{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{end}",
            c.migrations_completed,
            c.failed_attempts,
            c.ecos_installed,
            c.remaining_tcos,
            c.non_migratable
        );
        let _ = write!(
            s,
            "99{sep}{}{sep}{CLASSIFICATION}{end}",
            format.rows_count.value()
        );
        Ok(s)
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
        format.check()?;
        let lines: Vec<&str> = text
            .split(format.line_end)
            .filter(|l| !l.is_empty())
            .collect();
        let [header, detail, trailer] = lines.as_slice() else {
            return Err(ReportError::Malformed {
                line: lines.len().min(3) + 1,
                column: 1,
                field: "record count",
            });
        };
        let sep = format.separator;
        let (recipient, sequence_number, title, created, period_start, period_end) =
            grammar::header(header, sep).map_err(|e| e.at(1, header))?;
        let counts = grammar::detail(detail, sep).map_err(|e| e.at(2, detail))?;
        grammar::trailer(trailer, sep, format.rows_count.value()).map_err(|e| e.at(3, trailer))?;
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

/// The nom grammar of the three records.
mod grammar {
    use nom::bytes::complete::{tag, take_while, take_while_m_n};
    use nom::character::complete::char;
    use nom::combinator::{eof, map_opt, map_res, verify};
    use nom::Parser;

    use super::{ReportError, SupplierCounts, CLASSIFICATION, MAX_SEQUENCE, REPORT_ID};
    use crate::cos::party::SecPartyId;
    use crate::payload::GeneralizedTime;

    /// Where a record left the grammar: the rest of the line there, and the field.
    pub(super) struct Stop<'a> {
        rest: &'a str,
        field: &'static str,
    }

    impl Stop<'_> {
        pub(super) fn at(&self, line: usize, whole: &str) -> ReportError {
            ReportError::Malformed {
                line,
                column: whole.chars().count() - self.rest.chars().count() + 1,
                field: self.field,
            }
        }
    }

    type NomError<'a> = nom::error::Error<&'a str>;

    /// Runs `parser` on `input` for `field`: the value and the rest, or where it stopped.
    fn field<'a, T>(
        input: &'a str,
        name: &'static str,
        mut parser: impl Parser<&'a str, Output = T, Error = NomError<'a>>,
    ) -> Result<(&'a str, T), Stop<'a>> {
        parser.parse(input).map_err(|_| Stop {
            rest: input,
            field: name,
        })
    }

    /// `SEP value`, the value read by `parser`.
    fn next<'a, T>(
        input: &'a str,
        sep: char,
        name: &'static str,
        parser: impl Parser<&'a str, Output = T, Error = NomError<'a>>,
    ) -> Result<(&'a str, T), Stop<'a>> {
        let (rest, _) = field(input, "separator", char(sep))?;
        field(rest, name, parser)
    }

    fn digits<'a>(
        min: usize,
        max: usize,
    ) -> impl Parser<&'a str, Output = &'a str, Error = NomError<'a>> {
        take_while_m_n(min, max, |c: char| c.is_ascii_digit())
    }

    /// A whole field: everything up to the separator or the end of the line, which `parser`
    /// must consume entirely.
    fn whole<'a, T>(
        sep: char,
        mut parser: impl Parser<&'a str, Output = T, Error = NomError<'a>>,
    ) -> impl Parser<&'a str, Output = T, Error = NomError<'a>> {
        map_opt(take_while(move |c: char| c != sep), move |text: &'a str| {
            let (rest, value) = parser.parse(text).ok()?;
            rest.is_empty().then_some(value)
        })
    }

    /// 1 to `max` digits.
    fn number<'a>(
        sep: char,
        max: usize,
    ) -> impl Parser<&'a str, Output = u64, Error = NomError<'a>> {
        whole(sep, map_res(digits(1, max), str::parse::<u64>))
    }

    /// `YYYYMMDDThhmmss`, exactly 15 characters, a real date and time.
    fn time<'a>(sep: char) -> impl Parser<&'a str, Output = GeneralizedTime, Error = NomError<'a>> {
        whole(
            sep,
            map_opt(
                (digits(8, 8), char('T'), digits(6, 6)),
                |(date, _, clock): (&str, char, &str)| {
                    let n = |s: &str, a: usize, b: usize| s.get(a..b)?.parse::<u16>().ok();
                    let n8 =
                        |s: &str, a: usize, b: usize| n(s, a, b).and_then(|v| u8::try_from(v).ok());
                    GeneralizedTime::new(
                        n(date, 0, 4)?,
                        n8(date, 4, 6)?,
                        n8(date, 6, 8)?,
                        n8(clock, 0, 2)?,
                        n8(clock, 2, 4)?,
                        n8(clock, 4, 6)?,
                    )
                },
            ),
        )
    }

    type Header<'a> = (
        SecPartyId,
        u32,
        &'a str,
        GeneralizedTime,
        GeneralizedTime,
        GeneralizedTime,
    );

    pub(super) fn header(line: &str, sep: char) -> Result<Header<'_>, Stop<'_>> {
        let (r, _) = field(line, "record type", tag("00"))?;
        let (r, _) = next(r, sep, "report identifier", tag(REPORT_ID))?;
        let (r, recipient) = next(
            r,
            sep,
            "recipient",
            map_res(take_while(|c: char| c != sep), SecPartyId::new),
        )?;
        let (r, seq) = next(
            r,
            sep,
            "sequence number",
            map_res(number(sep, 6), |n| {
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n <= MAX_SEQUENCE)
                    .ok_or(())
            }),
        )?;
        let (r, title) = next(
            r,
            sep,
            "title",
            verify(take_while(|c: char| c != sep), |t: &str| {
                (1..=100).contains(&t.chars().count())
            }),
        )?;
        let (r, created) = next(r, sep, "creation date-time", time(sep))?;
        let (r, start) = next(r, sep, "start date-time", time(sep))?;
        let (r, end) = next(r, sep, "end date-time", time(sep))?;
        let (r, _) = next(r, sep, "classification", tag(CLASSIFICATION))?;
        field(r, "end of the header record", eof)?;
        Ok((recipient, seq, title, created, start, end))
    }

    pub(super) fn detail(line: &str, sep: char) -> Result<SupplierCounts, Stop<'_>> {
        let (r, _) = field(line, "detail record", tag("10"))?;
        let (r, migrations_completed) =
            next(r, sep, "migrations successfully completed", number(sep, 9))?;
        let (r, failed_attempts) = next(r, sep, "failed migration attempts", number(sep, 9))?;
        let (r, ecos_installed) = next(r, sep, "ECoS installed devices", number(sep, 9))?;
        let (r, remaining_tcos) = next(r, sep, "remaining TCoS devices", number(sep, 9))?;
        let (r, non_migratable) = next(r, sep, "non-migratable devices", number(sep, 9))?;
        field(r, "end of the detail record", eof)?;
        Ok(SupplierCounts {
            migrations_completed,
            failed_attempts,
            ecos_installed,
            remaining_tcos,
            non_migratable,
        })
    }

    pub(super) fn trailer(line: &str, sep: char, rows: u64) -> Result<(), Stop<'_>> {
        let (r, _) = field(line, "trailer record", tag("99"))?;
        let (r, _) = next(r, sep, "rows count", verify(number(sep, 6), |n| *n == rows))?;
        let (r, _) = next(r, sep, "classification", tag(CLASSIFICATION))?;
        field(r, "end of the trailer record", eof)?;
        Ok(())
    }
}
