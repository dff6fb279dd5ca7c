//! Migration state in a store — an SQLite file (`sqlite:PATH`, [`SqliteLedger`]) or, with the
//! `postgres` feature, a PostgreSQL database ([`pg::PgStore`]), both behind
//! [`MigrationStore`] — with the ledger's history one row per [`LedgerEntry`] in the order the
//! engine made them, so the ledger as at any instant — and every report — is rebuilt by
//! replaying them ([`Ledger::apply`]).
//!
//! - **Durable as it goes**: the file is in WAL mode with `synchronous=FULL` (WAL's `NORMAL`
//!   can lose the last commits on power loss); [`SqliteLedger::append`] writes its entries in
//!   one transaction, so a kill at any instant leaves every committed batch and none of a
//!   batch half-written.
//! - **Versioned**: the schema version is kept in the file; a file written by a newer version
//!   is refused, never read as if it were ours.
//! - **Refused, not guessed**: a row that does not read as a ledger entry is an error naming
//!   its row.
//!
//! Through [`RecordSink`](crate::driver::RecordSink) (with `tokio`) the driver writes the
//! engine's records here before it acts on them: the ledger's entries, and beside them
//! (schema 2, `events`) every command sent and settled, and the run's incidents, listings
//! and pauses, from which [`SqliteLedger::activity`] aggregates what the run did over time.
//! Beside them (schema 3) it keeps what a restart needs: each device's progress, the commands
//! sent and not settled, the counter blocks reserved and the stopping incident
//! ([`SqliteLedger::resumption`], for [`Engine::restart`](crate::cos::engine::Engine::restart)).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use gbcs::cos::ledger::LedgerEntry;
//! use gbcs::cos::SecPartyId;
//! use gbcs::store::SqliteLedger;
//!
//! let dir = std::env::temp_dir().join(format!("gbcs-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("state.sqlite");
//! # let _ = std::fs::remove_file(&path);
//! let mut store = SqliteLedger::open(&path)?;
//! let supplier = SecPartyId::new("SUPA01")?;
//! let device = gbcs::frame::EntityId::from_u64(0x00DB_1234_5678_0001);
//! store.append(&[LedgerEntry::Supplier { device, at: 1_796_860_800, supplier }])?;
//! drop(store);
//! let ledger = SqliteLedger::open(&path)?.ledger()?;
//! assert!(ledger.device(device).is_some());
//! # Ok(()) }
//! ```

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::cos::engine::{Activity, Buckets, Record};
use crate::cos::ledger::{Ledger, LedgerEntry};
use crate::frame::EntityId;

mod events;
#[cfg(feature = "postgres")]
pub mod pg;
mod progress;
mod state;
mod window;
#[cfg(feature = "sim")]
pub mod world;

pub use progress::Resumption;
pub use state::{open_existing_url, open_url, MigrationStore};

/// The schema version this build writes and reads: 1 kept the ledger's entries; 2 adds the
/// engine's events; 3 what a run resumes from (devices' progress, commands in flight, counter
/// blocks, the stopping incident); 4 which ledger entries are about which device, so a run
/// reads some devices back without the fleet. An older store is brought to 4 when opened.
pub const SCHEMA_VERSION: i64 = 4;

/// Why the store could not be used.
#[derive(Debug)]
pub enum StoreError {
    /// SQLite refused (the file is not a database, is locked, the disk is full, …).
    Sqlite(rusqlite::Error),
    /// The file was written by a newer version of the schema.
    NewerSchema {
        /// The version in the file.
        found: i64,
        /// The newest this build reads.
        supported: i64,
    },
    /// A row that does not read back (a ledger entry, an event, a device's progress).
    BadRow {
        /// Its sequence number.
        seq: i64,
        /// Why.
        message: String,
    },
    /// A URL that is not `sqlite:PATH` (or, with the `postgres` feature, `postgres://…`).
    Url(String),
    /// No store at the path given.
    Missing(String),
    /// PostgreSQL refused, or its server went away.
    Postgres(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(e) => write!(f, "sqlite: {e}"),
            Self::NewerSchema { found, supported } => write!(
                f,
                "the store was written by a newer version (schema {found}; this build reads up to {supported})"
            ),
            Self::BadRow { seq, message } => write!(f, "row {seq}: {message}"),
            Self::Missing(p) => write!(f, "{p}: no such store"),
            Self::Postgres(e) => write!(f, "postgres: {e}"),
            Self::Url(u) => write!(
                f,
                "{u}: not a store this build opens (give sqlite:PATH or postgres://…)"
            ),
        }
    }
}

impl core::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// The path of a `sqlite:PATH` store URL.
///
/// # Errors
/// [`StoreError::Url`] for anything else (a `postgres://` URL among them).
pub fn sqlite_path(url: &str) -> Result<&str, StoreError> {
    match url.strip_prefix("sqlite:") {
        Some(p) if !p.is_empty() => Ok(p.strip_prefix("//").unwrap_or(p)),
        _ => Err(StoreError::Url(url.to_owned())),
    }
}

