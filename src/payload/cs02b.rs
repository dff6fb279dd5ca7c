//! CS02b Update Security Credentials (message codes 0x0100–0x0109; CS02g 0x0125, 0x0126) and
//! its future-dated alert (0x00CB). `gbcs-cs02.md` B.3, checked against every RTDS CS02b and
//! CS02g message.

use crate::ber::{
    self, ber_sequence, context, context_constructed, decode_optional, der_integer, optional_len,
    read_tlv, Decode, Encode, Null, OctetStringRef, SeqOf, Tagged,
};
use crate::codec::{LengthForm, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};
use crate::frame::{EntityId, MessageCode};
use crate::payload::common::{
    CertificateDer, KeyId, RemotePartyRole, SeqNo, SeqNumber, StatusCode, TrustAnchorCellIdentifier,
};
use crate::payload::time::GeneralizedTime;
use crate::wire_enum::wire_enum;

wire_enum! {
    /// `CredentialsReplacementMode ::= INTEGER`, 0–11 (`gbcs-cs02.md` B.4). Unknown values
    /// are kept. The message code that carries each mode is in [`MODE_MESSAGE_CODES`].
    pub struct CredentialsReplacementMode(u8);
    unknown "{}";
    /// rootBySupplier (0), 0x0100.
    ROOT_BY_SUPPLIER = 0 => "rootBySupplier",
    /// rootByWanProvider (1), 0x0101.
    ROOT_BY_WAN_PROVIDER = 1 => "rootByWanProvider",
    /// supplierBySupplier (2), 0x0102.
    SUPPLIER_BY_SUPPLIER = 2 => "supplierBySupplier",
    /// networkOperatorByNetworkOperator (3), 0x0103.
    NETWORK_OPERATOR_BY_NETWORK_OPERATOR = 3 => "networkOperatorByNetworkOperator",
    /// accessControlBrokerByACB (4), 0x0104.
    ACCESS_CONTROL_BROKER_BY_ACB = 4 => "accessControlBrokerByACB",
    /// wanProviderByWanProvider (5), 0x0105.
    WAN_PROVIDER_BY_WAN_PROVIDER = 5 => "wanProviderByWanProvider",
    /// transCoSByTransCoS (6), 0x0106: the migration command.
    TRANS_COS_BY_TRANS_COS = 6 => "transCoSByTransCoS",
    /// supplierByTransCoS (7), 0x0107: SRV 6.23.
    SUPPLIER_BY_TRANS_COS = 7 => "supplierByTransCoS",
    /// anyExceptAbnormalRootByRecovery (8), 0x0108.
    ANY_EXCEPT_ABNORMAL_ROOT_BY_RECOVERY = 8 => "anyExceptAbnormalRootByRecovery",
    /// anyByContingency (9), 0x0109.
    ANY_BY_CONTINGENCY = 9 => "anyByContingency",
    /// loadControllerByLoadController (10), CS02g 0x0125.
    LOAD_CONTROLLER_BY_LOAD_CONTROLLER = 10 => "loadControllerByLoadController",
    /// loadControllerBySupplier (11), CS02g 0x0126.
    LOAD_CONTROLLER_BY_SUPPLIER = 11 => "loadControllerBySupplier",
}
der_integer!(
    CredentialsReplacementMode(u8),
    ber::INTEGER,
    "credentialsReplacementMode"
);

