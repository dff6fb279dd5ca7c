//! The migration ledger (`ecos.md` §4.4): what happened, when, to which device, for which
//! responsible supplier.
//!
//! - **Attempts**, each keyed by device and command counter (so counted exactly once however
//!   often its outcome is reported), with the engine's clock (UTC Unix seconds) and what it
//!   came to. A lost reply is a failed attempt when it happens; a later reading that shows the
//!   command did run *resolves* it as completed from the reading's time on — still one attempt.
//! - **Device histories**: which supplier its reports go to, what its role-5 cell holds
//!   (each reading with its time; an older reading never overrides a newer one), and its
//!   *standing* (open, or excluded or failed, and why), each entry timed.
//! - **Report sequence numbers** per recipient: issued numbers are kept, so the next is one
//!   more than the highest and a gap shows a report that was never issued.
//!
//! Because everything is timed, the ECOSMIG-007 counts can be taken *as at* any instant
//! ([`Ledger::counts_as_at`]): a December report made in January from a run that went on
//! into January counts exactly what a run that stopped at midnight would have counted.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;

use crate::cos::classify::{CosState, EvidenceSource};
use crate::cos::migration::{DeviceRecord, MigrationPolicy, Outcome, SecPartyId, TransientCause};
use crate::frame::EntityId;
use crate::payload::StatusCode;

#[cfg(feature = "csv")]
pub mod csv_file;
#[cfg(feature = "serde")]
mod file;
mod history;
pub mod journal;
mod notices;
mod sequences;

use history::push_changed;
pub use history::{Descriptor, DeviceHistory, Standing};

pub use journal::LedgerEntry;
pub use notices::{Notice, NoticeCategory, NoticeKind};
pub use sequences::{IssuedSequence, StaleSequence};

/// The counts of one responsible supplier: the detail record of ECOSMIG-007.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct SupplierCounts {
    /// Migrations successfully completed (attempts).
    pub migrations_completed: u64,
    /// Failed migration attempts.
    pub failed_attempts: u64,
    /// Devices with ECoS credentials installed.
    pub ecos_installed: u64,
    /// Devices remaining with known TCoS credentials.
    pub remaining_tcos: u64,
    /// Devices of a non-migratable model.
    pub non_migratable: u64,
}

/// An attempt reported twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateAttempt {
    /// The device.
    pub device: EntityId,
    /// The command counter.
    pub counter: u64,
}

impl fmt::Display for DuplicateAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "attempt {} on {} already recorded",
            self.counter, self.device
        )
    }
}

impl core::error::Error for DuplicateAttempt {}

/// What an attempt came to, as the ledger keeps it (an [`Outcome`] that counts as an attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum AttemptResult {
    /// Migrated.
    Completed,
    /// resourcesBusy.
    Busy,
    /// No reply (the command may have run).
    NoResponse,
    /// A device fault with this status code.
    DeviceFault(u8),
    /// Success, but not the ECoS credential in the cell.
    WrongCredential,
}

impl AttemptResult {
    /// The ledger's form of `outcome`; `None` for outcomes that are not attempts (pending,
    /// invalid).
    #[must_use]
    pub fn of(outcome: &Outcome) -> Option<Self> {
        Some(match outcome {
            Outcome::Migrated => Self::Completed,
            Outcome::Transient(TransientCause::Busy) => Self::Busy,
            Outcome::Transient(TransientCause::NoResponse) => Self::NoResponse,
            Outcome::DeviceFault(s) => Self::DeviceFault(s.0),
            Outcome::WrongCredential(_) => Self::WrongCredential,
            Outcome::Pending | Outcome::Invalid(_) => return None,
        })
    }

    /// Whether the attempt completed the migration.
    #[must_use]
    pub const fn is_completed(self) -> bool {
        matches!(self, Self::Completed)
    }
}

impl fmt::Display for AttemptResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Completed => f.write_str("completed"),
            Self::Busy => f.write_str("resourcesBusy"),
            Self::NoResponse => f.write_str("no response"),
            Self::DeviceFault(s) => write!(f, "device fault {}", StatusCode(*s)),
            Self::WrongCredential => f.write_str("wrong credential installed"),
        }
    }
}

