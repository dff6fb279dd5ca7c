//! What a run needs to resume (schema 3): each device's progress as it last stood, the
//! commands sent and not yet settled, the counter blocks reserved, and the incident that
//! stopped the run.
//!
//! | table / key                  | holds                                                  |
//! |------------------------------|--------------------------------------------------------|
//! | `devices`                    | device (its 64-bit ID as signed bits), progress (JSON) |
//! | `in_flight`                  | device, command, counter, at (ms): sent, not settled    |
//! | `meta` `counter_below_tcos`  | the first TCoS counter not reserved                    |
//! | `meta` `counter_below_acb`   | the first ACB counter not reserved                     |
//! | `run_state` `stopped`        | the incident that stopped the run, in words            |
//!
//! `in_flight` holds a row from a command's `Sent` record to its settling (a reply or its
//! deadline), so it stays as small as what is in flight however long the run.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::StoreError;
use crate::cos::engine::{
    CommandKind, CounterParty, Record, StartingCounters, UnixTime, Unresolved,
};
use crate::cos::migration::DeviceProgress;
use crate::frame::EntityId;

/// The tables.
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS devices (
         device INTEGER PRIMARY KEY,
         progress TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS in_flight (
         device INTEGER NOT NULL,
         command TEXT NOT NULL,
         counter INTEGER NOT NULL,
         at INTEGER NOT NULL,
         PRIMARY KEY (device, command, counter)
     );
     CREATE TABLE IF NOT EXISTS run_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// What a run resumes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resumption {
    /// Each device's progress as it last stood.
    pub progress: Vec<(EntityId, DeviceProgress)>,
    /// The commands sent and never settled.
    pub unresolved: Vec<Unresolved>,
    /// The first counter of each party not reserved (1 when none was).
    pub counters: StartingCounters,
    /// The incident that stopped the run, in words, if it stopped.
    pub stopped: Option<String>,
}

use super::events::{command_name, device_bits as bits};

fn counter_key(p: CounterParty) -> &'static str {
    let [tcos, acb] = COUNTER_KEYS;
    match p {
        CounterParty::Tcos => tcos,
        CounterParty::Acb => acb,
    }
}

/// A counter as SQLite's signed integer (counters are below 2^63 in any real run; one above
/// is refused rather than wrapped).
fn signed(counter: u64) -> Result<i64, StoreError> {
    i64::try_from(counter).map_err(|_| StoreError::BadRow {
        seq: 0,
        message: alloc::format!("counter {counter} is beyond what the store keeps (2^63 - 1)"),
    })
}

/// Whether a record is one a restart needs.
pub(super) const fn kept(record: &Record) -> bool {
    matches!(
        record,
        Record::Device { .. }
            | Record::Sent { .. }
            | Record::Resolved { .. }
            | Record::CounterBlock { .. }
            | Record::Incident { .. }
    )
}

