//! The ledger summary as a CSV file: a header row, then one row per supplier
//! (`supplier,migrations_completed,failed_attempts,ecos_installed,remaining_tcos,non_migratable`),
//! written and read with the `csv` crate through serde (feature `csv`).
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::SupplierCounts;
use crate::cos::party::SecPartyId;

/// The header row.
pub const HEADER: &str =
    "supplier,migrations_completed,failed_attempts,ecos_installed,remaining_tcos,non_migratable";

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    supplier: SecPartyId,
    migrations_completed: u64,
    failed_attempts: u64,
    ecos_installed: u64,
    remaining_tcos: u64,
    non_migratable: u64,
}

/// A ledger file that could not be read: the line (1-based, `0` when unknown) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerFileError {
    /// The line.
    pub line: u64,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for LedgerFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl core::error::Error for LedgerFileError {}

impl From<csv::Error> for LedgerFileError {
    fn from(e: csv::Error) -> Self {
        let line = e.position().map_or(0, csv::Position::line);
        let message = match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => alloc::format!(
                "{}{}",
                err.field()
                    .map_or(String::new(), |f| alloc::format!("field {}: ", f + 1)),
                err.kind()
            ),
            _ => alloc::format!("{e}"),
        };
        Self { line, message }
    }
}

/// Writes the summary (header row, then one row per supplier, in supplier order).
///
/// # Errors
/// Only what the `csv` writer reports (nothing for an in-memory buffer in practice).
pub fn write_csv<'a>(
    summary: impl IntoIterator<Item = (&'a SecPartyId, &'a SupplierCounts)>,
) -> Result<String, LedgerFileError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for (s, c) in summary {
        w.serialize(Row {
            supplier: s.clone(),
            migrations_completed: c.migrations_completed,
            failed_attempts: c.failed_attempts,
            ecos_installed: c.ecos_installed,
            remaining_tcos: c.remaining_tcos,
            non_migratable: c.non_migratable,
        })?;
    }
    let bytes = w.into_inner().map_err(|e| LedgerFileError {
        line: 0,
        message: alloc::format!("{}", e.error()),
    })?;
    let mut text = String::from_utf8(bytes).map_err(|e| LedgerFileError {
        line: 0,
        message: alloc::format!("{e}"),
    })?;
    if text.is_empty() {
        text = alloc::format!("{HEADER}\n");
    }
    Ok(text)
}

/// Reads a file [`write_csv`] wrote: the header row must be [`HEADER`]; each row a SEC
/// party ID and five counts; a supplier at most once.
///
/// # Errors
/// [`LedgerFileError`] naming the line.
pub fn read_csv(text: &str) -> Result<BTreeMap<SecPartyId, SupplierCounts>, LedgerFileError> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = r.headers()?.clone();
    if headers.iter().collect::<Vec<_>>().join(",") != HEADER {
        return Err(LedgerFileError {
            line: 1,
            message: alloc::format!("expected the header `{HEADER}`"),
        });
    }
    let mut out = BTreeMap::new();
    for record in r.records() {
        let record = record?;
        let line = record.position().map_or(0, csv::Position::line);
        let row: Row = record.deserialize(Some(&headers)).map_err(|e| {
            let mut err = LedgerFileError::from(e);
            err.line = line;
            err
        })?;
        let counts = SupplierCounts {
            migrations_completed: row.migrations_completed,
            failed_attempts: row.failed_attempts,
            ecos_installed: row.ecos_installed,
            remaining_tcos: row.remaining_tcos,
            non_migratable: row.non_migratable,
        };
        let supplier = row.supplier;
        if out.insert(supplier.clone(), counts).is_some() {
            return Err(LedgerFileError {
                line,
                message: alloc::format!("supplier {supplier} twice"),
            });
        }
    }
    Ok(out)
}

/// The header row of a notices file.
pub const NOTICES_HEADER: &str =
    "device,supplier,kind,category,gbcs_status,reason,last_outcome,since";

/// Writes notices to a Responsible Supplier as CSV: [`NOTICES_HEADER`], then one row per
/// device (`since` as `YYYYMMDDThhmmss` UTC, `last_outcome` empty for a device never tried).
/// Only the header when there is nothing to tell.
///
/// # Errors
/// Only what the `csv` writer reports (nothing for an in-memory buffer in practice).
pub fn write_notices(notices: &[super::Notice]) -> Result<String, LedgerFileError> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(NOTICES_HEADER.split(','))?;
    for n in notices {
        let since = crate::payload::GeneralizedTime::from_unix_seconds(n.since).map_or_else(
            || alloc::format!("{}", n.since),
            |t| {
                alloc::format!(
                    "{:04}{:02}{:02}T{:02}{:02}{:02}",
                    t.year,
                    t.month,
                    t.day,
                    t.hour,
                    t.minute,
                    t.second
                )
            },
        );
        let last = n
            .last_outcome
            .map_or_else(String::new, |o| alloc::format!("{o}"));
        let status = n
            .status
            .map_or_else(String::new, |s| alloc::format!("{}", s.0));
        w.write_record([
            alloc::format!("{}", n.device).as_str(),
            n.supplier.as_str(),
            n.kind.name(),
            n.category.name(),
            status.as_str(),
            n.reason.as_str(),
            last.as_str(),
            since.as_str(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| LedgerFileError {
        line: 0,
        message: alloc::format!("{}", e.error()),
    })?;
    String::from_utf8(bytes).map_err(|e| LedgerFileError {
        line: 0,
        message: alloc::format!("{e}"),
    })
}
