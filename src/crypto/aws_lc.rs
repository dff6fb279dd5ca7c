//! The aws-lc-rs backend (feature `aws-lc`): each key in AWS-LC's own parsed form, made once
//! when the key is made and shared by reference count, so no operation re-reads a key.
//!
//! | here | AWS-LC | used for |
//! |---|---|---|
//! | [`AwsSigningKey`] | `EcdsaKeyPair` (`ECDSA_P256_SHA256_FIXED_SIGNING`) | `r \|\| s` signatures, AWS-LC's randomness |
//! | [`AwsAgreementKey`] | `agreement::PrivateKey` (`ECDH_P256`) | static–static Z |
//! | [`AwsPublicKey`] | `signature::ParsedPublicKey` and `agreement::ParsedPublicKey` | verification and the peer side of ECDH |
//!
//! These are the private halves of [`SigningKey`](super::SigningKey),
//! [`KeyAgreementKey`](super::KeyAgreementKey) and [`PublicKey`](super::PublicKey); callers
//! reach them through those types and [`Backend::AwsLc`](super::Backend::AwsLc).

use alloc::sync::Arc;
use core::fmt;

use aws_lc_rs::agreement;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
};

use super::{CryptoError, Signature};

/// An ECDSA P-256 key pair held by AWS-LC.
#[derive(Clone)]
pub(crate) struct AwsSigningKey(Arc<EcdsaKeyPair>);

impl AwsSigningKey {
    /// From the raw scalar and its uncompressed public point (AWS-LC checks they match).
    pub(crate) fn new(scalar: &[u8; 32], public: &[u8; 65]) -> Result<Self, CryptoError> {
        EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            scalar,
            public,
        )
        .map(|k| Self(Arc::new(k)))
        .map_err(|_| CryptoError::InvalidKey("AWS-LC rejected the P-256 signing key"))
    }

    /// ECDSA-SHA256 over `message`, raw `r || s`, with AWS-LC's nonce generation.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        let s = self
            .0
            .sign(&SystemRandom::new(), message)
            .map_err(|_| CryptoError::Backend)?;
        let mut out = [0u8; 64];
        let bytes = s.as_ref();
        if bytes.len() != out.len() {
            return Err(CryptoError::Backend);
        }
        out.copy_from_slice(bytes);
        Ok(Signature(out))
    }
}

/// An ECDH P-256 private key held by AWS-LC.
#[derive(Clone)]
pub(crate) struct AwsAgreementKey(Arc<agreement::PrivateKey>);

impl AwsAgreementKey {
    /// From the raw 32-byte scalar.
    pub(crate) fn new(scalar: &[u8; 32]) -> Result<Self, CryptoError> {
        agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, scalar)
            .map(|k| Self(Arc::new(k)))
            .map_err(|_| CryptoError::InvalidKey("AWS-LC rejected the P-256 agreement key"))
    }

    /// Z, the x-coordinate of the shared point.
    pub(crate) fn agree(&self, peer: &AwsPublicKey) -> Result<[u8; 32], CryptoError> {
        agreement::agree(
            &self.0,
            peer.agreer()?.clone(),
            CryptoError::Backend,
            |z: &[u8]| {
                let mut out = [0u8; 32];
                if z.len() != out.len() {
                    return Err(CryptoError::Backend);
                }
                out.copy_from_slice(z);
                Ok(out)
            },
        )
    }
}

/// A P-256 public key for AWS-LC, parsed for each of its uses the first time it is put to
/// that use: a device's DS key only ever verifies and its KA key only ever agrees, so a fleet's
/// keys hold one parsed form each (AWS-LC's objects are most of a key's memory).
#[derive(Clone)]
pub(crate) struct AwsPublicKey {
    point: [u8; 65],
    verify: std::sync::OnceLock<ParsedPublicKey>,
    agreement: std::sync::OnceLock<agreement::ParsedPublicKey>,
}

impl AwsPublicKey {
    /// From the uncompressed SEC1 point (already checked to be on the curve).
    pub(crate) fn new(point: &[u8; 65]) -> Result<Self, CryptoError> {
        Ok(Self {
            point: *point,
            verify: std::sync::OnceLock::new(),
            agreement: std::sync::OnceLock::new(),
        })
    }

    fn rejected() -> CryptoError {
        CryptoError::InvalidKey("AWS-LC rejected the P-256 point")
    }

    /// The key parsed for verifying.
    fn verifier(&self) -> Result<&ParsedPublicKey, CryptoError> {
        if let Some(v) = self.verify.get() {
            return Ok(v);
        }
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.point)
            .map_err(|_| Self::rejected())?;
        Ok(self.verify.get_or_init(|| parsed))
    }

    /// The key parsed for agreeing.
    fn agreer(&self) -> Result<&agreement::ParsedPublicKey, CryptoError> {
        if let Some(a) = self.agreement.get() {
            return Ok(a);
        }
        let parsed = agreement::ParsedPublicKey::try_from(agreement::UnparsedPublicKey::new(
            &agreement::ECDH_P256,
            &self.point,
        ))
        .map_err(|_| Self::rejected())?;
        Ok(self.agreement.get_or_init(|| parsed))
    }

    /// ECDSA-SHA256 verification of a raw `r || s` signature.
    pub(crate) fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        self.verifier()?
            .verify_sig(message, &signature.0)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl fmt::Debug for AwsPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AwsPublicKey")
    }
}
