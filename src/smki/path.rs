//! Certification path validation: the check a meter runs on every CS02b replacement
//! (`gbcs-cs02.md` C.3). The replacement chains, through the certification-path certificates
//! the command carries, to the root trust anchor the device holds.

use core::fmt;

use crate::crypto::PublicKey;
use crate::payload::KeyId;
use crate::smki::SmkiCertificate;

/// The root trust anchor a device holds in its {root, keyCertSign} cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The root's key identifier.
    pub key_id: KeyId,
    /// The root's public key.
    pub public_key: PublicKey,
}

/// Why a path did not validate; `depth` 0 is the replacement certificate, 1 its issuer, …
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// No certificate in the path (nor the anchor) has the key identifier named by the AKI.
    NoIssuer {
        /// The certificate whose issuer is missing.
        depth: usize,
        /// Its authority key identifier.
        authority_key_id: Option<KeyId>,
    },
    /// The issuer's signature does not verify.
    BadSignature {
        /// The certificate whose signature failed.
        depth: usize,
    },
    /// An issuer in the path is not a CA (no keyCertSign).
    NotCa {
        /// The offending issuer's depth.
        depth: usize,
    },
    /// A certificate is not valid at the validation time.
    OutsideValidity {
        /// The certificate's depth.
        depth: usize,
    },
    /// The path is longer than the certificates given (a loop).
    TooLong,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoIssuer {
                depth,
                authority_key_id: Some(aki),
            } => {
                write!(
                    f,
                    "certificate at depth {depth}: no issuer with key identifier {aki}"
                )
            }
            Self::NoIssuer {
                depth,
                authority_key_id: None,
            } => {
                write!(
                    f,
                    "certificate at depth {depth}: no authority key identifier"
                )
            }
            Self::BadSignature { depth } => write!(
                f,
                "certificate at depth {depth}: issuer signature does not verify"
            ),
            Self::NotCa { depth } => write!(f, "certificate at depth {depth} is not a CA"),
            Self::OutsideValidity { depth } => write!(
                f,
                "certificate at depth {depth} is outside its validity period"
            ),
            Self::TooLong => f.write_str("certification path loops"),
        }
    }
}

impl core::error::Error for PathError {}

/// Validates `target` against `anchor` through `path`: each certificate's AKI names its
/// issuer's SKI, the issuer is a CA, its signature verifies, and — when `time` is given (Unix
/// seconds; `None` when time-based checks are disapplied) — every certificate is valid then.
///
/// # Errors
/// The first [`PathError`] found, walking up from the target.
pub fn validate_path(
    target: &SmkiCertificate<'_>,
    path: &[SmkiCertificate<'_>],
    anchor: &TrustAnchor,
    time: Option<i64>,
) -> Result<(), PathError> {
    let mut current = target;
    for depth in 0..=path.len() {
        if let Some(t) = time {
            if !current.is_valid_at(t) {
                return Err(PathError::OutsideValidity { depth });
            }
        }
        let aki = current.authority_key_id();
        if aki == Some(anchor.key_id) {
            return current
                .verify_signed_by(&anchor.public_key)
                .map_err(|_| PathError::BadSignature { depth });
        }
        let issuer = path
            .iter()
            .find(|c| Some(c.subject_key_id()) == aki)
            .ok_or(PathError::NoIssuer {
                depth,
                authority_key_id: aki,
            })?;
        if !issuer.is_ca() {
            return Err(PathError::NotCa { depth: depth + 1 });
        }
        current
            .verify_signed_by(issuer.public_key())
            .map_err(|_| PathError::BadSignature { depth })?;
        current = issuer;
    }
    Err(PathError::TooLong)
}
