//! Hexadecimal text, as the RTDS files and log lines carry GBCS messages.
//!
//! Encoding and compact decoding are the `hex` crate's; what is kept here is the thin reader
//! of RTDS text ([`decode`], [`decode_to_slice`]), which skips white space between digits and
//! reports the index of a bad one, and the `no_std` formatter behind [`Hex`].

use core::fmt;

/// A hex text that could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HexError {
    /// A character that is not a hex digit (nor white space), at this character index.
    InvalidDigit(usize),
    /// An odd number of digits.
    OddLength,
    /// The decoded bytes do not have the size the caller wants.
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes the text holds.
        found: usize,
    },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidDigit(i) => write!(f, "invalid hex digit at character {i}"),
            Self::OddLength => f.write_str("odd number of hex digits"),
            Self::WrongLength { expected, found } => {
                write!(f, "expected {expected} bytes, found {found}")
            }
        }
    }
}

impl core::error::Error for HexError {}

const fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Calls `out` with each decoded byte; ASCII white space between digits is skipped.
fn decode_with(s: &str, mut out: impl FnMut(u8)) -> Result<usize, HexError> {
    let mut high: Option<u8> = None;
    let mut n = 0usize;
    for (i, c) in s.bytes().enumerate() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let v = nibble(c).ok_or(HexError::InvalidDigit(i))?;
        match high.take() {
            None => high = Some(v),
            Some(h) => {
                out((h << 4) | v);
                n += 1;
            }
        }
    }
    if high.is_some() {
        return Err(HexError::OddLength);
    }
    Ok(n)
}

/// Decodes hex text into exactly `out.len()` bytes.
///
/// # Errors
/// [`HexError`] for a bad digit, an odd count or another size.
pub fn decode_to_slice(s: &str, out: &mut [u8]) -> Result<(), HexError> {
    let mut it = out.iter_mut();
    let mut overflow = false;
    let n = decode_with(s, |b| match it.next() {
        Some(slot) => *slot = b,
        None => overflow = true,
    })?;
    if overflow || n != out.len() {
        return Err(HexError::WrongLength {
            expected: out.len(),
            found: n,
        });
    }
    Ok(())
}

/// Decodes hex text (white space allowed between digits).
///
/// # Errors
/// [`HexError`] for a bad digit or an odd count.
#[cfg(feature = "alloc")]
pub fn decode(s: &str) -> Result<alloc::vec::Vec<u8>, HexError> {
    let mut v = alloc::vec::Vec::with_capacity(s.len() / 2);
    decode_with(s, |b| v.push(b))?;
    Ok(v)
}

/// Upper-case hex of `bytes` (the `hex` crate's).
#[cfg(feature = "alloc")]
#[must_use]
pub fn encode_upper(bytes: &[u8]) -> alloc::string::String {
    hex::encode_upper(bytes)
}

/// Decodes compact hex (no white space, as in identifiers and key IDs) into exactly
/// `out.len()` bytes, with the `hex` crate.
///
/// # Errors
/// [`HexError`] for a bad digit (its index), an odd count or another size.
pub fn decode_exact(s: &str, out: &mut [u8]) -> Result<(), HexError> {
    hex::decode_to_slice(s, out).map_err(|e| match e {
        hex::FromHexError::InvalidHexCharacter { index, .. } => HexError::InvalidDigit(index),
        hex::FromHexError::OddLength => HexError::OddLength,
        hex::FromHexError::InvalidStringLength => HexError::WrongLength {
            expected: out.len(),
            found: s.len() / 2,
        },
    })
}

/// Writes `bytes` as upper-case hex into a formatter.
///
/// # Errors
/// Whatever the formatter returns.
pub fn fmt_upper(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // Through a stack buffer, 64 bytes at a time: `write!` per byte costs a formatting call
    // each (a certificate's DER is some 500 bytes, and `decode --json` prints several).
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 128];
    for chunk in bytes.chunks(64) {
        for (pair, b) in buf.chunks_exact_mut(2).zip(chunk) {
            if let [hi, lo] = pair {
                *hi = DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                *lo = DIGITS.get(usize::from(b & 0x0F)).copied().unwrap_or(b'0');
            }
        }
        let text = buf.get(..chunk.len() * 2).unwrap_or_default();
        // Only ASCII digits were written.
        f.write_str(core::str::from_utf8(text).map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

/// A `Display` wrapper printing bytes as upper-case hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_upper(self.0, f)
    }
}

/// Upper-case hex text.
#[cfg(feature = "serde")]
impl serde::Serialize for Hex<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_upper(self.0, f)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn display_writes_every_byte_value_in_upper_case_across_chunk_boundaries() {
        let bytes: alloc::vec::Vec<u8> = (0..=255u8).chain(0..=200u8).collect();
        for n in [0, 1, 63, 64, 65, 128, 129, bytes.len()] {
            let shown = alloc::format!("{}", Hex(&bytes[..n]));
            assert_eq!(shown, hex::encode_upper(&bytes[..n]), "{n} bytes");
        }
    }

    #[test]
    fn compact_ids_decode_exactly_and_name_the_bad_digit() {
        let mut out = [0u8; 2];
        decode_exact("0aB0", &mut out).unwrap();
        assert_eq!(out, [0x0A, 0xB0]);
        assert_eq!(
            decode_exact("0aG0", &mut out),
            Err(HexError::InvalidDigit(2))
        );
        assert_eq!(
            decode_exact("0 B0", &mut out),
            Err(HexError::InvalidDigit(1))
        );
        assert_eq!(decode_exact("0aB", &mut out), Err(HexError::OddLength));
        assert_eq!(
            decode_exact("0aB0CC", &mut out),
            Err(HexError::WrongLength {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn decodes_with_whitespace_and_rejects_bad_digits() {
        let mut out = [0u8; 3];
        decode_to_slice("0a B0\nff", &mut out).unwrap();
        assert_eq!(out, [0x0A, 0xB0, 0xFF]);
        assert_eq!(
            decode_to_slice("0g0000", &mut out),
            Err(HexError::InvalidDigit(1))
        );
        assert_eq!(decode_to_slice("000", &mut out), Err(HexError::OddLength));
        assert_eq!(
            decode_to_slice("0000", &mut out),
            Err(HexError::WrongLength {
                expected: 3,
                found: 2
            })
        );
        assert_eq!(
            decode_to_slice("00000000", &mut out),
            Err(HexError::WrongLength {
                expected: 3,
                found: 4
            })
        );
    }
}
