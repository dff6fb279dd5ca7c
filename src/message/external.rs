//! Building and checking messages with the elliptic-curve and AES work done elsewhere: a
//! platform's WebCrypto (which is asynchronous), a remote signer, an HSM driven by the caller.
//! Each step hands out the exact bytes the outside party works on and takes its result back:
//!
//! ```text
//! sign       ECDSA-P256-SHA256 over signed_bytes(precommand)   -> append_signature
//! MAC        K  = MacInputs::mac_key(Z)            (the GBCS KDF over other_info)
//!            tag = AES-GCM(K, iv, aad, empty plaintext), 96-bit tag -> wrap_mac
//! ```
//!
//! [`complete_precommand`] is the same path with the crate's own traits, and gives the bytes
//! [`build_command`](super::build_command) gives.
//!
//! ```
//! use gbcs::crypto::{KeyAgreement, KeyAgreementKey, SigningKey};
//! use gbcs::frame::{EntityId, MessageCode};
//! use gbcs::message::{self, external, CommandHeader};
//! use gbcs::payload::{CredentialDetailsCommand, Payload, RemotePartyRole, SeqOf, TrustAnchorCellIdentifier};
//!
//! let acb = KeyAgreementKey::from_scalar(&[7; 32])?;
//! let device = KeyAgreementKey::from_scalar(&[9; 32])?;
//! let header = CommandHeader {
//!     message_code: MessageCode::CS02A,
//!     counter: 0x0100_0000_0000_0001,
//!     originator: EntityId([0x90, 0xB3, 0xD5, 0x1F, 0x30, 0, 0, 2]),
//!     recipient: EntityId([0, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0x01]),
//! };
//! let roles = [RemotePartyRole::SUPPLIER];
//! let payload = Payload::CredentialDetailsCommand(CredentialDetailsCommand {
//!     authorising_cell: TrustAnchorCellIdentifier::ACB_KA,
//!     roles: SeqOf::from_slice(&roles),
//! });
//! let pre = message::build_precommand(&header, &payload)?;
//! let apdu = message::append_no_signature(&pre)?;
//! // The outside party's part: Z, then AES-GCM over empty plaintext (here the crate's own).
//! let z = acb.agree(&device.public_key())?;
//! let inputs = external::MacInputs::for_apdu(&apdu)?;
//! let tag = gbcs::crypto::gmac(&inputs.mac_key(&z), &inputs.iv, &[&inputs.aad]);
//! let mut mac = [0u8; 12];
//! mac.copy_from_slice(&tag[..12]);
//! let whole = external::wrap_mac(&apdu, &mac)?;
//! assert_eq!(whole, message::build_command(&header, &payload, None, Some(&z))?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec::Vec;

use super::{check_unsigned, mac_wrapped_len, parse, GbcsError, Message};
use crate::crypto::{
    kdf, CryptoError, MacKey, SharedSecret, Signature, SignatureSigner, AAD_PREFIX,
};
use crate::error::Error;
use crate::frame::{GroupingHeader, MacHeader, MAC_LEN};
use crate::payload::modes;

/// What a GBCS MAC is computed from (`gbcs-cs02.md` A.6), for a party that does the AES-GCM
/// itself:
///
/// ```text
/// K    leftmost 16 bytes of SHA-256( 00000001 || Z || other_info )
/// IV   originator(8) || invocation counter(4)
/// AAD  11 00 00 00 00 00 || general signing APDU (DF .. signature or 00)
/// MAC  leftmost 12 bytes of AES-GCM(K, IV, AAD) over empty plaintext
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacInputs {
    /// The KDF's OtherInfo, from the grouping header's parties, CRA flag and counter.
    pub other_info: [u8; 33],
    /// The GCM IV: the originator's entity ID, then the MAC header's invocation counter.
    pub iv: [u8; 12],
    /// The additional authenticated data: the security header, then the APDU.
    pub aad: Vec<u8>,
}

impl MacInputs {
    fn new(header: &GroupingHeader<'_>, invocation_counter: u32, apdu: &[u8]) -> Self {
        let mut iv = [0u8; 12];
        let (orig, ic) = iv.split_at_mut(8);
        orig.copy_from_slice(&header.originator.0);
        ic.copy_from_slice(&invocation_counter.to_be_bytes());
        let mut aad = Vec::with_capacity(AAD_PREFIX.len() + apdu.len());
        aad.extend_from_slice(&AAD_PREFIX);
        aad.extend_from_slice(apdu);
        Self {
            other_info: kdf::other_info(header),
            iv,
            aad,
        }
    }

