//! A meter world kept in an SQLite file: the simulated meters' memory (cells, anti-replay
//! counters, clock, a future-dated command held) and a log of every command delivered to
//! them, so the meters outlive every process that runs them — the outside world a crash
//! test checks the engine's store against.
//!
//! Each delivery is one transaction: the meter's memory is read, the command processed, the
//! new memory and the log row written, committed — and only then is the reply handed back.
//! A meter that executed a command remembers it, whatever happens to the process after.
//!
//! | table        | holds                                                               |
//! |--------------|---------------------------------------------------------------------|
//! | `meters`     | device, memory (JSON; absent: as the fleet's seed made it)         |
//! | `deliveries` | seq, at (s), device, originator, counter, message code, outcome,    |
//! |              | the role-5 cell's entity before and after, the delivering process   |

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};

use super::StoreError;
use crate::frame::EntityId;
use crate::payload::{
    CellUsage, KeyId, KeyUsage, RemotePartyRole, SeqNumberUsage, TrustAnchorCellIdentifier,
};
use crate::sim::device::{Cell, MeterMemory, Reply};
use crate::sim::network::Meters;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS meters (
         device INTEGER PRIMARY KEY,
         memory TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS deliveries (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         at INTEGER NOT NULL,
         device INTEGER NOT NULL,
         originator INTEGER,
         counter INTEGER,
         code INTEGER,
         outcome TEXT NOT NULL,
         role5_before INTEGER,
         role5_after INTEGER,
         via INTEGER
     );";

/// One command as a meter took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The order it was delivered in.
    pub seq: i64,
    /// When (the meter's clock, Unix seconds).
    pub at: i64,
    /// The meter.
    pub device: EntityId,
    /// Who sent it, when it parsed.
    pub originator: Option<EntityId>,
    /// Its originator counter, when it parsed.
    pub counter: Option<u64>,
    /// Its message code, when it parsed.
    pub code: Option<u16>,
    /// `response` (processed and answered), `silent`, or `rejected: WHY`.
    pub outcome: String,
    /// The entity in the role-5 DS cell before and after.
    pub role5: (Option<EntityId>, Option<EntityId>),
    /// The process that delivered it (one per engine and its transport).
    pub via: u32,
}

impl Delivered {
    /// Whether the meter refused it as a replay (its counter not above the one held).
    #[must_use]
    pub fn is_replay(&self) -> bool {
        self.outcome.starts_with("rejected: Replay")
    }
}

/// What a delivery gave back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The meter's reply, if it answered.
    pub reply: Option<Vec<u8>>,
    /// Alerts of future-dated commands whose time came.
    pub alerts: Vec<Vec<u8>>,
}

/// The meter world in an SQLite file.
#[derive(Debug)]
pub struct MeterWorld {
    conn: Connection,
}

use super::events::device_bits as bits;

fn bad(seq: i64, what: &str) -> StoreError {
    StoreError::BadRow {
        seq,
        message: alloc::format!("meter memory: {what}"),
    }
}

fn encode(m: &MeterMemory) -> String {
    let cells: Vec<Value> = m
        .cells
        .iter()
        .map(|(id, c)| {
            json!([
                id.role.0,
                id.key_usage.0,
                id.cell_usage.0,
                crate::hex::encode_upper(&c.entity_id.0),
                crate::hex::encode_upper(&c.key_id.0),
                c.public_key
                    .as_ref()
                    .map(|k| crate::hex::encode_upper(&k.to_uncompressed())),
            ])
        })
        .collect();
    let counters: Vec<Value> = m.counters.iter().map(|(r, n)| json!([r.0, n])).collect();
    let specialist: Vec<Value> = m
        .specialist
        .iter()
        .map(|((r, u), n)| json!([r.0, u.0, n]))
        .collect();
    json!({
        "cells": cells,
        "counters": counters,
        "specialist": specialist,
        "clock": m.clock,
        "pending": m.pending.as_ref().map(|(b, at, rx)| json!([crate::hex::encode_upper(b), at, rx])),
        "alert_counter": m.alert_counter,
    })
    .to_string()
}

