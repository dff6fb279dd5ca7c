//! Byte cursors shared by the frame and payload layers: a bounded [`Reader`] that reports
//! absolute offsets, a [`Writer`] into a caller's buffer, and BER definite lengths.
//!
//! Lengths are read in any definite form with at most three length octets (`0x83`), which
//! covers 16 MiB; GBCS messages are a few KiB. They are written in a [`LengthForm`]: minimal
//! (DER), or as the RTDS devices write them.

use crate::error::{Error, ErrorKind, Result};

/// The largest number of length octets accepted after `0x80` (`0x83 xx xx xx`).
pub const MAX_LENGTH_OCTETS: usize = 3;

/// How a [`Writer`] writes BER definite lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum LengthForm {
    /// The minimal form, as DER requires: `xx` below 128, `81 xx` for 128–255, `82 xx xx`
    /// up to 65,535.
    #[default]
    Minimal,
    /// The form the RTDS devices send: every length from 128 to 255 as `82 00 xx`, the others
    /// minimal (`gbcs-cs02.md`, the length note). Valid BER, not DER; the simulated devices
    /// answer in it so that their replies match DCC's byte for byte.
    Device,
}

impl LengthForm {
    /// The number of octets `len` takes in this form.
    #[must_use]
    #[inline]
    pub const fn length_len(self, len: usize) -> usize {
        match self {
            Self::Device if len >= 0x80 && len <= 0xFF => 3,
            _ => length_len(len),
        }
    }

    /// The size of a TLV with a one-octet tag whose value is `value_len` bytes.
    #[must_use]
    #[inline]
    pub const fn tlv_len(self, value_len: usize) -> usize {
        1 + self.length_len(value_len) + value_len
    }
}

/// A cursor over borrowed bytes. Every read is bounds-checked; errors carry the absolute
/// offset (`base` + position).
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte is at absolute offset `base`.
    #[must_use]
    pub const fn new(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// The absolute offset of the next byte.
    #[must_use]
    #[inline]
    pub const fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    #[must_use]
    #[inline]
    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Whether every byte was read.
    #[must_use]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next byte, without consuming it.
    #[must_use]
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// An error of `kind` at the current offset.
    #[must_use]
    #[inline]
    pub const fn error(&self, kind: ErrorKind, field: &'static str) -> Error {
        Error::new(kind, self.offset(), field)
    }

    /// Reads `n` bytes.
    ///
    /// # Errors
    /// [`ErrorKind::Truncated`] when fewer than `n` bytes remain.
    #[inline]
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.error(ErrorKind::Truncated, field))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.error(ErrorKind::Truncated, field))?;
        self.pos = end;
        Ok(out)
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`ErrorKind::Truncated`] at the end of input.
    #[inline]
    pub fn u8(&mut self, field: &'static str) -> Result<u8> {
        let b = self
            .peek()
            .ok_or_else(|| self.error(ErrorKind::Truncated, field))?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads a fixed-size array.
    ///
    /// # Errors
    /// [`ErrorKind::Truncated`] when fewer than `N` bytes remain.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let at = self.offset();
        let s = self.take(N, field)?;
        s.try_into()
            .map_err(|_| Error::new(ErrorKind::Truncated, at, field))
    }

    /// Reads one byte that must equal `expected`.
    ///
    /// # Errors
    /// [`ErrorKind::UnexpectedValue`] (at that byte) or [`ErrorKind::Truncated`].
    pub fn expect_u8(&mut self, expected: u8, field: &'static str) -> Result<()> {
        let at = self.offset();
        let found = self.u8(field)?;
        if found == expected {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::UnexpectedValue { expected, found },
                at,
                field,
            ))
        }
    }

    /// Reads a BER definite length (short form, or `0x81`–`0x83` long form, minimal or not).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLength`] for the indefinite form or more than three length octets;
    /// [`ErrorKind::Truncated`].
    #[inline]
    pub fn ber_length(&mut self, field: &'static str) -> Result<usize> {
        let at = self.offset();
        let first = self.u8(field)?;
        if first < 0x80 {
            return Ok(usize::from(first));
        }
        let n = usize::from(first & 0x7F);
        if n == 0 || n > MAX_LENGTH_OCTETS {
            return Err(Error::new(ErrorKind::InvalidLength, at, field));
        }
        let octets = self.take(n, field)?;
        Ok(octets
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)))
    }

    /// Splits off the next `len` bytes as a reader of their own (offsets stay absolute).
    ///
    /// # Errors
    /// [`ErrorKind::Truncated`] when fewer than `len` bytes remain.
    #[inline]
    pub fn sub(&mut self, len: usize, field: &'static str) -> Result<Reader<'a>> {
        let base = self.offset();
        let bytes = self.take(len, field)?;
        Ok(Reader::new(bytes, base))
    }

    /// Succeeds only if every byte was consumed.
    ///
    /// # Errors
    /// [`ErrorKind::TrailingData`] at the first unread byte.
    #[inline]
    pub fn finish(&self, field: &'static str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(ErrorKind::TrailingData, field))
        }
    }
}

/// A cursor writing into a caller's buffer.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
    form: LengthForm,
}

