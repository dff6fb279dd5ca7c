//! One trait for every store of migration state, so a command opens `--state URL` and works
//! the same on SQLite (`sqlite:PATH`) and PostgreSQL (`postgres://…`).

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::string::ToString;

use super::{sqlite_path, Resumption, RunKind, RunMark, SqliteLedger, StoreError};
use crate::cos::engine::Record;
use crate::cos::ledger::{Ledger, LedgerEntry};
use crate::frame::EntityId;

/// A store of migration state: the ledger's history, the engine's records (written before
/// the engine acts on them), and what a restart needs.
pub trait MigrationStore: Send {
    /// Appends `entries` in one transaction: all durable when this returns, or none.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    fn append(&mut self, entries: &[LedgerEntry]) -> Result<(), StoreError>;

    /// Appends `records` in one transaction: all durable when this returns, or none.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    fn append_records(&mut self, records: &[Record]) -> Result<(), StoreError>;

    /// The ledger its entries build, replayed in order.
    ///
    /// # Errors
    /// [`StoreError`]; [`StoreError::BadRow`] naming the first entry that does not read.
    fn ledger(&self) -> Result<Ledger, StoreError>;

    /// The ledger of `devices` only: their entries replayed in order (no report numbers or
    /// periods). SQLite reads them through its device index; the default replays the whole
    /// ledger and keeps theirs (what PostgreSQL does: it is the leased engines' store).
    ///
    /// # Errors
    /// As [`Self::ledger`].
    fn ledger_of(&self, devices: &[EntityId]) -> Result<Ledger, StoreError> {
        let wanted: BTreeSet<EntityId> = devices.iter().copied().collect();
        let mut out = Ledger::new();
        for e in self.ledger()?.to_entries() {
            if e.device().is_some_and(|d| wanted.contains(&d)) {
                out.apply(&e);
            }
        }
        Ok(out)
    }

    /// What `devices` resume from: their progress and commands never settled, with the run's
    /// counters and stopping incident. The default filters [`Self::resumption`].
    ///
    /// # Errors
    /// As [`Self::resumption`].
    fn resumption_of(&self, devices: &[EntityId]) -> Result<Resumption, StoreError> {
        let wanted: BTreeSet<EntityId> = devices.iter().copied().collect();
        let mut r = self.resumption()?;
        r.progress.retain(|(d, _)| wanted.contains(d));
        r.unresolved.retain(|u| wanted.contains(&u.device));
        Ok(r)
    }

    /// How many devices of the run's order are done with (0 when none is marked): where a
    /// run taken a window at a time resumes.
    ///
    /// # Errors
    /// [`StoreError`].
    fn done_below(&self) -> Result<u64, StoreError>;

    /// Marks devices `0..n` of the run's order done with (the mark only goes up).
    ///
    /// # Errors
    /// [`StoreError`].
    fn set_done_below(&mut self, n: u64) -> Result<(), StoreError>;

    /// Whether it holds no ledger entry.
    ///
    /// # Errors
    /// [`StoreError`].
    fn is_empty(&self) -> Result<bool, StoreError>;

    /// What a run resumes from.
    ///
    /// # Errors
    /// [`StoreError`].
    fn resumption(&self) -> Result<Resumption, StoreError>;

    /// The first and last instants (Unix seconds) of the engine's events, if any.
    ///
    /// # Errors
    /// [`StoreError`].
    fn events_span(&self) -> Result<Option<(i64, i64)>, StoreError>;

    /// The run of `kind` it holds, if one made it.
    ///
    /// # Errors
    /// [`StoreError`].
    fn run_mark(&self, kind: RunKind) -> Result<Option<RunMark>, StoreError>;

    /// Records that it holds the run of `kind` with `meters` and `seed` (not yet finished).
    ///
    /// # Errors
    /// [`StoreError`].
    fn set_run_mark(&mut self, kind: RunKind, meters: u64, seed: u64) -> Result<(), StoreError>;

    /// Records that the run of `kind` finished.
    ///
    /// # Errors
    /// [`StoreError`].
    fn set_run_complete(&mut self, kind: RunKind) -> Result<(), StoreError>;

    /// What the run did over `buckets`, aggregated in the store (the dashboard's activity).
    ///
    /// # Errors
    /// [`StoreError`].
    fn activity(
        &self,
        buckets: crate::cos::engine::Buckets,
    ) -> Result<crate::cos::engine::Activity, StoreError>;

    /// The store as the driver's sink of records.
    #[cfg(feature = "tokio")]
    fn as_sink(&mut self) -> &mut dyn crate::driver::RecordSink;
}

impl MigrationStore for SqliteLedger {
    fn append(&mut self, entries: &[LedgerEntry]) -> Result<(), StoreError> {
        Self::append(self, entries)
    }
    fn append_records(&mut self, records: &[Record]) -> Result<(), StoreError> {
        Self::append_records(self, records)
    }
    fn ledger(&self) -> Result<Ledger, StoreError> {
        Self::ledger(self)
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        Self::is_empty(self)
    }
    fn ledger_of(&self, devices: &[EntityId]) -> Result<Ledger, StoreError> {
        Self::ledger_of(self, devices)
    }
    fn resumption_of(&self, devices: &[EntityId]) -> Result<Resumption, StoreError> {
        Self::resumption_of(self, devices)
    }
    fn done_below(&self) -> Result<u64, StoreError> {
        Self::done_below(self)
    }
    fn set_done_below(&mut self, n: u64) -> Result<(), StoreError> {
        Self::set_done_below(self, n)
    }
    fn resumption(&self) -> Result<Resumption, StoreError> {
        Self::resumption(self)
    }
    fn events_span(&self) -> Result<Option<(i64, i64)>, StoreError> {
        Self::events_span(self)
    }
    fn run_mark(&self, kind: RunKind) -> Result<Option<RunMark>, StoreError> {
        Self::run_mark(self, kind)
    }
    fn activity(
        &self,
        buckets: crate::cos::engine::Buckets,
    ) -> Result<crate::cos::engine::Activity, StoreError> {
        Self::activity(self, buckets)
    }
    fn set_run_mark(&mut self, kind: RunKind, meters: u64, seed: u64) -> Result<(), StoreError> {
        Self::set_run_mark(self, kind, meters, seed)
    }
    fn set_run_complete(&mut self, kind: RunKind) -> Result<(), StoreError> {
        Self::set_run_complete(self, kind)
    }
    #[cfg(feature = "tokio")]
    fn as_sink(&mut self) -> &mut dyn crate::driver::RecordSink {
        self
    }
}

/// Opens (or creates) the store `url` names: `sqlite:PATH`, or with the `postgres` feature
/// `postgres://…` (`postgresql://…`; a Unix socket directory as `?host=/dir`).
///
/// # Errors
/// [`StoreError::Url`] for any other URL; as the backend's `open` otherwise.
pub fn open_url(url: &str) -> Result<Box<dyn MigrationStore>, StoreError> {
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(super::pg::PgStore::connect(url)?));
    }
    Ok(Box::new(SqliteLedger::open(sqlite_path(url)?)?))
}

/// As [`open_url`], for a store that must exist already (a PostgreSQL database always
/// does; a SQLite file must).
///
/// # Errors
/// [`StoreError::Missing`] for a SQLite file that is not there; as [`open_url`] otherwise.
pub fn open_existing_url(url: &str) -> Result<Box<dyn MigrationStore>, StoreError> {
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return open_url(url);
    }
    let path = sqlite_path(url)?;
    if !std::path::Path::new(path).exists() {
        return Err(StoreError::Missing(path.to_string()));
    }
    open_url(url)
}
