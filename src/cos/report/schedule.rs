//! The schedule of the reports: which are due by an instant and not yet made, so that a cron
//! job can make them. Every report is due to every supplier the ledger knows (the per-device
//! reports also to every Meter Asset Provider its devices name) for every
//! period of its cadence from the one holding the migration's first instant, empty or not
//! (¶25a: a recipient can then see when one is missing); a report counts as made when one
//! was issued for exactly that period ([`Ledger::was_made`]).
//!
//! | report | cadence | made at |
//! |---|---|---|
//! | ECOSMIG-001, 002, 004 | daily: the previous day | 06:00 |
//! | ECOSMIG-005 | weekly: Monday to Sunday | Monday 06:00 |
//! | ECOSMIG-006, 007 | monthly: the previous calendar month | the 1st, 06:00 |

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::devices::{DeviceReport, DeviceReportKind};
use super::reconciliation::{self, weekly_period, Ecosmig005};
use super::{made_at, monthly_period, Ecosmig007, ReportError, ReportFormat, ReportRefused};
use crate::cos::ledger::{IssuedSequence, Ledger};
use crate::cos::migration::SecPartyId;
use crate::payload::GeneralizedTime;

/// One of the six EMRR reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Report {
    /// ECOSMIG-001, 002, 004 or 006.
    Devices(DeviceReportKind),
    /// ECOSMIG-005.
    Reconciliation,
    /// ECOSMIG-007.
    Summary,
}

impl Report {
    /// Every report.
    pub const ALL: [Self; 6] = [
        Self::Devices(DeviceReportKind::Migrated),
        Self::Devices(DeviceReportKind::Failed),
        Self::Devices(DeviceReportKind::NonMigratable),
        Self::Reconciliation,
        Self::Devices(DeviceReportKind::EcosInstalled),
        Self::Summary,
    ];

