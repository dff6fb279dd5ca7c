//! Why a DUIS request could not be read: [`DuisError`], with the element and place at fault.

use alloc::string::String;
use core::fmt;

use super::{schema, MAX_REQUEST_BYTES};
use crate::payload::GeneralizedTime;

/// Why a DUIS request could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DuisError {
    /// Not well-formed XML.
    Xml(String),
    /// A required element is missing.
    Missing(&'static str),
    /// An element's value is not what the schema allows.
    Invalid(&'static str),
    /// Not a request of this service (the `ServiceReferenceVariant` expected).
    NotService(&'static str),
    /// A certificate that is not DER, breaks the GBCS SMKI profile, or does not fit the cell
    /// it is meant for.
    Certificate {
        /// The element that carries it.
        element: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A certificate that cannot be trusted: its signature does not verify under its issuer in
    /// the request's certification path, the path does not lead to the trust anchor, or a
    /// certificate is not valid when the command is built or executes ([`CertificateTrust`](super::CertificateTrust)).
    Untrusted {
        /// The element that carries it.
        element: &'static str,
        /// Why.
        reason: String,
    },
    /// A future-dated request whose `ExecutionDateTime` is already past: the command would
    /// run at once.
    ExecutionPassed {
        /// The requested time (Unix seconds, UTC).
        at: i64,
        /// The time of building.
        now: i64,
    },
    /// The request is larger than [`MAX_REQUEST_BYTES`].
    TooLarge(usize),
    /// The request breaks the DUIS schema ([`schema`]): the element, line and column.
    Schema(schema::SchemaError),
    /// A fault found after the schema check (a value the service does not allow, a
    /// certificate that does not fit its cell), at the line and column of its element.
    At {
        /// Line, from 1.
        line: u32,
        /// Column, from 1.
        column: u32,
        /// The fault.
        error: alloc::boxed::Box<DuisError>,
    },
}

impl DuisError {
    /// Whether the request was read but failed a check of trust or time
    /// ([`Self::Untrusted`], [`Self::ExecutionPassed`]), rather than being malformed.
    #[must_use]
    pub fn is_check_failure(&self) -> bool {
        matches!(
            self.cause(),
            Self::Untrusted { .. } | Self::ExecutionPassed { .. }
        )
    }

    /// The fault itself, without its position.
    #[must_use]
    pub fn cause(&self) -> &Self {
        match self {
            Self::At { error, .. } => error.cause(),
            other => other,
        }
    }

    /// The line of the element at fault, when known.
    #[must_use]
    pub fn line(&self) -> Option<u32> {
        match self {
            Self::At { line, .. } => Some(*line),
            Self::Schema(e) => Some(e.line),
            _ => None,
        }
    }

    /// The element at fault, when one is named.
    #[must_use]
    pub fn element(&self) -> Option<&str> {
        match self.cause() {
            Self::Missing(e) | Self::Invalid(e) => Some(e),
            Self::Certificate { element, .. } | Self::Untrusted { element, .. } => Some(element),
            Self::ExecutionPassed { .. } => Some("ExecutionDateTime"),
            Self::Schema(e) => Some(&e.element),
            _ => None,
        }
    }
}

impl fmt::Display for DuisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Xml(e) => write!(f, "not well-formed XML: {e}"),
            Self::Missing(e) => write!(f, "missing element {e}"),
            Self::Invalid(e) => write!(f, "invalid value in {e}"),
            Self::NotService(s) => write!(f, "not an SRV {s} request"),
            Self::Certificate { element, reason } => write!(f, "{element}: {reason}"),
            Self::Untrusted { element, reason } => {
                write!(f, "{element}: certificate not trusted: {reason}")
            }
            Self::ExecutionPassed { at, now } => {
                let show = |t: i64| {
                    GeneralizedTime::from_unix_seconds(t)
                        .map_or_else(|| alloc::format!("{t}"), |g| alloc::format!("{g}"))
                };
                write!(
                    f,
                    "ExecutionDateTime {} is not after the time of building {}: the command would run at once",
                    show(*at),
                    show(*now)
                )
            }
            Self::TooLarge(n) => write!(
                f,
                "request of {n} bytes, over the {MAX_REQUEST_BYTES}-byte limit"
            ),
            Self::Schema(e) => write!(f, "DUIS schema: {e}"),
            Self::At {
                line,
                column,
                error,
            } => write!(f, "line {line}, column {column}: {error}"),
        }
    }
}

impl core::error::Error for DuisError {}
