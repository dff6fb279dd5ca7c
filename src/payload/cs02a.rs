//! CS02a Provide Security Credential Details (message code 0x0008; CS02f, 0x011B, carries the
//! same payloads). `gbcs-cs02.md` B.2, checked against the RTDS `6.24.1_CS02aMAC`,
//! `NA_CS02aSignature`, `6.24.1_CS02fMAC` and `NA_CS02fSignature` messages.

use crate::codec::{Reader, Writer};
use crate::error::Result;
use crate::frame::EntityId;
use crate::payload::common::{
    cell_usage_len, decode_cell_usage, decode_seq_number, encode_cell_usage, encode_seq_number,
    CellUsage, KeyId, KeyUsage, RemotePartyRole, SeqNumber, StatusCode, TrustAnchorCellIdentifier,
};
use crate::ber::{self, decode_optional, optional_len, Decode, Encode, SeqOf, Tagged};

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

impl Tagged for CredentialDetailsCommand<'_> {
    const TAG: u8 = ber::SEQUENCE;
}

impl<'a> Decode<'a> for CredentialDetailsCommand<'a> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        Ok(Self {
            authorising_cell: TrustAnchorCellIdentifier::decode(
                r,
                "authorisingRemotePartyTACellIdentifier",
            )?,
            roles: SeqOf::decode(r, "remotePartyRolesCredentialsRequired")?,
        })
    }
}

impl Encode for CredentialDetailsCommand<'_> {
    fn value_len(&self) -> usize {
        self.authorising_cell.encoded_len() + self.roles.encoded_len()
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        self.authorising_cell.encode(w)?;
        self.roles.encode(w)
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

impl Encode for CredentialDetailsResponse<'_> {
    fn value_len(&self) -> usize {
        self.details.value_len()
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

impl Tagged for RemotePartyDetails<'_> {
    const TAG: u8 = ber::SEQUENCE;
}

impl<'a> Decode<'a> for RemotePartyDetails<'a> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        let role = RemotePartyRole::decode(r, "remotePartyRole")?;
        let status = StatusCode::decode(r, "statusCode")?;
        let current_seq_number = if r.peek() == Some(ber::INTEGER) {
            Some(decode_seq_number(r, ber::INTEGER, "currentSeqNumber")?)
        } else {
            None
        };
        let cells = decode_optional(r, ber::SEQUENCE, "trustAnchorCellDetails")?;
        Ok(Self {
            role,
            status,
            current_seq_number,
            cells,
        })
    }
}

impl Encode for RemotePartyDetails<'_> {
    fn value_len(&self) -> usize {
        self.role.encoded_len()
            + self.status.encoded_len()
            + optional_len(self.current_seq_number.as_ref())
            + optional_len(self.cells.as_ref())
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        self.role.encode(w)?;
        self.status.encode(w)?;
        if let Some(n) = self.current_seq_number {
            encode_seq_number(w, n, ber::INTEGER, "currentSeqNumber")?;
        }
        ber::encode_optional(w, self.cells.as_ref(), ber::SEQUENCE)
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

impl Tagged for TrustAnchorCellContents {
    const TAG: u8 = ber::SEQUENCE;
}

impl Decode<'_> for TrustAnchorCellContents {
    fn decode_value(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            key_usage: KeyUsage::decode(r, "keyUsage")?,
            cell_usage: decode_cell_usage(r)?,
            subject_unique_id: EntityId::decode(r, "subjectUniqueID")?,
            subject_key_identifier: KeyId::decode(r, "subjectKeyIdentifier")?,
        })
    }
}

impl Encode for TrustAnchorCellContents {
    fn value_len(&self) -> usize {
        self.key_usage.encoded_len() + cell_usage_len(self.cell_usage) + 10 + 10
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        self.key_usage.encode(w)?;
        encode_cell_usage(w, self.cell_usage)?;
        self.subject_unique_id.encode(w)?;
        self.subject_key_identifier.encode(w)
    }
}