    /// The report identifier.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Self::Devices(k) => k.id(),
            Self::Reconciliation => reconciliation::REPORT_ID,
            Self::Summary => super::REPORT_ID,
        }
    }

    /// The report named `id`.
    #[must_use]
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    /// The period of the report made on schedule at `created`.
    #[must_use]
    pub fn period(self, created: GeneralizedTime) -> (GeneralizedTime, GeneralizedTime) {
        match self {
            Self::Devices(k) => k.period(created),
            Self::Reconciliation => weekly_period(created),
            Self::Summary => monthly_period(created),
        }
    }

    /// When the report whose period holds `t` (Unix seconds) is made on schedule.
    fn creation_after(self, t: i64) -> Option<GeneralizedTime> {
        const DAY: i64 = 86_400;
        let at = GeneralizedTime::from_unix_seconds;
        match self {
            Self::Devices(DeviceReportKind::EcosInstalled) | Self::Summary => {
                let g = at(t)?;
                Some(super::scheduled_creation(g.year, g.month))
            }
            Self::Reconciliation => {
                let day = t.div_euclid(DAY);
                // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays.
                let next_monday = day - (day + 3).rem_euclid(7) + 7;
                at(next_monday * DAY + 6 * 3600)
            }
            Self::Devices(_) => at((t.div_euclid(DAY) + 1) * DAY + 6 * 3600),
        }
    }

    /// Makes this report to `recipient` for the period `start..=end`, created at `now`, with
    /// the ledger's next sequence number or `sequence` (which must not reuse or go back).
    ///
    /// # Errors
    /// As each report's maker ([`DeviceReport::for_period`], [`Ecosmig005::for_period`],
    /// [`Ecosmig007::for_month`]); a period that is not this report's is refused for
    /// ECOSMIG-007, which is made for calendar months only.
    pub fn make(
        self,
        ledger: &mut Ledger,
        recipient: SecPartyId,
        (start, end): (GeneralizedTime, GeneralizedTime),
        sequence: Option<u32>,
        now: i64,
    ) -> Result<(Made, IssuedSequence), ReportRefused> {
        let created = made_at(now)?;
        match self {
            Self::Devices(kind) => DeviceReport::for_period(
                ledger, kind, recipient, start, end, created, sequence, now,
            )
            .map(|(r, i)| (Made::Devices(r), i)),
            Self::Reconciliation => {
                Ecosmig005::for_period(ledger, recipient, start, end, created, sequence, now)
                    .map(|(r, i)| (Made::Reconciliation(r), i))
            }
            Self::Summary => {
                if monthly_period(super::scheduled_creation(start.year, start.month))
                    != (start, end)
                {
                    return Err(ReportRefused::NotItsPeriod);
                }
                Ecosmig007::for_month(ledger, recipient, start.year, start.month, sequence, now)
                    .map(|(r, i)| (Made::Summary(r), i))
            }
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A report made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Made {
    /// ECOSMIG-001, 002, 004 or 006.
    Devices(DeviceReport),
    /// ECOSMIG-005.
    Reconciliation(Ecosmig005),
    /// ECOSMIG-007.
    Summary(Ecosmig007),
}

impl Made {
    /// The report as text.
    ///
    /// # Errors
    /// As the report's `to_text`.
    pub fn to_text(&self, format: &ReportFormat) -> Result<String, ReportError> {
        match self {
            Self::Devices(r) => r.to_text(format),
            Self::Reconciliation(r) => r.to_text(format),
            Self::Summary(r) => r.to_text(format),
        }
    }

    /// Parses a report of any of the six kinds, telling which from its identifier.
    ///
    /// # Errors
    /// As the report's `parse`.
    pub fn parse(text: &str, format: &ReportFormat) -> Result<Self, ReportError> {
        let id = text.split(format.separator).nth(1).unwrap_or_default();
        match Report::from_id(id) {
            Some(Report::Reconciliation) => {
                Ecosmig005::parse(text, format).map(Self::Reconciliation)
            }
            Some(Report::Summary) => Ecosmig007::parse(text, format).map(Self::Summary),
            _ => DeviceReport::parse(text, format).map(Self::Devices),
        }
    }

    /// The same report but for its creation date-time: what a report made again from the
    /// same state must be.
    #[must_use]
    pub fn same_but_created(&self, other: &Self) -> bool {
        let mut a = self.clone();
        let created = match other {
            Self::Devices(r) => r.created,
            Self::Reconciliation(r) => r.created,
            Self::Summary(r) => r.created,
        };
        match &mut a {
            Self::Devices(r) => r.created = created,
            Self::Reconciliation(r) => r.created = created,
            Self::Summary(r) => r.created = created,
        }
        &a == other
    }
}

/// A report due and not yet made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    /// Which report.
    pub report: Report,
    /// To whom.
    pub recipient: SecPartyId,
    /// When it is due (made on schedule).
    pub created: GeneralizedTime,
    /// Its period.
    pub period: (GeneralizedTime, GeneralizedTime),
}

/// Every report due by `at` (Unix seconds) and not yet made, by creation time, then report,
/// then recipient. Empty for an empty ledger.
#[must_use]
pub fn due(ledger: &Ledger, at: i64) -> Vec<Due> {
    let Some(first) = ledger.first_instant() else {
        return Vec::new();
    };
    let suppliers = ledger.recipients();
    let mut everyone = suppliers.clone();
    everyone.extend(ledger.asset_providers());
    let mut out = Vec::new();
    for report in Report::ALL {
        // Meter Asset Providers get the per-device reports of their devices only.
        let recipients = match report {
            Report::Devices(_) => &everyone,
            Report::Reconciliation | Report::Summary => &suppliers,
        };
        let mut next = report.creation_after(first);
        while let Some(created) = next.filter(|c| c.unix_seconds() <= at) {
            let period = report.period(created);
            let (s, e) = (period.0.unix_seconds(), period.1.unix_seconds());
            for r in recipients {
                if !ledger.was_made(report.id(), r, s, e) {
                    out.push(Due {
                        report,
                        recipient: r.clone(),
                        created,
                        period,
                    });
                }
            }
            next = report.creation_after(e + 1);
        }
    }
    out.sort_by(|a, b| {
        (a.created.unix_seconds(), a.report, &a.recipient).cmp(&(
            b.created.unix_seconds(),
            b.report,
            &b.recipient,
        ))
    });
    out
}

/// Checks that the daily, weekly and monthly periods agree with the report helpers.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::cos::report::daily_period;

    #[test]
    fn each_creation_is_the_first_after_the_period_holding_the_instant() {
        let t = |d, h| GeneralizedTime::new(2026, 12, d, h, 30, 0).map(|g| g.unix_seconds());
        let Some(thursday) = t(10, 13) else {
            return;
        };
        for report in Report::ALL {
            let c = report.creation_after(thursday);
            assert!(c.is_some(), "{report}: no creation");
            let Some(c) = c else {
                continue;
            };
            let (s, e) = report.period(c);
            assert!(
                (s.unix_seconds()..=e.unix_seconds()).contains(&thursday),
                "{report}: {c:?}"
            );
            assert_eq!((c.hour, c.minute), (6, 0));
        }
        if let Some(c) = GeneralizedTime::new(2026, 12, 11, 6, 0, 0) {
            assert_eq!(daily_period(c).0.day, 10);
        }
    }
}