/// Each CS02b/CS02g replacement mode and the message code that carries it: the one statement
/// of that mapping in the crate (`gbcs-cs02.md` B.3: 0x0100 + mode for modes 0–9, CS02g's
/// 0x0125 and 0x0126 for 10 and 11).
pub const MODE_MESSAGE_CODES: [(CredentialsReplacementMode, MessageCode); 12] = [
    (
        CredentialsReplacementMode::ROOT_BY_SUPPLIER,
        MessageCode::CS02B_ROOT_BY_SUPPLIER,
    ),
    (
        CredentialsReplacementMode::ROOT_BY_WAN_PROVIDER,
        MessageCode::CS02B_ROOT_BY_WAN_PROVIDER,
    ),
    (
        CredentialsReplacementMode::SUPPLIER_BY_SUPPLIER,
        MessageCode::CS02B_SUPPLIER_BY_SUPPLIER,
    ),
    (
        CredentialsReplacementMode::NETWORK_OPERATOR_BY_NETWORK_OPERATOR,
        MessageCode::CS02B_NO_BY_NO,
    ),
    (
        CredentialsReplacementMode::ACCESS_CONTROL_BROKER_BY_ACB,
        MessageCode::CS02B_ACB_BY_ACB,
    ),
    (
        CredentialsReplacementMode::WAN_PROVIDER_BY_WAN_PROVIDER,
        MessageCode::CS02B_WAN_PROVIDER_BY_WAN_PROVIDER,
    ),
    (
        CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
        MessageCode::CS02B_TRANS_COS_BY_TRANS_COS,
    ),
    (
        CredentialsReplacementMode::SUPPLIER_BY_TRANS_COS,
        MessageCode::CS02B_SUPPLIER_BY_TRANS_COS,
    ),
    (
        CredentialsReplacementMode::ANY_EXCEPT_ABNORMAL_ROOT_BY_RECOVERY,
        MessageCode::CS02B_RECOVERY,
    ),
    (
        CredentialsReplacementMode::ANY_BY_CONTINGENCY,
        MessageCode::CS02B_CONTINGENCY,
    ),
    (
        CredentialsReplacementMode::LOAD_CONTROLLER_BY_LOAD_CONTROLLER,
        MessageCode::CS02G_LOAD_CONTROLLER_BY_LOAD_CONTROLLER,
    ),
    (
        CredentialsReplacementMode::LOAD_CONTROLLER_BY_SUPPLIER,
        MessageCode::CS02G_LOAD_CONTROLLER_BY_SUPPLIER,
    ),
];

impl CredentialsReplacementMode {
    /// The message code that carries this mode ([`MODE_MESSAGE_CODES`]).
    #[must_use]
    pub fn message_code(self) -> Option<MessageCode> {
        MODE_MESSAGE_CODES
            .iter()
            .find(|&&(mode, _)| mode == self)
            .map(|&(_, code)| code)
    }

    /// The mode a message code carries ([`MODE_MESSAGE_CODES`]); `None` for a code that
    /// carries no Update Security Credentials command.
    #[must_use]
    pub fn from_message_code(code: MessageCode) -> Option<Self> {
        MODE_MESSAGE_CODES
            .iter()
            .find(|&&(_, c)| c == code)
            .map(|&(mode, _)| mode)
    }
}

wire_enum! {
    /// `applyTimeBasedCPVChecks [1] IMPLICIT INTEGER { apply(0), disapply(1) }`. Absent means
    /// apply. Unknown values are kept.
    pub struct TimeBasedCpvChecks(u8);
    unknown "{}";
    /// apply (0).
    APPLY = 0 => "apply",
    /// disapply (1): the device ignores validity periods during certification path validation.
    DISAPPLY = 1 => "disapply",
}
der_integer!(
    TimeBasedCpvChecks(u8),
    context(1),
    "applyTimeBasedCPVChecks"
);

wire_enum! {
    /// `seqNumberUsage INTEGER { prePaymentTopUp(0) }`. Unknown values are kept.
    pub struct SeqNumberUsage(u8);
    unknown "{}";
    /// prePaymentTopUp (0).
    PREPAYMENT_TOP_UP = 0 => "prePaymentTopUp",
}
der_integer!(SeqNumberUsage(u8), ber::INTEGER, "seqNumberUsage");

