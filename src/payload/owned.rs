//! Owned payloads (feature `alloc`): what builders return, so that nothing has to be handed
//! to a closure. Each lends out the same borrowed view a decoded payload gives
//! ([`OwnedUpdateCommand::view`], [`OwnedExecutionOutcome::view`]), which encodes and
//! serializes like any other. Certificates stay borrowed from the caller (`'c`): they are
//! written byte for byte, never copied into the command.
//!
//! ```
//! # fn main() -> Result<(), gbcs::Error> {
//! use gbcs::payload::{
//!     CredentialsReplacementMode, Decode, Encode, OwnedSeqNumberChanges, OwnedUpdateCommand,
//!     RemotePartyRole, RemotePartySeqNumberChange, TrustAnchorCellIdentifier,
//!     UpdateSecurityCredentialsCommand,
//! };
//! let mut command = OwnedUpdateCommand::new(CredentialsReplacementMode::SUPPLIER_BY_TRANS_COS, 7);
//! command.authorising_cell = Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS);
//! command.other_seq_number_changes = Some(OwnedSeqNumberChanges::new(&[RemotePartySeqNumberChange {
//!     role: RemotePartyRole::SUPPLIER,
//!     floor_seq_number: 0,
//!     specialist_floor_seq_numbers: None,
//! }])?);
//! let der = command.view().to_der()?;
//! assert_eq!(UpdateSecurityCredentialsCommand::from_ber(&der)?, command.view());
//! # Ok(()) }
//! ```

use alloc::vec::Vec;

use crate::ber::{Encode, SeqOf};
use crate::error::Result;
use crate::payload::common::{CertificateDer, SeqNumber, TrustAnchorCellIdentifier};
use crate::payload::cs02b::{
    AuthorisingRemotePartyControl, CredentialsReplacementMode, ExecutionOutcome,
    RemotePartySeqNumberChange, ReplacementOutcome, SpecialistSeqNumber, TimeBasedCpvChecks,
    TrustAnchorReplacement, UpdateSecurityCredentialsCommand,
};
use crate::payload::time::GeneralizedTime;
use crate::payload::Payload;

/// `SEQUENCE OF RemotePartySeqNumberChange`, owned: each change (with its own sequence of
/// specialist floors) encoded once when added, viewed as a [`SeqOf`] of borrowed changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedSeqNumberChanges {
    der: Vec<u8>,
    count: usize,
}

impl OwnedSeqNumberChanges {
    /// The changes, in order.
    ///
    /// # Errors
    /// A value its ASN.1 type cannot hold (a floor above 2^63 − 1).
    pub fn new(changes: &[RemotePartySeqNumberChange<'_>]) -> Result<Self> {
        let mut out = Self::default();
        for c in changes {
            out.push(c)?;
        }
        Ok(out)
    }

    /// Adds a change at the end.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn push(&mut self, change: &RemotePartySeqNumberChange<'_>) -> Result<()> {
        self.der.extend_from_slice(&change.to_der()?);
        self.count += 1;
        Ok(())
    }

    /// The changes as a borrowed sequence.
    #[must_use]
    pub fn view(&self) -> SeqOf<'_, RemotePartySeqNumberChange<'_>> {
        SeqOf::from_own_encoding(self.der.as_slice(), self.count)
    }
}

/// An [`ExecutionOutcome`], owned: what a device builds before it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedExecutionOutcome {
    /// The command's `[3]`.
    pub authorising_seq_number: SeqNumber,
    /// The command's mode.
    pub mode: CredentialsReplacementMode,
    /// The floors applied.
    pub seq_number_changes: OwnedSeqNumberChanges,
    /// One outcome per replacement.
    pub replacement_outcomes: Vec<ReplacementOutcome>,
}

impl OwnedExecutionOutcome {
    /// The borrowed view.
    #[must_use]
    pub fn view(&self) -> ExecutionOutcome<'_> {
        ExecutionOutcome {
            authorising_seq_number: self.authorising_seq_number,
            mode: self.mode,
            seq_number_changes: self.seq_number_changes.view(),
            replacement_outcomes: SeqOf::from_slice(&self.replacement_outcomes),
        }
    }
}

/// An [`UpdateSecurityCredentialsCommand`], owned but for its certificates, which borrow
/// from the caller for `'c`. The fields are the ASN.1 components (`[0]`–`[6]` of the control,
/// then replacements, certification path, execution date-time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedUpdateCommand<'c> {
    /// The mode.
    pub mode: CredentialsReplacementMode,
    /// `[0]`.
    pub plain_text_symmetric_key: Option<Vec<u8>>,
    /// `[1]`.
    pub apply_time_based_cpv_checks: Option<TimeBasedCpvChecks>,
    /// `[2]`.
    pub authorising_cell: Option<TrustAnchorCellIdentifier>,
    /// `[3]`: the grouping header's counter.
    pub authorising_seq_number: SeqNumber,
    /// `[4]`.
    pub new_floor_seq_number: Option<SeqNumber>,
    /// `[5]`.
    pub new_specialist_floor_seq_numbers: Option<Vec<SpecialistSeqNumber>>,
    /// `[6]`.
    pub other_seq_number_changes: Option<OwnedSeqNumberChanges>,
    /// The certificates to place, each with its target cell.
    pub replacements: Vec<TrustAnchorReplacement<'c>>,
    /// The CA certificates that chain them to the device's root.
    pub certification_path: Vec<CertificateDer<'c>>,
    /// When to execute; `None`: now.
    pub execution_date_time: Option<GeneralizedTime>,
}

impl<'c> OwnedUpdateCommand<'c> {
    /// A command of `mode` with counter `[3]` = `counter` and nothing else yet.
    #[must_use]
    pub const fn new(mode: CredentialsReplacementMode, counter: SeqNumber) -> Self {
        Self {
            mode,
            plain_text_symmetric_key: None,
            apply_time_based_cpv_checks: None,
            authorising_cell: None,
            authorising_seq_number: counter,
            new_floor_seq_number: None,
            new_specialist_floor_seq_numbers: None,
            other_seq_number_changes: None,
            replacements: Vec::new(),
            certification_path: Vec::new(),
            execution_date_time: None,
        }
    }

    /// The borrowed view.
    #[must_use]
    pub fn view(&self) -> UpdateSecurityCredentialsCommand<'_> {
        UpdateSecurityCredentialsCommand {
            control: AuthorisingRemotePartyControl {
                mode: self.mode,
                plain_text_symmetric_key: self.plain_text_symmetric_key.as_deref(),
                apply_time_based_cpv_checks: self.apply_time_based_cpv_checks,
                authorising_cell: self.authorising_cell,
                authorising_seq_number: self.authorising_seq_number,
                new_floor_seq_number: self.new_floor_seq_number,
                new_specialist_floor_seq_numbers: self
                    .new_specialist_floor_seq_numbers
                    .as_deref()
                    .map(SeqOf::from_slice),
                other_seq_number_changes: self
                    .other_seq_number_changes
                    .as_ref()
                    .map(OwnedSeqNumberChanges::view),
            },
            replacements: SeqOf::from_slice(&self.replacements),
            certification_path: SeqOf::from_slice(&self.certification_path),
            execution_date_time: self.execution_date_time,
        }
    }

    /// The view as a [`Payload`], ready for `message::build_command`.
    #[must_use]
    pub fn payload(&self) -> Payload<'_> {
        Payload::UpdateSecurityCredentialsCommand(self.view())
    }
}