/// What made the run a store holds: each kind marks the store with two numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// `gbcs migrate --simulate N --seed S`: the meters (N) and the seed (S).
    Simulated,
    /// `gbcs migrate --inventory FILE`: the devices and the inventory's fingerprint (the
    /// first 8 bytes of the SHA-256 of its records, as the run read them).
    Inventory,
}

impl RunKind {
    /// The meta keys' prefix.
    const fn prefix(self) -> &'static str {
        match self {
            Self::Simulated => "simulated",
            Self::Inventory => "inventory",
        }
    }

    /// The meta keys of its two numbers and of its end.
    fn keys(self) -> [String; 3] {
        let p = self.prefix();
        let (a, b) = match self {
            Self::Simulated => ("meters", "seed"),
            Self::Inventory => ("devices", "fingerprint"),
        };
        [
            alloc::format!("{p}_{a}"),
            alloc::format!("{p}_{b}"),
            alloc::format!("{p}_complete"),
        ]
    }
}

/// The run a store holds, as [`RunKind`] marks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunMark {
    /// Its meters (N), or an inventory's devices.
    pub meters: u64,
    /// Its seed (S), or an inventory's fingerprint.
    pub seed: u64,
    /// Whether it finished.
    pub complete: bool,
}

/// The ledger's history in an SQLite file.
#[derive(Debug)]
pub struct SqliteLedger {
    conn: Connection,
    pending: Vec<LedgerEntry>,
    pending_events: Vec<events::Row>,
    pending_progress: Vec<Record>,
}

