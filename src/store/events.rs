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

/// The activity's queries, with `?N` parameters (`$N` for PostgreSQL: the same numbers).
pub(super) mod sql {
    /// Per bucket of rows of kind ?1 in the window `?2..?3` (ms), bucket width ?4.
    pub const PER_BUCKET: &str = "SELECT (at - ?2) / ?4, COUNT(*) FROM events
         WHERE kind = ?1 AND at >= ?2 AND at < ?3 GROUP BY 1";
    /// Rows of kind ?1 before ?2 (ms).
    pub const BEFORE: &str = "SELECT COUNT(*) FROM events WHERE kind = ?1 AND at < ?2";
    /// Whether the store records commands sent at all.
    pub const RECORDED: &str = "SELECT EXISTS (SELECT 1 FROM events WHERE kind = 'sent')";
    /// First migration commands per bucket of the window `?1..?2`, width ?3.
    pub const FIRST: &str = "SELECT (at - ?1) / ?3, COUNT(*) FROM first_commands
         WHERE at >= ?1 AND at < ?2 GROUP BY 1";
    /// The marks in the window `?1..?2`: seq, at, kind, detail.
    pub const MARKS: &str = "SELECT seq, at, kind, detail FROM events
         WHERE kind NOT IN ('sent', 'settled', 'late-reply') AND at >= ?1 AND at < ?2
         ORDER BY at, seq";
}

/// The window of `buckets` as the queries take it: start, end (exclusive) and width, in ms.
pub(super) fn window_ms(buckets: Buckets) -> (i64, i64, i64) {
    (
        buckets.start.saturating_mul(1000),
        buckets.end().saturating_add(1).saturating_mul(1000),
        buckets.width.saturating_mul(1000),
    )
}

/// What the activity is made of, as either store's queries return it.
#[derive(Default)]
pub(super) struct ActivityRows {
    /// Commands sent: (bucket, count), and how many before the window.
    pub sent: Vec<(i64, i64)>,
    pub sent_before: i64,
    /// Commands settled, likewise.
    pub settled: Vec<(i64, i64)>,
    pub settled_before: i64,
    /// Whether commands are recorded at all.
    pub recorded: bool,
    /// First migration commands: (bucket, count).
    pub first: Vec<(i64, i64)>,
    /// Marks: seq, at (ms), kind, detail.
    pub marks: Vec<(i64, i64, String, Option<String>)>,
}

/// `rows` (bucket, count) as counts per bucket of `count` buckets.
fn per_bucket(count: usize, rows: &[(i64, i64)]) -> Vec<u64> {
    let mut out = vec![0u64; count];
    for &(i, n) in rows {
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            *slot = u64::try_from(n).unwrap_or(0);
        }
    }
    out
}

/// The activity over `buckets` from what the queries returned.
pub(super) fn assemble(buckets: Buckets, rows: ActivityRows) -> Result<Activity, StoreError> {
    let mut a = Activity::empty(buckets);
    let sent = per_bucket(buckets.count, &rows.sent);
    let settled = per_bucket(buckets.count, &rows.settled);
    let delta: Vec<i64> = sent
        .iter()
        .zip(&settled)
        .map(|(s, d)| i64::try_from(*s).unwrap_or(i64::MAX) - i64::try_from(*d).unwrap_or(0))
        .collect();
    a.recorded = rows.recorded;
    a.sent = sent;
    a.settled = settled;
    a.finish_in_flight(rows.sent_before - rows.settled_before, &delta);
    // Each device's first migration command, wherever it falls; counted in its bucket.
    a.first_commands = per_bucket(buckets.count, &rows.first);
    for (seq, at, kind, text) in rows.marks {
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

/// The activity over `buckets`, aggregated in SQL.
pub(super) fn activity(conn: &Connection, buckets: Buckets) -> Result<Activity, StoreError> {
    let (start, end, width) = window_ms(buckets);
    let pairs = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Vec<(i64, i64)>, StoreError> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let before = |kind: &str| -> Result<i64, StoreError> {
        Ok(conn.query_row(sql::BEFORE, params![kind, start], |r| r.get(0))?)
    };
    let mut stmt = conn.prepare_cached(sql::MARKS)?;
    let marks = stmt
        .query_map(params![start, end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let rows = ActivityRows {
        sent: pairs(sql::PER_BUCKET, params!["sent", start, end, width])?,
        sent_before: before("sent")?,
        settled: pairs(sql::PER_BUCKET, params!["settled", start, end, width])?,
        settled_before: before("settled")?,
        recorded: conn.query_row(sql::RECORDED, [], |r| r.get(0))?,
        first: pairs(sql::FIRST, params![start, end, width])?,
        marks,
    };
    assemble(buckets, rows)
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
