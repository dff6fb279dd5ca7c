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
    /// Read the device's role-5 cell (CS02a) first: its state is unknown, a migration
    /// command to it got no reply (it may have run), or the alert of a future-dated one is
    /// overdue. Then migrate if the reading shows TCoS.
    Read(Priority),
    /// Do not, and why.
    Skip(SkipReason),
}

/// The candidate-selection decision for `record` at `now` (`ecos.md` §4.1).
#[must_use]
pub fn select(record: &DeviceRecord, policy: &MigrationPolicy, now: i64) -> Decision {
    use Decision::Skip;
    let mut read = record.unconfirmed.is_some();
    match record.status {
        MigrationStatus::Migrated => return Skip(SkipReason::Migrated),
        // A device fault stops a device until its firmware changes (seed ¶31a).
        MigrationStatus::Faulted(r) if !record.firmware_changed_since_fault() => {
            return Skip(SkipReason::Faulted(r))
        }
        MigrationStatus::Faulted(_) => {}
        // Its last attempt got no reply and may have run: the cell is read before the device
        // is given up (a read is not an attempt), so a meter that did migrate is not
        // reported failed.
        MigrationStatus::NeedsInvestigation if record.awaits_confirmation(policy) => {
            return Decision::Read(priority_of(record, policy, now))
        }
        MigrationStatus::NeedsInvestigation => return Skip(SkipReason::NeedsInvestigation),
        MigrationStatus::AwaitingAlert => match record.next_attempt_at {
            Some(t) if t <= now => read = true,
            _ => return Skip(SkipReason::AwaitingAlert),
        },
        MigrationStatus::NotStarted | MigrationStatus::Retrying => {}
    }
    match record.state {
        CosState::Ecos => return Skip(SkipReason::AlreadyEcos),
        CosState::Unknown(_) => read = true,
        CosState::Tcos => {}
    }
    if policy.is_non_migratable(record) {
        return Skip(SkipReason::NonMigratable);
    }
    if let Some(cause) = policy.ineligibility(record) {
        return Skip(SkipReason::Ineligible(cause.clone()));
    }
    if !policy.in_scope.contains(&record.device_type) {
        return Skip(SkipReason::OutOfScope(record.device_type));
    }
    if record.attempts >= policy.max_attempts || record.unanswered_reads >= policy.max_attempts {
        return Skip(SkipReason::NeedsInvestigation);
    }
    if record.status != MigrationStatus::AwaitingAlert {
        if let Some(t) = record.next_attempt_at.filter(|t| *t > now) {
            return Skip(SkipReason::BackingOff(t));
        }
    }
    let priority = priority_of(record, policy, now);
    if read {
        Decision::Read(priority)
    } else {
        Decision::Migrate(priority)
    }
}

/// Low for a device that has not communicated within the NP005 period.
fn priority_of(record: &DeviceRecord, policy: &MigrationPolicy, now: i64) -> Priority {
    if now.saturating_sub(record.last_communication) > policy.stale_after_secs {
        Priority::Low
    } else {
        Priority::Normal
    }
}
