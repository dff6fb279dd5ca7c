//! P-256 keys for the software backend, and their loading from PEM and DER.
//!
//! | type | holds | loads from |
//! |---|---|---|
//! | [`SigningKey`] | a DS private key | PKCS#8 or SEC1, DER or PEM, raw scalar |
//! | [`KeyAgreementKey`] | a KA private key | PKCS#8 or SEC1, DER or PEM, raw scalar |
//! | [`PublicKey`] | a DS or KA public key | SEC1 point, SubjectPublicKeyInfo, X.509 certificate, PEM |
//!
//! Parse a key once and keep it: every operation takes the parsed value.

use core::fmt;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::{RandomizedSigner, Signer};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

use crate::crypto::{
    CryptoError, KeyAgreement, SharedSecret, Signature, SignatureSigner, SignatureVerifier,
};

fn secret_from_der(der: &[u8]) -> Result<p256::SecretKey, CryptoError> {
    p256::SecretKey::from_pkcs8_der(der)
        .or_else(|_| p256::SecretKey::from_sec1_der(der))
        .map_err(|_| CryptoError::InvalidKey("private key DER is neither PKCS#8 nor SEC1 P-256"))
}

#[cfg(feature = "alloc")]
fn secret_from_pem(pem: &str) -> Result<p256::SecretKey, CryptoError> {
    let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
        .map_err(|_| CryptoError::InvalidKey("not a PEM document"))?;
    let der = zeroize::Zeroizing::new(der);
    match label {
        "PRIVATE KEY" => p256::SecretKey::from_pkcs8_der(&der)
            .map_err(|_| CryptoError::InvalidKey("PKCS#8 P-256 private key")),
        "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der)
            .map_err(|_| CryptoError::InvalidKey("SEC1 P-256 private key")),
        _ => Err(CryptoError::InvalidKey(
            "PEM label is not PRIVATE KEY or EC PRIVATE KEY",
        )),
    }
}

fn secret_from_scalar(bytes: &[u8; 32]) -> Result<p256::SecretKey, CryptoError> {
    p256::SecretKey::from_bytes(bytes.into())
        .map_err(|_| CryptoError::InvalidKey("scalar out of range"))
}

/// A P-256 digital-signature private key. Signs deterministically (RFC 6979) unless
/// randomness is supplied. Zeroized on drop; `Debug` shows only the public key.
#[derive(Clone)]
pub struct SigningKey(p256::ecdsa::SigningKey);

impl SigningKey {
    /// From a PKCS#8 or SEC1 DER private key.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        secret_from_der(der).map(|s| Self(s.into()))
    }

    /// From a PEM `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1).
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    #[cfg(feature = "alloc")]
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        secret_from_pem(pem).map(|s| Self(s.into()))
    }

    /// From the raw 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] for zero or a value not below the group order.
    pub fn from_scalar(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        secret_from_scalar(bytes).map(|s| Self(s.into()))
    }

    /// A fresh random key.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        Self(p256::ecdsa::SigningKey::random(rng))
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey(*self.0.verifying_key())
    }

    /// Signs with fresh randomness mixed into the RFC 6979 nonce.
    ///
    /// # Errors
    /// [`CryptoError::Backend`] if signing fails.
    pub fn sign_with_rng(
        &self,
        rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Result<Signature, CryptoError> {
        let sig: p256::ecdsa::Signature = self
            .0
            .try_sign_with_rng(rng, message)
            .map_err(|_| CryptoError::Backend)?;
        Ok(Signature(sig.to_bytes().into()))
    }
}

impl SignatureSigner for SigningKey {
    fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        let sig: p256::ecdsa::Signature =
            self.0.try_sign(message).map_err(|_| CryptoError::Backend)?;
        Ok(Signature(sig.to_bytes().into()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// A P-256 key-agreement private key for static–static ECDH. Zeroized on drop; `Debug` shows
/// only the public key.
#[derive(Clone)]
pub struct KeyAgreementKey(p256::SecretKey);

impl KeyAgreementKey {
    /// From a PKCS#8 or SEC1 DER private key.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        secret_from_der(der).map(Self)
    }

    /// From a PEM `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1).
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    #[cfg(feature = "alloc")]
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        secret_from_pem(pem).map(Self)
    }

    /// From the raw 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    pub fn from_scalar(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        secret_from_scalar(bytes).map(Self)
    }

    /// A fresh random key.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        Self(p256::SecretKey::random(rng))
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey(p256::ecdsa::VerifyingKey::from(self.0.public_key()))
    }
}

impl KeyAgreement for KeyAgreementKey {
    fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError> {
        let shared = p256::ecdh::diffie_hellman(self.0.to_nonzero_scalar(), peer.0.as_affine());
        let mut z = [0u8; 32];
        z.copy_from_slice(shared.raw_secret_bytes());
        Ok(SharedSecret::from_bytes(z))
    }
}

impl fmt::Debug for KeyAgreementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyAgreementKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// A P-256 public key (digital signature or key agreement), parsed once and validated on the
/// curve.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(p256::ecdsa::VerifyingKey);

impl PublicKey {
    /// From a SEC1 point (`04 || X || Y`, or compressed).
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] for a point not on the curve.
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey("SEC1 P-256 point"))
    }

    /// From a DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    pub fn from_public_key_der(der: &[u8]) -> Result<Self, CryptoError> {
        p256::ecdsa::VerifyingKey::from_public_key_der(der)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey("SubjectPublicKeyInfo with a P-256 key"))
    }

    /// The subject public key of a DER X.509 certificate (parsed with `x509-cert`).
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] when the certificate does not parse or its key is not P-256.
    #[cfg(feature = "alloc")]
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, CryptoError> {
        use der::{Decode as _, Encode as _};
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|_| CryptoError::InvalidKey("X.509 certificate"))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|_| CryptoError::InvalidKey("X.509 certificate"))?;
        Self::from_public_key_der(&spki)
    }

    /// From PEM: a `CERTIFICATE` or a `PUBLIC KEY`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    #[cfg(feature = "alloc")]
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map_err(|_| CryptoError::InvalidKey("not a PEM document"))?;
        match label {
            "CERTIFICATE" => Self::from_certificate_der(&der),
            "PUBLIC KEY" => Self::from_public_key_der(&der),
            _ => Err(CryptoError::InvalidKey(
                "PEM label is not CERTIFICATE or PUBLIC KEY",
            )),
        }
    }

    /// The uncompressed SEC1 point `04 || X || Y`.
    #[must_use]
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let point = self.0.to_encoded_point(false);
        let mut out = [0u8; 65];
        if point.as_bytes().len() == 65 {
            out.copy_from_slice(point.as_bytes());
        }
        out
    }
}

impl SignatureVerifier for PublicKey {
    fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        let sig = p256::ecdsa::Signature::from_slice(&signature.0)
            .map_err(|_| CryptoError::BadSignature)?;
        let digest = Sha256::digest(message);
        self.0
            .verify_prehash(&digest, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", crate::hex::Hex(&self.to_uncompressed()))
    }
}
