//! The inventory as a CSV file: a header row naming the fields (any order; the optional ones
//! may be left out), then a row per device (feature `csv`).

use alloc::string::String;
use alloc::vec::Vec;

use super::{InventoryError, InventoryRow};

fn csv_error(e: &csv::Error) -> InventoryError {
    let line = e.position().map_or(0, csv::Position::line);
    let record = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => InventoryError {
            record,
            field: "row",
            message: alloc::format!("{}", err.kind()),
        },
        _ => InventoryError {
            record,
            field: "file",
            message: alloc::format!("{e}"),
        },
    }
}

/// Reads an inventory CSV file (UTF-8, a header row first). Fields are trimmed; a field the
/// header does not know is refused, as is a row with too few or too many fields.
///
/// # Errors
/// [`InventoryError`] naming the record (line − 1) that does not read.
pub fn read_csv(reader: impl std::io::Read) -> Result<Vec<InventoryRow>, InventoryError> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let mut rows = Vec::new();
    for row in r.deserialize::<InventoryRow>() {
        rows.push(row.map_err(|e| csv_error(&e))?);
    }
    Ok(rows)
}

/// Writes `rows` as an inventory CSV file (every field, header first).
///
/// # Errors
/// Only what the `csv` writer reports (nothing for an in-memory buffer in practice).
pub fn write_csv<'r>(
    rows: impl IntoIterator<Item = &'r InventoryRow>,
) -> Result<String, InventoryError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(|e| csv_error(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| InventoryError {
        record: 0,
        field: "file",
        message: alloc::format!("{}", e.error()),
    })?;
    String::from_utf8(bytes).map_err(|_| InventoryError {
        record: 0,
        field: "file",
        message: String::from("not UTF-8"),
    })
}
