//! The calendar of the reports: which period a report made at a given time covers, and when
//! a month's report is made.

use crate::payload::GeneralizedTime;

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
