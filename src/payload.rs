//! The payload layer: typed CS02a and CS02b payloads over borrowed bytes.
//!
//! Every type decodes from a byte slice without allocating ([`crate::ber::Decode`]) and encodes to
//! canonical DER into a caller's buffer, or a `Vec` with `alloc` ([`crate::ber::Encode`]).
//! `SEQUENCE OF` fields are [`SeqOf`] values: a view over checked bytes after decoding, or a
//! caller's slice when building.
//!
//! # Decoding rules and limits
//!
//! - Lengths: BER definite lengths in any form up to three length octets (`82 00 xx` from
//!   devices is accepted); the content must end exactly where its length says.
//! - Otherwise exact DER: single-byte tags, minimal INTEGERs that fit the field's type,
//!   named-bit BIT STRINGs, `cellUsage` DEFAULT never explicit, 8-byte entity and key IDs,
//!   GeneralizedTime only as `YYYYMMDDHHMMSSZ`, every byte consumed.
//! - Bounded: nothing is allocated, the structure has a fixed depth (at most six levels), and
//!   every length is checked against the input before it is used, so the input size bounds
//!   the work.
//! - Certificates are taken as their exact bytes (outer `SEQUENCE` checked); the `smki`
//!   layer parses them.
//!
//! Signatures and MACs must be checked over the bytes as received, never over a
//! re-encoding: responses from devices are BER, and re-encoding them gives other bytes.

pub mod common;
pub mod cs02a;
pub mod cs02b;
pub mod modes;
#[cfg(feature = "alloc")]
pub mod owned;
pub mod time;

pub use crate::ber::{Decode, Encode, SeqOf};
pub use common::{
    CellUsage, CertificateDer, KeyId, KeyUsage, RemotePartyRole, SeqNumber, StatusCode,
    TrustAnchorCellIdentifier, MAX_SEQ_NUMBER,
};
pub use cs02a::{
    CredentialDetailsCommand, CredentialDetailsResponse, RemotePartyDetails,
    TrustAnchorCellContents,
};
pub use cs02b::{
    AlertCode, AuthorisingRemotePartyControl, CredentialsReplacementMode, ExecutionOutcome,
    RemotePartySeqNumberChange, ReplacementOutcome, SeqNumberUsage, SpecialistSeqNumber,
    TimeBasedCpvChecks, TrustAnchorReplacement, UpdateSecurityCredentialsAlert,
    UpdateSecurityCredentialsCommand, UpdateSecurityCredentialsResponse, MODE_MESSAGE_CODES,
};
#[cfg(feature = "alloc")]
pub use owned::{OwnedExecutionOutcome, OwnedSeqNumberChanges, OwnedUpdateCommand};
pub use time::GeneralizedTime;

use crate::codec::{LengthForm, Writer};
use crate::error::Result;
use crate::frame::{CraFlag, MessageCode};

