//! A deterministic test PKI: from a seed, a root, an issuing CA and a device CA, organisation
//! certificates for every remote party role — including a TCoS party *and a distinct ECoS
//! party* — and DS and KA certificates for any number of devices. Same seed, same bytes: keys
//! come from SHA-256 of the seed and a label, signatures are RFC 6979.
//!
//! Everything issued follows the GBCS profile as the RTDS certificates show it: P-256 keys,
//! ecdsa-with-SHA256, critical keyUsage and certificatePolicies, 8-byte method-2 key
//! identifiers, `OU` = role and `x500UniqueIdentifier` = entity ID for organisations, and an
//! empty subject with a critical hardwareModuleName subjectAltName for devices.

use alloc::vec::Vec;

use der::asn1::ObjectIdentifier;
use x509_cert::name::Name;

mod issue;

use crate::crypto::{Backend, KeyAgreementKey, PublicKey, SigningKey};
use crate::frame::EntityId;
use crate::payload::{KeyId, KeyUsage, RemotePartyRole};
use crate::smki::TrustAnchor;
use issue::{ca_name, digest, issue, Issuer, Subject};

/// Why a certificate could not be issued (only on an internal encoding fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssueError(&'static str);

impl core::fmt::Display for IssueError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cannot issue certificate: {}", self.0)
    }
}

impl core::error::Error for IssueError {}

impl IssueError {
    pub(crate) const fn internal(what: &'static str) -> Self {
        Self(what)
    }
}

/// The certificate policy of organisation and CA certificates (as in RTDS).
pub const ORGANISATION_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.826.0.1.8641679.1.2.1.4");
/// The certificate policy of device certificates (as in RTDS).
pub const DEVICE_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.826.0.1.1800000.1.2.1.4");
/// The hwType of device hardware module names (as in RTDS).
pub const DEVICE_HW_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.826.0.1.1800000.1.2.2.1");

/// 2020-01-01T00:00:00Z, the start of every test certificate's validity.
pub const NOT_BEFORE: i64 = 1_577_836_800;
/// 2040-01-01T00:00:00Z, the end of organisation certificates' validity.
pub const ORGANISATION_NOT_AFTER: i64 = 2_208_988_800;
/// 2049-12-31T23:59:59Z, the end of the CA certificates' validity.
pub const CA_NOT_AFTER: i64 = 2_524_607_999;
/// 9999-12-31T23:59:59Z, the end of device and root validity.
pub const FOREVER: i64 = 253_402_300_799;

/// A digital-signature key with its certificate.
#[derive(Clone, Debug)]
pub struct DsCredential {
    /// The private key.
    pub key: SigningKey,
    /// The DER certificate.
    pub certificate: Vec<u8>,
    /// The key identifier (the certificate's SKI).
    pub key_id: KeyId,
}

/// A key-agreement key with its certificate.
#[derive(Clone, Debug)]
pub struct KaCredential {
    /// The private key.
    pub key: KeyAgreementKey,
    /// The DER certificate.
    pub certificate: Vec<u8>,
    /// The key identifier (the certificate's SKI).
    pub key_id: KeyId,
}

/// A certificate authority: its key, certificate, name and key identifier.
#[derive(Clone, Debug)]
pub struct Authority {
    /// The CA's signing key.
    pub key: SigningKey,
    /// Its DER certificate.
    pub certificate: Vec<u8>,
    /// Its key identifier.
    pub key_id: KeyId,
    name: Name,
}

/// A remote party (organisation) with its credentials.
#[derive(Clone, Debug)]
pub struct Party {
    /// The party's entity ID.
    pub entity_id: EntityId,
    /// Its remote party role.
    pub role: RemotePartyRole,
    /// Its digital-signature credential.
    pub ds: DsCredential,
    /// Its key-agreement credential.
    pub ka: KaCredential,
    /// A prepayment top-up key-agreement credential (suppliers).
    pub prepayment_ka: Option<KaCredential>,
}

