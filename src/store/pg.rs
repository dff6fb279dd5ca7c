//! Migration state in PostgreSQL (`postgres://…`): the same tables and rules as the SQLite
//! store — the ledger's entries, the engine's events, what a restart needs — in a database
//! several processes can reach.
//!
//! - **One transaction per batch**, its rows sent as arrays (`UNNEST`), so a group of
//!   thousands of records is a handful of round trips; committed before the engine acts on
//!   it (the driver's write-ahead), and all or nothing.
//! - **Versioned** like the SQLite store: the schema version is kept in `meta`; a database
//!   written by a newer version is refused.
//! - **A server that goes away** fails the next call with [`StoreError::Postgres`]: the run
//!   stops there, and every batch committed before stays.
//!
//! The client is the synchronous `postgres` crate on a thread of its own (it runs a Tokio
//! runtime inside, which must not be entered from the driver's): each call is handed to that
//! thread and waited for.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::sync::mpsc;

use postgres::{Client, NoTls};

mod activity;
mod leases;
mod window;

use super::events::Row;
use super::progress::{self, Op};
use super::{entry_row, entry_text, Resumption, RunKind, RunMark, StoreError, SCHEMA_VERSION};
use crate::cos::engine::{Record, StartingCounters};
use crate::cos::ledger::{Ledger, LedgerEntry};
use crate::frame::EntityId;

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
     CREATE TABLE IF NOT EXISTS ledger_entries (seq BIGSERIAL PRIMARY KEY, entry TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS events (
         seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, kind TEXT NOT NULL,
         device BIGINT, counter BIGINT, command TEXT, detail TEXT);
     CREATE INDEX IF NOT EXISTS events_kind_at ON events (kind, at);
     CREATE TABLE IF NOT EXISTS first_commands (device BIGINT PRIMARY KEY, at BIGINT NOT NULL);
     CREATE TABLE IF NOT EXISTS devices (device BIGINT PRIMARY KEY, progress TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS in_flight (
         device BIGINT NOT NULL, command TEXT NOT NULL, counter BIGINT NOT NULL, at BIGINT NOT NULL,
         PRIMARY KEY (device, command, counter));
     CREATE TABLE IF NOT EXISTS run_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// The meta key of the devices done with (as SQLite's).
const DONE_BELOW: &str = "devices_done_below";

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// The error in words: the server's message when it sent one, else the client's with its
/// cause (a closed connection, a refused socket).
fn pg(e: &postgres::Error) -> StoreError {
    use core::error::Error as _;
    let text = match (e.as_db_error(), e.source()) {
        (Some(db), _) => {
            alloc::format!("{} ({}): {}", db.message(), db.code().code(), db.severity())
        }
        (None, Some(cause)) => alloc::format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    };
    StoreError::Postgres(text)
}

/// Migration state in a PostgreSQL database.
pub struct PgStore {
    jobs: mpsc::Sender<Job>,
    fence: Option<leases::Fence>,
    pending: Vec<LedgerEntry>,
    pending_rows: Vec<Row>,
    pending_records: Vec<Record>,
}

impl core::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PgStore")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (a Unix socket directory as `?host=/dir`) and applies the schema.
    ///
    /// # Errors
    /// [`StoreError::Postgres`] when it cannot connect or set up;
    /// [`StoreError::NewerSchema`] for a database of a newer version.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::channel();
        let url = url.to_string();
        std::thread::Builder::new()
            .name("gbcs-postgres".into())
            .spawn(move || {
                let mut client = match Client::connect(&url, NoTls) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready_tx.send(Err(pg(&e)));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                while let Ok(job) = inbox.recv() {
                    job(&mut client);
                }
            })
            .map_err(|e| StoreError::Postgres(e.to_string()))?;
        ready
            .recv()
            .map_err(|_| StoreError::Postgres("the connection's thread ended".into()))??;
        let store = Self {
            jobs,
            fence: None,
            pending: Vec::new(),
            pending_rows: Vec::new(),
            pending_records: Vec::new(),
        };
        store.call(|c| {
            let mut tx = c.transaction().map_err(|e| pg(&e))?;
            // One process sets the schema up at a time.
            tx.execute("SELECT pg_advisory_xact_lock(7020626)", &[])
                .map_err(|e| pg(&e))?;
            tx.batch_execute(SCHEMA).map_err(|e| pg(&e))?;
            tx.batch_execute(leases::SCHEMA).map_err(|e| pg(&e))?;
            tx.batch_execute(window::SCHEMA).map_err(|e| pg(&e))?;
            let found: Option<i64> = tx
                .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
                .map_err(|e| pg(&e))?
                .map(|r| r.get(0));
            match found {
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(StoreError::NewerSchema {
                        found: v,
                        supported: SCHEMA_VERSION,
                    })
                }
                found => {
                    if found.is_some_and(|v| v < SCHEMA_VERSION) {
                        window::backfill(&mut tx)?;
                    }
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        &[&SCHEMA_VERSION],
                    )
                    .map_err(|e| pg(&e))?;
                }
            }
            tx.commit().map_err(|e| pg(&e))
        })?;
        Ok(store)
    }

    /// Runs `f` on the connection's thread and waits for it.
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| StoreError::Postgres("the connection's thread ended".into()))?;
        rx.recv()
            .map_err(|_| StoreError::Postgres("the connection's thread ended".into()))?
    }

    fn write(
        &self,
        entries: Vec<LedgerEntry>,
        rows: Vec<Row>,
        ops: Vec<Op>,
    ) -> Result<(), StoreError> {
        let texts = entries
            .iter()
            .map(entry_text)
            .collect::<Result<Vec<_>, _>>()?;
        let devices: Vec<Option<i64>> = entries.iter().map(window::device_of).collect();
        let fence = self.fence.clone();
        self.call(move |c| {
            let mut tx = c.transaction().map_err(|e| pg(&e))?;
            // An engine holding leases commits only while it still holds them.
            if let Some(f) = &fence {
                leases::renew(&mut tx, f)?;
            }
            if !texts.is_empty() {
                tx.execute(
                    "INSERT INTO ledger_entries (entry, device)
                     SELECT * FROM UNNEST($1::text[], $2::bigint[])",
                    &[&texts, &devices],
                )
                .map_err(|e| pg(&e))?;
            }
            insert_rows(&mut tx, &rows)?;
            apply_ops(&mut tx, ops)?;
            tx.commit().map_err(|e| pg(&e))
        })
    }

    fn meta(&self, key: &str) -> Result<Option<i64>, StoreError> {
        let key = String::from(key);
        self.call(move |c| {
            Ok(
                c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
                    .map_err(|e| pg(&e))?
                    .map(|r| r.get(0)),
            )
        })
    }
}

