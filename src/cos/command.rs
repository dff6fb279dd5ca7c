//! Building the change-of-supplier commands: SRV 6.23 as CS02b supplierByTransCoS (0x0107)
//! exactly as DCC builds it (`gbcs-cs02.md` C.4), the TCoS→ECoS migration as CS02b
//! transCoSByTransCoS (0x0106), and the CS02a role-5 query from the ACB.
//!
//! The builders refuse a signer whose credential is not the one the meter holds, and a
//! migration replacement that is not an ECoS-party role-5 DS certificate (`ecos.md` §6).

use alloc::vec::Vec;
use core::fmt;

use crate::cos::registry::{cos_credential, CosParty, CosRegistry, Credential};
use crate::cos::route::Route;
use crate::crypto::{SharedSecret, SignatureSigner};
use crate::frame::{EntityId, MessageCode};
use crate::message::{self, CommandHeader, GbcsError};
use crate::payload::{
    CellUsage, CertificateDer, CredentialDetailsCommand, CredentialsReplacementMode,
    GeneralizedTime, KeyUsage, OwnedSeqNumberChanges, OwnedUpdateCommand, Payload, RemotePartyRole,
    RemotePartySeqNumberChange, SeqNumber, SeqNumberUsage, SeqOf, SpecialistSeqNumber,
    TimeBasedCpvChecks, TrustAnchorCellIdentifier, TrustAnchorReplacement,
};
use crate::smki::SmkiCertificate;

/// A signer with the credential it signs as (its key may live in an HSM).
#[derive(Clone, Copy)]
pub struct CosSigner<'a> {
    /// The credential (entity ID and key ID) of the signing key.
    pub credential: Credential,
    /// The signer (shared across the bulk engine's threads, hence `Sync`).
    pub signer: &'a (dyn SignatureSigner + Sync),
}

impl fmt::Debug for CosSigner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosSigner")
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// Why a command was not built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The route does not allow signing (query first, or refused).
    NotSignable(Route),
    /// The signer's credential is not the one the meter holds (or not its party's).
    WrongSigner {
        /// The credential the meter holds, when known.
        expected: Option<Credential>,
        /// The signer's credential.
        found: Credential,
    },
    /// The migration replacement is not an ECoS-party role-5 DS certificate.
    NotEcosCertificate,
    /// Encoding or signing failed.
    Message(GbcsError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSignable(r) => write!(f, "route {r:?} does not allow a signed command"),
            Self::WrongSigner {
                expected: Some(e),
                found,
            } => write!(
                f,
                "signer {found} is not the credential the meter holds ({e})"
            ),
            Self::WrongSigner {
                expected: None,
                found,
            } => write!(
                f,
                "signer {found} is not a credential of the party the meter holds"
            ),
            Self::NotEcosCertificate => {
                f.write_str("the replacement is not an ECoS-party transitionalCoS DS certificate")
            }
            Self::Message(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for BuildError {}

impl From<GbcsError> for BuildError {
    fn from(e: GbcsError) -> Self {
        Self::Message(e)
    }
}

/// When a CS02b is to execute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Execution {
    /// At once: no executionDateTime.
    Immediate,
    /// At this time (future-dated).
    At(GeneralizedTime),
    /// Cancel a pending future-dated command: `99991231235959Z`.
    Cancel,
}

impl Execution {
    const fn date_time(self) -> Option<GeneralizedTime> {
        match self {
            Self::Immediate => None,
            Self::At(t) => Some(t),
            Self::Cancel => Some(GeneralizedTime::CANCELLATION),
        }
    }
}

/// A typed SRV 6.23 "Update Security Credentials (CoS)" request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeOfSupplierRequest<'a> {
    /// The target device.
    pub target: EntityId,
    /// The new supplier's DS certificate (→ {supplier, digitalSignature}).
    pub supplier_ds: CertificateDer<'a>,
    /// The new supplier's KA certificate (→ {supplier, keyAgreement}).
    pub supplier_ka: Option<CertificateDer<'a>>,
    /// The new supplier's KA top-up certificate (→ {supplier, keyAgreement, prePaymentTopUp}).
    pub supplier_prepayment_ka: Option<CertificateDer<'a>>,
    /// The certification path certificates.
    pub certification_path: &'a [CertificateDer<'a>],
    /// SupplierFloorSeqNumber → `[6]` {supplier, floor}.
    pub supplier_floor: SeqNumber,
    /// SupplierPrepaymentTopUpFloorSeqNumber → its specialist floor {prePaymentTopUp, n}.
    pub prepayment_floor: Option<SeqNumber>,
    /// ApplyTimeBasedCPVChecks: true → `[1]` absent; false → `[1] = disapply`.
    pub apply_time_based_cpv_checks: bool,
    /// ExecutionDateTime (or cancellation).
    pub execution: Execution,
}