impl Party {
    /// The party's DS credential (entity ID and key ID).
    #[must_use]
    pub const fn credential(&self) -> crate::cos::Credential {
        crate::cos::Credential {
            entity_id: self.entity_id,
            key_id: self.ds.key_id,
        }
    }

    /// The party's signer, for the `cos` builders.
    #[must_use]
    pub fn signer(&self) -> crate::cos::CosSigner<'_> {
        crate::cos::CosSigner {
            credential: self.credential(),
            signer: &self.ds.key,
        }
    }

    /// An SRV 6.23 request putting this supplier's DS, KA and KA top-up certificates on
    /// `target`, floors 0, time-based checks applied.
    #[must_use]
    pub fn change_of_supplier_to<'a>(
        &'a self,
        target: EntityId,
        path: &'a [crate::payload::CertificateDer<'a>],
        execution: crate::cos::Execution,
    ) -> crate::cos::ChangeOfSupplierRequest<'a> {
        use crate::payload::CertificateDer;
        crate::cos::ChangeOfSupplierRequest {
            target,
            supplier_ds: CertificateDer(&self.ds.certificate),
            supplier_ka: Some(CertificateDer(&self.ka.certificate)),
            supplier_prepayment_ka: self
                .prepayment_ka
                .as_ref()
                .map(|k| CertificateDer(&k.certificate)),
            certification_path: path,
            supplier_floor: 0,
            prepayment_floor: Some(0),
            apply_time_based_cpv_checks: true,
            execution,
        }
    }
}

/// A device's own credentials.
#[derive(Clone, Debug)]
pub struct DeviceCredentials {
    /// The device's entity ID.
    pub entity_id: EntityId,
    /// Its DS credential (signs responses and alerts).
    pub ds: DsCredential,
    /// Its KA credential (the ACB MACs commands to it).
    pub ka: KaCredential,
}

/// The test PKI. `Debug` leaves out the seed (every private key derives from it).
#[derive(Clone)]
pub struct TestPki {
    seed: [u8; 32],
    backend: Backend,
    /// The self-signed root (`OU=00`).
    pub root: Authority,
    /// The issuing CA of organisation certificates (`OU=07`).
    pub issuing_ca: Authority,
    /// The CA of device certificates.
    pub device_ca: Authority,
    /// The recovery party (role 1).
    pub recovery: Party,
    /// The first supplier (role 2).
    pub supplier_a: Party,
    /// The second supplier (role 2), the "new" supplier of a change of supplier.
    pub supplier_b: Party,
    /// The network operator (role 3).
    pub network_operator: Party,
    /// The access control broker (role 4), with DS and KA keys.
    pub acb: Party,
    /// The transitional change-of-supplier party (role 5).
    pub tcos: Party,
    /// The enduring change-of-supplier party (role 5): own entity ID, own keys.
    pub ecos: Party,
    /// The WAN provider (role 6).
    pub wan_provider: Party,
}

/// Entity IDs of the test parties.
pub mod ids {
    use crate::frame::EntityId;
    /// Recovery.
    pub const RECOVERY: EntityId = EntityId::from_u64(0x7E57_0000_0000_0001);
    /// ACB.
    pub const ACB: EntityId = EntityId::from_u64(0x7E57_0000_0000_0002);
    /// TCoS party.
    pub const TCOS: EntityId = EntityId::from_u64(0x7E57_0000_0000_0004);
    /// WAN provider.
    pub const WAN_PROVIDER: EntityId = EntityId::from_u64(0x7E57_0000_0000_0007);
    /// ECoS party.
    pub const ECOS: EntityId = EntityId::from_u64(0x7E57_0000_0000_00EC);
    /// Supplier A.
    pub const SUPPLIER_A: EntityId = EntityId::from_u64(0x7E57_0000_0001_0000);
    /// Supplier B.
    pub const SUPPLIER_B: EntityId = EntityId::from_u64(0x7E57_0000_0002_0000);
    /// Network operator.
    pub const NETWORK_OPERATOR: EntityId = EntityId::from_u64(0x7E57_0000_0003_0000);
    /// The entity ID of test device `n`.
    #[must_use]
    pub const fn device(n: u64) -> EntityId {
        EntityId::from_u64(0x00DB_7E57_0000_0000 | (n & 0xFFFF_FFFF))
    }
}

