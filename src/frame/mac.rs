//! The MAC header (GBCS general ciphering APDU, authentication only) and the MAC trailer.
//!
//! ```text
//! off  len  field
//!   0    1  general-ciphering tag                DD
//!   1    1  transaction-id length                00
//!   2    1  originator-system-title length       00
//!   3    1  recipient-system-title length        00
//!   4    1  date-time length                     00
//!   5    1  other-information length             00
//!   6    1  key-info                             00 (absent)
//!   7  1-4  ciphered-content length              BER = 5 + general signing APDU + 12
//!      1    security control                     11 (authentication only)
//!      4    invocation counter                   big-endian, 00000000 in every vector
//!      *    general signing APDU                 (see `grouping`)
//!     12    MAC                                  leftmost 96 bits of the GCM tag
//! ```
//! Checked against every MAC'd RTDS 4.5.0 message (`gbcs-cs02.md` A.3;
//! `tests/rtds_conformance.rs`).

use core::fmt;

use crate::codec::{length_len, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};

/// The general-ciphering APDU tag.
pub const TAG: u8 = 0xDD;
/// The MAC length: the GCM tag truncated to 96 bits.
pub const MAC_LEN: usize = 12;
/// Security control byte plus invocation counter.
pub const SECURITY_HEADER_LEN: usize = 5;

/// The security control byte of a MAC header. Unknown values are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecurityControl(pub u8);

impl SecurityControl {
    /// `0x11`: authentication only, suite 1 (every CS02a/CS02b MAC).
    pub const AUTHENTICATION_ONLY: Self = Self(0x11);
}

impl fmt::Debug for SecurityControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecurityControl(0x{:02X})", self.0)
    }
}

/// A checked view of a MAC'd message: MAC header, authenticated content and MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacHeaderView<'a> {
    bytes: &'a [u8],
    len_len: usize,
    ciphered_len: usize,
}

impl<'a> MacHeaderView<'a> {
    /// Checks a whole MAC'd message: the fixed header, and a ciphered-content length that
    /// covers exactly the rest of `bytes` and leaves room for the security header and MAC.
    ///
    /// # Errors
    /// [`ErrorKind::UnexpectedValue`] for a wrong tag or non-zero header byte,
    /// [`ErrorKind::Truncated`] / [`ErrorKind::TrailingData`] when the length disagrees with
    /// the input, [`ErrorKind::InvalidLength`] when it is too short to hold a MAC.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, 0);
        r.expect_u8(TAG, "MAC header: general-ciphering tag")?;
        for name in [
            "MAC header: transaction-id length",
            "MAC header: originator-system-title length",
            "MAC header: recipient-system-title length",
            "MAC header: date-time length",
            "MAC header: other-information length",
            "MAC header: key-info",
        ] {
            r.expect_u8(0, name)?;
        }
        let at = r.offset();
        let ciphered_len = r.ber_length("MAC header: ciphered-content length")?;
        let len_len = r.offset() - 7;
        if ciphered_len < SECURITY_HEADER_LEN + MAC_LEN {
            return Err(Error::new(
                ErrorKind::InvalidLength,
                at,
                "MAC header: ciphered-content length",
            ));
        }
        r.take(ciphered_len, "MAC header: ciphered content")?;
        r.finish("end of MAC'd message")?;
        Ok(Self {
            bytes,
            len_len,
            ciphered_len,
        })
    }

    /// The number of bytes before the general signing APDU (header and security header).
    #[must_use]
    pub const fn header_len(&self) -> usize {
        7 + self.len_len + SECURITY_HEADER_LEN
    }

    /// The offset of the security control byte.
    #[must_use]
    pub const fn security_control_offset(&self) -> usize {
        7 + self.len_len
    }

    /// The security control byte.
    #[must_use]
    pub fn security_control(&self) -> SecurityControl {
        SecurityControl(
            self.bytes
                .get(self.security_control_offset())
                .copied()
                .unwrap_or(0),
        )
    }

    /// The invocation counter.
    #[must_use]
    pub fn invocation_counter(&self) -> u32 {
        let at = self.security_control_offset() + 1;
        let ic: [u8; 4] = self
            .bytes
            .get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; 4]);
        u32::from_be_bytes(ic)
    }

    /// The ciphered-content length.
    #[must_use]
    pub const fn ciphered_len(&self) -> usize {
        self.ciphered_len
    }

    /// The authenticated content: the general signing APDU between the security header and MAC.
    #[must_use]
    pub fn authenticated_content(&self) -> &'a [u8] {
        let end = self.bytes.len().saturating_sub(MAC_LEN);
        self.bytes.get(self.header_len()..end).unwrap_or_default()
    }

    /// The MAC.
    #[must_use]
    pub fn mac(&self) -> [u8; MAC_LEN] {
        let start = self.bytes.len().saturating_sub(MAC_LEN);
        self.bytes
            .get(start..)
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; MAC_LEN])
    }
}

/// A MAC header as a typed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacHeader {
    /// The security control byte.
    pub security_control: SecurityControl,
    /// The invocation counter (GBCS emits zero).
    pub invocation_counter: u32,
    /// The ciphered-content length: 5 + general signing APDU + 12.
    pub ciphered_len: usize,
}

/// `{"offset": 0, "ciphered_length", "security_control", "invocation_counter"}` (numbers).
#[cfg(feature = "serde")]
impl serde::Serialize for MacHeader {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("MacHeader", 4)?;
        st.serialize_field("offset", &0u8)?;
        st.serialize_field("ciphered_length", &self.ciphered_len)?;
        st.serialize_field("security_control", &self.security_control.0)?;
        st.serialize_field("invocation_counter", &self.invocation_counter)?;
        st.end()
    }
}

impl MacHeader {
    /// The header GBCS puts around a general signing APDU of `apdu_len` bytes: security
    /// control `0x11`, invocation counter zero.
    #[must_use]
    pub const fn for_apdu(apdu_len: usize) -> Self {
        Self {
            security_control: SecurityControl::AUTHENTICATION_ONLY,
            invocation_counter: 0,
            ciphered_len: SECURITY_HEADER_LEN + apdu_len + MAC_LEN,
        }
    }

    /// The typed value of a checked view.
    #[must_use]
    pub fn parse(view: &MacHeaderView<'_>) -> Self {
        Self {
            security_control: view.security_control(),
            invocation_counter: view.invocation_counter(),
            ciphered_len: view.ciphered_len(),
        }
    }

    /// The length of the general signing APDU this header announces.
    #[must_use]
    pub const fn apdu_len(&self) -> usize {
        self.ciphered_len
            .saturating_sub(SECURITY_HEADER_LEN + MAC_LEN)
    }

    /// The number of bytes [`Self::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        7 + length_len(self.ciphered_len) + SECURITY_HEADER_LEN
    }

    /// Writes the header and security header.
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`].
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        const F: &str = "MAC header";
        w.put(&[TAG, 0, 0, 0, 0, 0, 0], F)?;
        w.put_length(self.ciphered_len, F)?;
        w.put_u8(self.security_control.0, F)?;
        w.put(&self.invocation_counter.to_be_bytes(), F)
    }
}
