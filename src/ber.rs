//! The ASN.1 BER/DER layer of the crate: what the CS02 payloads and the SMKI certificate
//! reader are decoded with.
//!
//! Decoding accepts BER definite lengths in any form (devices send `82 00 xx` for lengths
//! 128–255) but is otherwise exact: single-byte tags, primitive strings, minimal INTEGERs,
//! named-bit BIT STRINGs, DEFAULT values omitted, every byte consumed. Encoding is canonical
//! DER. Nothing here allocates.

use core::fmt;
use core::marker::PhantomData;

use crate::codec::{LengthForm, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};

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
pub const fn context(n: u8) -> u8 {
    0x80 | n
}

/// Context-specific constructed tag `[n]`.
#[must_use]
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
    fn value_len(&self) -> usize {
        self.value_len_in(LengthForm::Minimal)
    }

    /// The length of the whole TLV when lengths are written in `form`.
    fn encoded_len_in(&self, form: LengthForm) -> usize {
        form.tlv_len(self.value_len_in(form))
    }

    /// The length of the whole TLV in DER.
    fn encoded_len(&self) -> usize {
        self.encoded_len_in(LengthForm::Minimal)
    }

    /// Writes the TLV with tag `tag`.
    ///
    /// # Errors
    /// As [`Encode::encode_value`].
    fn encode_tagged(&self, w: &mut Writer<'_>, tag: u8) -> Result<()> {
        w.put_u8(tag, "tag")?;
        w.put_length(self.value_len_in(w.length_form()), "length")?;
        self.encode_value(w)
    }

    /// Writes the TLV with the universal tag.
    ///
    /// # Errors
    /// As [`Encode::encode_value`].
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
pub fn encode_optional<T: Encode>(w: &mut Writer<'_>, value: Option<&T>, tag: u8) -> Result<()> {
    match value {
        Some(v) => v.encode_tagged(w, tag),
        None => Ok(()),
    }
}

/// The encoded length of an OPTIONAL component with lengths in `form`.
#[must_use]
pub fn optional_len<T: Encode>(value: Option<&T>, form: LengthForm) -> usize {
    value.map_or(0, |v| v.encoded_len_in(form))
}

/// Decodes a component with a DEFAULT: absent means `default`; present with the default value
/// is refused, as DER requires (X.690 11.5).
///
/// # Errors
/// As [`Decode::decode_tagged`]; [`ErrorKind::NonCanonical`] for an encoded default.
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
pub const fn u64_value_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    // one sign bit more than the magnitude, at least one octet
    bits / 8 + 1
}

/// Writes the minimal INTEGER value octets of `v`.
///
/// # Errors
/// [`ErrorKind::BufferTooSmall`].
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

/// Implements the INTEGER or ENUMERATED codec of a `u8`/`u16` wire enumeration ([`crate::wire_enum`]).
macro_rules! der_integer {
    ($name:ident($inner:ty), $tag:expr, $field:literal) => {
        impl $crate::ber::Tagged for $name {
            const TAG: u8 = $tag;
        }

        impl $crate::ber::Decode<'_> for $name {
            fn decode_value(r: &mut $crate::codec::Reader<'_>) -> $crate::error::Result<Self> {
                let at = r.offset();
                let v = $crate::ber::decode_u64_value(r, $field)?;
                <$inner>::try_from(v).map(Self).map_err(|_| {
                    $crate::error::Error::new($crate::error::ErrorKind::ValueOutOfRange, at, $field)
                })
            }
        }

        impl $crate::ber::Encode for $name {
            fn value_len_in(&self, _: $crate::codec::LengthForm) -> usize {
                $crate::ber::u64_value_len(u64::from(self.0))
            }
            fn encode_value(&self, w: &mut $crate::codec::Writer<'_>) -> $crate::error::Result<()> {
                $crate::ber::encode_u64_value(w, u64::from(self.0))
            }
        }
    };
}
pub(crate) use der_integer;

