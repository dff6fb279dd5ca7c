//! Verifying keys found by (entity ID, key ID), prepared once.
//!
//! A head-end or adapter service verifies many messages from the same parties and devices. A
//! [`KeyRing`] holds each certificate's public key parsed and prepared for its backend (see
//! [`Backend`](crate::crypto::Backend)), keyed by the certificate's entity ID and subject key
//! identifier — what a grouping header's originator and a trust anchor cell name — so no
//! verification re-reads DER. Certificates are checked against the SMKI profile before their
//! key is taken.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use gbcs::smki::KeyRing;
//! let pki = gbcs::sim::TestPki::generate(b"doc")?;
//! let mut ring = KeyRing::new();
//! let (entity, key_id) = ring.add_certificate(&pki.tcos.ds.certificate)?;
//! assert_eq!((entity, key_id), (pki.tcos.entity_id, pki.tcos.ds.key_id));
//! assert_eq!(ring.get(entity, key_id), Some(&pki.tcos.ds.key.public_key()));
//! # Ok(()) }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```

use alloc::collections::BTreeMap;

use crate::crypto::PublicKey;
use crate::frame::EntityId;
use crate::payload::KeyId;
use crate::smki::{SmkiCertificate, SmkiError};

/// Public keys by (entity ID, key ID); see the module docs.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<(EntityId, KeyId), PublicKey>,
}

impl KeyRing {
    /// An empty ring.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the key of an organisation or device certificate (DER), after checking it against
    /// the SMKI profile; returns the (entity ID, key ID) it is found by. A certificate with the
    /// same pair replaces the earlier one.
    ///
    /// # Errors
    /// [`SmkiError`] when the certificate does not parse or breaks the profile;
    /// [`SmkiError::NotEndEntity`] for a CA certificate (no entity ID).
    pub fn add_certificate(&mut self, der: &[u8]) -> Result<(EntityId, KeyId), SmkiError> {
        let cert = SmkiCertificate::from_der(der)?;
        cert.check_profile()?;
        let entity = cert.entity_id().ok_or(SmkiError::NotEndEntity)?;
        let key_id = cert.subject_key_id();
        self.keys
            .insert((entity, key_id), cert.public_key().clone());
        Ok((entity, key_id))
    }

    /// Adds a key under an explicit pair (one configured rather than read from a certificate).
    pub fn insert(&mut self, entity: EntityId, key_id: KeyId, key: PublicKey) {
        self.keys.insert((entity, key_id), key);
    }

    /// The key of `entity` with identifier `key_id`.
    #[must_use]
    pub fn get(&self, entity: EntityId, key_id: KeyId) -> Option<&PublicKey> {
        self.keys.get(&(entity, key_id))
    }

    /// Every key of `entity` (a party whose certificates were renewed has several).
    pub fn keys_of(&self, entity: EntityId) -> impl Iterator<Item = (KeyId, &PublicKey)> {
        self.keys
            .range((entity, KeyId([0; 8]))..=(entity, KeyId([0xFF; 8])))
            .map(|((_, id), k)| (*id, k))
    }

    /// Removes a key (its certificate was replaced); returns it.
    pub fn remove(&mut self, entity: EntityId, key_id: KeyId) -> Option<PublicKey> {
        self.keys.remove(&(entity, key_id))
    }

    /// How many keys it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