fn decode(seq: i64, text: &str) -> Result<MeterMemory, StoreError> {
    let v: Value = serde_json::from_str(text).map_err(|e| bad(seq, &e.to_string()))?;
    let int = |v: &Value, what: &str| v.as_i64().ok_or_else(|| bad(seq, what));
    let uint = |v: &Value, what: &str| v.as_u64().ok_or_else(|| bad(seq, what));
    let hex_of = |v: &Value, what: &str| {
        v.as_str()
            .and_then(|s| crate::hex::decode(s).ok())
            .ok_or_else(|| bad(seq, what))
    };
    let small = |v: &Value, what: &str| -> Result<u16, StoreError> {
        uint(v, what).and_then(|n| u16::try_from(n).map_err(|_| bad(seq, what)))
    };
    let byte = |v: &Value, what: &str| -> Result<u8, StoreError> {
        uint(v, what).and_then(|n| u8::try_from(n).map_err(|_| bad(seq, what)))
    };
    let list = |key: &str| -> Result<&Vec<Value>, StoreError> {
        v.get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| bad(seq, key))
    };
    let mut cells = Vec::new();
    for c in list("cells")? {
        let f = |i: usize| c.get(i).unwrap_or(&Value::Null);
        let entity: [u8; 8] = hex_of(f(3), "a cell's entity")?
            .try_into()
            .map_err(|_| bad(seq, "a cell's entity"))?;
        let key_id: [u8; 8] = hex_of(f(4), "a cell's key id")?
            .try_into()
            .map_err(|_| bad(seq, "a cell's key id"))?;
        let public_key = match f(5) {
            Value::Null => None,
            k => Some(
                crate::crypto::PublicKey::from_sec1_bytes(&hex_of(k, "a cell's key")?)
                    .map_err(|_| bad(seq, "a cell's key"))?,
            ),
        };
        cells.push((
            TrustAnchorCellIdentifier {
                role: RemotePartyRole(byte(f(0), "a cell's role")?),
                key_usage: KeyUsage(small(f(1), "a cell's key usage")?),
                cell_usage: CellUsage(byte(f(2), "a cell's usage")?),
            },
            Cell {
                entity_id: EntityId(entity),
                key_id: KeyId(key_id),
                public_key,
            },
        ));
    }
    let mut counters = Vec::new();
    for c in list("counters")? {
        let f = |i: usize| c.get(i).unwrap_or(&Value::Null);
        counters.push((
            RemotePartyRole(byte(f(0), "a counter's role")?),
            uint(f(1), "a counter")?,
        ));
    }
    let mut specialist = Vec::new();
    for c in list("specialist")? {
        let f = |i: usize| c.get(i).unwrap_or(&Value::Null);
        specialist.push((
            (
                RemotePartyRole(byte(f(0), "a specialist role")?),
                SeqNumberUsage(byte(f(1), "a specialist usage")?),
            ),
            uint(f(2), "a specialist counter")?,
        ));
    }
    let pending = match v.get("pending") {
        None | Some(Value::Null) => None,
        Some(p) => {
            let f = |i: usize| p.get(i).unwrap_or(&Value::Null);
            Some((
                hex_of(f(0), "the pending command")?,
                int(f(1), "the pending time")?,
                int(f(2), "the pending receipt")?,
            ))
        }
    };
    Ok(MeterMemory {
        cells,
        counters,
        specialist,
        clock: int(v.get("clock").unwrap_or(&Value::Null), "the clock")?,
        pending,
        alert_counter: uint(
            v.get("alert_counter").unwrap_or(&Value::Null),
            "the alert counter",
        )?,
    })
}