/// The events' rows, and each device's first migration command, in `tx`.
fn insert_rows(tx: &mut postgres::Transaction<'_>, rows: &[Row]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let at: Vec<i64> = rows.iter().map(|r| r.at).collect();
    let kind: Vec<&str> = rows.iter().map(|r| r.kind).collect();
    let device: Vec<Option<i64>> = rows.iter().map(|r| r.device).collect();
    let counter: Vec<Option<i64>> = rows.iter().map(|r| r.counter).collect();
    let command: Vec<Option<&str>> = rows.iter().map(|r| r.command).collect();
    let detail: Vec<Option<&str>> = rows.iter().map(|r| r.detail.as_deref()).collect();
    tx.execute(
        "INSERT INTO events (at, kind, device, counter, command, detail)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[])",
        &[&at, &kind, &device, &counter, &command, &detail],
    )
    .map_err(|e| pg(&e))?;
    let mut first: BTreeMap<i64, i64> = BTreeMap::new();
    for r in rows {
        if let (Some(d), "sent", Some("migration")) = (r.device, r.kind, r.command) {
            let e = first.entry(d).or_insert(r.at);
            *e = (*e).min(r.at);
        }
    }
    if !first.is_empty() {
        let (d, a): (Vec<i64>, Vec<i64>) = first.into_iter().unzip();
        tx.execute(
            "INSERT INTO first_commands (device, at) SELECT * FROM UNNEST($1::bigint[], $2::bigint[])
             ON CONFLICT (device) DO UPDATE SET at = LEAST(first_commands.at, excluded.at)",
            &[&d, &a],
        )
        .map_err(|e| pg(&e))?;
    }
    Ok(())
}

