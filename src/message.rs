//! Whole messages: one call to parse a message into its parts, separate calls to verify its
//! signature and MAC, and the builder path from a typed payload to a pre-command, a signed
//! command and a MAC'd command.
//!
//! ```text
//! typed payload ─► DER ─► grouping header ─► pre-command ─► + 40 r s ─► + MAC header, MAC
//! bytes ─► MAC check ─► frame ─► signature check ─► payload view
//! ```
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), gbcs::GbcsError> {
//! use gbcs::crypto::{KeyAgreement, KeyAgreementKey, PublicKey, SigningKey};
//! use gbcs::frame::{EntityId, MessageCode};
//! use gbcs::payload::{CredentialDetailsCommand, Payload, RemotePartyRole, SeqOf, TrustAnchorCellIdentifier};
//! use gbcs::message::{self, CommandHeader};
//!
//! let acb = EntityId::from_u64(0x90B3_D51F_3000_0002);
//! let meter = EntityId::from_u64(0x00DB_1234_5678_90A0);
//! let roles = [RemotePartyRole::TRANSITIONAL_COS];
//! let query = CredentialDetailsCommand {
//!     authorising_cell: TrustAnchorCellIdentifier::ACB_KA,
//!     roles: SeqOf::from_slice(&roles),
//! };
//! let header = CommandHeader { message_code: MessageCode::CS02A, counter: 1302, originator: acb, recipient: meter };
//! let pre = message::build_precommand(&header, &Payload::CredentialDetailsCommand(query))?;
//!
//! // CS02a from the ACB: no KRP signature, then the ACB MAC.
//! let acb_ka = KeyAgreementKey::from_scalar(&[7; 32])?;
//! let meter_ka = KeyAgreementKey::from_scalar(&[9; 32])?;
//! let z = acb_ka.agree(&meter_ka.public_key())?;
//! let unsigned = message::append_no_signature(&pre)?;
//! let wire = message::add_mac(&unsigned, &z)?;
//!
//! let msg = message::parse(&wire)?;
//! msg.verify_mac(&meter_ka.agree(&acb_ka.public_key())?)?;
//! assert_eq!(msg.header().originator_counter, 1302);
//! # Ok(()) }
//! ```

#[cfg(feature = "alloc")]
pub mod external;
#[cfg(feature = "bytes")]
mod owned;
#[cfg(feature = "bytes")]
pub use owned::{put_command, put_precommand, OwnedMessage};

use core::fmt;

use crate::codec::Writer;
use crate::crypto::{self, CryptoError, SharedSecret, SignatureSigner, SignatureVerifier};
use crate::error::{Error, ErrorKind};
use crate::frame::{
    CraFlag, EntityId, Frame, GeneralSigning, GroupingHeader, GroupingHeaderView, MacHeader,
    MessageCode, OtherInformation, SignatureTail,
};
use crate::payload::{cs02b, modes, Payload};

/// A parse, build or verification failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GbcsError {
    /// The bytes are malformed, or a value cannot be encoded.
    Codec(Error),
    /// A key is bad, or a signature or MAC does not verify.
    Crypto(CryptoError),
    /// A CS02b/CS02g command that breaks its mode's rule ([`modes::MODE_RULES`]).
    ModeRule(modes::ModeViolation),
}

impl fmt::Display for GbcsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Codec(e) => fmt::Display::fmt(e, f),
            Self::Crypto(e) => fmt::Display::fmt(e, f),
            Self::ModeRule(v) => fmt::Display::fmt(v, f),
        }
    }
}

impl core::error::Error for GbcsError {}

impl From<Error> for GbcsError {
    fn from(e: Error) -> Self {
        Self::Codec(e)
    }
}

impl From<CryptoError> for GbcsError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

/// A whole message, parsed: frames and typed payload, all borrowed. With the `bytes`
/// feature, [`OwnedMessage`] keeps one with the bytes it borrows from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "bytes", derive(yoke::Yokeable))]
pub struct Message<'a> {
    frame: Frame<'a>,
    payload: Payload<'a>,
}

/// Parses a whole message (MAC header optional): frames, then the payload typed by message
/// code and CRA flag. Nothing is verified; see [`Message::verify_signature`] and
/// [`Message::verify_mac`].
///
/// # Errors
/// [`Error`] naming the field and absolute byte offset.
pub fn parse(bytes: &[u8]) -> Result<Message<'_>, Error> {
    let frame = Frame::parse(bytes)?;
    let header = frame.header();
    let payload = Payload::decode(
        header.message_code(),
        header.cra_flag,
        frame.payload(),
        frame.payload_offset(),
    )?;
    Ok(Message { frame, payload })
}