wire_enum! {
    /// The alert code of a 0x00CB (CS02b) or 0x0124 (CS02g) alert. Unknown values are kept.
    pub struct AlertCode(u16);
    unknown "0x{:04X}";
    /// 0x8F66: future-dated command successfully actioned.
    FUTURE_DATED_SUCCESS = 0x8F66 => "futureDatedCommandActioned",
    /// 0x8F67: future-dated command not successfully actioned.
    FUTURE_DATED_FAILURE = 0x8F67 => "futureDatedCommandNotActioned",
}
der_integer!(AlertCode(u16), ber::INTEGER, "alertCode");

/// ```text
/// SpecialistSeqNumber ::= SEQUENCE {
///     seqNumberUsage INTEGER { prePaymentTopUp(0) },
///     seqNumber      SeqNumber }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpecialistSeqNumber {
    /// What the counter is for.
    pub usage: SeqNumberUsage,
    /// The counter value.
    pub seq_number: SeqNumber,
}

ber_sequence! {
    impl<'a> SpecialistSeqNumber {
        usage: req SeqNumberUsage => "seqNumberUsage" as "seq_number_usage",
        seq_number: req SeqNo => "seqNumber" as "seq_number",
    }
}

/// ```text
/// RemotePartySeqNumberChange ::= SEQUENCE {
///     remotePartyRole           RemotePartyRole,
///     floorSeqNumber            SeqNumber,
///     specialistFloorSeqNumbers SEQUENCE OF SpecialistSeqNumber OPTIONAL }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemotePartySeqNumberChange<'a> {
    /// The role whose floor changes.
    pub role: RemotePartyRole,
    /// The new floor.
    pub floor_seq_number: SeqNumber,
    /// Specialist (prepayment top-up) floors.
    pub specialist_floor_seq_numbers: Option<SeqOf<'a, SpecialistSeqNumber>>,
}

ber_sequence! {
    impl<'a> RemotePartySeqNumberChange<'a> {
        role: req RemotePartyRole => "remotePartyRole" as "remote_party_role",
        floor_seq_number: req SeqNo => "floorSeqNumber" as "floor_seq_number",
        specialist_floor_seq_numbers: opt SeqOf<'a, SpecialistSeqNumber> => "specialistFloorSeqNumbers" as "specialist_floor_seq_numbers",
    }
}

/// ```text
/// TrustAnchorReplacement ::= SEQUENCE {
///     replacementCertificate Certificate,
///     targetTrustAnchorCell  TrustAnchorCellIdentifier }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustAnchorReplacement<'a> {
    /// The new certificate, exact DER.
    pub certificate: CertificateDer<'a>,
    /// The cell it goes into.
    pub target_cell: TrustAnchorCellIdentifier,
}

ber_sequence! {
    impl<'a> TrustAnchorReplacement<'a> {
        certificate: req CertificateDer<'a> => "replacementCertificate" as "replacement_certificate",
        target_cell: req TrustAnchorCellIdentifier => "targetTrustAnchorCell" as "target_trust_anchor_cell",
    }
}

/// ```text
/// AuthorisingRemotePartyControl ::= SEQUENCE {
///     credentialsReplacementMode              CredentialsReplacementMode,
///     plainTextSymmetricKey                  [0] IMPLICIT OCTET STRING OPTIONAL,
///     applyTimeBasedCPVChecks                [1] IMPLICIT INTEGER {apply(0), disapply(1)} OPTIONAL,
///     authorisingRemotePartyTACellIdentifier [2] IMPLICIT TrustAnchorCellIdentifier OPTIONAL,
///     authorisingRemotePartySeqNumber        [3] IMPLICIT SeqNumber,
///     newRemotePartyFloorSeqNumber           [4] IMPLICIT SeqNumber OPTIONAL,
///     newRemotePartySpecialistFloorSeqNumber [5] IMPLICIT SEQUENCE OF SpecialistSeqNumber OPTIONAL,
///     otherRemotePartySeqNumberChanges       [6] IMPLICIT SEQUENCE OF RemotePartySeqNumberChange OPTIONAL }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthorisingRemotePartyControl<'a> {
    /// The mode; must agree with the message code.
    pub mode: CredentialsReplacementMode,
    /// `[0]`, only for anyByContingency.
    pub plain_text_symmetric_key: Option<&'a [u8]>,
    /// `[1]`; absent means apply.
    pub apply_time_based_cpv_checks: Option<TimeBasedCpvChecks>,
    /// `[2]`, the cell whose key verifies the command (absent for accessControlBrokerByACB).
    pub authorising_cell: Option<TrustAnchorCellIdentifier>,
    /// `[3]`, the authorising party's counter (equal to the grouping header counter).
    pub authorising_seq_number: SeqNumber,
    /// `[4]`, a new floor for the authorising role.
    pub new_floor_seq_number: Option<SeqNumber>,
    /// `[5]`, new specialist floors for the authorising role.
    pub new_specialist_floor_seq_numbers: Option<SeqOf<'a, SpecialistSeqNumber>>,
    /// `[6]`, floors for other roles.
    pub other_seq_number_changes: Option<SeqOf<'a, RemotePartySeqNumberChange<'a>>>,
}

