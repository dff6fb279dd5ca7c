//! What the inventory says a device is: its model, its firmware version, and why it is
//! ineligible. Typed so that a model is never compared with a firmware version, and so that
//! firmware versions compare as versions (`1.10` after `1.9`): a manufacturer's fix "from
//! version X" covers every later version too (`ecos.md` §4.1, seed ¶31a). Models are keyed
//! by manufacturer and model ([`ModelKey`]), as the seed keys them: two manufacturers' models
//! of the same name are different models.

use alloc::string::String;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};

macro_rules! text_key {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(transparent))]
        pub struct $name(String);

        impl $name {
            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(String::from(s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_key! {
    /// A device model as the inventory names it (the key of the Non-Migratable list and of
    /// auto-stop's per-model fault counts).
    DeviceModel
}

text_key! {
    /// A device manufacturer as the inventory names it.
    Manufacturer
}

/// What the seed keys a model by: manufacturer and model (with the firmware version, the
/// key of the Non-Migratable list; alone, the key of auto-stop's per-model fault rates).
/// Written `MANUFACTURER/MODEL` (the manufacturer holds no `/`), in text and in serde.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct ModelKey {
    /// The manufacturer.
    pub manufacturer: Manufacturer,
    /// Its model.
    pub model: DeviceModel,
}

impl ModelKey {
    /// The key of `manufacturer`'s `model`.
    #[must_use]
    pub fn new(manufacturer: impl Into<Manufacturer>, model: impl Into<DeviceModel>) -> Self {
        Self {
            manufacturer: manufacturer.into(),
            model: model.into(),
        }
    }
}

impl fmt::Display for ModelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.manufacturer, self.model)
    }
}

/// Text that is not `MANUFACTURER/MODEL` with both parts non-empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidModelKey;

impl fmt::Display for InvalidModelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected MANUFACTURER/MODEL")
    }
}

impl core::error::Error for InvalidModelKey {}

impl core::str::FromStr for ModelKey {
    type Err = InvalidModelKey;

    fn from_str(s: &str) -> Result<Self, InvalidModelKey> {
        match s.split_once('/') {
            Some((m, model)) if !m.is_empty() && !model.is_empty() => Ok(Self::new(m, model)),
            _ => Err(InvalidModelKey),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ModelKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ModelKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <alloc::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

text_key! {
    /// Why a device is ineligible for migration, as the supplier reported it (ETMAD 3.10(b));
    /// the device is skipped until the record's reason is cleared.
    IneligibleReason
}

/// A firmware version, compared as a version: split at `.`, `-` and `_`; numeric parts
/// compare as numbers (`1.10` > `1.9`, `1.0` = `1.00`), other parts as text, a number before
/// text; a version that is a prefix of another is the earlier (`2.1` < `2.1.1`).
#[derive(Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct FirmwareVersion(String);

#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Part<'a> {
    Number(u128),
    Text(&'a str),
}

impl FirmwareVersion {
    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parts, compared lazily (no allocation: selection compares versions per device).
    fn parts(&self) -> impl Iterator<Item = Part<'_>> {
        self.0
            .split(['.', '-', '_'])
            .map(|p| match p.parse::<u128>() {
                Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => Part::Number(n),
                _ => Part::Text(p),
            })
    }

    /// Whether this version is `fix` or later.
    #[must_use]
    pub fn is_at_least(&self, fix: &Self) -> bool {
        self >= fix
    }
}

impl Ord for FirmwareVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(other.parts())
    }
}

impl PartialOrd for FirmwareVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for FirmwareVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FirmwareVersion {}

impl Hash for FirmwareVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().for_each(|p| p.hash(state));
    }
}

impl From<&str> for FirmwareVersion {
    fn from(s: &str) -> Self {
        Self(String::from(s))
    }
}

impl From<String> for FirmwareVersion {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FirmwareVersion({:?})", self.0)
    }
}

impl fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::FirmwareVersion as V;

    #[test]
    fn firmware_versions_compare_as_versions() {
        let v = |s: &str| V::from(s);
        assert!(v("1.10") > v("1.9"));
        assert!(v("2.1.1") > v("2.1"));
        assert_eq!(v("1.0"), v("1.00"));
        assert!(v("2.0-rc1") > v("2.0"));
        assert!(v("3") > v("2.99.99"));
        assert!(v("2.1.0").is_at_least(&v("2.1.0")));
        assert!(!v("2.0.9").is_at_least(&v("2.1.0")));
    }
}
