//! P-256 keys for the software backend, and their loading from PEM and DER.
//!
//! | type | holds | loads from |
//! |---|---|---|
//! | [`SigningKey`] | a DS private key | PKCS#8 or SEC1, DER or PEM, raw scalar |
//! | [`KeyAgreementKey`] | a KA private key | PKCS#8 or SEC1, DER or PEM, raw scalar |
//! | [`PublicKey`] | a DS or KA public key | SEC1 point, SubjectPublicKeyInfo, X.509 certificate, PEM |
//!
//! Parse a key once and keep it: every operation takes the parsed value. Each key holds the
//! RustCrypto form (always) and, on [`Backend::AwsLc`], AWS-LC's parsed form as well, made
//! when the key is made; a [`PublicKey`] also keeps its uncompressed point and its SMKI key
//! identifier, so looking a key up or caching by it hashes nothing again.

use core::fmt;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::{RandomizedSigner, Signer};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

#[cfg(feature = "aws-lc")]
use crate::crypto::aws_lc::{AwsAgreementKey, AwsPublicKey, AwsSigningKey};
use crate::crypto::{
    Backend, CryptoError, KeyAgreement, SharedSecret, Signature, SignatureSigner, SignatureVerifier,
};
use crate::payload::KeyId;

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

/// What [`SigningKey`] and [`KeyAgreementKey`] share: loading, random keys, moving between
/// backends. Each says how its RustCrypto key comes from a secret (`rustcrypto`), a random one
/// (`random`), its public point (`public`), and its AWS-LC key from the scalar (`aws`). The
/// struct has the fields `key`, `public` and (feature `aws-lc`) `aws`.
macro_rules! private_key_common {
    (
        $ty:ident, $verb:literal,
        rustcrypto: |$secret:ident| $rustcrypto:expr,
        random: |$rng:ident| $random:expr,
        public: |$key:ident| $public:expr,
        aws: |$scalar:ident, $point:ident| $aws:expr,
    ) => {
        impl $ty {
            /// The RustCrypto key and its public key, then `backend`'s form.
            fn from_secret(
                $secret: &p256::SecretKey,
                backend: Backend,
            ) -> Result<Self, CryptoError> {
                let $key = $rustcrypto;
                let public = PublicKey::from_verifying_key_unchecked($public);
                Self {
                    key: $key,
                    public,
                    #[cfg(feature = "aws-lc")]
                    aws: None,
                }
                .with_backend(backend)
            }

            /// From a PKCS#8 or SEC1 DER private key.
            ///
            /// # Errors
            /// [`CryptoError::InvalidKey`].
            pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
                Self::from_secret(&secret_from_der(der)?, Backend::DEFAULT)
            }

            /// From a PEM `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1).
            ///
            /// # Errors
            /// [`CryptoError::InvalidKey`].
            #[cfg(feature = "alloc")]
            pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
                Self::from_secret(&secret_from_pem(pem)?, Backend::DEFAULT)
            }

            /// The key as a PKCS#8 `PrivateKeyInfo` DER document (id-ecPublicKey, prime256v1,
            /// an RFC 5915 `ECPrivateKey` with the public key), the layout of the RTDS
            /// keystore's `.key` files — for software test keys and key files (a key in an
            /// HSM is never exported). Wiped when dropped.
            #[cfg(feature = "alloc")]
            #[must_use]
            pub fn to_pkcs8_der(&self) -> zeroize::Zeroizing<alloc::vec::Vec<u8>> {
                const HEAD: [u8; 36] = [
                    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48,
                    0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01,
                    0x07, 0x04, 0x6D, 0x30, 0x6B, 0x02, 0x01, 0x01, 0x04, 0x20,
                ];
                let mut out = zeroize::Zeroizing::new(alloc::vec::Vec::with_capacity(138));
                out.extend_from_slice(&HEAD);
                out.extend_from_slice(&self.key.to_bytes());
                out.extend_from_slice(&[0xA1, 0x44, 0x03, 0x42, 0x00]);
                out.extend_from_slice(self.public.as_uncompressed());
                out
            }

            /// [`Self::to_pkcs8_der`] as a PEM `PRIVATE KEY` document (LF line ends).
            #[cfg(feature = "alloc")]
            #[must_use]
            pub fn to_pkcs8_pem(&self) -> zeroize::Zeroizing<alloc::string::String> {
                zeroize::Zeroizing::new(
                    pem_rfc7468::encode_string(
                        "PRIVATE KEY",
                        pem_rfc7468::LineEnding::LF,
                        &self.to_pkcs8_der(),
                    )
                    .unwrap_or_default(),
                )
            }

            /// From the raw 32-byte big-endian scalar, for [`Backend::DEFAULT`].
            ///
            /// # Errors
            /// [`CryptoError::InvalidKey`] for zero or a value not below the group order.
            pub fn from_scalar(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
                Self::from_scalar_on(bytes, Backend::DEFAULT)
            }

            /// From the raw 32-byte big-endian scalar, for `backend` (without first preparing
            /// the default backend's form, as `from_scalar(..)?.with_backend(..)` would).
            ///
            /// # Errors
            /// [`CryptoError::InvalidKey`] for zero or a value not below the group order, or
            /// a key the backend refuses.
            pub fn from_scalar_on(bytes: &[u8; 32], backend: Backend) -> Result<Self, CryptoError> {
                Self::from_secret(&secret_from_scalar(bytes)?, backend)
            }

            /// A fresh random key, for [`Backend::DEFAULT`] (or RustCrypto, should AWS-LC
            /// refuse a valid scalar, which it does not).
            pub fn random($rng: &mut impl CryptoRngCore) -> Self {
                let $key = $random;
                let public = PublicKey::from_verifying_key_unchecked($public);
                let rc = Self {
                    key: $key,
                    public,
                    #[cfg(feature = "aws-lc")]
                    aws: None,
                };
                rc.clone().with_backend(Backend::DEFAULT).unwrap_or(rc)
            }

            /// The same key on `backend` (its public key too).
            ///
            /// # Errors
            /// [`CryptoError::InvalidKey`] if the backend refuses the key.
            pub fn with_backend(self, backend: Backend) -> Result<Self, CryptoError> {
                let public = self.public.with_backend(backend)?;
                match backend {
                    Backend::RustCrypto => Ok(Self {
                        key: self.key,
                        public,
                        #[cfg(feature = "aws-lc")]
                        aws: None,
                    }),
                    #[cfg(feature = "aws-lc")]
                    Backend::AwsLc => {
                        let $scalar = &scalar_bytes(&self.key.to_bytes());
                        let $point = &public;
                        let aws = $aws?;
                        Ok(Self {
                            key: self.key,
                            public,
                            aws: Some(aws),
                        })
                    }
                }
            }

            #[doc = concat!("The backend this key ", $verb, " with.")]
            #[must_use]
            pub const fn backend(&self) -> Backend {
                #[cfg(feature = "aws-lc")]
                if self.aws.is_some() {
                    return Backend::AwsLc;
                }
                Backend::RustCrypto
            }

            /// The matching public key (on the same backend).
            #[must_use]
            pub fn public_key(&self) -> PublicKey {
                self.public.clone()
            }

            /// The SMKI key identifier of the public key (what its certificate's SKI carries).
            #[must_use]
            pub const fn key_id(&self) -> KeyId {
                self.public.key_id()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("public", &self.public)
                    .field("backend", &self.backend())
                    .finish_non_exhaustive()
            }
        }
    };
}

