//! A device's history in the ledger: its reporting supplier, what its role-5 cell holds, its
//! standing and what the inventory says it is (type, manufacturer, model, firmware), each
//! entry timed, so any of them can be taken *as at* an instant.

use alloc::vec::Vec;

use super::{CellState, Observation};
use crate::cos::classify::CosState;
use crate::cos::device::{FirmwareVersion, IneligibleReason, ModelKey};
use crate::cos::migration::{
    DeviceRecord, MigrationPolicy, MigrationStatus, Responsibility, SecPartyId,
};
use crate::cos::route::DeviceType;

/// Whether a device is open to migration or excluded or failed, and why (what a notice to
/// its Responsible Supplier says).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Standing {
    /// Migrated, in progress, waiting, or not yet tried: nothing to tell.
    Open,
    /// Excluded: a model on the Non-Migratable list without its fixing firmware.
    NonMigratable,
    /// Excluded: flagged ineligible, for this reason.
    Ineligible(IneligibleReason),
    /// Failed: a device fault; no more tries.
    Faulted(Responsibility),
    /// Failed: attempts exhausted, a wrong credential, or repeated invalid replies.
    NeedsInvestigation,
}

impl Standing {
    /// The standing of `record` under `policy` (independent of the clock: back-off is open).
    #[must_use]
    pub fn of(record: &DeviceRecord, policy: &MigrationPolicy) -> Self {
        // A model listed after the device failed makes it non-migratable: the listing
        // is the reason it will not be tried again (DCC's response ¶21a).
        if record.state != CosState::Ecos
            && record.status != MigrationStatus::Migrated
            && policy.is_non_migratable(record)
        {
            return Self::NonMigratable;
        }
        match record.status {
            MigrationStatus::Faulted(r) if !record.firmware_changed_since_fault() => {
                Self::Faulted(r)
            }
            // Not failed while its last command's fate is still to be read.
            MigrationStatus::NeedsInvestigation if record.awaits_confirmation(policy) => Self::Open,
            MigrationStatus::NeedsInvestigation => Self::NeedsInvestigation,
            MigrationStatus::Migrated | MigrationStatus::AwaitingAlert => Self::Open,
            MigrationStatus::NotStarted
            | MigrationStatus::Retrying
            | MigrationStatus::Faulted(_) => {
                if record.state == CosState::Ecos {
                    Self::Open
                } else if policy.is_non_migratable(record) {
                    Self::NonMigratable
                } else if let Some(reason) = policy.ineligibility(record) {
                    Self::Ineligible(reason.clone())
                } else if record.attempts >= policy.max_attempts {
                    Self::NeedsInvestigation
                } else {
                    Self::Open
                }
            }
        }
    }
}

/// What a device is, as the inventory says and as every per-device report names it: its
/// type, manufacturer, model and firmware version (DCC's reports' convention, response ¶30).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Descriptor {
    /// Its type.
    pub device_type: DeviceType,
    /// Its manufacturer and model.
    pub model: ModelKey,
    /// Its firmware version.
    pub firmware: FirmwareVersion,
    /// Its Meter Asset Provider, if the inventory names one.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub meter_asset_provider: Option<SecPartyId>,
}

impl Descriptor {
    /// What `record` says the device is.
    #[must_use]
    pub fn of(record: &DeviceRecord) -> Self {
        Self {
            device_type: record.device_type,
            model: record.model.clone(),
            firmware: record.firmware.clone(),
            meter_asset_provider: record.meter_asset_provider.clone(),
        }
    }

    /// Whether this is what `record` says the device is (compared in place: the engine
    /// tracks a device after every outcome, and most of the time nothing here changed).
    #[must_use]
    pub fn describes(&self, record: &DeviceRecord) -> bool {
        self.device_type == record.device_type
            && self.model == record.model
            && self.firmware.as_str() == record.firmware.as_str()
            && self.meter_asset_provider == record.meter_asset_provider
    }
}

/// One device's history: each list in time order, each entry from its time until the next.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DeviceHistory {
    /// The supplier its reports go to.
    pub suppliers: Vec<(i64, SecPartyId)>,
    /// What its role-5 cell holds.
    pub states: Vec<Observation>,
    /// Its standing.
    pub standings: Vec<(i64, Standing)>,
    /// What the inventory says it is (absent from ledgers written before it was kept).
    #[cfg_attr(feature = "serde", serde(default))]
    pub descriptors: Vec<(i64, Descriptor)>,
    /// When its failure or ineligibility was resolved, and by whom.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub clearances: Vec<(i64, alloc::string::String)>,
}

/// The latest entry at or before `at` of a time-ordered list.
pub(super) fn as_at<T>(list: &[T], at: i64, time: impl Fn(&T) -> i64) -> Option<&T> {
    let n = list.partition_point(|e| time(e) <= at);
    n.checked_sub(1).and_then(|i| list.get(i))
}

impl DeviceHistory {
    /// The supplier at `at`.
    #[must_use]
    pub fn supplier_as_at(&self, at: i64) -> Option<&SecPartyId> {
        as_at(&self.suppliers, at, |e| e.0).map(|e| &e.1)
    }

    /// The cell state at `at`.
    #[must_use]
    pub fn state_as_at(&self, at: i64) -> Option<CellState> {
        as_at(&self.states, at, |e| e.at).map(|e| e.state)
    }

    /// What the device was at `at`, and since when.
    #[must_use]
    pub fn descriptor_as_at(&self, at: i64) -> Option<&(i64, Descriptor)> {
        as_at(&self.descriptors, at, |e| e.0)
    }

    /// The standing at `at`, and since when.
    #[must_use]
    pub fn standing_as_at(&self, at: i64) -> Option<&(i64, Standing)> {
        as_at(&self.standings, at, |e| e.0)
    }
}

/// Appends `item`, growing a short list one entry at a time: most devices' lists hold one to
/// three entries, and a `Vec`'s first allocation holds four (a fleet's ledger would be mostly
/// room never used).
pub(super) fn push_tight<T>(list: &mut Vec<T>, item: T) {
    if list.len() == list.capacity() {
        let more = if list.len() < 4 { 1 } else { list.len() };
        list.reserve_exact(more);
    }
    list.push(item);
}

/// Appends `value` at `at` when it differs from the last entry; entries older than the last
/// are refused (the list stays in time order).
pub(super) fn push_changed<T: PartialEq>(list: &mut Vec<(i64, T)>, at: i64, value: T) -> bool {
    match list.last() {
        Some((t, _)) if *t > at => false,
        Some((_, v)) if *v == value => false,
        _ => {
            push_tight(list, (at, value));
            true
        }
    }
}