/// The whole message as the CLI's `decode --json` shows it (the documented shape in
/// `cli`): `length`, `mac_header`, `grouping_header` (its `offset` and `length`, then its
/// fields), `payload` (`offset`, `length`, `type`, then the payload's fields), `signature`,
/// `mac`. Certificates are `{length, der}` here; the SMKI layer adds what they say.
#[cfg(all(feature = "serde", feature = "alloc"))]
impl serde::Serialize for Message<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;

        /// A part of the message with its offset and length before its own fields.
        #[derive(serde::Serialize)]
        struct At<'a, T: serde::Serialize> {
            offset: usize,
            length: usize,
            #[serde(flatten)]
            inner: &'a T,
        }

        let f = self.frame();
        let header_len = f.general_signing().view().header_len();
        let mut st = s.serialize_struct("Message", 6)?;
        st.serialize_field("length", &f.as_bytes().len())?;
        st.serialize_field("mac_header", &f.mac_header())?;
        st.serialize_field(
            "grouping_header",
            &At {
                offset: f.payload_offset().saturating_sub(header_len),
                length: header_len,
                inner: self.header(),
            },
        )?;
        st.serialize_field(
            "payload",
            &At {
                offset: f.payload_offset(),
                length: f.payload().len(),
                inner: self.payload(),
            },
        )?;
        st.serialize_field("signature", self.tail())?;
        st.serialize_field("mac", &f.mac().map(|m| crate::hex::Hex(m)))?;
        st.end()
    }
}

impl<'a> Message<'a> {
    /// The frames.
    #[must_use]
    pub const fn frame(&self) -> &Frame<'a> {
        &self.frame
    }

    /// The grouping header.
    #[must_use]
    pub const fn header(&self) -> &GroupingHeader<'a> {
        self.frame.header()
    }

    /// The typed payload.
    #[must_use]
    pub const fn payload(&self) -> &Payload<'a> {
        &self.payload
    }

    /// The signature tail.
    #[must_use]
    pub const fn tail(&self) -> &SignatureTail {
        self.frame.general_signing().tail()
    }

    /// Verifies the KRP or device signature with `key` (commands: the originator's DS key;
    /// responses and alerts: the device's DS key).
    ///
    /// # Errors
    /// [`CryptoError::NotSigned`], [`CryptoError::BadSignature`].
    pub fn verify_signature(&self, key: &impl SignatureVerifier) -> Result<(), CryptoError> {
        crypto::verify_signature(self.frame.general_signing(), key)
    }

    /// Verifies the MAC with the shared secret of the ACB's and the device's KA keys.
    ///
    /// # Errors
    /// [`CryptoError::NotMacd`], [`CryptoError::BadMac`].
    pub fn verify_mac(&self, z: &SharedSecret) -> Result<(), CryptoError> {
        crypto::verify_mac(&self.frame, z)
    }
}

/// The grouping-header fields of a command a caller chooses; the rest follows from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandHeader {
    /// The message code.
    pub message_code: MessageCode,
    /// The originator counter (for CS02b also `authorisingRemotePartySeqNumber`).
    pub counter: u64,
    /// The business originator: the KRP that signs (or the ACB for its own commands).
    pub originator: EntityId,
    /// The target device.
    pub recipient: EntityId,
}

impl CommandHeader {
    /// The header a parsed command was built with (to rebuild or re-sign it).
    #[must_use]
    pub const fn of(header: &GroupingHeader<'_>) -> Self {
        Self {
            message_code: header.other_information.message_code,
            counter: header.originator_counter,
            originator: header.originator,
            recipient: header.recipient,
        }
    }

    /// The grouping header for a payload of `content_len` bytes: CRA command, no date-time,
    /// other-information = message code.
    #[must_use]
    pub const fn grouping_header(&self, content_len: usize) -> GroupingHeader<'static> {
        GroupingHeader {
            cra_flag: CraFlag::COMMAND,
            originator_counter: self.counter,
            originator: self.originator,
            recipient: self.recipient,
            date_time: None,
            other_information: OtherInformation::code(self.message_code),
            content_len,
        }
    }
}

