//! The crypto layer: ECDSA P-256 signatures over grouping headers, static–static ECDH, the
//! GBCS key derivation and the AES-128-GMAC of the MAC header (`gbcs-cs02.md` A.5, A.6).
//!
//! Signing, verifying and key agreement go through the small traits [`SignatureSigner`],
//! [`SignatureVerifier`] and [`KeyAgreement`], so that an HSM or another backend can stand in.
//! Two backends do the elliptic-curve work ([`Backend`]): RustCrypto (`p256`, pure Rust,
//! no_std, deterministic RFC 6979 signatures) and, with the `aws-lc` feature (in `default`),
//! aws-lc-rs — several times faster, with randomized signatures. Keys are prepared once in
//! their backend's own form; [`SharedSecretCache`] (std) keeps static–static Z values so a
//! head-end agrees a key once per device, not once per message. The KDF and GMAC are the same
//! for both (`sha2`, and `aes` + `ghash`, the primitives `aes-gcm` is built from: GMAC is
//! computed by streaming the AAD in its pieces, so the message is never copied; over a 1.9 KB
//! command it takes about 1.5 µs, under 1 % of a RustCrypto verification and about 2 % of an
//! AWS-LC one).
//!
//! ```text
//! signature  ECDSA-P256-SHA256( GH[1..] || payload ) as r || s        (the DF tag excluded)
//! Z          x-coordinate of ECDH(own KA private, peer KA public)
//! K          leftmost 16 bytes of SHA-256( 00000001 || Z || OtherInfo )
//! OtherInfo  60 85 74 06 08 03 00 || originator(8) || 09 || CRA || counter(8) || recipient(8)
//! IV         originator(8) || invocation counter(4)
//! AAD        11 || 00 00 00 00 00 || general signing APDU (DF .. signature or 00)
//! MAC        leftmost 12 bytes of the GCM tag over empty plaintext
//! ```
//! Every secret (private scalars, Z, K) is zeroized on drop and never printed by `Debug`.

#[cfg(feature = "aws-lc")]
mod aws_lc;
pub mod backend;
#[cfg(feature = "std")]
pub mod cache;
pub mod gmac;
pub mod kdf;
pub mod keys;
#[cfg(feature = "std")]
pub mod keystore;
#[cfg(feature = "pkcs11")]
pub mod pkcs11;

use core::fmt;

use crate::frame::{Frame, GeneralSigning, GroupingHeader, SignatureTail, MAC_LEN};

pub use backend::Backend;
#[cfg(feature = "std")]
pub use cache::{CachedKeyAgreement, SharedSecretCache};
pub use gmac::gmac;
pub use kdf::{MacKey, SharedSecret};
pub use keys::{key_id_of, KeyAgreementKey, PublicKey, SigningKey};

/// A raw ECDSA P-256 signature as GBCS carries it: 32-byte big-endian `r` then `s`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", crate::hex::Hex(&self.0))
    }
}

/// Why a cryptographic operation or check failed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CryptoError {
    /// A key could not be decoded or is not a P-256 key; the text says which encoding.
    InvalidKey(&'static str),
    /// The signature does not verify with the key given.
    BadSignature,
    /// The MAC does not match.
    BadMac,
    /// The message carries no signature (`00` or no tail) where one was to be verified.
    NotSigned,
    /// The message has no MAC header where a MAC was to be verified.
    NotMacd,
    /// The signer or key agreement backend failed (an HSM error, say).
    Backend,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidKey(what) => write!(f, "invalid key: {what}"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::BadMac => f.write_str("MAC does not verify"),
            Self::NotSigned => f.write_str("message is not signed"),
            Self::NotMacd => f.write_str("message has no MAC header"),
            Self::Backend => f.write_str("crypto backend failure"),
        }
    }
}

impl core::error::Error for CryptoError {}

/// Makes GBCS KRP signatures: ECDSA P-256 with SHA-256 over `message`, raw `r || s`.
pub trait SignatureSigner {
    /// Signs `message` (the implementation hashes it).
    ///
    /// # Errors
    /// [`CryptoError::Backend`] when the signing device fails.
    fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError>;
}

