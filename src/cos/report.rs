//! The ECOSMIG-007 "Summary Report: ECoS Total Counts" (`ecos.md` §5), built and parsed
//! exactly. Monthly: created on the 1st at 06:00 UTC, covering the previous month to 23:59:59
//! of its last day; one per responsible supplier.
//!
//! ```text
//! 00,ECOSMIG-007,<recipient(6)>,<sequence(6)>,<title(<=100)>,<created>,<start>,<end>,DCC Controlled
//! 10,<completed(9)>,<failed(9)>,<ECoS installed(9)>,<remaining TCoS(9)>,<non-migratable(9)>
//! 99,<rows count(6)>,DCC Controlled
//! ```
//! Date-times are `YYYYMMDDThhmmss`. Fields are comma-separated, one record per line, LF line
//! ends (our decision, configurable); the rows count is the number of detail records. A value
//! that does not fit its field is an error, never truncated.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use crate::cos::ledger::SupplierCounts;
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
    /// The text is not an ECOSMIG-007 report: the line (1-based) and field that failed.
    Malformed {
        /// The line.
        line: usize,
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
            Self::Malformed { line, field } => write!(f, "line {line}: bad {field}"),
        }
    }
}

impl core::error::Error for ReportError {}

/// Layout options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportFormat {
    /// The field separator (default `,`).
    pub separator: char,
    /// The line end (default LF).
    pub line_end: &'static str,
}

impl Default for ReportFormat {
    fn default() -> Self {
        Self {
            separator: ',',
            line_end: "\n",
        }
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

fn parse_time(s: &str, line: usize, field: &'static str) -> Result<GeneralizedTime, ReportError> {
    let bad = ReportError::Malformed { line, field };
    let b = s.as_bytes();
    if b.len() != 15 || b.get(8) != Some(&b'T') {
        return Err(bad);
    }
    let num = |r: core::ops::Range<usize>| -> Result<u16, ReportError> {
        let part = s.get(r).ok_or(bad.clone())?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad.clone());
        }
        part.parse().map_err(|_| bad.clone())
    };
    let n8 = |v: u16| u8::try_from(v).map_err(|_| bad.clone());
    GeneralizedTime::new(
        num(0..4)?,
        n8(num(4..6)?)?,
        n8(num(6..8)?)?,
        n8(num(9..11)?)?,
        n8(num(11..13)?)?,
        n8(num(13..15)?)?,
    )
    .ok_or(bad)
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

    /// The report as text.
    ///
    /// # Errors
    /// [`ReportError::DoesNotFit`] for a value over its maximum; [`ReportError::InvalidCharacter`]
    /// for a title with the separator or a line end.
    pub fn to_text(&self, format: &ReportFormat) -> Result<String, ReportError> {
        let sep = format.separator;
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
        let _ = write!(s, "99{sep}1{sep}{CLASSIFICATION}{end}");
        Ok(s)
    }

    /// Parses a report.
    ///
    /// # Errors
    /// [`ReportError::Malformed`] naming the line and field.
    pub fn parse(text: &str, format: &ReportFormat) -> Result<Self, ReportError> {
        let lines: Vec<&str> = text
            .split(format.line_end)
            .filter(|l| !l.is_empty())
            .collect();
        let [header, detail, trailer] = lines.as_slice() else {
            return Err(ReportError::Malformed {
                line: lines.len().min(3) + 1,
                field: "record count",
            });
        };
        let h: Vec<&str> = header.split(format.separator).collect();
        let bad = |line, field| ReportError::Malformed { line, field };
        let [rt, id, recipient, seq, title, created, start, end, class] = h.as_slice() else {
            return Err(bad(1, "header fields"));
        };
        if *rt != "00" {
            return Err(bad(1, "record type"));
        }
        if *id != REPORT_ID {
            return Err(bad(1, "report identifier"));
        }
        if *class != CLASSIFICATION {
            return Err(bad(1, "classification"));
        }
        let recipient = SecPartyId::new(recipient).map_err(|_| bad(1, "recipient"))?;
        if seq.is_empty() || seq.len() > 6 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(1, "sequence number"));
        }
        let sequence_number = seq.parse().map_err(|_| bad(1, "sequence number"))?;
        if title.chars().count() > 100 {
            return Err(bad(1, "title"));
        }
        let d: Vec<&str> = detail.split(format.separator).collect();
        let ["10", a, b, c, e, f] = d.as_slice() else {
            return Err(bad(2, "detail record"));
        };
        let count = |v: &str, field| -> Result<u64, ReportError> {
            if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(2, field));
            }
            v.parse().map_err(|_| bad(2, field))
        };
        let counts = SupplierCounts {
            migrations_completed: count(a, "migrations successfully completed")?,
            failed_attempts: count(b, "failed migration attempts")?,
            ecos_installed: count(c, "ECoS installed devices")?,
            remaining_tcos: count(e, "remaining TCoS devices")?,
            non_migratable: count(f, "non-migratable devices")?,
        };
        let t: Vec<&str> = trailer.split(format.separator).collect();
        let ["99", rows, class] = t.as_slice() else {
            return Err(bad(3, "trailer record"));
        };
        if *rows != "1" {
            return Err(bad(3, "rows count"));
        }
        if *class != CLASSIFICATION {
            return Err(bad(3, "classification"));
        }
        Ok(Self {
            recipient,
            sequence_number,
            title: String::from(*title),
            created: parse_time(created, 1, "creation date-time")?,
            period_start: parse_time(start, 1, "start date-time")?,
            period_end: parse_time(end, 1, "end date-time")?,
            counts,
        })
    }
}
