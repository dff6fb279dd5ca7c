//! The per-device reports: ECOSMIG-001 (successful migrations), 002 (failed migrations),
//! 004 (devices of a Non-Migratable model) and 006 (ECoS installed devices), for one
//! recipient and one period, each device named as DUIS 5.4 names devices (DCC's response
//! ¶30: the conventions of DCC's other reports).
//!
//! ```text
//! 00,ECOSMIG-00n,<recipient(6)>,<sequence(6)>,<title(1..100)>,<created>,<start>,<end>,DCC Controlled
//! 10,<device ID(23)>,<device type(≤6)>,<manufacturer(1..30)>,<model(1..30)>,<firmware(1..8)>,<time(15)>[,…]
//! …one detail record per device, none when there is nothing to report…
//! 99,<rows count(6)>,DCC Controlled
//! ```
//!
//! **Our decisions** (DCC has not published these layouts; the README lists each with the
//! paragraph it rests on):
//!
//! - The device fields follow DUIS 5.4: device ID as its `EUI` type (`00-DB-12-…`, 23
//!   characters), device type as its `DeviceType` enumeration, manufacturer and model of at
//!   most 30 characters (`DeviceManufacturer`, `DeviceModel`), firmware of 1 to 8
//!   (`FirmwareVersion`). A value that does not fit is an error, never truncated.
//! - **001** lists each device in the period in which its migration was first known to have
//!   completed (a completed reply, or a reading that showed a lost reply's command ran), to
//!   the supplier of that attempt; the time is when it became known. Once per device
//!   ("data is only provided once", ¶29).
//! - **002** lists each device in the period in which its migration first failed for good
//!   (its standing became faulted or needs-investigation: no more automatic tries; transient
//!   failures that will be retried are not failed migrations), to its supplier then, with the
//!   notice category and the GBCS status of its last attempt (empty when there is none).
//!   Once per device for that outcome; daily (¶24).
//! - **004** and **006** list the devices that *became* non-migratable (004) or ECoS
//!   installed (006) within the period and still are at its end, to their supplier at its
//!   end; 006 adds 'ECoS Status' `Installed` (¶25b). Made for the period from the start of
//!   the migration to T, they list exactly the devices ECOSMIG-007 counts as at T; made for a
//!   day or a month, they list that period's additions, so they stay within the rows count's
//!   six digits.
//! - **Recipients**: the device's reporting supplier, and its Meter Asset Provider (DCC's
//!   response ¶16, ¶23 add MAPs to the reporting without saying which reports): a MAP gets
//!   these four reports for its devices, being the party that acts on an asset's outcome
//!   (its firmware, its model's listing, its replacement), not 005 or 007, whose attempt
//!   counts are the supplier's operation.
//! - Cadences: 001, 002 and 004 daily (the previous day, made at 06:00); 006 monthly, with
//!   ECOSMIG-007 whose third total it details.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use super::{grammar, issue, time_text, Header, ReportError, ReportFormat, ReportRefused};
use crate::cos::ledger::{Descriptor, IssuedSequence, Ledger, NoticeCategory};
use crate::cos::migration::SecPartyId;
use crate::frame::EntityId;
use crate::payload::{GeneralizedTime, StatusCode};

mod gather;

/// Which per-device report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceReportKind {
    /// ECOSMIG-001: devices successfully migrated.
    Migrated,
    /// ECOSMIG-002: devices whose migration failed.
    Failed,
    /// ECOSMIG-004: devices of a Non-Migratable model.
    NonMigratable,
    /// ECOSMIG-006: devices with ECoS credentials installed.
    EcosInstalled,
}

impl DeviceReportKind {
    /// Every per-device report.
    pub const ALL: [Self; 4] = [
        Self::Migrated,
        Self::Failed,
        Self::NonMigratable,
        Self::EcosInstalled,
    ];