/// One attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct AttemptEntry {
    /// The supplier it is reported to (at the time of the attempt).
    pub supplier: SecPartyId,
    /// The device.
    pub device: EntityId,
    /// The command counter.
    pub counter: u64,
    /// When (Unix seconds, UTC).
    pub at: i64,
    /// What it came to.
    pub result: AttemptResult,
    /// A later reading that showed what the command did (a lost reply): when, and the result
    /// that stands from then on.
    pub resolved: Option<(i64, AttemptResult)>,
}

impl AttemptEntry {
    /// What the attempt adds to the cumulative totals as at `at`: (migrations successfully
    /// completed, failed migration attempts). Counts never go down: an attempt that failed
    /// stays failed in every later total, and when a reading later shows that its command ran,
    /// it also counts as completed from the moment that was learned — so the two totals
    /// together may exceed the attempts (the seed's Appendix A notes they may exceed the
    /// devices).
    #[must_use]
    pub fn counted_as_at(&self, at: i64) -> (u64, u64) {
        if self.at > at {
            return (0, 0);
        }
        if self.result.is_completed() {
            return (1, 0);
        }
        let learned = self
            .resolved
            .is_some_and(|(t, r)| t <= at && r.is_completed());
        (u64::from(learned), 1)
    }

    /// What the attempt stands as at `at`, if it had happened by then: its result, or what
    /// a later reading showed from when it did.
    #[must_use]
    pub fn result_as_at(&self, at: i64) -> Option<AttemptResult> {
        if self.at > at {
            return None;
        }
        Some(match self.resolved {
            Some((t, r)) if t <= at => r,
            _ => self.result,
        })
    }
}

/// What the role-5 cell holds, as the ledger keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CellState {
    /// TCoS credentials.
    Tcos,
    /// ECoS credentials.
    Ecos,
    /// Not known.
    Unknown,
}

impl From<CosState> for CellState {
    fn from(s: CosState) -> Self {
        match s {
            CosState::Tcos => Self::Tcos,
            CosState::Ecos => Self::Ecos,
            CosState::Unknown(_) => Self::Unknown,
        }
    }
}

/// A reading of the role-5 cell (or an inventory record), with its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Observation {
    /// When the evidence was taken (Unix seconds, UTC).
    pub at: i64,
    /// What the cell holds.
    pub state: CellState,
    /// Where it came from.
    pub source: EvidenceSource,
}

/// The ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    attempts: Vec<AttemptEntry>,
    index: BTreeMap<(EntityId, u64), usize>,
    devices: BTreeMap<EntityId, DeviceHistory>,
    /// Report sequence numbers: report identifier → recipient → numbers issued.
    sequences: BTreeMap<alloc::string::String, BTreeMap<SecPartyId, BTreeSet<u32>>>,
    /// The periods of the reports made: report identifier → recipient → (start, end).
    made: Made,
}

/// Report identifier → recipient → the periods (start, end; Unix seconds) of reports made.
type Made = BTreeMap<alloc::string::String, BTreeMap<SecPartyId, BTreeSet<(i64, i64)>>>;

impl Ledger {
    /// An empty ledger.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the outcome of the attempt `counter` on `device` for `supplier`, made at `at`.
    /// Returns whether it counted (pending and invalid outcomes are not attempts yet).
    ///
    /// # Errors
    /// [`DuplicateAttempt`] when this attempt was already counted.
    pub fn record(
        &mut self,
        supplier: &SecPartyId,
        device: EntityId,
        counter: u64,
        outcome: &Outcome,
        at: i64,
    ) -> Result<bool, DuplicateAttempt> {
        let Some(result) = AttemptResult::of(outcome) else {
            return Ok(false);
        };
        if self.index.contains_key(&(device, counter)) {
            return Err(DuplicateAttempt { device, counter });
        }
        self.index.insert((device, counter), self.attempts.len());
        self.attempts.push(AttemptEntry {
            supplier: supplier.clone(),
            device,
            counter,
            at,
            result,
            resolved: None,
        });
        Ok(true)
    }

