//! The decode/encode error shared by the frame and payload layers.
//!
//! An [`Error`] is a small `Copy` value: what went wrong ([`ErrorKind`]), which field was being
//! read or written (a static name such as `"grouping header: originator-system-title length"`),
//! and the byte offset, counted from the first byte of the input handed to the outermost parse
//! call. Its `Display` needs no allocation.

use core::fmt;

/// What went wrong while decoding or encoding.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input ended before the field was complete.
    Truncated,
    /// A TLV tag other than the one the structure requires.
    UnexpectedTag {
        /// The tag the structure requires here.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// A fixed byte (a fixed length prefix, a reserved zero) had another value.
    UnexpectedValue {
        /// The value the frame layout requires.
        expected: u8,
        /// The value found.
        found: u8,
    },
    /// A length that is malformed (indefinite form, more than three length octets) or a
    /// fixed-size field (entity ID, key identifier, date-time) of another size.
    InvalidLength,
    /// Bytes were left over after a complete structure.
    TrailingData,
    /// An encoding BER allows but this codec does not: a non-minimal INTEGER, a DEFAULT value
    /// encoded explicitly, a non-canonical named-bit BIT STRING, a constructed string.
    NonCanonical,
    /// A value outside the range of its type (a negative sequence number, a role above 255).
    ValueOutOfRange,
    /// A GeneralizedTime that is not `YYYYMMDDHHMMSSZ` or names an impossible date.
    InvalidTime,
    /// A command whose CredentialsReplacementMode does not agree with its message code.
    ModeMismatch,
    /// The signature-length byte is neither `0x00` nor `0x40`, or is missing where the frame
    /// needs it (inside a MAC header).
    InvalidSignatureTail,
    /// The MAC header announces a security control other than `0x11` (authentication only):
    /// its content is ciphertext this codec does not open.
    UnsupportedSecurityControl,
    /// The output buffer is too small for the encoding.
    BufferTooSmall,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("input truncated"),
            Self::UnexpectedTag { expected, found } => {
                write!(
                    f,
                    "unexpected tag 0x{found:02X} (expected 0x{expected:02X})"
                )
            }
            Self::UnexpectedValue { expected, found } => {
                write!(
                    f,
                    "unexpected value 0x{found:02X} (expected 0x{expected:02X})"
                )
            }
            Self::InvalidLength => f.write_str("invalid length"),
            Self::TrailingData => f.write_str("trailing data"),
            Self::NonCanonical => f.write_str("non-canonical encoding"),
            Self::ValueOutOfRange => f.write_str("value out of range"),
            Self::InvalidTime => f.write_str("invalid GeneralizedTime"),
            Self::ModeMismatch => {
                f.write_str("credentials replacement mode disagrees with message code")
            }
            Self::InvalidSignatureTail => f.write_str("invalid signature length byte"),
            Self::UnsupportedSecurityControl => {
                f.write_str("unsupported security control (encrypted content)")
            }
            Self::BufferTooSmall => f.write_str("output buffer too small"),
        }
    }
}

/// A decode or encode error: kind, field and byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Error {
    kind: ErrorKind,
    offset: usize,
    field: &'static str,
}

impl Error {
    /// A new error of `kind` in `field` at byte `offset`.
    #[must_use]
    pub const fn new(kind: ErrorKind, offset: usize, field: &'static str) -> Self {
        Self {
            kind,
            offset,
            field,
        }
    }

    /// What went wrong.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset at which the offending field starts (or where input ran out).
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The name of the field being read or written.
    #[must_use]
    pub const fn field(&self) -> &'static str {
        self.field
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {} at byte {}", self.kind, self.field, self.offset)
    }
}

impl core::error::Error for Error {}

/// Result with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