/// One change a record makes to what a restart needs, in a form every backend writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// A device's progress (device bits, JSON).
    Device(i64, String),
    /// A command sent (device bits, command, counter, at ms).
    Sent(i64, &'static str, i64, i64),
    /// A command settled (device bits, command, counter).
    Settled(i64, &'static str, i64),
    /// A counter block reserved (meta key, the first counter not reserved).
    Block(&'static str, i64),
    /// The run stopped (the incident in words).
    Stopped(String),
}

/// The changes `records` make to what a restart needs.
pub(super) fn ops<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<Vec<Op>, StoreError> {
    let mut out = Vec::new();
    for r in records {
        out.push(match r {
            Record::Device { device, progress } => Op::Device(
                bits(*device),
                serde_json::to_string(progress).map_err(|e| StoreError::BadRow {
                    seq: 0,
                    message: e.to_string(),
                })?,
            ),
            Record::Sent {
                device,
                kind,
                counter,
                at,
                ..
            } => Op::Sent(bits(*device), command_name(*kind), signed(*counter)?, at.0),
            Record::Resolved {
                device,
                kind,
                counter,
                ..
            } => Op::Settled(bits(*device), command_name(*kind), signed(*counter)?),
            Record::CounterBlock { party, below } => {
                Op::Block(counter_key(*party), signed(*below)?)
            }
            Record::Incident { incident, .. } => Op::Stopped(incident.to_string()),
            _ => continue,
        });
    }
    Ok(out)
}

/// Keeps, in `tx`, what of `records` a restart needs.
pub(super) fn write<'a>(
    tx: &Transaction<'_>,
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<(), StoreError> {
    let mut device = tx.prepare_cached(
        "INSERT INTO devices (device, progress) VALUES (?1, ?2)
         ON CONFLICT (device) DO UPDATE SET progress = excluded.progress",
    )?;
    let mut sent = tx.prepare_cached(
        "INSERT OR REPLACE INTO in_flight (device, command, counter, at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut settled = tx.prepare_cached(
        "DELETE FROM in_flight WHERE device = ?1 AND command = ?2 AND counter = ?3",
    )?;
    let mut block = tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)",
    )?;
    for op in ops(records)? {
        match op {
            Op::Device(d, text) => device.execute(params![d, text])?,
            Op::Sent(d, command, counter, at) => sent.execute(params![d, command, counter, at])?,
            Op::Settled(d, command, counter) => settled.execute(params![d, command, counter])?,
            Op::Block(key, below) => block.execute(params![key, below])?,
            Op::Stopped(text) => tx.execute(
                "INSERT INTO run_state (key, value) VALUES ('stopped', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![text],
            )?,
        };
    }
    Ok(())
}

/// A device's progress row, read back.
pub(super) fn device_row(
    seq: i64,
    device: i64,
    text: &str,
) -> Result<(EntityId, DeviceProgress), StoreError> {
    let id = EntityId(device.to_be_bytes());
    let progress = serde_json::from_str(text).map_err(|e| StoreError::BadRow {
        seq,
        message: alloc::format!("the progress of device {id}: {e}"),
    })?;
    Ok((id, progress))
}

/// A command in flight, read back.
pub(super) fn in_flight_row(
    seq: i64,
    device: i64,
    command: &str,
    counter: i64,
    at: i64,
) -> Result<Unresolved, StoreError> {
    let bad = |message: String| StoreError::BadRow { seq, message };
    let kind = match command {
        "migration" => CommandKind::Migration,
        "read" => CommandKind::Read,
        other => return Err(bad(alloc::format!("a command of unknown kind {other:?}"))),
    };
    Ok(Unresolved {
        device: EntityId(device.to_be_bytes()),
        kind,
        counter: u64::try_from(counter)
            .map_err(|_| bad(alloc::format!("a negative counter {counter}")))?,
        at: UnixTime(at),
    })
}

/// The first counter not reserved, from the meta value kept (1 when none was).
pub(super) fn below_of(value: Option<i64>) -> u64 {
    value
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(1)
        .max(1)
}

/// The meta keys of each party's counter blocks.
pub(super) const COUNTER_KEYS: [&str; 2] = ["counter_below_tcos", "counter_below_acb"];