    /// Resolves the failed attempt `counter` on `device` (a lost reply) as completed from
    /// `at` on: a reading showed the command ran. The attempt stays one attempt; returns
    /// whether anything changed (not for an unknown, completed or already resolved attempt,
    /// nor for a time before the attempt).
    pub fn resolve_completed(&mut self, device: EntityId, counter: u64, at: i64) -> bool {
        let Some(a) = self
            .index
            .get(&(device, counter))
            .and_then(|&i| self.attempts.get_mut(i))
        else {
            return false;
        };
        if a.result.is_completed() || a.resolved.is_some() || at < a.at {
            return false;
        }
        a.resolved = Some((at, AttemptResult::Completed));
        true
    }

    /// The attempts, in the order recorded.
    #[must_use]
    pub fn entries(&self) -> &[AttemptEntry] {
        &self.attempts
    }

    /// Attempts recorded in all.
    #[must_use]
    pub fn total_attempts(&self) -> u64 {
        u64::try_from(self.attempts.len()).unwrap_or(u64::MAX)
    }

    /// (completed, failed) attempts of `supplier`, as they stand now.
    #[must_use]
    pub fn attempts(&self, supplier: &SecPartyId) -> (u64, u64) {
        let c = self.counts_as_at(supplier, i64::MAX);
        (c.migrations_completed, c.failed_attempts)
    }

    /// A device's history.
    #[must_use]
    pub fn device(&self, device: EntityId) -> Option<&DeviceHistory> {
        self.devices.get(&device)
    }

    /// Records what `device`'s role-5 cell holds at `at`, from `source`. Returns whether it
    /// was taken: a reading older than the device's latest is refused (it can never override
    /// a newer one), and one that repeats the latest (same state, same source) adds nothing.
    pub fn observe(
        &mut self,
        device: EntityId,
        at: i64,
        state: CellState,
        source: EvidenceSource,
    ) -> bool {
        let h = self.devices.entry(device).or_default();
        match h.states.last() {
            Some(o) if o.at > at => false,
            // An inventory record is a hint: it never overrides a reading of the device.
            Some(o) if source == EvidenceSource::Inventory && o.source != source => false,
            Some(o) if o.state == state && o.source == source => false,
            _ => {
                history::push_tight(&mut h.states, Observation { at, state, source });
                true
            }
        }
    }

    /// Brings `record`'s history up to date at `at`: its reporting supplier, its standing
    /// under `policy`, and its cell state (taken from `source`) where they changed. Returns
    /// what changed ([`journal::Tracked`]), so a caller that journals the ledger can write it.
    pub fn track(
        &mut self,
        record: &DeviceRecord,
        policy: &MigrationPolicy,
        at: i64,
        source: EvidenceSource,
    ) -> journal::Tracked {
        let observed = self.observe(record.entity_id, at, record.state.into(), source);
        let h = self.devices.entry(record.entity_id).or_default();
        let supplier = push_changed(&mut h.suppliers, at, record.reporting_supplier().clone());
        let standing = push_changed(&mut h.standings, at, Standing::of(record, policy));
        // Built (three strings cloned) only when it changed.
        let descriptor = match h.descriptors.last() {
            Some((_, d)) if d.describes(record) => false,
            _ => push_changed(&mut h.descriptors, at, Descriptor::of(record)),
        };
        journal::Tracked {
            observed,
            supplier,
            standing,
            descriptor,
        }
    }

    /// Records that `device`'s failure or ineligibility was resolved at `at` by `by`.
    /// Returns whether it was taken (a time before the device's latest clearance is not).
    pub fn clear(&mut self, device: EntityId, at: i64, by: alloc::string::String) -> bool {
        let h = self.devices.entry(device).or_default();
        if h.clearances
            .last()
            .is_some_and(|(t, b)| *t > at || (*t == at && *b == by))
        {
            return false;
        }
        history::push_tight(&mut h.clearances, (at, by));
        true
    }

