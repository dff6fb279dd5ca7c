//! The migration ledger (`ecos.md` §4.4): per responsible supplier, the attempts (completed
//! and failed) and the device counts the reports need. An attempt is keyed by device and
//! command counter, so it is counted exactly once however often its outcome is reported.

use alloc::collections::{BTreeMap, BTreeSet};
use core::fmt;

use crate::cos::classify::CosState;
use crate::cos::migration::{DeviceRecord, MigrationPolicy, Outcome, SecPartyId};
use crate::frame::EntityId;

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

/// The ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    attempts: BTreeMap<SecPartyId, (u64, u64)>,
    seen: BTreeSet<(EntityId, u64)>,
}

impl Ledger {
    /// An empty ledger.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the outcome of the attempt `counter` on `device` for `supplier`. Returns
    /// whether it counted (pending and invalid outcomes are not attempts yet).
    ///
    /// # Errors
    /// [`DuplicateAttempt`] when this attempt was already counted.
    pub fn record(
        &mut self,
        supplier: &SecPartyId,
        device: EntityId,
        counter: u64,
        outcome: &Outcome,
    ) -> Result<bool, DuplicateAttempt> {
        if !outcome.counts_as_attempt() {
            return Ok(false);
        }
        if !self.seen.insert((device, counter)) {
            return Err(DuplicateAttempt { device, counter });
        }
        let entry = self.attempts.entry(supplier.clone()).or_insert((0, 0));
        if matches!(outcome, Outcome::Migrated) {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        Ok(true)
    }

    /// Attempts recorded in all.
    #[must_use]
    pub fn total_attempts(&self) -> u64 {
        u64::try_from(self.seen.len()).unwrap_or(u64::MAX)
    }

    /// (completed, failed) attempts of `supplier`.
    #[must_use]
    pub fn attempts(&self, supplier: &SecPartyId) -> (u64, u64) {
        self.attempts.get(supplier).copied().unwrap_or((0, 0))
    }

    /// The counts per reporting supplier: attempts from the ledger, devices from `fleet`.
    #[must_use]
    pub fn summary<'r>(
        &self,
        fleet: impl IntoIterator<Item = &'r DeviceRecord>,
        policy: &MigrationPolicy,
    ) -> BTreeMap<SecPartyId, SupplierCounts> {
        let mut out: BTreeMap<SecPartyId, SupplierCounts> = BTreeMap::new();
        for (s, (done, failed)) in &self.attempts {
            let c = out.entry(s.clone()).or_default();
            c.migrations_completed = *done;
            c.failed_attempts = *failed;
        }
        for r in fleet {
            let c = out.entry(r.reporting_supplier().clone()).or_default();
            match r.state {
                CosState::Ecos => c.ecos_installed += 1,
                CosState::Tcos => c.remaining_tcos += 1,
                CosState::Unknown(_) => {}
            }
            if policy.is_non_migratable(r) {
                c.non_migratable += 1;
            }
        }
        out
    }
}
