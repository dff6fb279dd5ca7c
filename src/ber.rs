//! The ASN.1 BER/DER layer of the crate: what the CS02 payloads and the SMKI certificate
//! reader are decoded with.
//!
//! Decoding accepts BER definite lengths in any form (devices send `82 00 xx` for lengths
//! 128–255) but is otherwise exact: single-byte tags, primitive strings, minimal INTEGERs,
//! named-bit BIT STRINGs, DEFAULT values omitted, every byte consumed. Encoding is canonical
//! DER. Nothing here allocates.

use core::fmt;

use crate::codec::{LengthForm, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};

mod macros;
mod seq_of;

/// Universal tag: INTEGER.
pub const INTEGER: u8 = 0x02;
/// Universal tag: BIT STRING.
pub const BIT_STRING: u8 = 0x03;
/// Universal tag: OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// Universal tag: NULL.
pub const NULL: u8 = 0x05;
/// Universal tag: ENUMERATED.
pub const ENUMERATED: u8 = 0x0A;
/// Universal tag: GeneralizedTime.
pub const GENERALIZED_TIME: u8 = 0x18;
/// Universal tag: SEQUENCE / SEQUENCE OF (constructed).
pub const SEQUENCE: u8 = 0x30;

/// Context-specific primitive tag `[n]`.
#[must_use]
#[inline]
pub const fn context(n: u8) -> u8 {
    0x80 | n
}

/// Context-specific constructed tag `[n]`.
#[must_use]
#[inline]
pub const fn context_constructed(n: u8) -> u8 {
    0xA0 | n
}

/// The size of a DER TLV whose value is `value_len` bytes.
#[must_use]
pub const fn tlv_len(value_len: usize) -> usize {
    LengthForm::Minimal.tlv_len(value_len)
}

/// A value with a universal tag.
pub trait Tagged {
    /// The tag used when the value is not implicitly tagged.
    const TAG: u8;
}

/// A value decoded from borrowed DER/BER bytes.
pub trait Decode<'a>: Sized + Tagged {
    /// Decodes the value (contents) octets; the reader holds exactly those octets.
    ///
    /// # Errors
    /// Any [`Error`], with the absolute offset of the offending field.
    fn decode_value(r: &mut Reader<'a>) -> Result<Self>;

    /// Decodes a whole TLV with tag `tag` (the universal tag, or an implicit one).
    ///
    /// # Errors
    /// [`ErrorKind::UnexpectedTag`], length errors, value errors, trailing bytes in the value.
    #[inline]
    fn decode_tagged(r: &mut Reader<'a>, tag: u8, field: &'static str) -> Result<Self> {
        let mut value = read_tlv(r, tag, field)?;
        let out = Self::decode_value(&mut value)?;
        value.finish(field)?;
        Ok(out)
    }

    /// Decodes a whole TLV with the universal tag.
    ///
    /// # Errors
    /// As [`Decode::decode_tagged`].
    #[inline]
    fn decode(r: &mut Reader<'a>, field: &'static str) -> Result<Self> {
        Self::decode_tagged(r, Self::TAG, field)
    }

    /// Decodes a complete encoding that must fill `bytes`. The input may use any BER definite
    /// length form (the devices' `82 00 xx`); everything else must be as DER has it.
    ///
    /// # Errors
    /// As [`Decode::decode_tagged`], and [`ErrorKind::TrailingData`].
    fn from_ber(bytes: &'a [u8]) -> Result<Self> {
        Self::from_ber_at(bytes, 0)
    }

    /// As [`Decode::from_ber`] for bytes that start at absolute offset `base` (errors report
    /// offsets in the enclosing message).
    ///
    /// # Errors
    /// As [`Decode::from_ber`].
    fn from_ber_at(bytes: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::new(bytes, base);
        let out = Self::decode(&mut r, "payload")?;
        r.finish("end of payload")?;
        Ok(out)
    }
}

/// A value encoded as canonical DER, or with the devices' lengths ([`LengthForm`]).
pub trait Encode: Tagged {
    /// The length of the value (contents) octets when lengths are written in `form` (it
    /// differs from the minimal one only for a value with TLVs inside).
    fn value_len_in(&self, form: LengthForm) -> usize;

