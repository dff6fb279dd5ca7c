//! The engine's records beside the ledger: every command sent and how it was settled, and the
//! run's incidents, listings, high-priority marks and pauses, one row each, timed. They are
//! what the dashboard's activity and timeline are aggregated from, in SQL: the store sums
//! them per bucket, so a fleet of millions gives a page of dozens of numbers.
//!
//! Layout of a row (`events`):
//!
//! | column  | for                                                           |
//! |---------|---------------------------------------------------------------|
//! | seq     | the order the engine made it                                  |
//! | at      | Unix milliseconds                                             |
//! | kind    | `sent`, `settled`, `late-reply` or a [`MarkKind`]'s name      |
//! | device  | the device's 64-bit ID, as the signed integer of its bits     |
//! | counter | the command's counter                                         |
//! | command | `migration` or `read`                                         |
//! | detail  | a mark's words                                                |
//!
//! Beside them, `first_commands` keeps each device's first migration command (device, at),
//! kept as the rows are written, so first commands per bucket are a scan of one row per
//! device rather than a grouping of every command.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use rusqlite::{params, Connection, Transaction};

use super::StoreError;
use crate::cos::engine::{
    Activity, Buckets, CommandKind, Mark, MarkKind, Record, Resolution, UnixTime,
};
use crate::frame::EntityId;

/// The table and its index.
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS events (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         at INTEGER NOT NULL,
         kind TEXT NOT NULL,
         device INTEGER,
         counter INTEGER,
         command TEXT,
         detail TEXT
     );
     CREATE INDEX IF NOT EXISTS events_kind_at ON events (kind, at);
     CREATE TABLE IF NOT EXISTS first_commands (
         device INTEGER PRIMARY KEY,
         at INTEGER NOT NULL
     );";

/// The marks' kinds, by the names rows carry.
const MARKS: [MarkKind; 7] = [
    MarkKind::AutoStop,
    MarkKind::WrongCredential,
    MarkKind::LocalFaults,
    MarkKind::Listed,
    MarkKind::HighPriority,
    MarkKind::Paused,
    MarkKind::Resumed,
];

/// One row, as it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) at: i64,
    pub(super) kind: &'static str,
    pub(super) device: Option<i64>,
    pub(super) counter: Option<i64>,
    pub(super) command: Option<&'static str>,
    pub(super) detail: Option<String>,
}

/// A device's 64-bit ID as the signed integer SQL keeps (its bits unchanged).
pub(super) fn device_bits(d: EntityId) -> i64 {
    i64::from_be_bytes(d.0)
}

/// A command's kind as rows name it.
pub(super) fn command_name(k: CommandKind) -> &'static str {
    match k {
        CommandKind::Migration => "migration",
        CommandKind::Read => "read",
    }
}

impl Row {
    /// The row `record` is kept as, if it is one the events table keeps (ledger entries have
    /// their own table; devices' progress and counter blocks are not kept yet).
    pub(super) fn of(record: &Record) -> Option<Self> {
        Some(match record {
            Record::Sent {
                device,
                kind,
                counter,
                at,
                ..
            } => Self {
                at: at.0,
                kind: "sent",
                device: Some(device_bits(*device)),
                counter: i64::try_from(*counter).ok(),
                command: Some(command_name(*kind)),
                detail: None,
            },
            Record::Resolved {
                device,
                kind,
                counter,
                at,
                how,
            } => Self {
                at: at.0,
                kind: match how {
                    Resolution::Replied | Resolution::NoReply => "settled",
                    Resolution::LateReply => "late-reply",
                },
                device: Some(device_bits(*device)),
                counter: i64::try_from(*counter).ok(),
                command: Some(command_name(*kind)),
                detail: Some(String::from(match how {
                    Resolution::Replied => "replied",
                    Resolution::NoReply => "no-reply",
                    Resolution::LateReply => "late-reply",
                })),
            },
            other => {
                let m = Mark::of(other)?;
                Self {
                    at: m.at.0,
                    kind: m.kind.name(),
                    device: None,
                    counter: None,
                    command: None,
                    detail: Some(m.text),
                }
            }
        })
    }
}

/// Writes `rows` in the transaction `tx`.
pub(super) fn insert(tx: &Transaction<'_>, rows: &[Row]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO events (at, kind, device, counter, command, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut first = tx.prepare_cached(
        "INSERT INTO first_commands (device, at) VALUES (?1, ?2)
         ON CONFLICT (device) DO UPDATE SET at = MIN(at, excluded.at)",
    )?;
    for r in rows {
        stmt.execute(params![
            r.at, r.kind, r.device, r.counter, r.command, r.detail
        ])?;
        if let (Some(device), "sent", Some("migration")) = (r.device, r.kind, r.command) {
            first.execute(params![device, r.at])?;
        }
    }
    Ok(())
}

