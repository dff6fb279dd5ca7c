//! The SEC party ID: how the migration reports and notices name a supplier.

use alloc::string::String;
use core::fmt;

/// A SEC party ID (a supplier as the reports name it): 1 to 6 ASCII letters or digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecPartyId(String);

impl SecPartyId {
    /// A checked party ID.
    ///
    /// # Errors
    /// When `id` is empty, longer than 6, or not ASCII alphanumeric.
    pub fn new(id: &str) -> Result<Self, InvalidPartyId> {
        if (1..=6).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(String::from(id)))
        } else {
            Err(InvalidPartyId)
        }
    }

    /// The ID.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The ID as a string.
#[cfg(feature = "serde")]
impl serde::Serialize for SecPartyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A string, checked as [`SecPartyId::new`] checks it.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for SecPartyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::serde_util::deserialize_from_str(d)
    }
}

impl core::str::FromStr for SecPartyId {
    type Err = InvalidPartyId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Debug for SecPartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecPartyId({})", self.0)
    }
}

impl fmt::Display for SecPartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SEC party ID that is not 1–6 ASCII letters or digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidPartyId;

impl fmt::Display for InvalidPartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SEC party ID is 1 to 6 ASCII letters or digits")
    }
}

impl core::error::Error for InvalidPartyId {}
