//! Bulk migration of meters from TCoS to ECoS (`ecos.md` §4): the device record, candidate
//! selection ([`selection`]), the interpretation of device outcomes ([`outcome`]), retry with
//! back-off and the other policy values ([`policy`]), and auto-stop ([`auto_stop`]). Every
//! number the public rules leave open is a field of [`MigrationPolicy`].

use crate::cos::classify::CosState;
use crate::cos::device::{FirmwareVersion, IneligibleReason, ModelKey};
use crate::cos::registry::Credential;
use crate::cos::route::DeviceType;
use crate::crypto::PublicKey;
use crate::frame::EntityId;

pub mod auto_stop;
pub mod outcome;
pub mod policy;
pub mod selection;

pub use crate::cos::party::{InvalidPartyId, SecPartyId};
pub use auto_stop::{AutoStop, Incident, LocalFault};
pub use outcome::{
    apply, interpret_alert, interpret_response, InvalidReason, IssuedCommand, Outcome,
    TransientCause,
};
pub use policy::{AutoStopPolicy, MigrationPolicy, RetryPolicy};
pub use selection::{select, Decision, Priority, SkipReason};

/// Where a device is in its migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum MigrationStatus {
    /// Not tried yet.
    NotStarted,
    /// A transient failure; tried again after back-off.
    Retrying,
    /// A future-dated acceptance: waiting for the 0x00CB alert.
    AwaitingAlert,
    /// Migrated: the role-5 cell holds the ECoS credential.
    Migrated,
    /// A device fault: no more tries; whose responsibility it is.
    Faulted(Responsibility),
    /// Attempts exhausted, a wrong credential installed, or repeated invalid responses.
    NeedsInvestigation,
}

/// Who answers for a device fault (`ecos.md` §4.2; EMEHRA 6.1.2, 6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Responsibility {
    /// The responsible supplier.
    Supplier,
    /// DCC (communications hubs: CHF, GPF).
    Dcc,
}

/// One device as the migration sees it (an inventory record plus its history).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The device.
    pub entity_id: EntityId,
    /// Its type.
    pub device_type: DeviceType,
    /// Its model.
    pub model: ModelKey,
    /// Its firmware version.
    pub firmware: FirmwareVersion,
    /// The responsible supplier.
    pub responsible_supplier: SecPartyId,
    /// The Meter Asset Provider, when the inventory names one: it receives the per-device
    /// reports of its devices (DCC's response ¶16, ¶23).
    pub meter_asset_provider: Option<SecPartyId>,
    /// For a Gas Proxy Function: the electricity supplier, who gets its reports and notices
    /// until a gas meter is commissioned on the hub.
    pub electricity_supplier: Option<SecPartyId>,
    /// For a Gas Proxy Function: whether a gas meter (GSME) is commissioned on its hub; then
    /// its reports and notices go to the gas supplier (seed ¶27–28).
    pub gas_meter_commissioned: bool,
    /// What the role-5 cell holds.
    pub state: CosState,
    /// The TCoS credential known to be in the cell (from a device reading), if any.
    pub cell_credential: Option<Credential>,
    /// Last time the device communicated (Unix seconds).
    pub last_communication: i64,
    /// Why the device is ineligible, until the cause is cleared (ETMAD 3.10(b)).
    pub ineligible: Option<IneligibleReason>,
    /// The device's DS key (verifies its responses).
    pub ds_public_key: PublicKey,
    /// The device's KA key (the ACB MACs commands to it).
    pub ka_public_key: PublicKey,
    /// Attempts made (each counts, success or failure).
    pub attempts: u32,
    /// Responses that failed verification (not attempts).
    pub invalid_responses: u32,
    /// Not before this time (back-off; for a device awaiting an alert, when the wait ends).
    pub next_attempt_at: Option<i64>,
    /// The counter of a migration command that got no reply (it may have run): the role-5
    /// cell is read before the retry.
    pub unconfirmed: Option<u64>,
    /// Reads of the role-5 cell that got no trusted answer (not attempts).
    pub unanswered_reads: u32,
    /// Where the migration stands.
    pub status: MigrationStatus,
    /// The firmware the device ran when it faulted: once the inventory shows another, the
    /// device is eligible again (seed ¶31a).
    pub faulted_firmware: Option<FirmwareVersion>,
}

