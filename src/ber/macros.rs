//! The declarative macros that write the codec (and, with `serde`, the serialization) of
//! INTEGER wire enumerations and of SEQUENCEs from one list each.

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