/// A P-256 digital-signature private key. `Debug` shows only the public key; the secret is
/// zeroized on drop.
///
/// Which signatures it makes depends on its [`Backend`]: RustCrypto signs deterministically
/// (RFC 6979: the same message gives the same bytes), AWS-LC with fresh randomness from its own
/// generator. Keys are made for [`Backend::DEFAULT`]; [`SigningKey::with_backend`] moves one,
/// and [`SigningKey::sign_deterministic`] gives RFC 6979 bytes whatever the backend.
#[derive(Clone)]
pub struct SigningKey {
    key: p256::ecdsa::SigningKey,
    public: PublicKey,
    #[cfg(feature = "aws-lc")]
    aws: Option<AwsSigningKey>,
}

private_key_common! {
    SigningKey, "signs",
    rustcrypto: |secret| p256::ecdsa::SigningKey::from(secret),
    random: |rng| p256::ecdsa::SigningKey::random(rng),
    public: |key| *key.verifying_key(),
    aws: |scalar, public| AwsSigningKey::new(scalar, public.as_uncompressed()),
}

impl SigningKey {
    /// RFC 6979 deterministic ECDSA over `message` (RustCrypto), whatever the key's backend.
    ///
    /// # Errors
    /// [`CryptoError::Backend`] if signing fails.
    pub fn sign_deterministic(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        let sig: p256::ecdsa::Signature = self
            .key
            .try_sign(message)
            .map_err(|_| CryptoError::Backend)?;
        Ok(Signature(sig.to_bytes().into()))
    }