const SUPPLIER_DS: TrustAnchorCellIdentifier =
    TrustAnchorCellIdentifier::new(RemotePartyRole::SUPPLIER, KeyUsage::DIGITAL_SIGNATURE);
const SUPPLIER_KA: TrustAnchorCellIdentifier =
    TrustAnchorCellIdentifier::new(RemotePartyRole::SUPPLIER, KeyUsage::KEY_AGREEMENT);
const SUPPLIER_KA_TOP_UP: TrustAnchorCellIdentifier = TrustAnchorCellIdentifier {
    role: RemotePartyRole::SUPPLIER,
    key_usage: KeyUsage::KEY_AGREEMENT,
    cell_usage: CellUsage::PREPAYMENT_TOP_UP,
};

fn cpv(apply: bool) -> Option<TimeBasedCpvChecks> {
    (!apply).then_some(TimeBasedCpvChecks::DISAPPLY)
}

impl<'a> ChangeOfSupplierRequest<'a> {
    /// The 0x0107 payload for counter `counter` (`[3]` = the grouping-header counter).
    ///
    /// # Errors
    /// [`crate::Error`] for a floor above 2^63 − 1.
    pub fn payload(&self, counter: SeqNumber) -> Result<OwnedUpdateCommand<'a>, crate::Error> {
        let topup = self.prepayment_floor.map(|n| {
            [SpecialistSeqNumber {
                usage: SeqNumberUsage::PREPAYMENT_TOP_UP,
                seq_number: n,
            }]
        });
        let changes = OwnedSeqNumberChanges::new(&[RemotePartySeqNumberChange {
            role: RemotePartyRole::SUPPLIER,
            floor_seq_number: self.supplier_floor,
            specialist_floor_seq_numbers: topup.as_ref().map(|t| SeqOf::from_slice(t)),
        }])?;
        let mut cmd =
            OwnedUpdateCommand::new(CredentialsReplacementMode::SUPPLIER_BY_TRANS_COS, counter);
        cmd.apply_time_based_cpv_checks = cpv(self.apply_time_based_cpv_checks);
        cmd.authorising_cell = Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS);
        // DCC's SRV 6.23 cancellation carries no [6] although the request has its floor
        // elements (unlike 6.15.1, whose cancellation keeps [4]/[5]).
        cmd.other_seq_number_changes = (self.execution != Execution::Cancel).then_some(changes);
        cmd.replacements.push(TrustAnchorReplacement {
            certificate: self.supplier_ds,
            target_cell: SUPPLIER_DS,
        });
        if let Some(c) = self.supplier_ka {
            cmd.replacements.push(TrustAnchorReplacement {
                certificate: c,
                target_cell: SUPPLIER_KA,
            });
        }
        if let Some(c) = self.supplier_prepayment_ka {
            cmd.replacements.push(TrustAnchorReplacement {
                certificate: c,
                target_cell: SUPPLIER_KA_TOP_UP,
            });
        }
        cmd.certification_path
            .extend_from_slice(self.certification_path);
        cmd.execution_date_time = self.execution.date_time();
        Ok(cmd)
    }

    /// The pre-command from `originator` (the party in the cell) with counter `counter`.
    ///
    /// # Errors
    /// [`GbcsError`] when a value cannot be encoded.
    pub fn precommand(
        &self,
        originator: EntityId,
        counter: SeqNumber,
    ) -> Result<Vec<u8>, GbcsError> {
        let header = self.header(originator, counter);
        message::build_precommand(&header, &self.payload(counter)?.payload())
    }

    /// The 0x0107 command header from `originator` (the party in the meter's {transCoS, DS}
    /// cell, who signs) with counter `counter`, to the target device.
    #[must_use]
    pub fn header(&self, originator: EntityId, counter: SeqNumber) -> CommandHeader {
        CommandHeader {
            message_code: MessageCode::CS02B_SUPPLIER_BY_TRANS_COS,
            counter,
            originator,
            recipient: self.target,
        }
    }

    /// The signed and ACB-MAC'd 0x0107 along `route`, signed by `signer` — refused unless
    /// `signer` is the credential the meter holds (or, for a route known only from the
    /// inventory, a credential of that party in `registry`).
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn build(
        &self,
        route: &Route,
        registry: &CosRegistry,
        signer: &CosSigner<'_>,
        counter: SeqNumber,
        acb_secret: &SharedSecret,
    ) -> Result<Vec<u8>, BuildError> {
        let party = route.cell_party().ok_or(BuildError::NotSignable(*route))?;
        check_signer(route.credential(), party, registry, signer)?;
        let header = self.header(signer.credential.entity_id, counter);
        let payload = self.payload(counter).map_err(GbcsError::from)?;
        Ok(message::build_command(
            &header,
            &payload.payload(),
            Some(signer.signer),
            Some(acb_secret),
        )?)
    }
}