impl<'b> Writer<'b> {
    /// A writer at the start of `buf` that writes minimal lengths.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self::with_length_form(buf, LengthForm::Minimal)
    }

    /// A writer at the start of `buf` that writes lengths in `form`.
    pub fn with_length_form(buf: &'b mut [u8], form: LengthForm) -> Self {
        Self { buf, pos: 0, form }
    }

    /// The form this writer writes lengths in.
    #[must_use]
    #[inline]
    pub const fn length_form(&self) -> LengthForm {
        self.form
    }

    /// Bytes written so far.
    #[must_use]
    #[inline]
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`] when they do not fit.
    #[inline]
    pub fn put(&mut self, bytes: &[u8], field: &'static str) -> Result<()> {
        let end = self.pos.checked_add(bytes.len());
        let dst = end
            .and_then(|end| self.buf.get_mut(self.pos..end))
            .ok_or(Error::new(ErrorKind::BufferTooSmall, self.pos, field))?;
        dst.copy_from_slice(bytes);
        self.pos += bytes.len();
        Ok(())
    }

    /// Appends one byte.
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`].
    #[inline]
    pub fn put_u8(&mut self, b: u8, field: &'static str) -> Result<()> {
        self.put(&[b], field)
    }

    /// Appends `len` as a BER definite length in the writer's [`LengthForm`].
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`]; [`ErrorKind::InvalidLength`] above 16 MiB.
    #[inline]
    pub fn put_length(&mut self, len: usize, field: &'static str) -> Result<()> {
        if self.form == LengthForm::Device {
            if let Ok(b @ 0x80..=0xFF) = u8::try_from(len) {
                return self.put(&[0x82, 0x00, b], field);
            }
        }
        let mut tmp = [0u8; 4];
        let n = encode_length(len, &mut tmp).ok_or(Error::new(
            ErrorKind::InvalidLength,
            self.pos,
            field,
        ))?;
        self.put(tmp.get(..n).unwrap_or_default(), field)
    }
}

/// The number of octets of the minimal BER encoding of `len`.
#[must_use]
pub const fn length_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else if len <= 0xFF {
        2
    } else if len <= 0xFFFF {
        3
    } else {
        4
    }
}

/// Writes the minimal BER encoding of `len` into `out`, returning its size; `None` above
/// `0xFF_FFFF`.
#[must_use]
#[inline]
pub fn encode_length(len: usize, out: &mut [u8; 4]) -> Option<usize> {
    let b = len.to_be_bytes();
    let [.., b2, b1, b0] = b;
    match length_len(len) {
        1 => {
            out[0] = b0;
            Some(1)
        }
        2 => {
            *out = [0x81, b0, 0, 0];
            Some(2)
        }
        3 => {
            *out = [0x82, b1, b0, 0];
            Some(3)
        }
        _ if len <= 0xFF_FFFF => {
            *out = [0x83, b2, b1, b0];
            Some(4)
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_definite_length_form() {
        for (bytes, want) in [
            (&[0x05u8][..], 5usize),
            (&[0x81, 0xCA], 0xCA),
            (&[0x82, 0x00, 0xCA], 0xCA),
            (&[0x82, 0x06, 0xDD], 0x6DD),
            (&[0x83, 0x01, 0x00, 0x00], 0x10000),
        ] {
            let mut r = Reader::new(bytes, 0);
            assert_eq!(r.ber_length("len"), Ok(want));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn rejects_indefinite_and_oversized_lengths() {
        for bytes in [&[0x80u8][..], &[0x84, 0, 0, 0, 1]] {
            let err = Reader::new(bytes, 7).ber_length("len").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidLength);
            assert_eq!(err.offset(), 7);
        }
        let err = Reader::new(&[0x82, 0x01], 3).ber_length("len").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Truncated);
        assert_eq!(err.offset(), 4);
    }

    #[test]
    fn writes_minimal_lengths() {
        for (len, want) in [
            (0usize, &[0x00u8][..]),
            (0x7F, &[0x7F]),
            (0x80, &[0x81, 0x80]),
            (0xFF, &[0x81, 0xFF]),
            (0x100, &[0x82, 0x01, 0x00]),
            (0x10000, &[0x83, 0x01, 0x00, 0x00]),
        ] {
            let mut buf = [0u8; 4];
            let mut w = Writer::new(&mut buf);
            w.put_length(len, "len").unwrap();
            let n = w.position();
            assert_eq!(&buf[..n], want);
            assert_eq!(length_len(len), want.len());
        }
    }

    #[test]
    fn writes_device_lengths_as_the_rtds_devices_do() {
        for (len, want) in [
            (0x7Fusize, &[0x7Fu8][..]),
            (0x80, &[0x82, 0x00, 0x80]),
            (0xCA, &[0x82, 0x00, 0xCA]),
            (0xFF, &[0x82, 0x00, 0xFF]),
            (0x100, &[0x82, 0x01, 0x00]),
            (0x6DD, &[0x82, 0x06, 0xDD]),
        ] {
            let mut buf = [0u8; 4];
            let mut w = Writer::with_length_form(&mut buf, LengthForm::Device);
            w.put_length(len, "len").unwrap();
            let n = w.position();
            assert_eq!(&buf[..n], want, "{len:#x}");
            assert_eq!(LengthForm::Device.length_len(len), want.len());
            assert_eq!(Reader::new(want, 0).ber_length("len"), Ok(len));
        }
    }

    #[test]
    fn writer_reports_overflow() {
        let mut buf = [0u8; 2];
        let mut w = Writer::new(&mut buf);
        w.put(&[1, 2], "a").unwrap();
        assert_eq!(
            w.put_u8(3, "b").unwrap_err().kind(),
            ErrorKind::BufferTooSmall
        );
    }
}