    /// The ECOSMIG-007 counts of `supplier` as at `at`: attempts made by then (a lost reply
    /// resolved later still counts as failed), and its devices by what was known of them by
    /// then. A supplier the ledger does not know, or a time before anything happened, gives
    /// zeros.
    #[must_use]
    pub fn counts_as_at(&self, supplier: &SecPartyId, at: i64) -> SupplierCounts {
        self.summary_as_at(at).remove(supplier).unwrap_or_default()
    }

    /// The counts of every supplier the ledger knows, as at `at`.
    #[must_use]
    pub fn summary_as_at(&self, at: i64) -> BTreeMap<SecPartyId, SupplierCounts> {
        let mut out: BTreeMap<SecPartyId, SupplierCounts> = BTreeMap::new();
        for h in self.devices.values() {
            if let Some(s) = h.suppliers.first() {
                out.entry(s.1.clone()).or_default();
            }
        }
        for a in &self.attempts {
            let c = out.entry(a.supplier.clone()).or_default();
            let (completed, failed) = a.counted_as_at(at);
            c.migrations_completed += completed;
            c.failed_attempts += failed;
        }
        for h in self.devices.values() {
            let Some(s) = h.supplier_as_at(at) else {
                continue;
            };
            if !out.contains_key(s) {
                out.insert(s.clone(), SupplierCounts::default());
            }
            let Some(c) = out.get_mut(s) else {
                continue;
            };
            match h.state_as_at(at) {
                Some(CellState::Ecos) => c.ecos_installed += 1,
                Some(CellState::Tcos) => c.remaining_tcos += 1,
                Some(CellState::Unknown) | None => {}
            }
            if matches!(h.standing_as_at(at), Some((_, Standing::NonMigratable))) {
                c.non_migratable += 1;
            }
        }
        out
    }

    /// The counts per reporting supplier now: attempts from the ledger, devices from
    /// `fleet` as the records stand.
    #[must_use]
    pub fn summary<'r>(
        &self,
        fleet: impl IntoIterator<Item = &'r DeviceRecord>,
        policy: &MigrationPolicy,
    ) -> BTreeMap<SecPartyId, SupplierCounts> {
        let mut out: BTreeMap<SecPartyId, SupplierCounts> = BTreeMap::new();
        for a in &self.attempts {
            let c = out.entry(a.supplier.clone()).or_default();
            let (completed, failed) = a.counted_as_at(i64::MAX);
            c.migrations_completed += completed;
            c.failed_attempts += failed;
        }
        for r in fleet {
            let c = out.entry(r.reporting_supplier().clone()).or_default();
            match r.state {
                CosState::Ecos => c.ecos_installed += 1,
                CosState::Tcos => c.remaining_tcos += 1,
                CosState::Unknown(_) => {}
            }
            if Standing::of(r, policy) == Standing::NonMigratable {
                c.non_migratable += 1;
            }
        }
        out
    }

    /// The devices whose reports go to `supplier` (now) that are excluded or failed, with
    /// why and their last attempt's result: what the notice to that Responsible Supplier
    /// says (not what DCC resolves: [`Ledger::dcc_notices`]). Empty when there is nothing
    /// to tell.
    #[must_use]
    pub fn notices(&self, supplier: &SecPartyId) -> Vec<Notice> {
        notices::of(self, Some(supplier))
    }

    /// DCC's list: the devices DCC is to resolve — communications hub faults (EMEHRA
    /// 6.1.2, 6.2) and Gas Proxy Functions of a Non-Migratable model (revised ETMAD 3.10) —
    /// each with the supplier its reports go to. These are not on any supplier's list.
    #[must_use]
    pub fn dcc_notices(&self) -> Vec<Notice> {
        notices::of(self, None)
    }

    /// Whether `party` is, or was at any time, the reporting supplier of a device in the
    /// ledger, or of an attempt: a recipient its reports can be made for.
    #[must_use]
    pub fn knows_recipient(&self, party: &SecPartyId) -> bool {
        self.devices
            .values()
            .any(|h| h.suppliers.iter().any(|(_, s)| s == party))
            || self.attempts.iter().any(|a| &a.supplier == party)
    }

    /// Every device's history, by device.
    pub fn histories(&self) -> impl Iterator<Item = (&EntityId, &DeviceHistory)> {
        self.devices.iter()
    }
}