ber_sequence! {
    impl<'a> AuthorisingRemotePartyControl<'a> {
        mode: req CredentialsReplacementMode => "credentialsReplacementMode" as "credentials_replacement_mode",
        plain_text_symmetric_key: opt OctetStringRef<'a> [context(0)] => "plainTextSymmetricKey" as "plain_text_symmetric_key",
        apply_time_based_cpv_checks: opt TimeBasedCpvChecks [context(1)] => "applyTimeBasedCPVChecks" as "apply_time_based_cpv_checks",
        authorising_cell: opt TrustAnchorCellIdentifier [context_constructed(2)]
            => "authorisingRemotePartyTACellIdentifier" as "authorising_remote_party_ta_cell_identifier",
        authorising_seq_number: req SeqNo [context(3)] => "authorisingRemotePartySeqNumber" as "authorising_remote_party_seq_number",
        new_floor_seq_number: opt SeqNo [context(4)] => "newRemotePartyFloorSeqNumber" as "new_remote_party_floor_seq_number",
        new_specialist_floor_seq_numbers: opt SeqOf<'a, SpecialistSeqNumber> [context_constructed(5)]
            => "newRemotePartySpecialistFloorSeqNumber" as "new_remote_party_specialist_floor_seq_number",
        other_seq_number_changes: opt SeqOf<'a, RemotePartySeqNumberChange<'a>> [context_constructed(6)]
            => "otherRemotePartySeqNumberChanges" as "other_remote_party_seq_number_changes",
    }
}

/// ```text
/// UpdateSecurityCredentials-CommandPayload ::= SEQUENCE {
///     authorisingRemotePartyControl AuthorisingRemotePartyControl,
///     replacements                  SEQUENCE OF TrustAnchorReplacement,
///     certificationPathCertificates SEQUENCE OF Certificate,
///     executionDateTime             GeneralizedTime OPTIONAL }   -- absent = execute now
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateSecurityCredentialsCommand<'a> {
    /// Mode, authorising cell, sequence numbers and floors.
    pub control: AuthorisingRemotePartyControl<'a>,
    /// The certificates to place, each with its target cell.
    pub replacements: SeqOf<'a, TrustAnchorReplacement<'a>>,
    /// The CA certificates that chain the replacements to the device's root.
    pub certification_path: SeqOf<'a, CertificateDer<'a>>,
    /// When to execute; absent = now; [`GeneralizedTime::CANCELLATION`] cancels.
    pub execution_date_time: Option<GeneralizedTime>,
}