/// Counts per bucket of the rows of `kind`, and how many came before
/// the window.
fn per_bucket(
    conn: &Connection,
    buckets: Buckets,
    kind: &str,
) -> Result<(Vec<u64>, i64), StoreError> {
    let start_ms = buckets.start.saturating_mul(1000);
    let end_ms = buckets.end().saturating_add(1).saturating_mul(1000);
    let width_ms = buckets.width.saturating_mul(1000);
    let mut out = vec![0u64; buckets.count];
    let mut stmt = conn.prepare_cached(
        "SELECT (at - ?2) / ?4, COUNT(*) FROM events
         WHERE kind = ?1 AND at >= ?2 AND at < ?3 GROUP BY 1",
    )?;
    let mut rows = stmt.query(params![kind, start_ms, end_ms, width_ms])?;
    while let Some(row) = rows.next()? {
        let i: i64 = row.get(0)?;
        let n: i64 = row.get(1)?;
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            *slot = u64::try_from(n).unwrap_or(0);
        }
    }
    let before: i64 = conn.query_row(
        "SELECT COUNT(*) FROM events WHERE kind = ?1 AND at < ?2",
        params![kind, start_ms],
        |r| r.get(0),
    )?;
    Ok((out, before))
}

/// The activity over `buckets`, aggregated in SQL.
pub(super) fn activity(conn: &Connection, buckets: Buckets) -> Result<Activity, StoreError> {
    let mut a = Activity::empty(buckets);
    let (sent, sent_before) = per_bucket(conn, buckets, "sent")?;
    let (settled, settled_before) = per_bucket(conn, buckets, "settled")?;
    let delta: Vec<i64> = sent
        .iter()
        .zip(&settled)
        .map(|(s, d)| i64::try_from(*s).unwrap_or(i64::MAX) - i64::try_from(*d).unwrap_or(0))
        .collect();
    a.recorded = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM events WHERE kind = 'sent')",
        [],
        |r| r.get(0),
    )?;
    a.sent = sent;
    a.settled = settled;
    a.finish_in_flight(sent_before - settled_before, &delta);
    // Each device's first migration command, wherever it falls; counted in its bucket.
    let start_ms = buckets.start.saturating_mul(1000);
    let end_ms = buckets.end().saturating_add(1).saturating_mul(1000);
    let width_ms = buckets.width.saturating_mul(1000);
    let mut stmt = conn.prepare_cached(
        "SELECT (at - ?1) / ?3, COUNT(*) FROM first_commands
         WHERE at >= ?1 AND at < ?2 GROUP BY 1",
    )?;
    let mut rows = stmt.query(params![start_ms, end_ms, width_ms])?;
    while let Some(row) = rows.next()? {
        let i: i64 = row.get(0)?;
        let n: i64 = row.get(1)?;
        if let Some(slot) = usize::try_from(i)
            .ok()
            .and_then(|i| a.first_commands.get_mut(i))
        {
            *slot = u64::try_from(n).unwrap_or(0);
        }
    }
    drop(rows);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, kind, detail FROM events
         WHERE kind NOT IN ('sent', 'settled', 'late-reply') AND at >= ?1 AND at < ?2
         ORDER BY at, seq",
    )?;
    let mut rows = stmt.query(params![start_ms, end_ms])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let at: i64 = row.get(1)?;
        let kind: String = row.get(2)?;
        let text: Option<String> = row.get(3)?;
        let kind = MARKS
            .into_iter()
            .find(|k| k.name() == kind)
            .ok_or_else(|| StoreError::BadRow {
                seq,
                message: alloc::format!("an event of unknown kind {kind:?}"),
            })?;
        a.marks.push(Mark {
            at: UnixTime(at),
            kind,
            text: text.unwrap_or_default(),
        });
    }
    Ok(a)
}

/// The first and last instants (Unix seconds) of the events kept, if any.
pub(super) fn span(conn: &Connection) -> Result<Option<(i64, i64)>, StoreError> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        conn.query_row("SELECT MIN(at), MAX(at) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(lo
        .zip(hi)
        .map(|(lo, hi)| (lo.div_euclid(1000), hi.div_euclid(1000))))
}