impl core::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TestPki")
            .field("backend", &self.backend)
            .field("root", &self.root.key_id)
            .field("issuing_ca", &self.issuing_ca.key_id)
            .field("device_ca", &self.device_ca.key_id)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// Issues the whole PKI from `seed`, its parties' and devices' keys on
    /// [`Backend::RustCrypto`]: every signature they make is deterministic (RFC 6979), so the
    /// same seed gives the same bytes — the test vectors are made this way.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal encoding fault.
    pub fn generate(seed: &[u8]) -> Result<Self, IssueError> {
        Self::generate_with_backend(seed, Backend::RustCrypto)
    }

    /// As [`Self::generate`], with the parties' and devices' keys on `backend` (the bulk
    /// migration example uses [`Backend::DEFAULT`] for speed). Certificates are the same bytes
    /// on every backend; only signatures made with the keys differ, on a randomized backend.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal encoding fault.
    pub fn generate_with_backend(seed: &[u8], backend: Backend) -> Result<Self, IssueError> {
        let seed = digest(&[b"gbcs-test-pki seed", seed]);
        let root_key = scalar_key(&seed, b"root")?;
        let root_name = ca_name("00", "TESTROOT")?;
        let root_pub = root_key.public_key();
        let root_id = root_pub.key_id();
        let root_cert = issue(
            &Subject::Ca(root_name.clone()),
            &root_pub,
            KeyUsage(0x0600),
            &Issuer {
                name: &root_name,
                key: &root_key,
                key_id: None,
            },
            &[&seed[..], b"root"].concat(),
            (NOT_BEFORE, FOREVER),
        )?;
        let root = Authority {
            key: root_key,
            certificate: root_cert,
            key_id: root_id,
            name: root_name,
        };
        let ca = |label: &[u8], ou: &str, cn: &str| -> Result<Authority, IssueError> {
            let key = scalar_key(&seed, label)?;
            let name = ca_name(ou, cn)?;
            let public = key.public_key();
            let key_id = public.key_id();
            let certificate = issue(
                &Subject::Ca(name.clone()),
                &public,
                KeyUsage(0x0600),
                &Issuer {
                    name: &root.name,
                    key: &root.key,
                    key_id: Some(root.key_id),
                },
                &[&seed[..], label].concat(),
                (NOT_BEFORE, CA_NOT_AFTER),
            )?;
            Ok(Authority {
                key,
                certificate,
                key_id,
                name,
            })
        };
        let issuing_ca = ca(b"issuing-ca", "07", "TESTCA")?;
        let device_ca = ca(b"device-ca", "07", "TESTDEVCA")?;
        let party = |role: RemotePartyRole,
                     entity_id: EntityId,
                     prepayment: bool|
         -> Result<Party, IssueError> {
            let issuer = Issuer {
                name: &issuing_ca.name,
                key: &issuing_ca.key,
                key_id: Some(issuing_ca.key_id),
            };
            let subject = Subject::Organisation(role, entity_id);
            let iss = Issuance {
                seed: &seed,
                backend,
                entity: entity_id,
                subject: &subject,
                issuer: &issuer,
                validity: (NOT_BEFORE, ORGANISATION_NOT_AFTER),
            };
            let ds = iss.ds(b"ds")?;
            let ka = iss.ka(b"ka")?;
            let prepayment_ka = if prepayment {
                Some(iss.ka(b"pp-ka")?)
            } else {
                None
            };
            Ok(Party {
                entity_id,
                role,
                ds,
                ka,
                prepayment_ka,
            })
        };
        Ok(Self {
            seed,
            backend,
            recovery: party(RemotePartyRole::RECOVERY, ids::RECOVERY, false)?,
            supplier_a: party(RemotePartyRole::SUPPLIER, ids::SUPPLIER_A, true)?,
            supplier_b: party(RemotePartyRole::SUPPLIER, ids::SUPPLIER_B, true)?,
            network_operator: party(
                RemotePartyRole::NETWORK_OPERATOR,
                ids::NETWORK_OPERATOR,
                false,
            )?,
            acb: party(RemotePartyRole::ACCESS_CONTROL_BROKER, ids::ACB, false)?,
            tcos: party(RemotePartyRole::TRANSITIONAL_COS, ids::TCOS, false)?,
            ecos: party(RemotePartyRole::TRANSITIONAL_COS, ids::ECOS, false)?,
            wan_provider: party(RemotePartyRole::WAN_PROVIDER, ids::WAN_PROVIDER, false)?,
            root,
            issuing_ca,
            device_ca,
        })
    }

    /// The root trust anchor a device holds.
    #[must_use]
    pub fn root_anchor(&self) -> TrustAnchor {
        TrustAnchor {
            key_id: self.root.key_id,
            public_key: self.root.key.public_key(),
        }
    }

    /// Issues a new credential for an existing party (a key rollover): same entity ID and role,
    /// new key, labelled by `generation`.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal encoding fault.
    pub fn renew_ds(&self, party: &Party, generation: u32) -> Result<DsCredential, IssueError> {
        let issuer = Issuer {
            name: &self.issuing_ca.name,
            key: &self.issuing_ca.key,
            key_id: Some(self.issuing_ca.key_id),
        };
        let label = [&b"ds-gen"[..], &generation.to_be_bytes()].concat();
        let subject = Subject::Organisation(party.role, party.entity_id);
        Issuance {
            seed: &self.seed,
            backend: self.backend,
            entity: party.entity_id,
            subject: &subject,
            issuer: &issuer,
            validity: (NOT_BEFORE, ORGANISATION_NOT_AFTER),
        }
        .ds(&label)
    }

    /// The DS and KA credentials of a device (issued by the device CA), derived from the seed
    /// and the entity ID.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal encoding fault.
    pub fn device(&self, entity_id: EntityId) -> Result<DeviceCredentials, IssueError> {
        let issuer = Issuer {
            name: &self.device_ca.name,
            key: &self.device_ca.key,
            key_id: Some(self.device_ca.key_id),
        };
        let subject = Subject::Device(entity_id);
        let iss = Issuance {
            seed: &self.seed,
            backend: self.backend,
            entity: entity_id,
            subject: &subject,
            issuer: &issuer,
            validity: (NOT_BEFORE, FOREVER),
        };
        Ok(DeviceCredentials {
            entity_id,
            ds: iss.ds(b"device-ds")?,
            ka: iss.ka(b"device-ka")?,
        })
    }

    /// A device's DS and KA keys without certificates (derived as [`Self::device`] derives
    /// them, without the cost of issuing).
    ///
    /// # Errors
    /// [`IssueError`] only on an internal fault.
    pub fn device_keys(
        &self,
        entity_id: EntityId,
    ) -> Result<(SigningKey, KeyAgreementKey), IssueError> {
        let ds = SigningKey::from_scalar_on(
            &scalar(&self.seed, &[&entity_id.0[..], b"device-ds"].concat()),
            self.backend,
        )
        .map_err(|_| IssueError("key"))?;
        let ka = KeyAgreementKey::from_scalar_on(
            &scalar(&self.seed, &[&entity_id.0[..], b"device-ka"].concat()),
            self.backend,
        )
        .map_err(|_| IssueError("key"))?;
        Ok((ds, ka))
    }

    /// An organisation certificate from the issuing CA for a key this PKI did not make — an
    /// HSM-held key whose public key was read from the token — with `role`, `entity_id` and
    /// `key_usage`; `label` makes its serial number. Returns the DER and the key identifier.
    ///
    /// # Errors
    /// [`IssueError`] only on an internal encoding fault.
    pub fn certify(
        &self,
        role: RemotePartyRole,
        entity_id: EntityId,
        key_usage: KeyUsage,
        public_key: &PublicKey,
        label: &[u8],
    ) -> Result<(Vec<u8>, KeyId), IssueError> {
        let issuer = Issuer {
            name: &self.issuing_ca.name,
            key: &self.issuing_ca.key,
            key_id: Some(self.issuing_ca.key_id),
        };
        let certificate = issue(
            &Subject::Organisation(role, entity_id),
            public_key,
            key_usage,
            &issuer,
            &[&self.seed[..], b"external", label].concat(),
            (NOT_BEFORE, ORGANISATION_NOT_AFTER),
        )?;
        Ok((certificate, public_key.key_id()))
    }

    /// The backend of the parties' and devices' keys.
    #[must_use]
    pub const fn backend(&self) -> Backend {
        self.backend
    }

    /// Every organisation party.
    #[must_use]
    pub fn parties(&self) -> [&Party; 8] {
        [
            &self.recovery,
            &self.supplier_a,
            &self.supplier_b,
            &self.network_operator,
            &self.acb,
            &self.tcos,
            &self.ecos,
            &self.wan_provider,
        ]
    }
}