impl<'a> UpdateSecurityCredentialsCommand<'a> {
    /// Decodes a command carried under `code`, checking that its mode agrees with the code.
    ///
    /// # Errors
    /// Decoding errors, and [`ErrorKind::ModeMismatch`] at the mode's offset.
    pub fn from_ber_for(bytes: &'a [u8], base: usize, code: MessageCode) -> Result<Self> {
        let mut r = Reader::new(bytes, base);
        let mut outer = read_tlv(&mut r, ber::SEQUENCE, "UpdateSecurityCredentials command")?;
        // The mode is the first element of the first element.
        let mode_at = {
            let mut probe = outer;
            let control = read_tlv(&mut probe, ber::SEQUENCE, "authorisingRemotePartyControl")?;
            control.offset()
        };
        let out = Self::decode_value(&mut outer)?;
        outer.finish("UpdateSecurityCredentials command")?;
        r.finish("end of payload")?;
        if out.control.mode.message_code() != Some(code) {
            return Err(Error::new(
                ErrorKind::ModeMismatch,
                mode_at,
                "credentialsReplacementMode",
            ));
        }
        Ok(out)
    }

    /// The message code that must carry this command.
    #[must_use]
    pub fn message_code(&self) -> Option<MessageCode> {
        self.control.mode.message_code()
    }
}

ber_sequence! {
    impl<'a> UpdateSecurityCredentialsCommand<'a> {
        control: req AuthorisingRemotePartyControl<'a> => "authorisingRemotePartyControl" as "authorising_remote_party_control",
        replacements: req SeqOf<'a, TrustAnchorReplacement<'a>> => "replacements" as "replacements",
        certification_path: req SeqOf<'a, CertificateDer<'a>> => "certificationPathCertificates" as "certification_path_certificates",
        execution_date_time: opt GeneralizedTime => "executionDateTime" as "execution_date_time",
    }
}

/// ```text
/// ReplacementOutcome ::= SEQUENCE {
///     affectedTrustAnchorCell       TrustAnchorCellIdentifier,
///     statusCode                    StatusCode,
///     existingSubjectUniqueID       OCTET STRING,   -- the cell before
///     existingSubjectKeyIdentifier  OCTET STRING,
///     replacingSubjectUniqueID      OCTET STRING,   -- the cell after (= existing on failure)
///     replacingSubjectKeyIdentifier OCTET STRING }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplacementOutcome {
    /// The cell.
    pub cell: TrustAnchorCellIdentifier,
    /// The outcome.
    pub status: StatusCode,
    /// Entity ID in the cell before.
    pub existing_subject_unique_id: EntityId,
    /// Key ID in the cell before.
    pub existing_subject_key_identifier: KeyId,
    /// Entity ID in the cell after.
    pub replacing_subject_unique_id: EntityId,
    /// Key ID in the cell after.
    pub replacing_subject_key_identifier: KeyId,
}

ber_sequence! {
    impl<'a> ReplacementOutcome {
        cell: req TrustAnchorCellIdentifier => "affectedTrustAnchorCell" as "affected_trust_anchor_cell",
        status: req StatusCode => "statusCode" as "status_code",
        existing_subject_unique_id: req EntityId => "existingSubjectUniqueID" as "existing_subject_unique_id",
        existing_subject_key_identifier: req KeyId => "existingSubjectKeyIdentifier" as "existing_subject_key_identifier",
        replacing_subject_unique_id: req EntityId => "replacingSubjectUniqueID" as "replacing_subject_unique_id",
        replacing_subject_key_identifier: req KeyId => "replacingSubjectKeyIdentifier" as "replacing_subject_key_identifier",
    }
}

/// ```text
/// ExecutionOutcome ::= SEQUENCE {
///     authorisingRemotePartySeqNumber SeqNumber,
///     credentialsReplacementMode      CredentialsReplacementMode,
///     remotePartySeqNumberChanges     SEQUENCE OF RemotePartySeqNumberChange,
///     replacementOutcomes             SEQUENCE OF ReplacementOutcome }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecutionOutcome<'a> {
    /// The command's `[3]`, tying the outcome to it.
    pub authorising_seq_number: SeqNumber,
    /// The command's mode.
    pub mode: CredentialsReplacementMode,
    /// The floors the device applied.
    pub seq_number_changes: SeqOf<'a, RemotePartySeqNumberChange<'a>>,
    /// One outcome per replacement.
    pub replacement_outcomes: SeqOf<'a, ReplacementOutcome>,
}