    /// The report identifier.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Self::Migrated => "ECOSMIG-001",
            Self::Failed => "ECOSMIG-002",
            Self::NonMigratable => "ECOSMIG-004",
            Self::EcosInstalled => "ECOSMIG-006",
        }
    }

    /// The report named `id`.
    #[must_use]
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// The default title.
    #[must_use]
    pub const fn title(self) -> &'static str {
        match self {
            Self::Migrated => "ECoS Migration: Devices Successfully Migrated",
            Self::Failed => "ECoS Migration: Devices Failed",
            Self::NonMigratable => "ECoS Migration: Devices of a Non-Migratable Model",
            Self::EcosInstalled => "ECoS Migration: ECoS Installed Devices",
        }
    }

    /// What a row's date-time is.
    pub(crate) const fn time_field(self) -> &'static str {
        match self {
            Self::Migrated => "migrated date-time",
            Self::Failed => "failed date-time",
            Self::NonMigratable => "non-migratable date-time",
            Self::EcosInstalled => "installed date-time",
        }
    }

    /// The period of the report made on schedule at `created`: the previous day for 001, 002
    /// and 004; the previous month for 006.
    #[must_use]
    pub fn period(self, created: GeneralizedTime) -> (GeneralizedTime, GeneralizedTime) {
        match self {
            Self::EcosInstalled => super::monthly_period(created),
            Self::Migrated | Self::Failed | Self::NonMigratable => daily_period(created),
        }
    }
}

/// The day a report created at `created` covers: the day before, 00:00:00 to 23:59:59 UTC.
#[must_use]
pub fn daily_period(created: GeneralizedTime) -> (GeneralizedTime, GeneralizedTime) {
    let today = created.unix_seconds().div_euclid(86_400) * 86_400;
    let at = |s: i64| GeneralizedTime::from_unix_seconds(s).unwrap_or(created);
    (at(today - 86_400), at(today - 1))
}

/// Why a device's migration failed, as ECOSMIG-002 says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Failure {
    /// The notice category.
    pub category: NoticeCategory,
    /// The GBCS status of its last attempt, when it was a device fault.
    pub status: Option<StatusCode>,
}

/// One detail record: a device, what it is, and when it entered the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device.
    pub device: EntityId,
    /// Its type, manufacturer, model and firmware (as at `at` for 001 and 002, as at the
    /// period's end for 004 and 006); the report does not carry its Meter Asset Provider,
    /// so that is `None` here.
    pub descriptor: Descriptor,
    /// When it migrated, failed, became non-migratable or had ECoS installed.
    pub at: GeneralizedTime,
    /// Why it failed: in ECOSMIG-002 rows, and only there.
    pub failure: Option<Failure>,
}

/// One ECOSMIG-001, 002, 004 or 006 report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceReport {
    /// Which report.
    pub kind: DeviceReportKind,
    /// The recipient's SEC party ID.
    pub recipient: SecPartyId,
    /// The report's sequence number (its own for this report and recipient).
    pub sequence_number: u32,
    /// The title (at most 100 characters).
    pub title: String,
    /// When the report was created.
    pub created: GeneralizedTime,
    /// The first second of the period.
    pub period_start: GeneralizedTime,
    /// The last second of the period.
    pub period_end: GeneralizedTime,
    /// The devices, in time order (then by device ID).
    pub rows: Vec<DeviceRow>,
}

/// 'ECoS Status' of every ECOSMIG-006 row (¶25b: its maximum length, 9, holds this).
pub const ECOS_STATUS_INSTALLED: &str = "Installed";

