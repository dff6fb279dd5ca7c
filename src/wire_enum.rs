//! One definition per wire enumeration.
//!
//! GBCS and its ASN.1 carry many small enumerations — remote party roles, key usages, cell
//! usages, replacement modes, status codes, alert codes, message codes, CRA flags. Each is a
//! newtype over its wire integer so that a value the crate has never heard of survives a
//! parse (policy, not the parser, decides what to refuse). `wire_enum!` writes, from one
//! table of `CONSTANT = value => "name"` rows, the constants, `KNOWN`, `name()`,
//! `from_name()`, `Debug`, `Display` and `FromStr` — in the spirit of rustls's
//! `enum_builder!` and smoltcp's `enum_with_unknown!`, but keeping the newtype so a value is
//! always just its wire integer.
//!
//! `Display` prints the name, or the unknown value in the type's own notation (`0x0FFF` for a
//! message code, `99` for a role); `FromStr` takes either back (a name exactly as written, or
//! a number in decimal or `0x` hex), so `value.to_string().parse()` always returns `value`.
//! With the `serde` feature a value serializes as `{"value": n, "name": s | null}`.

use core::fmt;

/// A string that is neither a name nor a number of a wire enumeration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// The enumeration's type name (`"RemotePartyRole"`).
    pub type_name: &'static str,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a {} name or number", self.type_name)
    }
}

impl core::error::Error for UnknownName {}

/// Reads a number written in decimal or `0x`/`0X` hex, as `FromStr` of a wire enumeration
/// accepts it.
#[doc(hidden)]
#[must_use]
pub fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()
        }
        Some(_) => None,
        None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        None => None,
    }
}

/// Defines a wire enumeration: a newtype over its wire integer with named constants.
///
/// ```ignore
/// wire_enum! {
///     /// `CellUsage ::= INTEGER { management(0), prePaymentTopUp(1) }`.
///     pub struct CellUsage(u8);
///     unknown "{}";
///     /// management (0).
///     MANAGEMENT = 0 => "management",
///     /// prePaymentTopUp (1).
///     PREPAYMENT_TOP_UP = 1 => "prePaymentTopUp",
/// }
/// ```
///
/// `unknown` is the format of a value without a name (`"{}"`, `"0x{:04X}"`); `Debug` wraps it
/// in the type name (`CellUsage(7)`).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($inner:ty);
        unknown $unknown:literal;
        $(
            $(#[$vmeta:meta])*
            $konst:ident = $value:literal => $text:literal,
        )+
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $inner);

        impl $name {
            $(
                $(#[$vmeta])*
                pub const $konst: Self = Self($value);
            )+

            /// Every value this crate has a name for, in table order.
            pub const KNOWN: &'static [Self] = &[$(Self::$konst),+];

            /// The value's name, if this crate knows it.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)+
                    _ => None,
                }
            }

            /// The value with this name (exactly as [`name`](Self::name) gives it).
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some(Self::$konst),)+
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!(stringify!($name), "(", $unknown, ")"), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, $unknown, self.0),
                }
            }
        }

        /// `{"value": n, "name": s | null}`.
        #[cfg(feature = "serde")]
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeStruct as _;
                let mut st = s.serialize_struct(stringify!($name), 2)?;
                st.serialize_field("value", &self.0)?;
                st.serialize_field("name", &self.name())?;
                st.end()
            }
        }

        /// From `{"value": n, ...}`, the form it serializes to (the name is not needed).
        #[cfg(feature = "serde")]
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
                #[derive(::serde::Deserialize)]
                struct Wire {
                    value: $inner,
                }
                <Wire as ::serde::Deserialize>::deserialize(d).map(|w| Self(w.value))
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::wire_enum::UnknownName;

            fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
                let err = $crate::wire_enum::UnknownName { type_name: stringify!($name) };
                if let Some(v) = Self::from_name(s) {
                    return Ok(v);
                }
                $crate::wire_enum::parse_number(s)
                    .and_then(|n| <$inner>::try_from(n).ok())
                    .map(Self)
                    .ok_or(err)
            }
        }
    };
}
pub(crate) use wire_enum;

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    wire_enum! {
        /// A test enumeration.
        pub struct Colour(u16);
        unknown "0x{:04X}";
        /// Red.
        RED = 1 => "red",
        /// Blue.
        BLUE = 0x8F66 => "blue",
    }

    #[test]
    fn names_and_unknown_values_round_trip_through_display() {
        for v in [Colour::RED, Colour::BLUE, Colour(7), Colour(0xFFFF)] {
            let s = alloc::format!("{v}");
            assert_eq!(s.parse::<Colour>(), Ok(v), "{s}");
        }
        assert_eq!(alloc::format!("{:?}", Colour(7)), "Colour(0x0007)");
        assert_eq!(alloc::format!("{:?}", Colour::BLUE), "blue");
        assert_eq!(Colour::KNOWN, &[Colour::RED, Colour::BLUE]);
    }

    #[test]
    fn from_str_takes_decimal_and_hex_and_refuses_the_rest() {
        assert_eq!("36710".parse::<Colour>(), Ok(Colour::BLUE));
        assert_eq!("0x8f66".parse::<Colour>(), Ok(Colour::BLUE));
        for bad in ["", "Red", "0x", "0x1G", "-1", "65536", " 1", "1 "] {
            assert_eq!(
                bad.parse::<Colour>(),
                Err(UnknownName {
                    type_name: "Colour"
                }),
                "{bad:?}"
            );
        }
    }
}