fn scalar(seed: &[u8; 32], label: &[u8]) -> [u8; 32] {
    // Retry with a counter in the (astronomically unlikely) case the digest is not a valid
    // scalar.
    for counter in 0u32.. {
        let d = digest(&[b"gbcs-test-pki key", seed, label, &counter.to_be_bytes()]);
        if p256::SecretKey::from_bytes(&d.into()).is_ok() {
            return d;
        }
    }
    [1; 32]
}

/// A CA's key: it only signs certificates, deterministically, so it stays on RustCrypto.
fn scalar_key(seed: &[u8; 32], label: &[u8]) -> Result<SigningKey, IssueError> {
    SigningKey::from_scalar_on(&scalar(seed, label), Backend::RustCrypto)
        .map_err(|_| IssueError("key"))
}

/// What every end-entity certificate of one holder shares: the seed, the holder, its
/// subject, the issuer and the validity.
struct Issuance<'a> {
    seed: &'a [u8; 32],
    backend: Backend,
    entity: EntityId,
    subject: &'a Subject,
    issuer: &'a Issuer<'a>,
    validity: (i64, i64),
}

impl Issuance<'_> {
    /// The scalar of the key labelled `label`, and the seed of its certificate's serial.
    fn scalar(&self, label: &[u8]) -> ([u8; 32], Vec<u8>) {
        let full = [&self.entity.0[..], label].concat();
        let serial_seed = [&self.seed[..], &full].concat();
        (scalar(self.seed, &full), serial_seed)
    }

    fn certificate(
        &self,
        public: &PublicKey,
        usage: KeyUsage,
        serial_seed: &[u8],
    ) -> Result<Vec<u8>, IssueError> {
        issue(
            self.subject,
            public,
            usage,
            self.issuer,
            serial_seed,
            self.validity,
        )
    }

    fn ds(&self, label: &[u8]) -> Result<DsCredential, IssueError> {
        let (s, serial_seed) = self.scalar(label);
        let key = SigningKey::from_scalar_on(&s, self.backend).map_err(|_| IssueError("key"))?;
        let public = key.public_key();
        Ok(DsCredential {
            certificate: self.certificate(&public, KeyUsage::DIGITAL_SIGNATURE, &serial_seed)?,
            key_id: public.key_id(),
            key,
        })
    }

    fn ka(&self, label: &[u8]) -> Result<KaCredential, IssueError> {
        let (s, serial_seed) = self.scalar(label);
        let key =
            KeyAgreementKey::from_scalar_on(&s, self.backend).map_err(|_| IssueError("key"))?;
        let public = key.public_key();
        Ok(KaCredential {
            certificate: self.certificate(&public, KeyUsage::KEY_AGREEMENT, &serial_seed)?,
            key_id: public.key_id(),
            key,
        })
    }
}
