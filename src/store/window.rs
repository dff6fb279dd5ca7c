//! Reading back some devices only (schema 4), so a run over a fleet larger than memory takes
//! its devices a window at a time: each window's engine holds that window's records and
//! history, never the fleet's.
//!
//! | table / key                  | holds                                                    |
//! |------------------------------|----------------------------------------------------------|
//! | `ledger_devices`             | device, seq: which ledger entries are about which device |
//! | `meta` `devices_done_below`  | devices `0..N` of the run's order are done with          |
//!
//! `ledger_devices` is written in the transaction of the entries it indexes; a store of an
//! older schema has it filled from its entries when opened.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::events::device_bits;
use super::progress::{device_row, in_flight_row};
use super::{entry_row, Resumption, StoreError};
use crate::cos::ledger::{Ledger, LedgerEntry};
use crate::frame::EntityId;

/// The table.
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS ledger_devices (
         device INTEGER NOT NULL,
         seq INTEGER NOT NULL,
         PRIMARY KEY (device, seq)
     ) WITHOUT ROWID;";

/// The meta key of the devices done with.
const DONE_BELOW: &str = "devices_done_below";

/// Indexes the entry `seq` under its device, if it has one.
pub(super) fn index(tx: &Transaction<'_>, seq: i64, entry: &LedgerEntry) -> Result<(), StoreError> {
    if let Some(device) = entry.device() {
        tx.prepare_cached("INSERT OR IGNORE INTO ledger_devices (device, seq) VALUES (?1, ?2)")?
            .execute(params![device_bits(device), seq])?;
    }
    Ok(())
}

/// Fills `ledger_devices` from every entry (a store of schema 3 or older).
pub(super) fn backfill(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare("SELECT seq, entry FROM ledger_entries ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let text: String = row.get(1)?;
            index(&tx, seq, &entry_row(seq, &text)?)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The ledger of `devices` only: their entries, replayed in the order they were written.
pub(super) fn ledger_of(conn: &Connection, devices: &[EntityId]) -> Result<Ledger, StoreError> {
    let mut seqs = Vec::new();
    {
        let wanted: BTreeSet<EntityId> = devices.iter().copied().collect();
        let mut stmt = conn.prepare_cached("SELECT seq FROM ledger_devices WHERE device = ?1")?;
        for d in &wanted {
            let mut rows = stmt.query([device_bits(*d)])?;
            while let Some(row) = rows.next()? {
                seqs.push(row.get::<_, i64>(0)?);
            }
        }
    }
    seqs.sort_unstable();
    seqs.dedup();
    let mut ledger = Ledger::new();
    let mut stmt = conn.prepare_cached("SELECT entry FROM ledger_entries WHERE seq = ?1")?;
    for seq in seqs {
        let text: Option<String> = stmt.query_row([seq], |r| r.get(0)).optional()?;
        let Some(text) = text else {
            return Err(StoreError::BadRow {
                seq,
                message: "an entry the device index names is missing".into(),
            });
        };
        ledger.apply(&entry_row(seq, &text)?);
    }
    Ok(ledger)
}

/// What `devices` resume from: their progress and their commands never settled, beside the
/// run's counters and stopping incident (`whole`, read without the fleet's progress).
pub(super) fn resumption_of(
    conn: &Connection,
    devices: &[EntityId],
    mut whole: Resumption,
) -> Result<Resumption, StoreError> {
    // Each device once, in device order (as PostgreSQL's `= ANY` reads them).
    let wanted: BTreeSet<EntityId> = devices.iter().copied().collect();
    let mut stmt =
        conn.prepare_cached("SELECT rowid, device, progress FROM devices WHERE device = ?1")?;
    for d in &wanted {
        let mut rows = stmt.query([device_bits(*d)])?;
        while let Some(row) = rows.next()? {
            let text: String = row.get(2)?;
            whole
                .progress
                .push(device_row(row.get(0)?, row.get(1)?, &text)?);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT rowid, device, command, counter, at FROM in_flight ORDER BY at, rowid",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let device: i64 = row.get(1)?;
        if !wanted.contains(&EntityId(device.to_be_bytes())) {
            continue;
        }
        let command: String = row.get(2)?;
        whole.unresolved.push(in_flight_row(
            row.get(0)?,
            device,
            &command,
            row.get(3)?,
            row.get(4)?,
        )?);
    }
    Ok(whole)
}

/// How many devices of the run's order are done with (0 when none is marked).
pub(super) fn done_below(conn: &Connection) -> Result<u64, StoreError> {
    let v: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [DONE_BELOW], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

/// Marks devices `0..n` of the run's order done with (a mark only goes up).
pub(super) fn set_done_below(conn: &Connection, n: u64) -> Result<(), StoreError> {
    let n = i64::try_from(n).map_err(|_| StoreError::BadRow {
        seq: 0,
        message: alloc::format!("{n} devices done is beyond what the store keeps"),
    })?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)",
        params![DONE_BELOW, n],
    )?;
    Ok(())
}