    /// Writes the value octets, nested lengths in the writer's [`LengthForm`].
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`]; [`ErrorKind::ValueOutOfRange`] for a value its ASN.1
    /// type cannot hold.
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()>;

    /// The length of the value octets in DER.
    #[inline]
    fn value_len(&self) -> usize {
        self.value_len_in(LengthForm::Minimal)
    }

    /// The length of the whole TLV when lengths are written in `form`.
    #[inline]
    fn encoded_len_in(&self, form: LengthForm) -> usize {
        form.tlv_len(self.value_len_in(form))
    }

    /// The length of the whole TLV in DER.
    #[inline]
    fn encoded_len(&self) -> usize {
        self.encoded_len_in(LengthForm::Minimal)
    }

    /// Writes the TLV with tag `tag`.
    ///
    /// # Errors
    /// As [`Encode::encode_value`].
    #[inline]
    fn encode_tagged(&self, w: &mut Writer<'_>, tag: u8) -> Result<()> {
        w.put_u8(tag, "tag")?;
        w.put_length(self.value_len_in(w.length_form()), "length")?;
        self.encode_value(w)
    }

    /// Writes the TLV with the universal tag.
    ///
    /// # Errors
    /// As [`Encode::encode_value`].
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<()> {
        self.encode_tagged(w, Self::TAG)
    }

    /// Encodes as DER into `buf`, returning the encoding.
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`] and value errors.
    fn encode_to_slice<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        self.encode_to_slice_in(buf, LengthForm::Minimal)
    }

    /// Encodes into `buf` with lengths in `form`, returning the encoding; checks that the
    /// computed and the written lengths agree.
    ///
    /// # Errors
    /// [`ErrorKind::BufferTooSmall`] and value errors.
    fn encode_to_slice_in<'b>(&self, buf: &'b mut [u8], form: LengthForm) -> Result<&'b [u8]> {
        let len = self.encoded_len_in(form);
        let mut w = Writer::with_length_form(buf, form);
        self.encode(&mut w)?;
        if w.position() != len {
            return Err(Error::new(
                ErrorKind::InvalidLength,
                w.position(),
                "encoded length",
            ));
        }
        Ok(buf.get(..len).unwrap_or_default())
    }

    /// Encodes as DER into a new vector.
    ///
    /// # Errors
    /// Value errors ([`ErrorKind::ValueOutOfRange`]).
    #[cfg(feature = "alloc")]
    fn to_der(&self) -> Result<alloc::vec::Vec<u8>> {
        self.to_vec_in(LengthForm::Minimal)
    }

    /// Encodes into a new vector with lengths in `form`.
    ///
    /// # Errors
    /// Value errors ([`ErrorKind::ValueOutOfRange`]).
    #[cfg(feature = "alloc")]
    fn to_vec_in(&self, form: LengthForm) -> Result<alloc::vec::Vec<u8>> {
        let mut v = alloc::vec![0u8; self.encoded_len_in(form)];
        self.encode_to_slice_in(&mut v, form)?;
        Ok(v)
    }
}

/// Reads a tag (which must be `tag`) and a length; returns a reader over the value octets.
///
/// # Errors
/// [`ErrorKind::UnexpectedTag`] at the tag, length errors, [`ErrorKind::Truncated`].
#[inline]
pub fn read_tlv<'a>(r: &mut Reader<'a>, tag: u8, field: &'static str) -> Result<Reader<'a>> {
    let at = r.offset();
    let found = r.u8(field)?;
    if found != tag {
        return Err(Error::new(
            ErrorKind::UnexpectedTag {
                expected: tag,
                found,
            },
            at,
            field,
        ));
    }
    let len = r.ber_length(field)?;
    r.sub(len, field)
}

/// Decodes an OPTIONAL component: present when the next tag is `tag`.
///
/// # Errors
/// As [`Decode::decode_tagged`] when present.
#[inline]
pub fn decode_optional<'a, T: Decode<'a>>(
    r: &mut Reader<'a>,
    tag: u8,
    field: &'static str,
) -> Result<Option<T>> {
    if r.peek() == Some(tag) {
        T::decode_tagged(r, tag, field).map(Some)
    } else {
        Ok(None)
    }
}

/// Writes an OPTIONAL component with tag `tag` when present.
///
/// # Errors
/// As [`Encode::encode_value`].
#[inline]
pub fn encode_optional<T: Encode>(w: &mut Writer<'_>, value: Option<&T>, tag: u8) -> Result<()> {
    match value {
        Some(v) => v.encode_tagged(w, tag),
        None => Ok(()),
    }
}

/// The encoded length of an OPTIONAL component with lengths in `form`.
#[must_use]
#[inline]
pub fn optional_len<T: Encode>(value: Option<&T>, form: LengthForm) -> usize {
    value.map_or(0, |v| v.encoded_len_in(form))
}