    /// The inputs of the MAC a received message carries (its own MAC header's invocation
    /// counter), to check it.
    ///
    /// # Errors
    /// [`CryptoError::NotMacd`] for a message without a MAC header.
    pub fn of_message(message: &Message<'_>) -> Result<Self, CryptoError> {
        let frame = message.frame();
        let mac_header = frame.mac_header().ok_or(CryptoError::NotMacd)?;
        Ok(Self::new(
            frame.header(),
            mac_header.invocation_counter,
            frame.general_signing().as_bytes(),
        ))
    }

    /// The inputs of the MAC [`wrap_mac`] puts around `apdu` (invocation counter zero).
    ///
    /// # Errors
    /// [`Error`] when `apdu` is not a whole general signing APDU with its signature byte(s).
    pub fn for_apdu(apdu: &[u8]) -> Result<Self, Error> {
        let parsed = super::signed_apdu(apdu)?;
        let mac_header = MacHeader::for_apdu(apdu.len());
        Ok(Self::new(
            parsed.header(),
            mac_header.invocation_counter,
            apdu,
        ))
    }

    /// The MAC key K from the shared secret Z (ACB KA × device KA).
    #[must_use]
    pub fn mac_key(&self, z: &SharedSecret) -> MacKey {
        MacKey::derive_with(z, &self.other_info)
    }
}

/// Wraps `apdu` in the MAC header and appends `mac` (computed over [`MacInputs::for_apdu`]).
///
/// # Errors
/// As [`wrap_mac_into`](super::wrap_mac_into).
pub fn wrap_mac(apdu: &[u8], mac: &[u8; MAC_LEN]) -> Result<Vec<u8>, Error> {
    let mut out = alloc::vec![0u8; mac_wrapped_len(apdu.len())];
    let n = super::wrap_mac_into(apdu, mac, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// The bytes a pre-command's signature covers: everything after the `DF` tag.
///
/// # Errors
/// [`Error`] when `precommand` is not a whole pre-command.
pub fn signed_bytes(precommand: &[u8]) -> Result<&[u8], Error> {
    check_unsigned(precommand)?;
    Ok(precommand.get(1..).unwrap_or_default())
}

/// A signer that hands back a signature made elsewhere.
struct Made(Signature);

impl SignatureSigner for Made {
    fn sign(&self, _: &[u8]) -> Result<Signature, CryptoError> {
        Ok(self.0)
    }
}

/// Appends `40 || r || s`, a signature made elsewhere over [`signed_bytes`], to a pre-command.
/// The signature is not checked here: verify the result with the signer's public key.
///
/// # Errors
/// [`GbcsError::Codec`] when `precommand` is not a whole pre-command.
pub fn append_signature(precommand: &[u8], signature: &Signature) -> Result<Vec<u8>, GbcsError> {
    super::sign_precommand(precommand, &Made(*signature))
}

/// The protection a pre-command's mode gives it (a CS02b/CS02g command, by its mode's row of
/// [`modes::MODE_RULES`]); `None` for a payload no mode rule covers (a CS02a/CS02f read may be
/// signed or not).
///
/// # Errors
/// [`Error`] when `precommand` is not a whole pre-command.
pub fn precommand_protection(precommand: &[u8]) -> Result<Option<modes::Protection>, Error> {
    check_unsigned(precommand)?;
    Ok(super::mode_protection(parse(precommand)?.payload()))
}

/// Refuses a signature (`signed`) or a MAC (`macd`) the pre-command's mode does not have, as
/// [`build_command`](super::build_command) refuses them.
///
/// # Errors
/// [`GbcsError::ModeRule`] naming what is forbidden; [`GbcsError::Codec`] when `precommand`
/// is not a whole pre-command.
pub fn check_protection(precommand: &[u8], signed: bool, macd: bool) -> Result<(), GbcsError> {
    super::refuse_unprotected(precommand_protection(precommand)?, signed, macd)
}

/// A pre-command made whole as the keys say: signed by `signer` (else the `00` byte when a MAC
/// follows), then MAC'd with `mac` (the ACB × device shared secret). With neither, the
/// pre-command is returned as it is. A protection the command's mode does not have is refused.
///
/// # Errors
/// [`GbcsError::ModeRule`] for a signature or MAC the mode forbids; [`GbcsError::Codec`]
/// when `precommand` is not a whole pre-command; [`GbcsError::Crypto`] when the signer fails.
pub fn complete_precommand(
    precommand: &[u8],
    signer: Option<&dyn SignatureSigner>,
    mac: Option<&SharedSecret>,
) -> Result<Vec<u8>, GbcsError> {
    check_protection(precommand, signer.is_some(), mac.is_some())?;
    let apdu = match (signer, mac) {
        (None, None) => return Ok(precommand.to_vec()),
        (Some(s), _) => super::sign_precommand(precommand, &s)?,
        (None, Some(_)) => super::append_no_signature(precommand)?,
    };
    match mac {
        Some(z) => Ok(super::add_mac(&apdu, z)?),
        None => Ok(apdu),
    }
}
