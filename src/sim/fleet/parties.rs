//! The parties whose certificates a simulated fleet's meters hold.

use alloc::vec::Vec;

use crate::cos::registry::Credential;
use crate::crypto::PublicKey;
use crate::payload::{KeyId, KeyUsage, RemotePartyRole};
use crate::sim::pki::{ids, IssueError, TestPki};
use crate::smki::SmkiCertificate;

/// The certificates a fleet's meters hold in the cells the migration uses: the TCoS party's
/// DS certificate in {transitionalCoS, DS} and the ACB's KA certificate in
/// {accessControlBroker, KA}. Usually the test PKI's own ([`MigrationParties::of`]); a test
/// with HSM-held keys puts certificates of those keys here ([`TestPki::certify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationParties {
    /// The TCoS DS certificate (DER).
    pub tcos_ds_certificate: Vec<u8>,
    /// The ACB KA certificate (DER).
    pub acb_ka_certificate: Vec<u8>,
}

impl MigrationParties {
    /// The PKI's own TCoS and ACB.
    #[must_use]
    pub fn of(pki: &TestPki) -> Self {
        Self {
            tcos_ds_certificate: pki.tcos.ds.certificate.clone(),
            acb_ka_certificate: pki.acb.ka.certificate.clone(),
        }
    }

    /// The PKI's own parties, but for the keys given: `tcos_ds` (a TCoS DS public key) and
    /// `acb_ka` (an ACB KA public key), each certified by `pki` ([`TestPki::certify`]) —
    /// for keys held elsewhere, an HSM's say, whose public keys were read from the token.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal encoding fault.
    pub fn certified(
        pki: &TestPki,
        tcos_ds: Option<&PublicKey>,
        acb_ka: Option<&PublicKey>,
    ) -> Result<Self, IssueError> {
        let mut parties = Self::of(pki);
        if let Some(key) = tcos_ds {
            parties.tcos_ds_certificate = pki
                .certify(
                    RemotePartyRole::TRANSITIONAL_COS,
                    ids::TCOS,
                    KeyUsage::DIGITAL_SIGNATURE,
                    key,
                    b"external TCoS DS",
                )?
                .0;
        }
        if let Some(key) = acb_ka {
            parties.acb_ka_certificate = pki
                .certify(
                    RemotePartyRole::ACCESS_CONTROL_BROKER,
                    ids::ACB,
                    KeyUsage::KEY_AGREEMENT,
                    key,
                    b"external ACB KA",
                )?
                .0;
        }
        Ok(parties)
    }

    /// The TCoS credential (entity ID and key ID of the DS certificate).
    ///
    /// # Errors
    /// [`IssueError`] when the certificate is not a TCoS DS certificate.
    pub fn tcos_credential(&self) -> Result<Credential, IssueError> {
        let cert = SmkiCertificate::from_der(&self.tcos_ds_certificate)
            .map_err(|_| IssueError::internal("TCoS certificate"))?;
        crate::cos::registry::cos_credential(&cert)
            .ok_or(IssueError::internal("not a TCoS DS certificate"))
    }

    /// The ACB's KA key identifier.
    ///
    /// # Errors
    /// [`IssueError`] when the certificate does not parse.
    pub fn acb_key_id(&self) -> Result<KeyId, IssueError> {
        SmkiCertificate::from_der(&self.acb_ka_certificate)
            .map(|c| c.subject_key_id())
            .map_err(|_| IssueError::internal("ACB certificate"))
    }
}