fn check_signer(
    expected: Option<Credential>,
    party: CosParty,
    registry: &CosRegistry,
    signer: &CosSigner<'_>,
) -> Result<(), BuildError> {
    let ok = match expected {
        Some(e) => e == signer.credential,
        None => registry.holds(party, &signer.credential),
    };
    if ok {
        Ok(())
    } else {
        Err(BuildError::WrongSigner {
            expected,
            found: signer.credential,
        })
    }
}

/// The migration command: CS02b transCoSByTransCoS (0x0106) putting the ECoS party's DS
/// certificate into {5, DS}, signed by the TCoS credential in the cell, MAC'd by the ACB.
///
/// Built once per migration ([`MigrationCommand::new`] checks the ECoS certificate), then
/// [`MigrationCommand::build`] per device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrationCommand<'a> {
    ecos_certificate: CertificateDer<'a>,
    certification_path: &'a [CertificateDer<'a>],
    new_floor: Option<SeqNumber>,
    apply_time_based_cpv_checks: bool,
    ecos: Credential,
    execution: Execution,
}

impl<'a> MigrationCommand<'a> {
    /// The same command, future-dated to `at` (the device accepts it at once and reports the
    /// outcome in a 0x00CB alert when its clock reaches `at`).
    #[must_use]
    pub const fn scheduled_at(self, at: GeneralizedTime) -> Self {
        Self {
            execution: Execution::At(at),
            ..self
        }
    }