/// Checks GBCS signatures.
pub trait SignatureVerifier {
    /// Verifies `signature` over `message`.
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`].
    fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError>;
}

/// Static–static ECDH on P-256 with a private key this value holds.
pub trait KeyAgreement {
    /// The shared secret Z (the x-coordinate) with `peer`.
    ///
    /// # Errors
    /// [`CryptoError::Backend`] when the key agreement device fails.
    fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError>;
}

impl<T: SignatureSigner + ?Sized> SignatureSigner for &T {
    fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        (**self).sign(message)
    }
}

impl<T: SignatureVerifier + ?Sized> SignatureVerifier for &T {
    fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        (**self).verify(message, signature)
    }
}

impl<T: KeyAgreement + ?Sized> KeyAgreement for &T {
    fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError> {
        (**self).agree(peer)
    }
}

#[cfg(feature = "alloc")]
impl<T: SignatureSigner + ?Sized> SignatureSigner for alloc::boxed::Box<T> {
    fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        (**self).sign(message)
    }
}

#[cfg(feature = "alloc")]
impl<T: SignatureVerifier + ?Sized> SignatureVerifier for alloc::boxed::Box<T> {
    fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        (**self).verify(message, signature)
    }
}

#[cfg(feature = "alloc")]
impl<T: KeyAgreement + ?Sized> KeyAgreement for alloc::boxed::Box<T> {
    fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError> {
        (**self).agree(peer)
    }
}

/// Verifies the KRP or device signature of a general signing APDU over its signed bytes
/// (grouping header without `DF`, and payload), as received.
///
/// # Errors
/// [`CryptoError::NotSigned`] when the tail carries no signature;
/// [`CryptoError::BadSignature`].
pub fn verify_signature(
    apdu: &GeneralSigning<'_>,
    key: &impl SignatureVerifier,
) -> Result<(), CryptoError> {
    match apdu.tail() {
        SignatureTail::Signature(sig) => key.verify(apdu.signed_bytes(), &Signature(*sig)),
        SignatureTail::NoSignature | SignatureTail::Absent => Err(CryptoError::NotSigned),
    }
}

/// The AAD prefix: security control `0x11` and five zero bytes (`gbcs-cs02.md` A.6).
pub const AAD_PREFIX: [u8; 6] = [0x11, 0, 0, 0, 0, 0];

/// The GBCS MAC of a general signing APDU (`apdu`, from `DF` through the signature tail)
/// under a key derived for `header`, with invocation counter `ic`.
#[must_use]
pub fn compute_mac(
    key: &MacKey,
    header: &GroupingHeader<'_>,
    ic: u32,
    apdu: &[u8],
) -> [u8; MAC_LEN] {
    let mut iv = [0u8; 12];
    let (orig, counter) = iv.split_at_mut(8);
    orig.copy_from_slice(&header.originator.0);
    counter.copy_from_slice(&ic.to_be_bytes());
    let tag = gmac(key, &iv, &[&AAD_PREFIX, apdu]);
    let mut mac = [0u8; MAC_LEN];
    mac.copy_from_slice(tag.get(..MAC_LEN).unwrap_or(&[0; MAC_LEN]));
    mac
}

/// Verifies the MAC of a MAC'd message with the shared secret `z` of the two key-agreement
/// keys (ACB and device). The key is derived from the grouping header as received.
///
/// # Errors
/// [`CryptoError::NotMacd`]; [`CryptoError::BadMac`].
pub fn verify_mac(frame: &Frame<'_>, z: &SharedSecret) -> Result<(), CryptoError> {
    let (Some(mac_header), Some(mac)) = (frame.mac_header(), frame.mac()) else {
        return Err(CryptoError::NotMacd);
    };
    let header = frame.header();
    let key = MacKey::derive(z, header);
    let want = compute_mac(
        &key,
        header,
        mac_header.invocation_counter,
        frame.general_signing().as_bytes(),
    );
    if subtle::ConstantTimeEq::ct_eq(&want[..], &mac[..]).into() {
        Ok(())
    } else {
        Err(CryptoError::BadMac)
    }
}