/// Decodes a component with a DEFAULT: absent means `default`; present with the default value
/// is refused, as DER requires (X.690 11.5).
///
/// # Errors
/// As [`Decode::decode_tagged`]; [`ErrorKind::NonCanonical`] for an encoded default.
#[inline]
pub fn decode_default<'a, T: Decode<'a> + PartialEq>(
    r: &mut Reader<'a>,
    tag: u8,
    field: &'static str,
    default: T,
) -> Result<T> {
    let at = r.offset();
    match decode_optional::<T>(r, tag, field)? {
        None => Ok(default),
        Some(v) if v == default => Err(Error::new(ErrorKind::NonCanonical, at, field)),
        Some(v) => Ok(v),
    }
}

// ---------------------------------------------------------------------------------------
// INTEGER

/// Decodes the value octets of a non-negative INTEGER (or ENUMERATED) that fits `u64`.
///
/// # Errors
/// [`ErrorKind::NonCanonical`] for an empty or non-minimal encoding,
/// [`ErrorKind::ValueOutOfRange`] for a negative value or one above `u64::MAX`.
#[inline]
pub fn decode_u64_value(r: &mut Reader<'_>, field: &'static str) -> Result<u64> {
    let at = r.offset();
    let bytes = r.remaining();
    r.take(bytes.len(), field)?;
    match bytes {
        [] => Err(Error::new(ErrorKind::NonCanonical, at, field)),
        [first, ..] if first & 0x80 != 0 => Err(Error::new(ErrorKind::ValueOutOfRange, at, field)),
        [0, second, ..] if second & 0x80 == 0 => {
            Err(Error::new(ErrorKind::NonCanonical, at, field))
        }
        _ => {
            let digits = match bytes {
                [0, rest @ ..] => rest,
                all => all,
            };
            if digits.len() > 8 {
                return Err(Error::new(ErrorKind::ValueOutOfRange, at, field));
            }
            Ok(digits
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
        }
    }
}

/// The value length of the minimal INTEGER encoding of `v`.
#[must_use]
#[inline]
pub const fn u64_value_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    // one sign bit more than the magnitude, at least one octet
    bits / 8 + 1
}

/// Writes the minimal INTEGER value octets of `v`.
///
/// # Errors
/// [`ErrorKind::BufferTooSmall`].
#[inline]
pub fn encode_u64_value(w: &mut Writer<'_>, v: u64) -> Result<()> {
    let len = u64_value_len(v);
    let mut buf = [0u8; 9];
    buf.get_mut(1..)
        .unwrap_or_default()
        .copy_from_slice(&v.to_be_bytes());
    w.put(buf.get(9 - len..).unwrap_or_default(), "integer")
}

impl Tagged for u64 {
    const TAG: u8 = INTEGER;
}

impl Decode<'_> for u64 {
    fn decode_value(r: &mut Reader<'_>) -> Result<Self> {
        decode_u64_value(r, "integer")
    }
}

impl Encode for u64 {
    fn value_len_in(&self, _: LengthForm) -> usize {
        u64_value_len(*self)
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        encode_u64_value(w, *self)
    }
}

pub(crate) use macros::{ber_sequence, der_integer};

// ---------------------------------------------------------------------------------------
// NULL, OCTET STRING

/// ASN.1 NULL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Null;

impl Tagged for Null {
    const TAG: u8 = NULL;
}

impl Decode<'_> for Null {
    fn decode_value(r: &mut Reader<'_>) -> Result<Self> {
        r.finish("NULL value")?;
        Ok(Self)
    }
}

impl Encode for Null {
    fn value_len_in(&self, _: LengthForm) -> usize {
        0
    }
    fn encode_value(&self, _: &mut Writer<'_>) -> Result<()> {
        Ok(())
    }
}

/// A primitive OCTET STRING, borrowed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OctetStringRef<'a>(pub &'a [u8]);

impl fmt::Debug for OctetStringRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OctetString({})", crate::hex::Hex(self.0))
    }
}

impl Tagged for OctetStringRef<'_> {
    const TAG: u8 = OCTET_STRING;
}

impl<'a> Decode<'a> for OctetStringRef<'a> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        let all = r.remaining().len();
        r.take(all, "octet string").map(Self)
    }
}

/// Upper-case hex.
#[cfg(feature = "serde")]
impl serde::Serialize for OctetStringRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        crate::hex::Hex(self.0).serialize(s)
    }
}

impl<'a> From<OctetStringRef<'a>> for &'a [u8] {
    fn from(s: OctetStringRef<'a>) -> Self {
        s.0
    }
}

impl<'a> From<&'a [u8]> for OctetStringRef<'a> {
    fn from(s: &'a [u8]) -> Self {
        Self(s)
    }
}

impl Encode for OctetStringRef<'_> {
    fn value_len_in(&self, _: LengthForm) -> usize {
        self.0.len()
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        w.put(self.0, "octet string")
    }
}

