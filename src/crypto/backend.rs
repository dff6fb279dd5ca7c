//! Which implementation performs the elliptic-curve operations.
//!
//! | backend | feature | where | signatures |
//! |---|---|---|---|
//! | [`Backend::RustCrypto`] | always | no_std and std | deterministic (RFC 6979): the same key and message give the same bytes |
//! | [`Backend::AwsLc`] | `aws-lc` (std, in `default`) | std | randomized by AWS-LC's own generator |
//!
//! Keys ([`SigningKey`](super::SigningKey), [`KeyAgreementKey`](super::KeyAgreementKey),
//! [`PublicKey`](super::PublicKey)) are made for [`Backend::DEFAULT`] — AWS-LC when the
//! feature is on — and moved to another with `with_backend`. Both backends produce and accept
//! the same bytes (raw `r || s`, the x-coordinate Z), which the differential tests check on
//! every RTDS message; only the signatures' nonces differ. Where reproducible bytes matter
//! (test vectors, the simulator's default PKI), use [`Backend::RustCrypto`], or
//! [`SigningKey::sign_deterministic`](super::SigningKey::sign_deterministic) on any key.

use core::fmt;
use core::str::FromStr;

/// An elliptic-curve backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Backend {
    /// RustCrypto `p256` (pure Rust, no_std): deterministic RFC 6979 signatures.
    RustCrypto,
    /// aws-lc-rs (AWS-LC, feature `aws-lc`): several times faster; randomized signatures.
    #[cfg(feature = "aws-lc")]
    AwsLc,
}

impl Backend {
    /// The backend new keys use: [`Backend::AwsLc`] when the `aws-lc` feature is on, else
    /// [`Backend::RustCrypto`].
    #[cfg(feature = "aws-lc")]
    pub const DEFAULT: Self = Self::AwsLc;
    /// The backend new keys use: [`Backend::AwsLc`] when the `aws-lc` feature is on, else
    /// [`Backend::RustCrypto`].
    #[cfg(not(feature = "aws-lc"))]
    pub const DEFAULT: Self = Self::RustCrypto;

    /// Every backend compiled into this build.
    pub const ALL: &'static [Self] = &[
        Self::RustCrypto,
        #[cfg(feature = "aws-lc")]
        Self::AwsLc,
    ];

    /// The name used on the command line and in benchmark IDs: `rustcrypto` or `aws-lc`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::RustCrypto => "rustcrypto",
            #[cfg(feature = "aws-lc")]
            Self::AwsLc => "aws-lc",
        }
    }

    /// Whether this backend's signatures are deterministic (RFC 6979).
    #[must_use]
    pub const fn deterministic_signatures(self) -> bool {
        matches!(self, Self::RustCrypto)
    }
}

impl Default for Backend {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A backend name that is not known, or not compiled into this build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendParseError {
    /// Not `rustcrypto` or `aws-lc`.
    Unknown,
    /// `aws-lc`, but this build has no `aws-lc` feature.
    NotCompiled,
}

impl fmt::Display for BackendParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown => f.write_str("unknown backend (expected rustcrypto or aws-lc)"),
            Self::NotCompiled => f.write_str("this build has no aws-lc backend (feature aws-lc)"),
        }
    }
}

impl core::error::Error for BackendParseError {}

impl FromStr for Backend {
    type Err = BackendParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rustcrypto" => Ok(Self::RustCrypto),
            #[cfg(feature = "aws-lc")]
            "aws-lc" => Ok(Self::AwsLc),
            #[cfg(not(feature = "aws-lc"))]
            "aws-lc" => Err(BackendParseError::NotCompiled),
            _ => Err(BackendParseError::Unknown),
        }
    }
}