/// A payload typed by its message code and CRA flag.
///
/// | message code | CRA | type |
/// |---|---|---|
/// | 0x0008, 0x011B | command | [`CredentialDetailsCommand`] |
/// | 0x0008, 0x011B | response | [`CredentialDetailsResponse`] |
/// | 0x0100–0x0109, 0x0125, 0x0126 | command | [`UpdateSecurityCredentialsCommand`] |
/// | 0x0100–0x0109, 0x0125, 0x0126 | response | [`UpdateSecurityCredentialsResponse`] |
/// | 0x00CB (CS02b), 0x0124 (CS02g) | alert | [`UpdateSecurityCredentialsAlert`] |
/// | anything else | – | [`Payload::Other`], the bytes as received |
///
/// With `serde`, a payload serializes as its type's fields after `"type": "<variant>"`;
/// `Other` as `{"type": "Other", "hex": "<hex>"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(tag = "type"))]
pub enum Payload<'a> {
    /// CS02a/CS02f command.
    CredentialDetailsCommand(CredentialDetailsCommand<'a>),
    /// CS02a/CS02f response.
    CredentialDetailsResponse(CredentialDetailsResponse<'a>),
    /// CS02b/CS02g command.
    UpdateSecurityCredentialsCommand(UpdateSecurityCredentialsCommand<'a>),
    /// CS02b/CS02g response.
    UpdateSecurityCredentialsResponse(UpdateSecurityCredentialsResponse<'a>),
    /// CS02b/CS02g future-dated execution alert (0x00CB, 0x0124).
    UpdateSecurityCredentialsAlert(UpdateSecurityCredentialsAlert<'a>),
    /// A payload this crate does not type, as received.
    #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_other"))]
    Other(&'a [u8]),
}

#[cfg(feature = "serde")]
fn serialize_other<S: serde::Serializer>(
    bytes: &&[u8],
    s: S,
) -> core::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct as _;
    let mut st = s.serialize_struct("Other", 1)?;
    st.serialize_field("hex", &crate::hex::Hex(bytes))?;
    st.end()
}

impl<'a> Payload<'a> {
    /// Decodes `bytes` (which start at absolute offset `base`) as the payload `code` and
    /// `cra` name. A command's mode must agree with its message code.
    ///
    /// # Errors
    /// Decoding errors with absolute offsets; [`crate::ErrorKind::ModeMismatch`].
    pub fn decode(code: MessageCode, cra: CraFlag, bytes: &'a [u8], base: usize) -> Result<Self> {
        Ok(match (code, cra) {
            (c, CraFlag::COMMAND) if c.is_credential_details() => {
                Self::CredentialDetailsCommand(CredentialDetailsCommand::from_ber_at(bytes, base)?)
            }
            (c, CraFlag::RESPONSE) if c.is_credential_details() => Self::CredentialDetailsResponse(
                CredentialDetailsResponse::from_ber_at(bytes, base)?,
            ),
            (c, CraFlag::COMMAND) if CredentialsReplacementMode::from_message_code(c).is_some() => {
                Self::UpdateSecurityCredentialsCommand(
                    UpdateSecurityCredentialsCommand::from_ber_for(bytes, base, c)?,
                )
            }
            (c, CraFlag::RESPONSE)
                if CredentialsReplacementMode::from_message_code(c).is_some() =>
            {
                Self::UpdateSecurityCredentialsResponse(
                    UpdateSecurityCredentialsResponse::from_ber_at(bytes, base)?,
                )
            }
            (c, CraFlag::ALERT) if c.is_update_security_credentials_alert() => {
                Self::UpdateSecurityCredentialsAlert(UpdateSecurityCredentialsAlert::from_ber_at(
                    bytes, base,
                )?)
            }
            _ => Self::Other(bytes),
        })
    }

    /// Whether this payload was typed.
    #[must_use]
    pub const fn is_typed(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The number of bytes [`Self::encode`] writes into a DER writer (`Other` as it came).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        self.encoded_len_in(LengthForm::Minimal)
    }

    /// The number of bytes [`Self::encode`] writes with lengths in `form`.
    #[must_use]
    pub fn encoded_len_in(&self, form: LengthForm) -> usize {
        match self {
            Self::CredentialDetailsCommand(p) => p.encoded_len_in(form),
            Self::CredentialDetailsResponse(p) => p.encoded_len_in(form),
            Self::UpdateSecurityCredentialsCommand(p) => p.encoded_len_in(form),
            Self::UpdateSecurityCredentialsResponse(p) => p.encoded_len_in(form),
            Self::UpdateSecurityCredentialsAlert(p) => p.encoded_len_in(form),
            Self::Other(b) => b.len(),
        }
    }

    /// Writes the encoding, lengths in the writer's [`LengthForm`] (`Other` bytes as they
    /// came).
    ///
    /// # Errors
    /// [`crate::ErrorKind::BufferTooSmall`] and value errors.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            Self::CredentialDetailsCommand(p) => p.encode(w),
            Self::CredentialDetailsResponse(p) => p.encode(w),
            Self::UpdateSecurityCredentialsCommand(p) => p.encode(w),
            Self::UpdateSecurityCredentialsResponse(p) => p.encode(w),
            Self::UpdateSecurityCredentialsAlert(p) => p.encode(w),
            Self::Other(b) => w.put(b, "payload"),
        }
    }
}