/// Writes the [`Tagged`], [`Decode`] and [`Encode`] impls of a SEQUENCE from one list of its
/// components, in order. Each component is
///
/// ```text
/// field: req Codec [tag] => "asn1Name" as "json_name",        -- mandatory
/// field: opt Codec [tag] => "asn1Name" as "json_name",        -- OPTIONAL (absent when the
///                                                             -- next tag differs)
/// field: default Codec = VALUE => "asn1Name" as "json_name",  -- DEFAULT VALUE (omitted when
///                                                             -- equal, refused when encoded)
/// ```
///
/// With the `serde` feature it also writes `Serialize`: the components in order under their
/// JSON names (the ASN.1 names in snake case), absent OPTIONALs as `null`.
///
/// `[tag]` is an implicit tag; without it the codec's universal tag is used. `Codec` is the
/// type that decodes and encodes the component; the field holds it or anything it converts
/// into and from (`SeqNo` for a `u64` SeqNumber, `OctetStringRef` for a `&[u8]`). The
/// derive of the `der` crate cannot be used: it refuses the devices' `82 00 xx` lengths.
macro_rules! ber_sequence {
    (
        impl<$lt:lifetime> $ty:ty {
            $( $field:ident : $kind:ident $codec:ty $([$tag:expr])? $(= $default:expr)? => $asn1:literal as $json:literal, )+
        }
    ) => {
        impl<$lt> $crate::ber::Tagged for $ty {
            const TAG: u8 = $crate::ber::SEQUENCE;
        }

        impl<$lt> $crate::ber::Decode<$lt> for $ty {
            #[allow(clippy::useless_conversion)]
            fn decode_value(r: &mut $crate::codec::Reader<$lt>) -> $crate::error::Result<Self> {
                Ok(Self {
                    $( $field: $crate::ber::ber_sequence!(
                        @decode $kind r, $codec,
                        $crate::ber::ber_sequence!(@tag $codec $(, $tag)?), $asn1 $(, $default)?
                    ), )+
                })
            }
        }

        impl<$lt> $crate::ber::Encode for $ty {
            #[allow(clippy::useless_conversion)]
            fn value_len_in(&self, form: $crate::codec::LengthForm) -> usize {
                0 $( + $crate::ber::ber_sequence!(@len $kind self.$field, $codec, form $(, $default)?) )+
            }

            #[allow(clippy::useless_conversion)]
            fn encode_value(&self, w: &mut $crate::codec::Writer<'_>) -> $crate::error::Result<()> {
                $( $crate::ber::ber_sequence!(
                    @encode $kind w, self.$field, $codec,
                    $crate::ber::ber_sequence!(@tag $codec $(, $tag)?) $(, $default)?
                ); )+
                Ok(())
            }
        }

        /// The components in order, named in snake case; each as its codec serializes it.
        #[cfg(feature = "serde")]
        impl<$lt> ::serde::Serialize for $ty {
            #[allow(clippy::useless_conversion)]
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeStruct as _;
                let mut st = s.serialize_struct(stringify!($ty), 0 $( + { let _ = $json; 1 } )+)?;
                $( st.serialize_field($json, &$crate::ber::ber_sequence!(@ser $kind self.$field, $codec))?; )+
                st.end()
            }
        }
    };

    (@ser opt $value:expr, $codec:ty) => { $value.map(<$codec>::from) };
    (@ser $kind:ident $value:expr, $codec:ty) => { <$codec>::from($value) };

    (@tag $codec:ty) => { <$codec as $crate::ber::Tagged>::TAG };
    (@tag $codec:ty, $tag:expr) => { $tag };

    (@decode req $r:ident, $codec:ty, $tag:expr, $asn1:literal) => {
        <$codec as $crate::ber::Decode>::decode_tagged($r, $tag, $asn1)?.into()
    };
    (@decode opt $r:ident, $codec:ty, $tag:expr, $asn1:literal) => {
        $crate::ber::decode_optional::<$codec>($r, $tag, $asn1)?.map(Into::into)
    };
    (@decode default $r:ident, $codec:ty, $tag:expr, $asn1:literal, $default:expr) => {
        $crate::ber::decode_default::<$codec>($r, $tag, $asn1, $default)?.into()
    };

    (@len req $value:expr, $codec:ty, $form:ident) => {
        $crate::ber::Encode::encoded_len_in(&<$codec>::from($value), $form)
    };
    (@len opt $value:expr, $codec:ty, $form:ident) => {
        $value.map_or(0, |v| $crate::ber::Encode::encoded_len_in(&<$codec>::from(v), $form))
    };
    (@len default $value:expr, $codec:ty, $form:ident, $default:expr) => {
        match <$codec>::from($value) {
            v if v == $default => 0,
            v => $crate::ber::Encode::encoded_len_in(&v, $form),
        }
    };

    (@encode req $w:ident, $value:expr, $codec:ty, $tag:expr) => {
        $crate::ber::Encode::encode_tagged(&<$codec>::from($value), $w, $tag)?
    };
    (@encode opt $w:ident, $value:expr, $codec:ty, $tag:expr) => {
        if let Some(v) = $value {
            $crate::ber::Encode::encode_tagged(&<$codec>::from(v), $w, $tag)?;
        }
    };
    (@encode default $w:ident, $value:expr, $codec:ty, $tag:expr, $default:expr) => {
        match <$codec>::from($value) {
            v if v == $default => {}
            v => $crate::ber::Encode::encode_tagged(&v, $w, $tag)?,
        }
    };
}
pub(crate) use ber_sequence;

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