/// Checks that a command payload may travel under `header`: a CS02b/CS02g command must
/// satisfy its mode's row of [`modes::MODE_RULES`] (message code, `[2]`, targets, `[0]`,
/// `[4]`–`[6]`, and `[3]` = the header's counter); a CS02a command needs 0x0008 or 0x011B;
/// a CS02a/CS02b/CS02g message code never carries another payload.
///
/// # Errors
/// [`GbcsError::ModeRule`] naming the rule; [`ErrorKind::ModeMismatch`] for a payload of
/// another kind under a credentials code.
pub fn check_command(header: &CommandHeader, payload: &Payload<'_>) -> Result<(), GbcsError> {
    let code = header.message_code;
    match payload {
        Payload::UpdateSecurityCredentialsCommand(c) => {
            cs02b::check_mode(code, c.control.mode)?;
            modes::check(code, c, header.counter).map_err(GbcsError::ModeRule)
        }
        Payload::CredentialDetailsCommand(_) if code.is_credential_details() => Ok(()),
        Payload::Other(_) if is_cs02_command_code(code) => {
            Err(GbcsError::ModeRule(modes::ModeViolation::NotACs02bPayload))
        }
        Payload::Other(_) => Ok(()),
        _ => Err(Error::new(ErrorKind::ModeMismatch, 0, "message code").into()),
    }
}

/// Whether `code` is one whose command payload this crate knows (CS02a, CS02f, CS02b, CS02g).
fn is_cs02_command_code(code: MessageCode) -> bool {
    code.is_credential_details()
        || cs02b::CredentialsReplacementMode::from_message_code(code).is_some()
}

/// The size of the pre-command [`build_precommand_into`] writes.
#[must_use]
pub fn precommand_len(header: &CommandHeader, payload: &Payload<'_>) -> usize {
    let content_len = payload.encoded_len();
    header.grouping_header(content_len).buffer_len() + content_len
}

/// Writes the pre-command (grouping header and canonical DER payload) into `buf`, returning
/// its length. Needs no heap.
///
/// # Errors
/// [`check_command`]'s when the payload may not travel under the header;
/// [`ErrorKind::BufferTooSmall`]; value errors.
pub fn build_precommand_into(
    header: &CommandHeader,
    payload: &Payload<'_>,
    buf: &mut [u8],
) -> Result<usize, GbcsError> {
    check_command(header, payload)?;
    let content_len = payload.encoded_len();
    let mut w = Writer::new(buf);
    header.grouping_header(content_len).emit(&mut w)?;
    let start = w.position();
    payload.encode(&mut w)?;
    if w.position() - start != content_len {
        return Err(Error::new(ErrorKind::InvalidLength, start, "payload").into());
    }
    Ok(w.position())
}

/// The pre-command DCC hands to a Known Remote Party to sign: grouping header and payload.
///
/// # Errors
/// As [`build_precommand_into`].
#[cfg(feature = "alloc")]
pub fn build_precommand(
    header: &CommandHeader,
    payload: &Payload<'_>,
) -> Result<alloc::vec::Vec<u8>, GbcsError> {
    let mut v = alloc::vec![0u8; precommand_len(header, payload)];
    let n = build_precommand_into(header, payload, &mut v)?;
    v.truncate(n);
    Ok(v)
}

/// Checks that `bytes` is exactly a grouping header and its payload, with no tail: a
/// pre-command, or a device's response or alert before it signs or MACs it.
fn check_unsigned(bytes: &[u8]) -> Result<GroupingHeaderView<'_>, Error> {
    let view = GroupingHeaderView::new_checked(bytes)?;
    let end = view.header_len().checked_add(view.content_len());
    match end {
        Some(end) if end == bytes.len() => Ok(view),
        Some(end) if end < bytes.len() => {
            Err(Error::new(ErrorKind::TrailingData, end, "pre-command"))
        }
        _ => Err(Error::new(ErrorKind::Truncated, bytes.len(), "payload")),
    }
}

/// Signs a pre-command (or a device's unsigned response or alert) into `buf`: the bytes, then
/// `40 || r || s` over everything after `DF`. Returns the length written. Needs no heap.
///
/// # Errors
/// [`GbcsError::Codec`] when `precommand` is not a pre-command or `buf` is too small;
/// [`GbcsError::Crypto`] when the signer fails.
pub fn sign_precommand_into(
    precommand: &[u8],
    signer: &impl SignatureSigner,
    buf: &mut [u8],
) -> Result<usize, GbcsError> {
    check_unsigned(precommand)?;
    let sig = signer.sign(precommand.get(1..).unwrap_or_default())?;
    let mut w = Writer::new(buf);
    w.put(precommand, "pre-command")?;
    SignatureTail::Signature(sig.0).emit(&mut w)?;
    Ok(w.position())
}

