//! What a device's reply to a migration command means, and what it does to the device's
//! record (status, attempts, back-off).

use crate::cos::classify::{cell_after, CosState};
use crate::cos::migration::{DeviceRecord, MigrationPolicy, MigrationStatus, Responsibility};
use crate::cos::registry::Credential;
use crate::crypto::PublicKey;
use crate::frame::{CraFlag, EntityId, MessageCode};
use crate::payload::{CredentialsReplacementMode, ExecutionOutcome, Payload, StatusCode};

/// What was sent, to check what comes back against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuedCommand {
    /// The device.
    pub device: EntityId,
    /// The originator (the TCoS party that signed).
    pub originator: EntityId,
    /// The command's counter.
    pub counter: u64,
    /// The ECoS credential the command installs.
    pub ecos: Credential,
}

/// Why a response was not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidReason {
    /// Not a GBCS message.
    Malformed,
    /// Not a response to a 0x0106 (or not an 0x00CB alert).
    WrongMessage,
    /// The device signature does not verify.
    BadSignature,
    /// The MAC does not verify.
    BadMac,
    /// From another device, or to another party.
    WrongParties,
    /// Its counter (or outcome sequence number) is not the command's.
    WrongCounter,
    /// The outcome does not name cell {5, DS}.
    NoCosCell,
    /// It answers no command sent to this device (a counter never sent, or a device not in
    /// the fleet).
    Unsolicited,
}

/// Why an attempt failed transiently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransientCause {
    /// resourcesBusy (30).
    Busy,
    /// No response, a time-out, or a communications failure.
    NoResponse,
}

/// What an attempt came to (`ecos.md` §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Migrated: success, and the replacing key is the ECoS key.
    Migrated,
    /// A future-dated acceptance: pending until the 0x00CB alert.
    Pending,
    /// Retry later.
    Transient(TransientCause),
    /// A device fault: stop retrying this device.
    DeviceFault(StatusCode),
    /// Success, but the credential now in the cell is not the ECoS one: a security incident.
    WrongCredential(Credential),
    /// The response failed verification or does not match: not an outcome, a security
    /// event; retried.
    Invalid(InvalidReason),
}

impl Outcome {
    /// Whether the outcome counts as an attempt (`ecos.md` §4.2: each attempt counts;
    /// invalid responses and pending acceptances do not yet).
    #[must_use]
    pub const fn counts_as_attempt(&self) -> bool {
        !matches!(self, Self::Pending | Self::Invalid(_))
    }

    /// Whether the attempt failed.
    #[must_use]
    pub const fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Transient(_) | Self::DeviceFault(_) | Self::WrongCredential(_)
        )
    }
}

fn from_outcome(outcome: &ExecutionOutcome<'_>, issued: &IssuedCommand) -> Outcome {
    if outcome.authorising_seq_number != issued.counter
        || outcome.mode != CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS
    {
        return Outcome::Invalid(InvalidReason::WrongCounter);
    }
    match cell_after(outcome) {
        None => Outcome::Invalid(InvalidReason::NoCosCell),
        Some((credential, status)) if status.is_success() => {
            if credential == issued.ecos {
                Outcome::Migrated
            } else {
                Outcome::WrongCredential(credential)
            }
        }
        Some((_, StatusCode::RESOURCES_BUSY)) => Outcome::Transient(TransientCause::Busy),
        Some((_, status)) => Outcome::DeviceFault(status),
    }
}

/// Interprets a device's reply to a migration command, after checking it: device signature,
/// parties, counter, and an outcome naming {5, DS}.
#[must_use]
pub fn interpret_response(bytes: &[u8], issued: &IssuedCommand, device_key: &PublicKey) -> Outcome {
    let Ok(m) = crate::parse(bytes) else {
        return Outcome::Invalid(InvalidReason::Malformed);
    };
    let h = m.header();
    if h.cra_flag != CraFlag::RESPONSE
        || h.message_code() != MessageCode::CS02B_TRANS_COS_BY_TRANS_COS
    {
        return Outcome::Invalid(InvalidReason::WrongMessage);
    }
    if m.verify_signature(device_key).is_err() {
        return Outcome::Invalid(InvalidReason::BadSignature);
    }
    if h.originator != issued.device || h.recipient != issued.originator {
        return Outcome::Invalid(InvalidReason::WrongParties);
    }
    if h.originator_counter != issued.counter {
        return Outcome::Invalid(InvalidReason::WrongCounter);
    }
    match m.payload() {
        Payload::UpdateSecurityCredentialsResponse(r) => match &r.execution_outcome {
            None => Outcome::Pending,
            Some(o) => from_outcome(o, issued),
        },
        _ => Outcome::Invalid(InvalidReason::WrongMessage),
    }
}

/// Interprets the 0x00CB alert that ends a future-dated migration command.
#[must_use]
pub fn interpret_alert(bytes: &[u8], issued: &IssuedCommand, device_key: &PublicKey) -> Outcome {
    let Ok(m) = crate::parse(bytes) else {
        return Outcome::Invalid(InvalidReason::Malformed);
    };
    let h = m.header();
    if h.cra_flag != CraFlag::ALERT {
        return Outcome::Invalid(InvalidReason::WrongMessage);
    }
    if m.verify_signature(device_key).is_err() {
        return Outcome::Invalid(InvalidReason::BadSignature);
    }
    if h.originator != issued.device || h.recipient != issued.originator {
        return Outcome::Invalid(InvalidReason::WrongParties);
    }
    match m.payload() {
        Payload::UpdateSecurityCredentialsAlert(a) => from_outcome(&a.execution_outcome, issued),
        _ => Outcome::Invalid(InvalidReason::WrongMessage),
    }
}

/// Applies an attempt's outcome to its device record (status, attempts, back-off).
pub fn apply(record: &mut DeviceRecord, outcome: &Outcome, policy: &MigrationPolicy, now: i64) {
    match outcome {
        Outcome::Migrated => {
            record.attempts += 1;
            record.set_migrated();
        }
        Outcome::Pending => {
            record.status = MigrationStatus::AwaitingAlert;
            record.next_attempt_at = Some(now.saturating_add(policy.alert_timeout_secs));
        }
        Outcome::Transient(_) => {
            record.attempts += 1;
            if record.attempts >= policy.max_attempts {
                record.status = MigrationStatus::NeedsInvestigation;
                record.next_attempt_at = None;
            } else {
                record.status = MigrationStatus::Retrying;
                record.next_attempt_at =
                    Some(now.saturating_add(policy.retry.delay(record.attempts)));
            }
        }
        Outcome::DeviceFault(_) => {
            record.attempts += 1;
            let who = if record.device_type.is_communications_hub() {
                Responsibility::Dcc
            } else {
                Responsibility::Supplier
            };
            record.status = MigrationStatus::Faulted(who);
            record.faulted_firmware = Some(record.firmware.clone());
        }
        Outcome::WrongCredential(_) => {
            record.attempts += 1;
            record.state = CosState::Unknown(crate::cos::classify::UnknownReason::Unrecognised);
            record.status = MigrationStatus::NeedsInvestigation;
        }
        Outcome::Invalid(_) => {
            record.invalid_responses += 1;
            if record.invalid_responses >= policy.max_attempts {
                record.status = MigrationStatus::NeedsInvestigation;
            } else {
                record.status = MigrationStatus::Retrying;
                record.next_attempt_at = Some(now.saturating_add(policy.retry.base_secs));
            }
        }
    }
}