/// The run's counters and stopping incident, without any device's progress.
pub(super) fn load_run(conn: &Connection) -> Result<Resumption, StoreError> {
    let mut out = Resumption {
        progress: Vec::new(),
        unresolved: Vec::new(),
        counters: StartingCounters { tcos: 1, acb: 1 },
        stopped: None,
    };
    let below = |key: &str| -> Result<u64, StoreError> {
        let v: Option<i64> = conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        Ok(below_of(v))
    };
    let [tcos, acb] = COUNTER_KEYS;
    out.counters = StartingCounters {
        tcos: below(tcos)?,
        acb: below(acb)?,
    };
    out.stopped = conn
        .query_row(
            "SELECT value FROM run_state WHERE key = 'stopped'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(out)
}

/// What the store holds for a restart.
pub(super) fn load(conn: &Connection) -> Result<Resumption, StoreError> {
    let mut out = load_run(conn)?;
    let mut stmt = conn.prepare("SELECT rowid, device, progress FROM devices ORDER BY device")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(2)?;
        out.progress
            .push(device_row(row.get(0)?, row.get(1)?, &text)?);
    }
    drop(rows);
    let mut stmt = conn
        .prepare("SELECT rowid, device, command, counter, at FROM in_flight ORDER BY at, rowid")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let command: String = row.get(2)?;
        out.unresolved.push(in_flight_row(
            row.get(0)?,
            row.get(1)?,
            &command,
            row.get(3)?,
            row.get(4)?,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::cos::migration::{Incident, MigrationStatus};
    use crate::cos::CosState;
    use crate::store::SqliteLedger;

    fn progress(attempts: u32, status: MigrationStatus) -> DeviceProgress {
        DeviceProgress {
            state: CosState::Tcos,
            cell_credential: None,
            firmware: "1.0".into(),
            gas_meter_commissioned: false,
            attempts,
            invalid_responses: 0,
            next_attempt_at: Some(1_764_547_300),
            unconfirmed: None,
            unanswered_reads: 0,
            status,
            faulted_firmware: None,
            ineligible: None,
        }
    }

    #[test]
    fn what_a_restart_needs_reads_back_as_it_last_stood() {
        let dir = std::env::temp_dir().join(alloc::format!("gbcs-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("resume.sqlite");
        let _ = std::fs::remove_file(&path);
        let mut store = SqliteLedger::open(&path).expect("open");
        let (a, b) = (EntityId::from_u64(1), EntityId::from_u64(u64::MAX));
        let at = UnixTime::from_secs(1_764_547_200);
        let sent = |device, kind, counter| Record::Sent {
            device,
            kind,
            counter,
            at,
            deadline: at.plus_millis(30_000),
        };
        store
            .append_records(&[
                Record::CounterBlock {
                    party: CounterParty::Tcos,
                    below: 65,
                },
                Record::CounterBlock {
                    party: CounterParty::Acb,
                    below: 33,
                },
                Record::Device {
                    device: a,
                    progress: progress(0, MigrationStatus::NotStarted),
                },
                sent(a, CommandKind::Migration, 1),
                sent(b, CommandKind::Read, 1),
            ])
            .expect("first batch");
        store
            .append_records(&[
                // A lower block (another engine's, older) never lowers the bound.
                Record::CounterBlock {
                    party: CounterParty::Tcos,
                    below: 10,
                },
                Record::Resolved {
                    device: a,
                    kind: CommandKind::Migration,
                    counter: 1,
                    at,
                    how: crate::cos::engine::Resolution::Replied,
                },
                Record::Device {
                    device: a,
                    progress: progress(1, MigrationStatus::Migrated),
                },
                Record::Incident {
                    at,
                    incident: Incident::FailureRatio {
                        failures: 9,
                        window: 10,
                    },
                },
            ])
            .expect("second batch");
        drop(store);
        let r = SqliteLedger::open(&path)
            .expect("reopen")
            .resumption()
            .expect("load");
        assert_eq!(r.progress, [(a, progress(1, MigrationStatus::Migrated))]);
        assert_eq!(
            r.unresolved,
            [Unresolved {
                device: b,
                kind: CommandKind::Read,
                counter: 1,
                at
            }]
        );
        assert_eq!(r.counters, StartingCounters { tcos: 65, acb: 33 });
        assert_eq!(
            r.stopped.as_deref(),
            Some("9 failures in the last 10 outcomes")
        );
    }

    #[test]
    fn a_progress_row_that_does_not_read_is_refused_by_its_row() {
        let dir = std::env::temp_dir().join(alloc::format!("gbcs-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("bad.sqlite");
        let _ = std::fs::remove_file(&path);
        drop(SqliteLedger::open(&path).expect("open"));
        let raw = Connection::open(&path).expect("raw");
        raw.execute(
            "INSERT INTO devices (device, progress) VALUES (7, '{\"attempts\": -1}')",
            [],
        )
        .expect("insert");
        drop(raw);
        match SqliteLedger::open(&path).expect("open").resumption() {
            Err(StoreError::BadRow { message, .. }) => {
                assert!(
                    message.contains("progress of device 0000000000000007"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