    /// A migration to `ecos_certificate` (through `certification_path`). `new_floor` is `[4]`,
    /// the role-5 floor after the change of control so the ECoS party can start its own
    /// counter sequence (our decision: default 0, see `MigrationPolicy::ecos_floor`);
    /// `apply_time_based_cpv_checks` false sets `[1] = disapply`.
    ///
    /// # Errors
    /// [`BuildError::NotEcosCertificate`] unless the certificate is a role-5 DS certificate
    /// of the ECoS party in `registry`.
    pub fn new(
        registry: &CosRegistry,
        ecos_certificate: CertificateDer<'a>,
        certification_path: &'a [CertificateDer<'a>],
        new_floor: Option<SeqNumber>,
        apply_time_based_cpv_checks: bool,
    ) -> Result<Self, BuildError> {
        let cert = SmkiCertificate::from_der(ecos_certificate.as_bytes())
            .map_err(|_| BuildError::NotEcosCertificate)?;
        let ecos = cos_credential(&cert).ok_or(BuildError::NotEcosCertificate)?;
        if !registry.holds(CosParty::Ecos, &ecos) {
            return Err(BuildError::NotEcosCertificate);
        }
        Ok(Self {
            ecos_certificate,
            certification_path,
            new_floor,
            apply_time_based_cpv_checks,
            ecos,
            execution: Execution::Immediate,
        })
    }

    /// The ECoS credential the command installs.
    #[must_use]
    pub const fn ecos_credential(&self) -> Credential {
        self.ecos
    }

    /// The 0x0106 payload for counter `counter`.
    #[must_use]
    pub fn payload(&self, counter: SeqNumber) -> OwnedUpdateCommand<'a> {
        let mut cmd =
            OwnedUpdateCommand::new(CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS, counter);
        cmd.apply_time_based_cpv_checks = cpv(self.apply_time_based_cpv_checks);
        cmd.authorising_cell = Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS);
        cmd.new_floor_seq_number = self.new_floor;
        cmd.replacements.push(TrustAnchorReplacement {
            certificate: self.ecos_certificate,
            target_cell: TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
        });
        cmd.certification_path
            .extend_from_slice(self.certification_path);
        cmd.execution_date_time = self.execution.date_time();
        cmd
    }

    /// The signed, MAC'd 0x0106 for `target`. `in_cell` is the TCoS credential the meter
    /// holds; `signer` must be it, and it must be a registered TCoS credential.
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn build(
        &self,
        registry: &CosRegistry,
        target: EntityId,
        in_cell: Credential,
        signer: &CosSigner<'_>,
        counter: SeqNumber,
        acb_secret: &SharedSecret,
    ) -> Result<Vec<u8>, BuildError> {
        if !registry.holds(CosParty::Tcos, &in_cell) {
            return Err(BuildError::WrongSigner {
                expected: Some(in_cell),
                found: signer.credential,
            });
        }
        check_signer(Some(in_cell), CosParty::Tcos, registry, signer)?;
        let header = CommandHeader {
            message_code: MessageCode::CS02B_TRANS_COS_BY_TRANS_COS,
            counter,
            originator: signer.credential.entity_id,
            recipient: target,
        };
        Ok(message::build_command(
            &header,
            &self.payload(counter).payload(),
            Some(signer.signer),
            Some(acb_secret),
        )?)
    }
}

/// The CS02a the ACB sends to learn what a device holds in its role-5 cells: authorised by
/// {accessControlBroker, keyAgreement}, no signature, MAC'd.
///
/// # Errors
/// [`GbcsError`] when encoding fails.
pub fn credential_query(
    acb: EntityId,
    device: EntityId,
    counter: SeqNumber,
    acb_secret: &SharedSecret,
) -> Result<Vec<u8>, GbcsError> {
    credential_query_for(
        MessageCode::CS02A,
        acb,
        device,
        counter,
        &[RemotePartyRole::TRANSITIONAL_COS],
        Some(acb_secret),
    )
}

/// The CS02a (0x0008) or CS02f (0x011B) the ACB sends for `roles`: authorised by
/// {accessControlBroker, keyAgreement}, signature byte `00`, MAC'd with `acb_secret` (the
/// pre-command and `00` when `None`).
///
/// # Errors
/// [`GbcsError`] for a code other than CS02a/CS02f, or an encoding fault.
pub fn credential_query_for(
    code: MessageCode,
    acb: EntityId,
    device: EntityId,
    counter: SeqNumber,
    roles: &[RemotePartyRole],
    acb_secret: Option<&SharedSecret>,
) -> Result<Vec<u8>, GbcsError> {
    let (header, payload) = credential_query_parts(code, acb, device, counter, roles);
    message::build_command(&header, &payload, None, acb_secret)
}

/// The header and payload of the ACB's credential read of `device` (see
/// [`credential_query_for`]), for a caller that signs or MACs elsewhere.
#[must_use]
pub fn credential_query_parts<'r>(
    code: MessageCode,
    acb: EntityId,
    device: EntityId,
    counter: SeqNumber,
    roles: &'r [RemotePartyRole],
) -> (CommandHeader, Payload<'r>) {
    let payload = Payload::CredentialDetailsCommand(CredentialDetailsCommand {
        authorising_cell: TrustAnchorCellIdentifier::ACB_KA,
        roles: SeqOf::from_slice(roles),
    });
    let header = CommandHeader {
        message_code: code,
        counter,
        originator: acb,
        recipient: device,
    };
    (header, payload)
}