    /// Signs with fresh randomness mixed into the RFC 6979 nonce (RustCrypto), whatever the
    /// key's backend.
    ///
    /// # Errors
    /// [`CryptoError::Backend`] if signing fails.
    pub fn sign_with_rng(
        &self,
        rng: &mut impl CryptoRngCore,
        message: &[u8],
    ) -> Result<Signature, CryptoError> {
        let sig: p256::ecdsa::Signature = self
            .key
            .try_sign_with_rng(rng, message)
            .map_err(|_| CryptoError::Backend)?;
        Ok(Signature(sig.to_bytes().into()))
    }
}

impl SignatureSigner for SigningKey {
    /// RustCrypto: RFC 6979, deterministic. AWS-LC: randomized.
    fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        #[cfg(feature = "aws-lc")]
        if let Some(aws) = &self.aws {
            return aws.sign(message);
        }
        self.sign_deterministic(message)
    }
}

/// The 32 scalar bytes, wiped when dropped.
#[cfg(feature = "aws-lc")]
fn scalar_bytes(field: &p256::FieldBytes) -> zeroize::Zeroizing<[u8; 32]> {
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    out.copy_from_slice(field);
    out
}

/// A P-256 key-agreement private key for static–static ECDH. `Debug` shows only the public
/// key; the secret is zeroized on drop. Both backends compute the same Z.
#[derive(Clone)]
pub struct KeyAgreementKey {
    key: p256::SecretKey,
    public: PublicKey,
    #[cfg(feature = "aws-lc")]
    aws: Option<AwsAgreementKey>,
}

private_key_common! {
    KeyAgreementKey, "agrees",
    rustcrypto: |secret| secret.clone(),
    random: |rng| p256::SecretKey::random(rng),
    public: |key| p256::ecdsa::VerifyingKey::from(key.public_key()),
    aws: |scalar, _public| AwsAgreementKey::new(scalar),
}

impl KeyAgreement for KeyAgreementKey {
    /// AWS-LC when both this key and `peer` are on it; RustCrypto otherwise. Same Z.
    fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError> {
        #[cfg(feature = "aws-lc")]
        if let (Some(own), Some(theirs)) = (&self.aws, &peer.aws) {
            return own.agree(theirs).map(SharedSecret::from_bytes);
        }
        let shared = p256::ecdh::diffie_hellman(self.key.to_nonzero_scalar(), peer.key.as_affine());
        let mut z = [0u8; 32];
        z.copy_from_slice(shared.raw_secret_bytes());
        Ok(SharedSecret::from_bytes(z))
    }
}

/// A P-256 public key (digital signature or key agreement), parsed once, validated on the
/// curve, and prepared for its backend: verification and ECDH never re-read it. Cloning is
/// cheap (AWS-LC's form is reference counted). Equality compares the point.
#[derive(Clone)]
pub struct PublicKey {
    key: p256::ecdsa::VerifyingKey,
    point: [u8; 65],
    id: KeyId,
    #[cfg(feature = "aws-lc")]
    aws: Option<AwsPublicKey>,
}

impl PublicKey {
    /// A RustCrypto key for a point known to be valid (from a private key).
    fn from_verifying_key_unchecked(key: p256::ecdsa::VerifyingKey) -> Self {
        let mut point = [0u8; 65];
        let encoded = key.to_encoded_point(false);
        if let Some(src) = encoded.as_bytes().get(..65) {
            point.copy_from_slice(src);
        }
        Self {
            key,
            point,
            id: key_id_of(&point),
            #[cfg(feature = "aws-lc")]
            aws: None,
        }
    }