impl SqliteLedger {
    /// Opens (or creates) the store at `path`, applying the schema.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when SQLite cannot open or set it up;
    /// [`StoreError::NewerSchema`] for a file of a newer version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(core::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite(rusqlite::Error::InvalidQuery));
        }
        conn.execute_batch(
            "PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS ledger_entries (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 entry TEXT NOT NULL
             );",
        )?;
        conn.execute_batch(events::SCHEMA)?;
        conn.execute_batch(progress::SCHEMA)?;
        conn.execute_batch(window::SCHEMA)?;
        let found: Option<i64> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StoreError::NewerSchema {
                    found: v,
                    supported: SCHEMA_VERSION,
                })
            }
            Some(SCHEMA_VERSION) => {}
            Some(_) => {
                window::backfill(&mut conn)?;
                conn.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                    params![SCHEMA_VERSION],
                )?;
            }
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION],
                )?;
            }
        }
        Ok(Self {
            conn,
            pending: Vec::new(),
            pending_events: Vec::new(),
            pending_progress: Vec::new(),
        })
    }

    /// Opens the store at `path`, which must exist: for commands that only read a run's
    /// state, so a mistyped path is an error rather than a new, empty store.
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no file; as [`Self::open`] otherwise.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        Self::open(path)
    }

    /// Opens the store a `sqlite:PATH` URL names.
    ///
    /// # Errors
    /// As [`sqlite_path`] and [`Self::open`].
    pub fn open_url(url: &str) -> Result<Self, StoreError> {
        Self::open(sqlite_path(url)?)
    }

    /// Appends `entries` in one transaction: all of them are durable when this returns, or
    /// none.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; nothing is written then.
    pub fn append(&mut self, entries: &[LedgerEntry]) -> Result<(), StoreError> {
        self.append_with(entries, &[], [])
    }

    /// Appends `records` in one transaction: ledger entries to the ledger, commands,
    /// incidents, listings and pauses to the events, and what a restart needs (devices'
    /// progress, commands in flight, counter blocks, the stopping incident) beside them.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; nothing is written then.
    pub fn append_records<'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a Record>,
    ) -> Result<(), StoreError> {
        let mut entries = Vec::new();
        let mut rows = Vec::new();
        let mut kept = Vec::new();
        for r in records {
            match r {
                Record::Ledger(e) => entries.push(e.clone()),
                other => {
                    rows.extend(events::Row::of(other));
                    kept.push(other);
                }
            }
        }
        self.append_with(&entries, &rows, kept)
    }

    fn append_with<'a>(
        &mut self,
        entries: &[LedgerEntry],
        rows: &[events::Row],
        kept: impl IntoIterator<Item = &'a Record>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        events::insert(&tx, rows)?;
        progress::write(&tx, kept)?;
        {
            let mut insert = tx.prepare_cached("INSERT INTO ledger_entries (entry) VALUES (?1)")?;
            for e in entries {
                insert.execute(params![entry_text(e)?])?;
                window::index(&tx, tx.last_insert_rowid(), e)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many entries the store holds.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM ledger_entries", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether the store holds no entry.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// The run of `kind` this store holds, if one made it: its two numbers, and whether it
    /// finished.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn run_mark(&self, kind: RunKind) -> Result<Option<RunMark>, StoreError> {
        let get = |key: &str| -> Result<Option<i64>, StoreError> {
            Ok(self
                .conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        let [a, b, done] = kind.keys();
        let (Some(meters), Some(seed)) = (get(&a)?, get(&b)?) else {
            return Ok(None);
        };
        Ok(Some(RunMark {
            meters: u64::from_be_bytes(meters.to_be_bytes()),
            seed: u64::from_be_bytes(seed.to_be_bytes()),
            complete: get(&done)?.is_some_and(|v| v != 0),
        }))
    }

    /// Records that this store holds the run of `kind` with `meters` and `seed` (not yet
    /// finished).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn set_run_mark(
        &mut self,
        kind: RunKind,
        meters: u64,
        seed: u64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let [a, b, done] = kind.keys();
        for (key, value) in [
            (a, i64::from_be_bytes(meters.to_be_bytes())),
            (b, i64::from_be_bytes(seed.to_be_bytes())),
            (done, 0),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that the run of `kind` finished.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn set_run_complete(&mut self, kind: RunKind) -> Result<(), StoreError> {
        let [_, _, done] = kind.keys();
        self.conn
            .execute("UPDATE meta SET value = 1 WHERE key = ?1", [done])?;
        Ok(())
    }

    /// What the run did over `buckets`, aggregated in the store: commands per bucket, first
    /// commands, commands in flight at each bucket's end, and the timeline's marks.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; [`StoreError::BadRow`] for an event of a kind this build does
    /// not know.
    pub fn activity(&self, buckets: Buckets) -> Result<Activity, StoreError> {
        events::activity(&self.conn, buckets)
    }

    /// The first and last instants (Unix seconds) of the engine's events, if any.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn events_span(&self) -> Result<Option<(i64, i64)>, StoreError> {
        events::span(&self.conn)
    }

    /// What a run resumes from: each device's progress, the commands sent and never
    /// settled, the counters reserved, the stopping incident.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; [`StoreError::BadRow`] for a row that does not read back.
    pub fn resumption(&self) -> Result<Resumption, StoreError> {
        progress::load(&self.conn)
    }

    /// The ledger of `devices` only (their entries, replayed in order; no report numbers or
    /// periods): what a window of a run larger than memory starts from.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; [`StoreError::BadRow`] naming an entry that does not read.
    pub fn ledger_of(&self, devices: &[EntityId]) -> Result<Ledger, StoreError> {
        window::ledger_of(&self.conn, devices)
    }

    /// What `devices` resume from: their progress and their commands never settled, with the
    /// run's counters and stopping incident.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; [`StoreError::BadRow`] for a row that does not read back.
    pub fn resumption_of(&self, devices: &[EntityId]) -> Result<Resumption, StoreError> {
        window::resumption_of(&self.conn, devices, progress::load_run(&self.conn)?)
    }

    /// How many devices of the run's order are done with (see [`Self::set_done_below`]).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn done_below(&self) -> Result<u64, StoreError> {
        window::done_below(&self.conn)
    }

    /// Marks devices `0..n` of the run's order done with: a resumed run starts its windows
    /// there. The mark only goes up.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn set_done_below(&mut self, n: u64) -> Result<(), StoreError> {
        window::set_done_below(&self.conn, n)
    }

    /// The ledger the entries build, replayed in order.
    ///
    /// # Errors
    /// [`StoreError::BadRow`] naming the first row that is not a ledger entry.
    pub fn ledger(&self) -> Result<Ledger, StoreError> {
        let mut ledger = Ledger::new();
        let mut stmt = self
            .conn
            .prepare("SELECT seq, entry FROM ledger_entries ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let text: String = row.get(1)?;
            ledger.apply(&entry_row(row.get(0)?, &text)?);
        }
        Ok(ledger)
    }
}

/// A ledger entry's row, read back.
pub(crate) fn entry_row(seq: i64, text: &str) -> Result<LedgerEntry, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::BadRow {
        seq,
        message: alloc::format!("a ledger entry that does not read: {e}"),
    })
}

/// A ledger entry as its row holds it.
pub(crate) fn entry_text(e: &LedgerEntry) -> Result<String, StoreError> {
    serde_json::to_string(e).map_err(|err| StoreError::BadRow {
        seq: 0,
        message: err.to_string(),
    })
}

#[cfg(feature = "tokio")]
impl crate::driver::RecordSink for SqliteLedger {
    /// Takes every record: the ledger's, the events, and what a restart needs.
    fn append(&mut self, _lsn: u64, record: &Record) -> Result<(), String> {
        match record {
            Record::Ledger(e) => self.pending.push(e.clone()),
            other => {
                self.pending_events.extend(events::Row::of(other));
                if progress::kept(other) {
                    self.pending_progress.push(other.clone());
                }
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), String> {
        if self.pending.is_empty()
            && self.pending_events.is_empty()
            && self.pending_progress.is_empty()
        {
            return Ok(());
        }
        let batch = core::mem::take(&mut self.pending);
        let rows = core::mem::take(&mut self.pending_events);
        let kept = core::mem::take(&mut self.pending_progress);
        self.append_with(&batch, &rows, &kept)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests;
