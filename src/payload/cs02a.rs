//! CS02a Provide Security Credential Details (message code 0x0008; CS02f, 0x011B, carries the
//! same payloads). `gbcs-cs02.md` B.2, checked against the RTDS `6.24.1_CS02aMAC`,
//! `NA_CS02aSignature`, `6.24.1_CS02fMAC` and `NA_CS02fSignature` messages.

use crate::ber::{self, ber_sequence, Decode, Encode, SeqOf, Tagged};
use crate::codec::{LengthForm, Reader, Writer};
use crate::error::Result;
use crate::frame::EntityId;
use crate::payload::common::{
    CellUsage, KeyId, KeyUsage, RemotePartyRole, SeqNo, SeqNumber, StatusCode,
    TrustAnchorCellIdentifier,
};

/// ```text
/// ProvideSecurityCredentialDetails-CommandPayload ::= SEQUENCE {
///     authorisingRemotePartyTACellIdentifier TrustAnchorCellIdentifier,
///     remotePartyRolesCredentialsRequired    SEQUENCE OF RemotePartyRole }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialDetailsCommand<'a> {
    /// The cell the device authenticates the command with ({4, KA} for the ACB).
    pub authorising_cell: TrustAnchorCellIdentifier,
    /// The roles whose credentials are asked for.
    pub roles: SeqOf<'a, RemotePartyRole>,
}

ber_sequence! {
    impl<'a> CredentialDetailsCommand<'a> {
        authorising_cell: req TrustAnchorCellIdentifier => "authorisingRemotePartyTACellIdentifier" as "authorising_remote_party_ta_cell_identifier",
        roles: req SeqOf<'a, RemotePartyRole> => "remotePartyRolesCredentialsRequired" as "remote_party_roles_credentials_required",
    }
}

/// ```text
/// ProvideSecurityCredentialDetails-ResponsePayload ::= SEQUENCE OF RemotePartyDetails
/// ```
/// One element per requested role, in the order asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialDetailsResponse<'a> {
    /// The details, one per requested role.
    pub details: SeqOf<'a, RemotePartyDetails<'a>>,
}

impl<'a> CredentialDetailsResponse<'a> {
    /// The details reported for `role`, if the response has them.
    #[must_use]
    pub fn role(&self, role: RemotePartyRole) -> Option<RemotePartyDetails<'a>> {
        self.details.iter().find(|d| d.role == role)
    }
}

impl Tagged for CredentialDetailsResponse<'_> {
    const TAG: u8 = ber::SEQUENCE;
}

impl<'a> Decode<'a> for CredentialDetailsResponse<'a> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        SeqOf::decode_value(r).map(|details| Self { details })
    }
}

/// `{"remote_party_details": [...]}`.
#[cfg(feature = "serde")]
impl serde::Serialize for CredentialDetailsResponse<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("CredentialDetailsResponse", 1)?;
        st.serialize_field("remote_party_details", &self.details)?;
        st.end()
    }
}

impl Encode for CredentialDetailsResponse<'_> {
    fn value_len_in(&self, form: LengthForm) -> usize {
        self.details.value_len_in(form)
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        self.details.encode_value(w)
    }
}

/// ```text
/// RemotePartyDetails ::= SEQUENCE {
///     remotePartyRole        RemotePartyRole,
///     statusCode             StatusCode,
///     currentSeqNumber       SeqNumber OPTIONAL,
///     trustAnchorCellDetails SEQUENCE OF TrustAnchorCellContents OPTIONAL }
/// ```
/// A failure for the role carries only `{role, statusCode}` (e.g. `30 06 02 01 03 0A 01 19`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemotePartyDetails<'a> {
    /// The role.
    pub role: RemotePartyRole,
    /// Whether the device could report the role.
    pub status: StatusCode,
    /// The role's current anti-replay counter.
    pub current_seq_number: Option<SeqNumber>,
    /// The role's trust anchor cells.
    pub cells: Option<SeqOf<'a, TrustAnchorCellContents>>,
}

ber_sequence! {
    impl<'a> RemotePartyDetails<'a> {
        role: req RemotePartyRole => "remotePartyRole" as "remote_party_role",
        status: req StatusCode => "statusCode" as "status_code",
        current_seq_number: opt SeqNo => "currentSeqNumber" as "current_seq_number",
        cells: opt SeqOf<'a, TrustAnchorCellContents> => "trustAnchorCellDetails" as "trust_anchor_cell_details",
    }
}

/// ```text
/// TrustAnchorCellContents ::= SEQUENCE {
///     keyUsage             KeyUsage,
///     cellUsage            CellUsage DEFAULT management,
///     subjectUniqueID      OCTET STRING,   -- 8 bytes: the entity ID
///     subjectKeyIdentifier OCTET STRING }  -- 8 bytes: the key ID
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrustAnchorCellContents {
    /// The key usage of the cell.
    pub key_usage: KeyUsage,
    /// The cell usage.
    pub cell_usage: CellUsage,
    /// The entity ID of the certificate in the cell (zero for the root cell).
    pub subject_unique_id: EntityId,
    /// The key identifier of the certificate in the cell.
    pub subject_key_identifier: KeyId,
}

ber_sequence! {
    impl<'a> TrustAnchorCellContents {
        key_usage: req KeyUsage => "keyUsage" as "key_usage",
        cell_usage: default CellUsage = CellUsage::MANAGEMENT => "cellUsage" as "cell_usage",
        subject_unique_id: req EntityId => "subjectUniqueID" as "subject_unique_id",
        subject_key_identifier: req KeyId => "subjectKeyIdentifier" as "subject_key_identifier",
    }
}