    fn from_verifying_key(
        key: p256::ecdsa::VerifyingKey,
        backend: Backend,
    ) -> Result<Self, CryptoError> {
        Self::from_verifying_key_unchecked(key).with_backend(backend)
    }

    /// From a SEC1 point (`04 || X || Y`, or compressed), for [`Backend::DEFAULT`].
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] for a point not on the curve.
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map_err(|_| CryptoError::InvalidKey("SEC1 P-256 point"))?;
        Self::from_verifying_key(key, Backend::DEFAULT)
    }

    /// From a DER SubjectPublicKeyInfo, for [`Backend::DEFAULT`].
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`].
    pub fn from_public_key_der(der: &[u8]) -> Result<Self, CryptoError> {
        let key = p256::ecdsa::VerifyingKey::from_public_key_der(der)
            .map_err(|_| CryptoError::InvalidKey("SubjectPublicKeyInfo with a P-256 key"))?;
        Self::from_verifying_key(key, Backend::DEFAULT)
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

    /// The same key prepared for `backend`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] if the backend refuses the point.
    pub fn with_backend(self, backend: Backend) -> Result<Self, CryptoError> {
        match backend {
            Backend::RustCrypto => Ok(Self {
                #[cfg(feature = "aws-lc")]
                aws: None,
                ..self
            }),
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => {
                let aws = match self.aws {
                    Some(aws) => aws,
                    None => AwsPublicKey::new(&self.point)?,
                };
                Ok(Self {
                    aws: Some(aws),
                    ..self
                })
            }
        }
    }

    /// The backend this key verifies with.
    #[must_use]
    pub const fn backend(&self) -> Backend {
        #[cfg(feature = "aws-lc")]
        if self.aws.is_some() {
            return Backend::AwsLc;
        }
        Backend::RustCrypto
    }

    /// The uncompressed SEC1 point `04 || X || Y`.
    #[must_use]
    pub const fn to_uncompressed(&self) -> [u8; 65] {
        self.point
    }

    /// The uncompressed SEC1 point `04 || X || Y`, borrowed.
    #[must_use]
    pub const fn as_uncompressed(&self) -> &[u8; 65] {
        &self.point
    }

    /// The GBCS key identifier (RFC 5280 §4.2.1.2 method 2: `0x4` and the low 60 bits of
    /// SHA-1 of the uncompressed point), computed once when the key was made.
    #[must_use]
    pub const fn key_id(&self) -> KeyId {
        self.id
    }
    /// The same key under another identifier: two keys whose 60-bit identifiers collide, for
    /// testing what keys by identifier.
    #[cfg(test)]
    pub(crate) fn with_key_id_for_test(self, id: KeyId) -> Self {
        Self { id, ..self }
    }
}

/// RFC 5280 §4.2.1.2 method 2 as GBCS uses it: `0x4` nibble, then the low 60 bits of SHA-1 of
/// the uncompressed point.
#[must_use]
pub fn key_id_of(point: &[u8; 65]) -> KeyId {
    use sha1::Sha1;
    let digest = Sha1::digest(point);
    let mut id = [0u8; 8];
    if let Some(low) = digest.get(12..20) {
        id.copy_from_slice(low);
    }
    id[0] = 0x40 | (id[0] & 0x0F);
    KeyId(id)
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.point == other.point
    }
}

impl Eq for PublicKey {}

impl core::hash::Hash for PublicKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.point.hash(state);
    }
}

impl SignatureVerifier for PublicKey {
    /// AWS-LC when the key is prepared for it; RustCrypto otherwise. Same answer.
    fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        #[cfg(feature = "aws-lc")]
        if let Some(aws) = &self.aws {
            return aws.verify(message, signature);
        }
        let sig = p256::ecdsa::Signature::from_slice(&signature.0)
            .map_err(|_| CryptoError::BadSignature)?;
        let digest = Sha256::digest(message);
        self.key
            .verify_prehash(&digest, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", crate::hex::Hex(&self.point))
    }
}