impl ExecutionOutcome<'_> {
    /// The outcome for `cell`, if the device reported one.
    #[must_use]
    pub fn outcome_for(&self, cell: TrustAnchorCellIdentifier) -> Option<ReplacementOutcome> {
        self.replacement_outcomes.iter().find(|o| o.cell == cell)
    }
}

ber_sequence! {
    impl<'a> ExecutionOutcome<'a> {
        authorising_seq_number: req SeqNo => "authorisingRemotePartySeqNumber" as "authorising_remote_party_seq_number",
        mode: req CredentialsReplacementMode => "credentialsReplacementMode" as "credentials_replacement_mode",
        seq_number_changes: req SeqOf<'a, RemotePartySeqNumberChange<'a>> => "remotePartySeqNumberChanges" as "remote_party_seq_number_changes",
        replacement_outcomes: req SeqOf<'a, ReplacementOutcome> => "replacementOutcomes" as "replacement_outcomes",
    }
}

/// ```text
/// UpdateSecurityCredentials-ResponsePayload ::= SEQUENCE {
///     commandAccepted  NULL,
///     executionOutcome ExecutionOutcome OPTIONAL }   -- absent when future-dated or cancelled
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateSecurityCredentialsResponse<'a> {
    /// The outcome of an immediate execution; `None` for an accepted future-dated command.
    pub execution_outcome: Option<ExecutionOutcome<'a>>,
}

impl Tagged for UpdateSecurityCredentialsResponse<'_> {
    const TAG: u8 = ber::SEQUENCE;
}

impl<'a> Decode<'a> for UpdateSecurityCredentialsResponse<'a> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        Null::decode(r, "commandAccepted")?;
        Ok(Self {
            execution_outcome: decode_optional(r, ber::SEQUENCE, "executionOutcome")?,
        })
    }
}

/// `{"command_accepted": "NULL", "execution_outcome": {...} | null}`.
#[cfg(feature = "serde")]
impl serde::Serialize for UpdateSecurityCredentialsResponse<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("UpdateSecurityCredentialsResponse", 2)?;
        st.serialize_field("command_accepted", "NULL")?;
        st.serialize_field("execution_outcome", &self.execution_outcome)?;
        st.end()
    }
}

impl Encode for UpdateSecurityCredentialsResponse<'_> {
    fn value_len_in(&self, form: LengthForm) -> usize {
        Null.encoded_len_in(form) + optional_len(self.execution_outcome.as_ref(), form)
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        Null.encode(w)?;
        ber::encode_optional(w, self.execution_outcome.as_ref(), ber::SEQUENCE)
    }
}

/// ```text
/// UpdateSecurityCredentials-AlertPayload ::= SEQUENCE {   -- message code 0x00CB
///     alertCode         INTEGER,           -- 0x8F66 success / 0x8F67 failure
///     executionDateTime GeneralizedTime,
///     executionOutcome  ExecutionOutcome }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateSecurityCredentialsAlert<'a> {
    /// Success or failure of the future-dated command.
    pub alert_code: AlertCode,
    /// The time the command was scheduled for.
    pub execution_date_time: GeneralizedTime,
    /// What the device did.
    pub execution_outcome: ExecutionOutcome<'a>,
}

ber_sequence! {
    impl<'a> UpdateSecurityCredentialsAlert<'a> {
        alert_code: req AlertCode => "alertCode" as "alert_code",
        execution_date_time: req GeneralizedTime => "executionDateTime" as "execution_date_time",
        execution_outcome: req ExecutionOutcome<'a> => "executionOutcome" as "execution_outcome",
    }
}

/// Checks that `mode` is the one `code` carries.
///
/// # Errors
/// [`ErrorKind::ModeMismatch`].
pub fn check_mode(code: MessageCode, mode: CredentialsReplacementMode) -> Result<()> {
    if mode.message_code() == Some(code) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::ModeMismatch,
            0,
            "credentialsReplacementMode",
        ))
    }
}