/// Decodes the value of an OCTET STRING that must hold exactly `N` bytes.
///
/// # Errors
/// [`ErrorKind::InvalidLength`] for another size.
pub fn decode_fixed_octets<const N: usize>(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<[u8; N]> {
    let at = r.offset();
    let v = r.remaining();
    r.take(v.len(), field)?;
    v.try_into()
        .map_err(|_| Error::new(ErrorKind::InvalidLength, at, field))
}

pub use seq_of::{SeqIter, SeqOf};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn int(bytes: &[u8]) -> Result<u64> {
        u64::from_ber(bytes)
    }

    #[test]
    fn integers_round_trip_minimally() {
        for (v, der) in [
            (0u64, &[0x02u8, 0x01, 0x00][..]),
            (127, &[0x02, 0x01, 0x7F]),
            (128, &[0x02, 0x02, 0x00, 0x80]),
            (6001, &[0x02, 0x02, 0x17, 0x71]),
            (0x8F66, &[0x02, 0x03, 0x00, 0x8F, 0x66]),
            (
                u64::MAX,
                &[
                    0x02, 0x09, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                ],
            ),
        ] {
            assert_eq!(int(der), Ok(v), "{v}");
            let mut buf = [0u8; 16];
            assert_eq!(v.encode_to_slice(&mut buf).unwrap(), der);
        }
    }

    #[test]
    fn rejects_non_minimal_negative_and_empty_integers() {
        assert_eq!(
            int(&[0x02, 0x02, 0x00, 0x05]).unwrap_err().kind(),
            ErrorKind::NonCanonical
        );
        let e = int(&[0x02, 0x01, 0x80]).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::ValueOutOfRange, 2));
        assert_eq!(
            int(&[0x02, 0x00]).unwrap_err().kind(),
            ErrorKind::NonCanonical
        );
        let too_big = [0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            int(&too_big).unwrap_err().kind(),
            ErrorKind::ValueOutOfRange
        );
    }

    #[test]
    fn accepts_non_minimal_lengths_and_rejects_wrong_tags() {
        assert_eq!(int(&[0x02, 0x81, 0x01, 0x05]), Ok(5));
        assert_eq!(int(&[0x02, 0x82, 0x00, 0x01, 0x05]), Ok(5));
        let e = int(&[0x04, 0x01, 0x05]).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::UnexpectedTag {
                expected: 0x02,
                found: 0x04
            }
        );
        assert_eq!(e.offset(), 0);
        assert_eq!(
            int(&[0x02, 0x01, 0x05, 0x00]).unwrap_err().kind(),
            ErrorKind::TrailingData
        );
    }

    #[test]
    fn sequence_views_equal_slices_with_the_same_elements() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03];
        let seq = SeqOf::<u64>::from_ber(&der).unwrap();
        assert_eq!(seq.len(), 2);
        assert_eq!(seq, SeqOf::from_slice(&[2u64, 3]));
        assert_ne!(seq, SeqOf::from_slice(&[2u64]));
        let mut buf = [0u8; 8];
        assert_eq!(
            SeqOf::from_slice(&[2u64, 3])
                .encode_to_slice(&mut buf)
                .unwrap(),
            &der
        );
        let bad = [0x30, 0x05, 0x02, 0x01, 0x02, 0x02, 0x01];
        let e = SeqOf::<u64>::from_ber(&bad).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Truncated, 7));
    }

    #[test]
    fn device_lengths_propagate_to_the_enclosing_lengths() {
        let a = [0xAAu8; 130];
        let b = [0xBBu8; 250];
        for (items, outer_device, outer_minimal) in [
            (
                &[OctetStringRef(&a)][..],
                &[0x30u8, 0x82, 0x00, 0x86][..],
                &[0x30u8, 0x81, 0x85][..],
            ),
            (
                &[OctetStringRef(&b), OctetStringRef(&b)],
                &[0x30, 0x82, 0x01, 0xFC],
                &[0x30, 0x82, 0x01, 0xFA],
            ),
        ] {
            let seq = SeqOf::from_slice(items);
            for (form, outer) in [
                (LengthForm::Device, outer_device),
                (LengthForm::Minimal, outer_minimal),
            ] {
                let mut buf = [0u8; 600];
                let out = seq.encode_to_slice_in(&mut buf, form).unwrap();
                assert_eq!(out.len(), seq.encoded_len_in(form));
                assert_eq!(&out[..outer.len()], outer, "{form:?}");
                assert_eq!(SeqOf::<OctetStringRef<'_>>::from_ber(out).unwrap(), seq);
            }
        }
    }
}