fn role5(m: &MeterMemory) -> Option<EntityId> {
    m.cells
        .iter()
        .find(|(id, _)| *id == TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
        .map(|(_, c)| c.entity_id)
}

impl MeterWorld {
    /// Opens (or creates) the world at `path`.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(core::time::Duration::from_secs(30))?;
        let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        // A process killed loses nothing committed in WAL mode at NORMAL; only a power loss
        // could, and this is a test world.
        conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// Delivers `command` to the meter `device` of `meters` at `now` (Unix seconds): its
    /// memory is put back from the world, the command processed, and the new memory and the
    /// log row committed before the reply is returned. A device the fleet does not have
    /// answers nothing (logged).
    ///
    /// # Errors
    /// [`StoreError`] when the world cannot be read or written: nothing is answered then.
    pub fn deliver(
        &mut self,
        meters: &Meters,
        device: EntityId,
        command: &[u8],
        now: i64,
    ) -> Result<Delivery, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<(i64, String)> = tx
            .query_row(
                "SELECT rowid, memory FROM meters WHERE device = ?1",
                [bits(device)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let memory = stored.map(|(seq, text)| decode(seq, &text)).transpose()?;
        let (header, outcome, before, after, delivery, new_memory) = {
            let header = crate::parse(command).ok().map(|m| {
                let h = m.header();
                (h.originator, h.originator_counter, h.message_code().0)
            });
            let ran = meters.with_device(device, |d| {
                if let Some(m) = memory {
                    d.set_memory(m);
                }
                let before = role5(&d.memory());
                let alerts = d.advance_to(now);
                let reply = d.process(command);
                let after = d.memory();
                (before, alerts, reply, after)
            });
            match ran {
                Some((before, alerts, reply, after)) => {
                    let (outcome, reply) = match reply {
                        Reply::Response(r) => (String::from("response"), Some(r)),
                        Reply::Silent => (String::from("silent"), None),
                        Reply::Rejected(why) => (alloc::format!("rejected: {why:?}"), None),
                    };
                    let role5_after = role5(&after);
                    (
                        header,
                        outcome,
                        before,
                        role5_after,
                        Delivery { reply, alerts },
                        Some(after),
                    )
                }
                None => (
                    header,
                    String::from("rejected: no such meter"),
                    None,
                    None,
                    Delivery::default(),
                    None,
                ),
            }
        };
        if let Some(m) = &new_memory {
            tx.execute(
                "INSERT INTO meters (device, memory) VALUES (?1, ?2)
                 ON CONFLICT (device) DO UPDATE SET memory = excluded.memory",
                params![bits(device), encode(m)],
            )?;
        }
        tx.execute(
            "INSERT INTO deliveries (at, device, originator, counter, code, outcome, role5_before, role5_after, via)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                now,
                bits(device),
                header.map(|h| bits(h.0)),
                header.and_then(|h| i64::try_from(h.1).ok()),
                header.map(|h| h.2),
                outcome,
                before.map(bits),
                after.map(bits),
                std::process::id(),
            ],
        )?;
        tx.commit()?;
        Ok(delivery)
    }

    /// What the meter `device` remembers, if the world has taken a command for it.
    ///
    /// # Errors
    /// [`StoreError`] when it cannot be read.
    pub fn memory(&self, device: EntityId) -> Result<Option<MeterMemory>, StoreError> {
        let stored: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT rowid, memory FROM meters WHERE device = ?1",
                [bits(device)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        stored.map(|(seq, text)| decode(seq, &text)).transpose()
    }

    /// Every command delivered, in order.
    ///
    /// # Errors
    /// [`StoreError`] when the log cannot be read.
    pub fn deliveries(&self) -> Result<Vec<Delivered>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, device, originator, counter, code, outcome, role5_before, role5_after, via
             FROM deliveries ORDER BY seq",
        )?;
        let id = |v: Option<i64>| v.map(|v| EntityId(v.to_be_bytes()));
        let rows = stmt.query_map([], |r| {
            let counter: Option<i64> = r.get(4)?;
            Ok(Delivered {
                seq: r.get(0)?,
                at: r.get(1)?,
                device: EntityId(r.get::<_, i64>(2)?.to_be_bytes()),
                originator: id(r.get(3)?),
                counter: counter.and_then(|c| u64::try_from(c).ok()),
                code: r.get(5)?,
                outcome: r.get(6)?,
                role5: (id(r.get(7)?), id(r.get(8)?)),
                via: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::sim::fleet::{FleetMix, SimulatedMigration};

    #[test]
    fn a_meter_s_memory_survives_the_process_through_the_world() {
        let sim = SimulatedMigration::new(b"world", 1, 3, &FleetMix::default(), 1_764_547_200)
            .expect("fleet");
        let device = sim.fleet.records.first().expect("one").entity_id;
        let memory = sim
            .fleet
            .meters
            .with_device(device, |d| d.memory())
            .expect("meter");
        let text = encode(&memory);
        assert_eq!(decode(1, &text).expect("decodes"), memory);
        for broken in ["{}", "[]", "{\"cells\":[[5]]}", "not json"] {
            assert!(matches!(
                decode(9, broken),
                Err(StoreError::BadRow { seq: 9, .. })
            ));
        }
        let dir = std::env::temp_dir().join(alloc::format!("gbcs-world-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("world.sqlite");
        let _ = std::fs::remove_file(&path);
        let mut world = MeterWorld::open(&path).expect("open");
        // Bytes no meter accepts: refused, logged, the memory kept.
        let d = world
            .deliver(&sim.fleet.meters, device, &[0xDF, 0x09], 1_764_547_300)
            .expect("delivered");
        assert_eq!(d.reply, None);
        let log = world.deliveries().expect("log");
        assert_eq!(log.len(), 1);
        assert!(log
            .first()
            .is_some_and(|l| l.outcome.starts_with("rejected: Malformed")));
        let kept = world.memory(device).expect("read").expect("kept");
        assert_eq!(kept.clock, 1_764_547_300);
    }
}
