//! Candidate selection: whether a device is tried now, later or not at all.

use crate::cos::classify::CosState;
use crate::cos::device::IneligibleReason;
use crate::cos::migration::{DeviceRecord, MigrationPolicy, MigrationStatus, Responsibility};
use crate::cos::route::DeviceType;

/// Priority of a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Communicated recently.
    Normal,
    /// Not communicated within the NP005 period: lower priority, still tried.
    Low,
}

/// Why a device is not a candidate now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Already ECoS (counts as ECoS installed).
    AlreadyEcos,
    /// The state is unknown: query the device first (`ecos.md` §6).
    StateUnknown,
    /// A model on the Non-Migratable list without its fixing firmware.
    NonMigratable,
    /// Flagged ineligible, cause not cleared.
    Ineligible(IneligibleReason),
    /// Device type out of scope.
    OutOfScope(DeviceType),
    /// Attempts exhausted, or otherwise needing investigation.
    NeedsInvestigation,
    /// Waiting for back-off until this time.
    BackingOff(i64),
    /// Waiting for a future-dated command's alert.
    AwaitingAlert,
    /// Faulted: no more tries.
    Faulted(Responsibility),
    /// Migrated.
    Migrated,
}

/// The decision for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send the migration command.
    Migrate(Priority),
    /// Do not, and why.
    Skip(SkipReason),
}

/// The candidate-selection decision for `record` at `now` (`ecos.md` §4.1).
#[must_use]
pub fn select(record: &DeviceRecord, policy: &MigrationPolicy, now: i64) -> Decision {
    use Decision::Skip;
    match record.status {
        MigrationStatus::Migrated => return Skip(SkipReason::Migrated),
        MigrationStatus::Faulted(r) => return Skip(SkipReason::Faulted(r)),
        MigrationStatus::NeedsInvestigation => return Skip(SkipReason::NeedsInvestigation),
        MigrationStatus::AwaitingAlert => return Skip(SkipReason::AwaitingAlert),
        MigrationStatus::NotStarted | MigrationStatus::Retrying => {}
    }
    match record.state {
        CosState::Ecos => return Skip(SkipReason::AlreadyEcos),
        CosState::Unknown(_) => return Skip(SkipReason::StateUnknown),
        CosState::Tcos => {}
    }
    if policy.is_non_migratable(record) {
        return Skip(SkipReason::NonMigratable);
    }
    if let Some(cause) = &record.ineligible {
        return Skip(SkipReason::Ineligible(cause.clone()));
    }
    if !policy.in_scope.contains(&record.device_type) {
        return Skip(SkipReason::OutOfScope(record.device_type));
    }
    if record.attempts >= policy.max_attempts {
        return Skip(SkipReason::NeedsInvestigation);
    }
    if let Some(t) = record.next_attempt_at.filter(|t| *t > now) {
        return Skip(SkipReason::BackingOff(t));
    }
    if now.saturating_sub(record.last_communication) > policy.stale_after_secs {
        Decision::Migrate(Priority::Low)
    } else {
        Decision::Migrate(Priority::Normal)
    }
}