impl DeviceReport {
    /// Report `kind` for the period `start` to `end` (both included) to `recipient`, from
    /// `ledger`, created at `created`, with the next sequence number of this report to this
    /// recipient (or `sequence`, which must not reuse or go back), recorded in the ledger.
    ///
    /// ```
    /// use gbcs::cos::ledger::{Descriptor, Ledger, LedgerEntry};
    /// use gbcs::cos::report::{DeviceReport, DeviceReportKind};
    /// use gbcs::cos::{DeviceType, ModelKey, Outcome, SecPartyId};
    /// use gbcs::frame::EntityId;
    /// use gbcs::payload::GeneralizedTime;
    ///
    /// let mut ledger = Ledger::new();
    /// let supplier = SecPartyId::new("SUPA01")?;
    /// let device = EntityId::from_u64(0x00DB_1234_5678_0001);
    /// let at = GeneralizedTime::new(2026, 12, 9, 10, 0, 0).ok_or("date")?.unix_seconds();
    /// // What the engine journals when it first meets the device, then its attempt.
    /// ledger.apply(&LedgerEntry::Supplier { device, at, supplier: supplier.clone() });
    /// let descriptor = Descriptor {
    ///     device_type: DeviceType::Esme,
    ///     model: ModelKey::new("ACME", "E-1"),
    ///     firmware: "1.0".into(),
    ///     meter_asset_provider: None,
    /// };
    /// ledger.apply(&LedgerEntry::Descriptor { device, at, descriptor });
    /// ledger.record(&supplier, device, 1, &Outcome::Migrated, at)?;
    /// // Made on 2026-12-10 at 06:00 for the day before.
    /// let created = GeneralizedTime::new(2026, 12, 10, 6, 0, 0).ok_or("date")?;
    /// let (start, end) = DeviceReportKind::Migrated.period(created);
    /// let now = created.unix_seconds();
    /// let (report, _) = DeviceReport::for_period(
    ///     &mut ledger, DeviceReportKind::Migrated, supplier, start, end, created, None, now,
    /// )?;
    /// let text = report.to_text(&Default::default())?;
    /// assert!(text.contains("\n10,00-DB-12-34-56-78-00-01,ESME,ACME,E-1,1.0,20261209T100000\n"));
    /// assert_eq!(DeviceReport::parse(&text, &Default::default())?, report);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ReportRefused`], before any sequence number is used: a period that ends before it
    /// starts, a year outside 2000–9999, a period not ended at `now`, a recipient the ledger
    /// has never reported to, a device to list whose type, model and firmware the ledger
    /// does not hold, a `sequence` that would reuse a number, go back, or not fit.
    #[allow(clippy::too_many_arguments)]
    pub fn for_period(
        ledger: &mut Ledger,
        kind: DeviceReportKind,
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
        let rows = gather::rows(
            ledger,
            kind,
            &recipient,
            start.unix_seconds(),
            end.unix_seconds(),
        )?;
        let issued = issue(
            ledger,
            kind.id(),
            true,
            &recipient,
            (start, end),
            sequence,
            now,
        )?;
        Ok((
            Self {
                kind,
                recipient,
                sequence_number: issued.number,
                title: String::from(kind.title()),
                created,
                period_start: start,
                period_end: end,
                rows,
            },
            issued,
        ))
    }

    /// Report `kind` made on schedule at `created`, for [`DeviceReportKind::period`].
    ///
    /// # Errors
    /// As [`Self::for_period`].
    pub fn scheduled(
        ledger: &mut Ledger,
        kind: DeviceReportKind,
        recipient: SecPartyId,
        created: GeneralizedTime,
        sequence: Option<u32>,
        now: i64,
    ) -> Result<(Self, IssuedSequence), ReportRefused> {
        let (start, end) = kind.period(created);
        Self::for_period(ledger, kind, recipient, start, end, created, sequence, now)
    }

    /// The report as text.
    ///
    /// # Errors
    /// [`ReportError::DoesNotFit`] for a value longer than its field (never truncated),
    /// [`ReportError::Empty`] for an empty mandatory field or an ECOSMIG-002 row without its
    /// failure, [`ReportError::NotCarried`] for a failure in another report's row,
    /// [`ReportError::InvalidCharacter`] for a separator or line end inside a field, and the
    /// header's errors ([`super::Ecosmig007::to_text`]).
    pub fn to_text(&self, format: &ReportFormat) -> Result<String, ReportError> {
        let mut s = Header {
            id: self.kind.id(),
            recipient: &self.recipient,
            sequence_number: self.sequence_number,
            title: &self.title,
            created: self.created,
            period_start: self.period_start,
            period_end: self.period_end,
        }
        .to_text(format)?;
        for row in &self.rows {
            self.write_row(&mut s, format, row)?;
        }
        super::write_trailer(&mut s, format, self.rows.len())?;
        Ok(s)
    }

