//! Reading back some devices only, in PostgreSQL (schema 4, as SQLite's `window`): each
//! ledger entry carries its device (`ledger_entries.device`, indexed), so a window's or a
//! lease batch's ledger is read without the fleet's.

use alloc::string::String;
use alloc::vec::Vec;

use postgres::{Client, Transaction};

use super::pg;
use crate::cos::ledger::{Ledger, LedgerEntry};
use crate::frame::EntityId;
use crate::store::events::device_bits;
use crate::store::progress;
use crate::store::{entry_row, Resumption, StoreError};

/// The column and its index.
pub(super) const SCHEMA: &str = "ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS device BIGINT;
     CREATE INDEX IF NOT EXISTS ledger_entries_device ON ledger_entries (device);";

/// The device column's value of an entry.
pub(super) fn device_of(e: &LedgerEntry) -> Option<i64> {
    e.device().map(device_bits)
}

/// Fills the device column from every entry (a database of schema 3 or older).
pub(super) fn backfill(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    let rows = tx
        .query(
            "SELECT seq, entry FROM ledger_entries WHERE device IS NULL",
            &[],
        )
        .map_err(|e| pg(&e))?;
    let (mut seqs, mut devices) = (Vec::new(), Vec::new());
    for r in rows {
        let (seq, text): (i64, String) = (r.get(0), r.get(1));
        if let Some(d) = device_of(&entry_row(seq, &text)?) {
            seqs.push(seq);
            devices.push(d);
        }
    }
    if !seqs.is_empty() {
        tx.execute(
            "UPDATE ledger_entries SET device = u.device
             FROM UNNEST($1::bigint[], $2::bigint[]) AS u(seq, device)
             WHERE ledger_entries.seq = u.seq",
            &[&seqs, &devices],
        )
        .map_err(|e| pg(&e))?;
    }
    Ok(())
}

/// The device columns of `devices`.
fn bits(devices: &[EntityId]) -> Vec<i64> {
    devices.iter().copied().map(device_bits).collect()
}

/// The ledger of `devices` only, replayed in order.
pub(super) fn ledger_of(c: &mut Client, devices: &[EntityId]) -> Result<Ledger, StoreError> {
    let rows = c
        .query(
            "SELECT seq, entry FROM ledger_entries WHERE device = ANY($1) ORDER BY seq",
            &[&bits(devices)],
        )
        .map_err(|e| pg(&e))?;
    let mut ledger = Ledger::new();
    for r in rows {
        let (seq, text): (i64, String) = (r.get(0), r.get(1));
        ledger.apply(&entry_row(seq, &text)?);
    }
    Ok(ledger)
}

/// The progress and commands never settled of `devices`, into `out`.
pub(super) fn resumption_of(
    c: &mut Client,
    devices: &[EntityId],
    mut out: Resumption,
) -> Result<Resumption, StoreError> {
    let wanted = bits(devices);
    for r in c
        .query(
            "SELECT device, progress FROM devices WHERE device = ANY($1) ORDER BY device",
            &[&wanted],
        )
        .map_err(|e| pg(&e))?
    {
        let (d, text): (i64, String) = (r.get(0), r.get(1));
        out.progress.push(progress::device_row(d, d, &text)?);
    }
    for r in c
        .query(
            "SELECT device, command, counter, at FROM in_flight WHERE device = ANY($1)
             ORDER BY at, device",
            &[&wanted],
        )
        .map_err(|e| pg(&e))?
    {
        let (d, command, counter, at): (i64, String, i64, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        out.unresolved
            .push(progress::in_flight_row(d, d, &command, counter, at)?);
    }
    Ok(out)
}

impl super::PgStore {
    /// The run's counters and stopping incident, without any device's progress.
    pub(super) fn resumption_of_run(&self) -> Result<Resumption, StoreError> {
        let stopped: Option<String> = self.call(|c| {
            Ok(
                c.query_opt("SELECT value FROM run_state WHERE key = 'stopped'", &[])
                    .map_err(|e| pg(&e))?
                    .map(|r| r.get(0)),
            )
        })?;
        let [tcos, acb] = progress::COUNTER_KEYS;
        Ok(Resumption {
            progress: Vec::new(),
            unresolved: Vec::new(),
            counters: crate::cos::engine::StartingCounters {
                tcos: progress::below_of(self.meta(tcos)?),
                acb: progress::below_of(self.meta(acb)?),
            },
            stopped,
        })
    }
}