/// Signs a pre-command: the pre-command, then `40 || r || s` over everything after `DF`.
///
/// # Errors
/// As [`sign_precommand_into`].
#[cfg(feature = "alloc")]
pub fn sign_precommand(
    precommand: &[u8],
    signer: &impl SignatureSigner,
) -> Result<alloc::vec::Vec<u8>, GbcsError> {
    let mut out = alloc::vec![0u8; precommand.len() + 65];
    let n = sign_precommand_into(precommand, signer, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Appends the `00` "no signature" byte to a pre-command (CS02a from the ACB,
/// accessControlBrokerByACB), into `buf`. Returns the length written.
///
/// # Errors
/// [`Error`] when `precommand` is not a pre-command or `buf` is too small.
pub fn append_no_signature_into(precommand: &[u8], buf: &mut [u8]) -> Result<usize, Error> {
    check_unsigned(precommand)?;
    let mut w = Writer::new(buf);
    w.put(precommand, "pre-command")?;
    SignatureTail::NoSignature.emit(&mut w)?;
    Ok(w.position())
}

/// Appends the `00` "no signature" byte to a pre-command.
///
/// # Errors
/// As [`append_no_signature_into`].
#[cfg(feature = "alloc")]
pub fn append_no_signature(precommand: &[u8]) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut out = alloc::vec![0u8; precommand.len() + 1];
    let n = append_no_signature_into(precommand, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Wraps a signed (or `00`-tailed) general signing APDU in the MAC header and appends the MAC,
/// keyed from `z` (ACB KA private × device KA public) and the APDU's grouping header.
///
/// # Errors
/// [`Error`] when `apdu` is not a complete general signing APDU with a signature-length byte.
#[cfg(feature = "alloc")]
pub fn add_mac(apdu: &[u8], z: &SharedSecret) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut out = alloc::vec![0u8; mac_wrapped_len(apdu.len())];
    let n = add_mac_into(apdu, z, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// The whole builder path in one call: the pre-command for `payload`, signed by `signer`
/// (`None`: the `00` no-signature byte, as the ACB sends CS02a), then MAC'd with `mac` (the
/// ACB × device shared secret) when given.
///
/// # Errors
/// [`GbcsError::Codec`] for a payload that cannot travel under the code or be encoded;
/// [`GbcsError::Crypto`] when the signer fails.
#[cfg(feature = "alloc")]
pub fn build_command(
    header: &CommandHeader,
    payload: &Payload<'_>,
    signer: Option<&dyn SignatureSigner>,
    mac: Option<&SharedSecret>,
) -> Result<alloc::vec::Vec<u8>, GbcsError> {
    // Written once, front to back, into one buffer: nothing is parsed back.
    check_command(header, payload)?;
    // What the mode's protection forbids is refused; what it needs may be added later (a
    // signed command goes to the ACB for its MAC).
    refuse_unprotected(mode_protection(payload), signer.is_some(), mac.is_some())?;
    let content_len = payload.encoded_len();
    let grouping = header.grouping_header(content_len);
    let pre_len = grouping.buffer_len() + content_len;
    let tail_len = if signer.is_some() { 65 } else { 1 };
    let apdu_len = pre_len + tail_len;
    let mac_header = mac.map(|_| MacHeader::for_apdu(apdu_len));
    let start = mac_header.map_or(0, |h| h.buffer_len());
    let total = mac_header.map_or(apdu_len, |_| mac_wrapped_len(apdu_len));
    let mut out = alloc::vec![0u8; total];
    fn region(out: &mut [u8], from: usize, to: usize) -> Result<&mut [u8], Error> {
        let len = out.len();
        out.get_mut(from..to)
            .ok_or(Error::new(ErrorKind::BufferTooSmall, len, "command"))
    }
    {
        let mut w = Writer::new(region(&mut out, 0, start + pre_len)?);
        if let Some(h) = &mac_header {
            h.emit(&mut w)?;
        }
        grouping.emit(&mut w)?;
        let payload_at = w.position();
        payload.encode(&mut w)?;
        if w.position() - payload_at != content_len {
            return Err(Error::new(ErrorKind::InvalidLength, payload_at, "payload").into());
        }
    }
    let tail = match signer {
        Some(s) => SignatureTail::Signature(
            s.sign(out.get(start + 1..start + pre_len).unwrap_or_default())?
                .0,
        ),
        None => SignatureTail::NoSignature,
    };
    tail.emit(&mut Writer::new(region(
        &mut out,
        start + pre_len,
        start + apdu_len,
    )?))?;
    if let Some((z, h)) = mac.zip(mac_header) {
        let apdu = out.get(start..start + apdu_len).unwrap_or_default();
        let tag = mac_of(z, &grouping, &h, apdu);
        region(&mut out, start + apdu_len, total)?.copy_from_slice(&tag);
    }
    Ok(out)
}

/// The protection a CS02b/CS02g command's mode gives it ([`modes::MODE_RULES`]); `None` for a
/// payload no mode rule covers (a CS02a/CS02f read may be signed or not).
#[must_use]
pub fn mode_protection(payload: &Payload<'_>) -> Option<modes::Protection> {
    match payload {
        Payload::UpdateSecurityCredentialsCommand(c) => {
            modes::rule(c.control.mode).map(|r| r.protection)
        }
        _ => None,
    }
}

/// Refuses a signature (`signed`) or MAC (`macd`) that `protection` does not have.
#[cfg(feature = "alloc")]
fn refuse_unprotected(
    protection: Option<modes::Protection>,
    signed: bool,
    macd: bool,
) -> Result<(), GbcsError> {
    match protection {
        Some(p) if signed && !p.signed() => {
            Err(GbcsError::ModeRule(modes::ModeViolation::Signature))
        }
        Some(p) if macd && !p.macd() => Err(GbcsError::ModeRule(modes::ModeViolation::Mac)),
        _ => Ok(()),
    }
}

/// The size of a MAC'd message around an APDU of `apdu_len` bytes.
#[must_use]
pub const fn mac_wrapped_len(apdu_len: usize) -> usize {
    let h = MacHeader::for_apdu(apdu_len);
    h.buffer_len() + apdu_len + crate::frame::MAC_LEN
}

/// The GBCS MAC of `apdu` (a general signing APDU with its tail) under `mac_header`: the
/// key derived from Z and the grouping header's parties, then AES-GMAC.
fn mac_of(
    z: &SharedSecret,
    grouping: &GroupingHeader<'_>,
    mac_header: &MacHeader,
    apdu: &[u8],
) -> [u8; crate::frame::MAC_LEN] {
    let key = crypto::MacKey::derive(z, grouping);
    crypto::compute_mac(&key, grouping, mac_header.invocation_counter, apdu)
}

/// As [`add_mac`], into a caller's buffer; returns the length written.
///
/// # Errors
/// As [`add_mac`], and [`ErrorKind::BufferTooSmall`].
pub fn add_mac_into(apdu: &[u8], z: &SharedSecret, buf: &mut [u8]) -> Result<usize, Error> {
    let parsed = signed_apdu(apdu)?;
    let mac_header = MacHeader::for_apdu(apdu.len());
    let mac = mac_of(z, parsed.header(), &mac_header, apdu);
    wrap_mac_into(apdu, &mac, buf)
}

/// A general signing APDU that has its tail (a signature or the `00` byte).
fn signed_apdu(apdu: &[u8]) -> Result<GeneralSigning<'_>, Error> {
    let parsed = GeneralSigning::parse(apdu)?;
    if parsed.tail().is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidSignatureTail,
            apdu.len(),
            "signature length",
        ));
    }
    Ok(parsed)
}

/// Wraps `apdu` in the MAC header (invocation counter zero) and appends `mac`, a MAC computed
/// elsewhere (see [`external::MacInputs`] with `alloc`), into `buf`; returns the length
/// written.
///
/// # Errors
/// [`Error`] when `apdu` is not a whole general signing APDU with its signature byte(s), and
/// [`ErrorKind::BufferTooSmall`].
pub fn wrap_mac_into(
    apdu: &[u8],
    mac: &[u8; crate::frame::MAC_LEN],
    buf: &mut [u8],
) -> Result<usize, Error> {
    signed_apdu(apdu)?;
    let mac_header = MacHeader::for_apdu(apdu.len());
    let mut w = Writer::new(buf);
    mac_header.emit(&mut w)?;
    w.put(apdu, "general signing APDU")?;
    w.put(mac, "MAC")?;
    Ok(w.position())
}