// ---------------------------------------------------------------------------------------
// SEQUENCE OF

/// A `SEQUENCE OF T`, either a validated view over received bytes or a caller's slice.
///
/// Decoding checks every element once; iteration then decodes them again on the fly, so no
/// heap is needed. Two sequences are equal when their elements are, whichever their backing.
pub struct SeqOf<'a, T> {
    inner: SeqInner<'a, T>,
}

enum SeqInner<'a, T> {
    Encoded {
        bytes: &'a [u8],
        base: usize,
        count: usize,
    },
    Slice(&'a [T]),
}

impl<T> Clone for SeqInner<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SeqInner<'_, T> {}
impl<T> Clone for SeqOf<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SeqOf<'_, T> {}

impl<'a, T> SeqOf<'a, T> {
    /// A sequence of the elements in `items` (for building messages).
    #[must_use]
    pub const fn from_slice(items: &'a [T]) -> Self {
        Self {
            inner: SeqInner::Slice(items),
        }
    }

    /// An empty sequence.
    #[must_use]
    pub const fn empty() -> Self {
        Self::from_slice(&[])
    }

    /// The number of elements.
    #[must_use]
    pub const fn len(&self) -> usize {
        match self.inner {
            SeqInner::Encoded { count, .. } => count,
            SeqInner::Slice(s) => s.len(),
        }
    }

    /// Whether there are no elements.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a, T: Decode<'a> + Copy> SeqOf<'a, T> {
    /// The elements, in order.
    #[must_use]
    pub fn iter(&self) -> SeqIter<'a, T> {
        match self.inner {
            SeqInner::Encoded { bytes, base, .. } => {
                SeqIter::Encoded(Reader::new(bytes, base), PhantomData)
            }
            SeqInner::Slice(s) => SeqIter::Slice(s.iter()),
        }
    }

    /// The first element.
    #[must_use]
    pub fn first(&self) -> Option<T> {
        self.iter().next()
    }
}

impl<'a, T: Decode<'a> + Copy> IntoIterator for &SeqOf<'a, T> {
    type Item = T;
    type IntoIter = SeqIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The iterator of a [`SeqOf`].
pub enum SeqIter<'a, T> {
    /// Decoding checked bytes.
    Encoded(Reader<'a>, PhantomData<T>),
    /// Copying out of a slice.
    Slice(core::slice::Iter<'a, T>),
}

impl<'a, T: Decode<'a> + Copy> Iterator for SeqIter<'a, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            // The bytes were validated element by element when the sequence was decoded, so
            // this cannot fail; should it ever, iteration simply ends.
            Self::Encoded(r, _) if !r.is_empty() => T::decode(r, "sequence element").ok(),
            Self::Encoded(..) => None,
            Self::Slice(it) => it.next().copied(),
        }
    }
}

impl<T> Tagged for SeqOf<'_, T> {
    const TAG: u8 = SEQUENCE;
}

impl<'a, T: Decode<'a> + Copy> Decode<'a> for SeqOf<'a, T> {
    fn decode_value(r: &mut Reader<'a>) -> Result<Self> {
        let base = r.offset();
        let bytes = r.remaining();
        let mut count = 0usize;
        while !r.is_empty() {
            T::decode(r, "sequence element")?;
            count += 1;
        }
        Ok(Self {
            inner: SeqInner::Encoded { bytes, base, count },
        })
    }
}

impl<'a, T: Decode<'a> + Encode + Copy> Encode for SeqOf<'a, T> {
    fn value_len_in(&self, form: LengthForm) -> usize {
        self.iter().map(|e| e.encoded_len_in(form)).sum()
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        self.iter().try_for_each(|e| e.encode(w))
    }
}

/// The elements, as a sequence.
#[cfg(feature = "serde")]
impl<'a, T: Decode<'a> + Copy + serde::Serialize> serde::Serialize for SeqOf<'a, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'a, T: Decode<'a> + Copy + PartialEq> PartialEq for SeqOf<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a, T: Decode<'a> + Copy + Eq> Eq for SeqOf<'a, T> {}

impl<'a, T: Decode<'a> + Copy + fmt::Debug> fmt::Debug for SeqOf<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

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