/// What a restart needs, in `tx`: each device's last progress, the commands still in flight
/// at the batch's end, the highest counter blocks, the stopping incident.
fn apply_ops(tx: &mut postgres::Transaction<'_>, ops: Vec<Op>) -> Result<(), StoreError> {
    let mut devices: BTreeMap<i64, String> = BTreeMap::new();
    let mut flights: BTreeMap<(i64, &'static str, i64), Option<i64>> = BTreeMap::new();
    let mut blocks: BTreeMap<&'static str, i64> = BTreeMap::new();
    let mut stopped = None;
    for op in ops {
        match op {
            Op::Device(d, text) => {
                devices.insert(d, text);
            }
            Op::Sent(d, command, counter, at) => {
                flights.insert((d, command, counter), Some(at));
            }
            Op::Settled(d, command, counter) => {
                flights.insert((d, command, counter), None);
            }
            Op::Block(key, below) => {
                let b = blocks.entry(key).or_insert(below);
                *b = (*b).max(below);
            }
            Op::Stopped(text) => stopped = Some(text),
        }
    }
    if !devices.is_empty() {
        let (d, p): (Vec<i64>, Vec<String>) = devices.into_iter().unzip();
        tx.execute(
            "INSERT INTO devices (device, progress) SELECT * FROM UNNEST($1::bigint[], $2::text[])
             ON CONFLICT (device) DO UPDATE SET progress = excluded.progress",
            &[&d, &p],
        )
        .map_err(|e| pg(&e))?;
    }
    let (mut gone, mut sent) = (Vec::new(), Vec::new());
    for (key, at) in flights {
        match at {
            Some(at) => sent.push((key, at)),
            None => gone.push(key),
        }
    }
    if !gone.is_empty() {
        let d: Vec<i64> = gone.iter().map(|k| k.0).collect();
        let c: Vec<&str> = gone.iter().map(|k| k.1).collect();
        let n: Vec<i64> = gone.iter().map(|k| k.2).collect();
        tx.execute(
            "DELETE FROM in_flight f USING UNNEST($1::bigint[], $2::text[], $3::bigint[]) AS g(device, command, counter)
             WHERE f.device = g.device AND f.command = g.command AND f.counter = g.counter",
            &[&d, &c, &n],
        )
        .map_err(|e| pg(&e))?;
    }
    if !sent.is_empty() {
        let d: Vec<i64> = sent.iter().map(|k| k.0 .0).collect();
        let c: Vec<&str> = sent.iter().map(|k| k.0 .1).collect();
        let n: Vec<i64> = sent.iter().map(|k| k.0 .2).collect();
        let a: Vec<i64> = sent.iter().map(|k| k.1).collect();
        tx.execute(
            "INSERT INTO in_flight (device, command, counter, at)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
             ON CONFLICT (device, command, counter) DO UPDATE SET at = excluded.at",
            &[&d, &c, &n, &a],
        )
        .map_err(|e| pg(&e))?;
    }
    for (key, below) in blocks {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value, excluded.value)",
            &[&key, &below],
        )
        .map_err(|e| pg(&e))?;
    }
    if let Some(text) = stopped {
        tx.execute(
            "INSERT INTO run_state (key, value) VALUES ('stopped', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&text],
        )
        .map_err(|e| pg(&e))?;
    }
    Ok(())
}

impl super::MigrationStore for PgStore {
    fn append(&mut self, entries: &[LedgerEntry]) -> Result<(), StoreError> {
        self.write(entries.to_vec(), Vec::new(), Vec::new())
    }

    fn append_records(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let mut entries = Vec::new();
        let mut rows = Vec::new();
        for r in records {
            match r {
                Record::Ledger(e) => entries.push(e.clone()),
                other => rows.extend(Row::of(other)),
            }
        }
        let ops = progress::ops(records)?;
        self.write(entries, rows, ops)
    }

