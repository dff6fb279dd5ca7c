//! Simulation (feature `sim`): a deterministic test PKI and a GBCS device that processes
//! CS02a and CS02b like a meter, for testing change of supplier and migration end to end.

pub mod device;
#[cfg(feature = "std")]
pub mod fleet;
#[cfg(feature = "std")]
pub mod harness;
#[cfg(feature = "std")]
pub mod network;
pub mod pki;
#[cfg(feature = "tokio")]
pub mod realtime;
pub mod vectors;

pub use device::{Cell, DeviceKeyAgreement, Faults, Rejection, Reply, SimDevice, ROOT_CELL};
pub use pki::{Authority, DeviceCredentials, DsCredential, KaCredential, Party, TestPki};

use crate::crypto::KeyAgreement as _;
use crate::payload::{CellUsage, KeyUsage, RemotePartyRole, TrustAnchorCellIdentifier};

impl TestPki {
    /// A simulated meter with its own credentials from this PKI, clock `clock`, and its cells
    /// filled as a newly installed meter's would be: root, ACB (KA), `supplier` (DS, KA and
    /// prepayment KA), the network operator (DS, KA), the WAN provider (DS), the recovery
    /// party (DS), and `cos` — the TCoS or the ECoS party — in {transitionalCoS, DS}.
    ///
    /// # Errors
    /// [`pki::IssueError`] only on an internal encoding fault.
    pub fn meter(
        &self,
        entity_id: crate::frame::EntityId,
        supplier: &Party,
        cos: &Party,
        clock: i64,
    ) -> Result<SimDevice, pki::IssueError> {
        let creds = self.device(entity_id)?;
        let mut d = SimDevice::new(
            entity_id,
            creds.ds.key,
            DeviceKeyAgreement::Key(creds.ka.key),
            &self.root_anchor(),
            clock,
        );
        let mut put = |role: RemotePartyRole, ku: KeyUsage, usage: CellUsage, cert: &[u8]| {
            // Certificates issued by this PKI always parse.
            let _ = d.install_certificate(
                TrustAnchorCellIdentifier {
                    role,
                    key_usage: ku,
                    cell_usage: usage,
                },
                cert,
            );
        };
        let m = CellUsage::MANAGEMENT;
        put(
            RemotePartyRole::ACCESS_CONTROL_BROKER,
            KeyUsage::KEY_AGREEMENT,
            m,
            &self.acb.ka.certificate,
        );
        put(
            RemotePartyRole::SUPPLIER,
            KeyUsage::DIGITAL_SIGNATURE,
            m,
            &supplier.ds.certificate,
        );
        put(
            RemotePartyRole::SUPPLIER,
            KeyUsage::KEY_AGREEMENT,
            m,
            &supplier.ka.certificate,
        );
        if let Some(pp) = &supplier.prepayment_ka {
            put(
                RemotePartyRole::SUPPLIER,
                KeyUsage::KEY_AGREEMENT,
                CellUsage::PREPAYMENT_TOP_UP,
                &pp.certificate,
            );
        }
        put(
            RemotePartyRole::NETWORK_OPERATOR,
            KeyUsage::DIGITAL_SIGNATURE,
            m,
            &self.network_operator.ds.certificate,
        );
        put(
            RemotePartyRole::NETWORK_OPERATOR,
            KeyUsage::KEY_AGREEMENT,
            m,
            &self.network_operator.ka.certificate,
        );
        put(
            RemotePartyRole::WAN_PROVIDER,
            KeyUsage::DIGITAL_SIGNATURE,
            m,
            &self.wan_provider.ds.certificate,
        );
        put(
            RemotePartyRole::RECOVERY,
            KeyUsage::DIGITAL_SIGNATURE,
            m,
            &self.recovery.ds.certificate,
        );
        put(
            RemotePartyRole::TRANSITIONAL_COS,
            KeyUsage::DIGITAL_SIGNATURE,
            m,
            &cos.ds.certificate,
        );
        Ok(d)
    }

    /// The shared secret the ACB uses to MAC commands to `device` (ACB KA × device KA).
    ///
    /// # Errors
    /// [`pki::IssueError`] only on an internal encoding fault.
    pub fn acb_secret(
        &self,
        device: crate::frame::EntityId,
    ) -> Result<crate::crypto::SharedSecret, pki::IssueError> {
        let creds = self.device(device)?;
        self.acb
            .ka
            .key
            .agree(&creds.ka.key.public_key())
            .map_err(|_| pki::IssueError::internal("ECDH"))
    }
}