/// What of a [`DeviceRecord`] the migration changes (the rest is the inventory's): what a
/// store keeps after each change, and what a restart puts back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct DeviceProgress {
    /// What the role-5 cell holds.
    pub state: CosState,
    /// The TCoS credential known to be in the cell.
    pub cell_credential: Option<Credential>,
    /// The firmware version (an inventory update changes it).
    pub firmware: FirmwareVersion,
    /// Whether a gas meter is commissioned on a GPF's hub (an inventory update changes it).
    pub gas_meter_commissioned: bool,
    /// Attempts made.
    pub attempts: u32,
    /// Responses that failed verification.
    pub invalid_responses: u32,
    /// Not before this time (Unix seconds).
    pub next_attempt_at: Option<i64>,
    /// The counter of a migration command that got no reply.
    pub unconfirmed: Option<u64>,
    /// Reads of the role-5 cell that got no trusted answer.
    pub unanswered_reads: u32,
    /// Where the migration stands.
    pub status: MigrationStatus,
    /// The firmware the device ran when it faulted.
    pub faulted_firmware: Option<FirmwareVersion>,
    /// Why the device is ineligible (an inventory update sets or clears it).
    pub ineligible: Option<IneligibleReason>,
}

impl DeviceRecord {
    /// What the migration has changed of this record.
    #[must_use]
    pub fn progress(&self) -> DeviceProgress {
        DeviceProgress {
            state: self.state,
            cell_credential: self.cell_credential,
            firmware: self.firmware.clone(),
            gas_meter_commissioned: self.gas_meter_commissioned,
            attempts: self.attempts,
            invalid_responses: self.invalid_responses,
            next_attempt_at: self.next_attempt_at,
            unconfirmed: self.unconfirmed,
            unanswered_reads: self.unanswered_reads,
            status: self.status,
            faulted_firmware: self.faulted_firmware.clone(),
            ineligible: self.ineligible.clone(),
        }
    }

    /// Puts back what the migration had changed (after a restart).
    pub fn restore(&mut self, p: DeviceProgress) {
        self.state = p.state;
        self.cell_credential = p.cell_credential;
        self.firmware = p.firmware;
        self.gas_meter_commissioned = p.gas_meter_commissioned;
        self.attempts = p.attempts;
        self.invalid_responses = p.invalid_responses;
        self.next_attempt_at = p.next_attempt_at;
        self.unconfirmed = p.unconfirmed;
        self.unanswered_reads = p.unanswered_reads;
        self.status = p.status;
        self.faulted_firmware = p.faulted_firmware;
        self.ineligible = p.ineligible;
    }

    /// Whether the device's attempts ran out on a migration command that got no reply and may
    /// have run, its cell not yet read (nor read unanswered as often as attempts allowed):
    /// it is read once more before it is given up, and until then it has not failed.
    #[must_use]
    pub fn awaits_confirmation(&self, policy: &MigrationPolicy) -> bool {
        self.status == MigrationStatus::NeedsInvestigation
            && self.unconfirmed.is_some()
            && self.state == CosState::Tcos
            && self.unanswered_reads < policy.max_attempts
    }

    /// Puts a device that failed (faulted or needing investigation) back into selection,
    /// with its attempt budget renewed: its cause was resolved or its firmware changed (seed
    /// ¶31a). The attempts already made stay in the ledger. Returns whether anything was
    /// renewed (`false` for a device that had not failed and had no attempts to forget).
    pub fn reopen(&mut self) -> bool {
        if !matches!(
            self.status,
            MigrationStatus::Faulted(_) | MigrationStatus::NeedsInvestigation
        ) && self.attempts == 0
            && self.invalid_responses == 0
            && self.unanswered_reads == 0
        {
            return false;
        }
        self.status = MigrationStatus::NotStarted;
        self.attempts = 0;
        self.invalid_responses = 0;
        self.unanswered_reads = 0;
        self.faulted_firmware = None;
        self.next_attempt_at = None;
        true
    }

    /// Marks the device migrated: ECoS in its role-5 cell, nothing more to do.
    pub fn set_migrated(&mut self) {
        self.state = CosState::Ecos;
        self.status = MigrationStatus::Migrated;
        self.next_attempt_at = None;
    }

    /// The supplier its reports and notices go to: for a Gas Proxy Function, the gas
    /// supplier (its responsible supplier) where a gas meter is commissioned on the hub, else
    /// the electricity supplier when known (seed ¶27–28; the gas supplier has no GPF
    /// obligations before commissioning); for any other device, its responsible supplier.
    #[must_use]
    pub fn reporting_supplier(&self) -> &SecPartyId {
        match (
            self.device_type,
            self.gas_meter_commissioned,
            &self.electricity_supplier,
        ) {
            (DeviceType::Gpf, false, Some(e)) => e,
            _ => &self.responsible_supplier,
        }
    }

    /// Whether a device fault stopped it on a firmware it no longer runs: eligible again.
    #[must_use]
    pub fn firmware_changed_since_fault(&self) -> bool {
        self.faulted_firmware
            .as_ref()
            .is_some_and(|f| *f != self.firmware)
    }
}