    fn ledger(&self) -> Result<Ledger, StoreError> {
        let rows = self.call(|c| {
            let rows = c
                .query("SELECT seq, entry FROM ledger_entries ORDER BY seq", &[])
                .map_err(|e| pg(&e))?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)))
                .collect::<Vec<_>>())
        })?;
        let mut ledger = Ledger::new();
        for (seq, text) in rows {
            ledger.apply(&entry_row(seq, &text)?);
        }
        Ok(ledger)
    }

    fn ledger_of(&self, devices: &[EntityId]) -> Result<Ledger, StoreError> {
        let devices = devices.to_vec();
        self.call(move |c| window::ledger_of(c, &devices))
    }

    fn resumption_of(&self, devices: &[EntityId]) -> Result<Resumption, StoreError> {
        let mut whole = self.resumption_of_run()?;
        let devices = devices.to_vec();
        whole = self.call(move |c| window::resumption_of(c, &devices, whole))?;
        Ok(whole)
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        self.call(|c| {
            let n: i64 = c
                .query_one("SELECT COUNT(*) FROM ledger_entries", &[])
                .map_err(|e| pg(&e))?
                .get(0);
            Ok(n == 0)
        })
    }

    fn resumption(&self) -> Result<Resumption, StoreError> {
        type Raw = (
            Vec<(i64, String)>,
            Vec<(i64, String, i64, i64)>,
            Option<String>,
        );
        let (devices, flights, stopped): Raw = self.call(|c| {
            let devices = c
                .query("SELECT device, progress FROM devices ORDER BY device", &[])
                .map_err(|e| pg(&e))?
                .into_iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let flights = c
                .query(
                    "SELECT device, command, counter, at FROM in_flight ORDER BY at, device",
                    &[],
                )
                .map_err(|e| pg(&e))?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect();
            let stopped = c
                .query_opt("SELECT value FROM run_state WHERE key = 'stopped'", &[])
                .map_err(|e| pg(&e))?
                .map(|r| r.get(0));
            Ok((devices, flights, stopped))
        })?;
        let [tcos, acb] = progress::COUNTER_KEYS;
        Ok(Resumption {
            progress: devices
                .iter()
                .map(|(d, text)| progress::device_row(*d, *d, text))
                .collect::<Result<_, _>>()?,
            unresolved: flights
                .iter()
                .map(|(d, command, counter, at)| {
                    progress::in_flight_row(*d, *d, command, *counter, *at)
                })
                .collect::<Result<_, _>>()?,
            counters: StartingCounters {
                tcos: progress::below_of(self.meta(tcos)?),
                acb: progress::below_of(self.meta(acb)?),
            },
            stopped,
        })
    }

    fn events_span(&self) -> Result<Option<(i64, i64)>, StoreError> {
        self.call(|c| {
            let r = c
                .query_one("SELECT MIN(at), MAX(at) FROM events", &[])
                .map_err(|e| pg(&e))?;
            let (lo, hi): (Option<i64>, Option<i64>) = (r.get(0), r.get(1));
            Ok(lo
                .zip(hi)
                .map(|(lo, hi)| (lo.div_euclid(1000), hi.div_euclid(1000))))
        })
    }

    fn run_mark(&self, kind: RunKind) -> Result<Option<RunMark>, StoreError> {
        let [a, b, done] = kind.keys();
        let (Some(meters), Some(seed)) = (self.meta(&a)?, self.meta(&b)?) else {
            return Ok(None);
        };
        Ok(Some(RunMark {
            meters: u64::from_be_bytes(meters.to_be_bytes()),
            seed: u64::from_be_bytes(seed.to_be_bytes()),
            complete: self.meta(&done)?.is_some_and(|v| v != 0),
        }))
    }

    fn set_run_mark(&mut self, kind: RunKind, meters: u64, seed: u64) -> Result<(), StoreError> {
        let (meters, seed) = (
            i64::from_be_bytes(meters.to_be_bytes()),
            i64::from_be_bytes(seed.to_be_bytes()),
        );
        let [a, b, done] = kind.keys();
        self.call(move |c| {
            let mut tx = c.transaction().map_err(|e| pg(&e))?;
            for (key, value) in [(a, meters), (b, seed), (done, 0)] {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&key, &value],
                )
                .map_err(|e| pg(&e))?;
            }
            tx.commit().map_err(|e| pg(&e))
        })
    }

    fn activity(
        &self,
        buckets: crate::cos::engine::Buckets,
    ) -> Result<crate::cos::engine::Activity, StoreError> {
        Self::activity(self, buckets)
    }

    fn done_below(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta(DONE_BELOW)?
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0))
    }

    fn set_done_below(&mut self, n: u64) -> Result<(), StoreError> {
        let n = i64::try_from(n).map_err(|_| StoreError::BadRow {
            seq: 0,
            message: alloc::format!("{n} devices done is beyond what the store keeps"),
        })?;
        self.call(move |c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value, excluded.value)",
                &[&DONE_BELOW, &n],
            )
            .map_err(|e| pg(&e))?;
            Ok(())
        })
    }

    fn set_run_complete(&mut self, kind: RunKind) -> Result<(), StoreError> {
        let [_, _, done] = kind.keys();
        self.call(move |c| {
            c.execute("UPDATE meta SET value = 1 WHERE key = $1", &[&done])
                .map_err(|e| pg(&e))?;
            Ok(())
        })
    }

    #[cfg(feature = "tokio")]
    fn as_sink(&mut self) -> &mut dyn crate::driver::RecordSink {
        self
    }
}

#[cfg(feature = "tokio")]
impl crate::driver::RecordSink for PgStore {
    fn append(&mut self, _lsn: u64, record: &Record) -> Result<(), String> {
        match record {
            Record::Ledger(e) => self.pending.push(e.clone()),
            other => {
                self.pending_rows.extend(Row::of(other));
                if progress::kept(other) {
                    self.pending_records.push(other.clone());
                }
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), String> {
        if self.pending.is_empty()
            && self.pending_rows.is_empty()
            && self.pending_records.is_empty()
        {
            return Ok(());
        }
        let entries = core::mem::take(&mut self.pending);
        let rows = core::mem::take(&mut self.pending_rows);
        let records = core::mem::take(&mut self.pending_records);
        let ops = progress::ops(&records).map_err(|e| e.to_string())?;
        let started = leases::now_ms();
        self.write(entries, rows, ops).map_err(|e| e.to_string())?;
        // The commit renewed the leases in its transaction.
        if let Some(f) = self.fence.as_mut() {
            f.renewed_ms = started;
        }
        Ok(())
    }

    fn keepalive(&mut self) -> Result<(), String> {
        self.keep_leases().map_err(|e| e.to_string())
    }
}