    fn write_row(
        &self,
        s: &mut String,
        format: &ReportFormat,
        row: &DeviceRow,
    ) -> Result<(), ReportError> {
        let sep = format.separator;
        let d = &row.descriptor;
        let text = |v: &str, field: &'static str, max: usize| -> Result<(), ReportError> {
            if v.is_empty() {
                return Err(ReportError::Empty { field });
            }
            if v.chars().count() > max {
                return Err(ReportError::DoesNotFit { field });
            }
            if v.contains(sep) || v.contains(['\n', '\r']) {
                return Err(ReportError::InvalidCharacter { field });
            }
            Ok(())
        };
        text(d.model.manufacturer.as_str(), "manufacturer", 30)?;
        text(d.model.model.as_str(), "device model", 30)?;
        text(d.firmware.as_str(), "firmware version", 8)?;
        let _ = write!(s, "10{sep}");
        for (i, b) in row.device.0.iter().enumerate() {
            let dash = if i == 0 { "" } else { "-" };
            let _ = write!(s, "{dash}{b:02X}");
        }
        let _ = write!(
            s,
            "{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}",
            d.device_type.name(),
            d.model.manufacturer,
            d.model.model,
            d.firmware.as_str(),
            time_text(&row.at),
        );
        match (self.kind, row.failure) {
            (DeviceReportKind::Failed, Some(f)) => {
                let _ = write!(s, "{sep}{}{sep}", f.category.name());
                if let Some(code) = f.status {
                    let _ = write!(s, "{}", code.0);
                }
            }
            (DeviceReportKind::Failed, None) => {
                return Err(ReportError::Empty {
                    field: "failure category",
                })
            }
            (_, Some(_)) => {
                return Err(ReportError::NotCarried {
                    field: "failure category",
                })
            }
            (DeviceReportKind::EcosInstalled, None) => {
                let _ = write!(s, "{sep}{ECOS_STATUS_INSTALLED}");
            }
            (DeviceReportKind::Migrated | DeviceReportKind::NonMigratable, None) => {}
        }
        s.push_str(format.line_end);
        Ok(())
    }

    /// Parses a report; which one is read from its header's report identifier. Header and
    /// trailer as ECOSMIG-007's (the rows count as [`super::RowsCount::for_details`] of the
    /// detail records); every detail record as the module's layout says.
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
        let missing = ReportError::Malformed {
            line: lines.len() + 1,
            column: 1,
            field: "record count",
        };
        let Some((header, rest)) = lines.split_first() else {
            return Err(missing);
        };
        let Some((trailer, details)) = rest.split_last() else {
            return Err(missing);
        };
        let sep = format.separator;
        let id = header
            .split(sep)
            .nth(1)
            .and_then(DeviceReportKind::from_id)
            .unwrap_or(DeviceReportKind::Migrated);
        let (recipient, sequence_number, title, created, period_start, period_end) =
            grammar::header(header, sep, id.id()).map_err(|e| e.at(1, header))?;
        let mut rows = Vec::with_capacity(details.len());
        for (i, line) in details.iter().enumerate() {
            rows.push(grammar::device_row(line, sep, id).map_err(|e| e.at(i + 2, line))?);
        }
        let count = format
            .rows_count
            .for_details(u64::try_from(details.len()).unwrap_or(u64::MAX));
        grammar::trailer(trailer, sep, count).map_err(|e| e.at(lines.len(), trailer))?;
        Ok(Self {
            kind: id,
            recipient,
            sequence_number,
            title: String::from(title),
            created,
            period_start,
            period_end,
            rows,
        })
    }
}
