//! The change-of-supplier parties' credentials (`ecos.md` §1).

use alloc::collections::BTreeSet;
use core::fmt;

use crate::frame::EntityId;
use crate::payload::{KeyId, KeyUsage, RemotePartyRole};
use crate::smki::SmkiCertificate;

/// A credential: the entity ID and key identifier of a digital-signature certificate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Credential {
    /// The party's entity ID.
    pub entity_id: EntityId,
    /// The certificate's key identifier.
    pub key_id: KeyId,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({}/{})", self.entity_id, self.key_id)
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.entity_id, self.key_id)
    }
}

/// Which change-of-supplier party a credential belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum CosParty {
    /// The transitional CoS party.
    Tcos,
    /// The enduring CoS party.
    Ecos,
}

/// Why a certificate could not be registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// The certificate did not parse.
    Certificate(crate::smki::SmkiError),
    /// Not a role-5 (transitionalCoS) digital-signature organisation certificate.
    NotCosSigningCertificate,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate(e) => write!(f, "{e}"),
            Self::NotCosSigningCertificate => {
                f.write_str("not a transitionalCoS digital-signature certificate")
            }
        }
    }
}

impl core::error::Error for RegistryError {}

/// The TCoS and ECoS credentials. Each party is a set: certificates are renewed, so one
/// party has several key IDs over time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct CosRegistry {
    tcos: BTreeSet<Credential>,
    ecos: BTreeSet<Credential>,
}

impl CosRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a configured credential.
    pub fn add(&mut self, party: CosParty, credential: Credential) -> &mut Self {
        match party {
            CosParty::Tcos => self.tcos.insert(credential),
            CosParty::Ecos => self.ecos.insert(credential),
        };
        self
    }

    /// Adds the credential of a role-5 DS certificate.
    ///
    /// # Errors
    /// [`RegistryError`] when the certificate does not parse or is not a transitionalCoS
    /// digital-signature certificate.
    pub fn add_certificate(
        &mut self,
        party: CosParty,
        der: &[u8],
    ) -> Result<Credential, RegistryError> {
        let c = SmkiCertificate::from_der(der).map_err(RegistryError::Certificate)?;
        let credential = cos_credential(&c).ok_or(RegistryError::NotCosSigningCertificate)?;
        self.add(party, credential);
        Ok(credential)
    }

    /// The TCoS credentials.
    pub fn tcos(&self) -> impl Iterator<Item = &Credential> {
        self.tcos.iter()
    }

    /// The ECoS credentials.
    pub fn ecos(&self) -> impl Iterator<Item = &Credential> {
        self.ecos.iter()
    }

    /// Whether `credential` is one of `party`'s.
    #[must_use]
    pub fn holds(&self, party: CosParty, credential: &Credential) -> bool {
        match party {
            CosParty::Tcos => self.tcos.contains(credential),
            CosParty::Ecos => self.ecos.contains(credential),
        }
    }

    pub(crate) fn entity_in(&self, party: CosParty, entity: EntityId) -> bool {
        let set = match party {
            CosParty::Tcos => &self.tcos,
            CosParty::Ecos => &self.ecos,
        };
        set.iter().any(|c| c.entity_id == entity)
    }
}

/// The credential of a role-5 digital-signature organisation certificate.
#[must_use]
pub fn cos_credential(c: &SmkiCertificate<'_>) -> Option<Credential> {
    (c.role() == Some(RemotePartyRole::TRANSITIONAL_COS)
        && c.key_usage() == KeyUsage::DIGITAL_SIGNATURE)
        .then_some(Credential {
            entity_id: c.entity_id()?,
            key_id: c.subject_key_id(),
        })
}
