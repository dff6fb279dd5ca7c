//! The SMKI layer: GB Smart Metering PKI certificates as typed views, their key identifiers,
//! the GBCS certificate profile, and certification path validation (`gbcs-cs02.md` B.5, C.3).
//!
//! | kind | subject | identity |
//! |---|---|---|
//! | organisation | `OU` = remote party role (two digits), `x500UniqueIdentifier` = entity ID | role, entity ID |
//! | device | empty; `subjectAltName` hardwareModuleName carries the entity ID | entity ID |
//! | issuing CA | `keyCertSign`, not self-signed | – |
//! | root | `keyCertSign`, self-signed (`OU=00`) | – |
//!
//! Every certificate must have a P-256 key as an uncompressed point, an ECDSA-with-SHA256
//! signature, and a critical keyUsage; anything else is refused with a typed [`SmkiError`].
//! A subject key identifier that does not match the key is reported
//! ([`SmkiCertificate::ski_matches_key`]), and refused by [`SmkiCertificate::check_profile`].
//!
//! Needs the `alloc` feature (certificates are parsed with `x509-cert`).

pub mod keyring;
pub mod path;

use alloc::vec::Vec;
use core::fmt;

use der::asn1::ObjectIdentifier;
use der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectAltName, SubjectKeyIdentifier};

use crate::ber::{self as asn1, Decode as _};
use crate::codec::Reader;
use crate::crypto::{PublicKey, Signature, SignatureVerifier};
use crate::frame::EntityId;
use crate::payload::{GeneralizedTime, KeyId, KeyUsage, RemotePartyRole};

pub use keyring::KeyRing;
pub use path::{validate_path, PathError, TrustAnchor};

/// OID of the subject OU attribute.
pub const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
/// OID of the subject CN attribute.
pub const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// OID of x500UniqueIdentifier (the entity ID of an organisation).
pub const OID_UNIQUE_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.45");
/// id-ecPublicKey.
pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// prime256v1 (P-256).
pub const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// ecdsa-with-SHA256.
pub const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// keyUsage extension.
pub const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// subjectKeyIdentifier extension.
pub const OID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
/// authorityKeyIdentifier extension.
pub const OID_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
/// subjectAltName extension.
pub const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// certificatePolicies extension.
pub const OID_POLICIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32");
/// id-on-hardwareModuleName (RFC 4108), the device identity in subjectAltName.
pub const OID_HW_MODULE_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.8.4");

/// Why a certificate was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmkiError {
    /// Not a DER X.509 certificate.
    Malformed(&'static str),
    /// The key is not an EC key on P-256.
    NotP256,
    /// The key is a compressed point.
    CompressedPoint,
    /// The signature algorithm is not ecdsa-with-SHA256.
    NotEcdsaSha256,
    /// keyUsage is missing or not critical.
    MissingCriticalKeyUsage,
    /// subjectKeyIdentifier is missing or not 8 bytes.
    MissingSubjectKeyIdentifier,
    /// The subject key identifier does not match the key (GBCS method 2).
    SkiMismatch {
        /// The SKI in the certificate.
        stated: KeyId,
        /// The identifier computed from the key.
        computed: KeyId,
    },
    /// The subject OU is not a two-digit remote party role.
    BadRole,
    /// x500UniqueIdentifier or hwSerialNum is not an 8-byte entity ID.
    BadEntityId,
    /// certificatePolicies is missing or not critical.
    MissingCriticalPolicies,
    /// A CA certificate where an organisation or device certificate (with an entity ID) is
    /// needed.
    NotEndEntity,
}

impl fmt::Display for SmkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed certificate: {what}"),
            Self::NotP256 => f.write_str("public key is not P-256"),
            Self::CompressedPoint => f.write_str("public key is a compressed point"),
            Self::NotEcdsaSha256 => f.write_str("signature algorithm is not ecdsa-with-SHA256"),
            Self::MissingCriticalKeyUsage => f.write_str("keyUsage missing or not critical"),
            Self::MissingSubjectKeyIdentifier => {
                f.write_str("subjectKeyIdentifier missing or not 8 bytes")
            }
            Self::SkiMismatch { stated, computed } => {
                write!(
                    f,
                    "subjectKeyIdentifier {stated} does not match the key ({computed})"
                )
            }
            Self::BadRole => f.write_str("subject OU is not a two-digit remote party role"),
            Self::BadEntityId => f.write_str("entity ID is not 8 bytes"),
            Self::MissingCriticalPolicies => {
                f.write_str("certificatePolicies missing or not critical")
            }
            Self::NotEndEntity => {
                f.write_str("a CA certificate where an organisation or device one is needed")
            }
        }
    }
}

impl core::error::Error for SmkiError {}

/// What a certificate certifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertificateKind {
    /// An organisation (a remote party): its role and entity ID.
    Organisation {
        /// The remote party role from the OU.
        role: RemotePartyRole,
        /// The entity ID from x500UniqueIdentifier.
        entity_id: EntityId,
    },
    /// A device: its entity ID from the hardware module name.
    Device {
        /// The device's entity ID.
        entity_id: EntityId,
    },
    /// An issuing CA (keyCertSign, not self-signed).
    IssuingCa,
    /// A self-signed root.
    Root,
}

impl CertificateKind {
    /// `organisation`, `device`, `issuingCA` or `root`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Organisation { .. } => "organisation",
            Self::Device { .. } => "device",
            Self::IssuingCa => "issuingCA",
            Self::Root => "root",
        }
    }
}

/// A certificate carried in a message, described: `{"length", "der", "kind", "entity_id",
/// "role", "subject_key_id"}`, the last four `null` when the bytes are not an SMKI
/// certificate. The payload layer knows a certificate only as bytes; this is what
/// `gbcs decode --json` shows for each one.
#[cfg(feature = "serde")]
#[derive(Clone, Copy, Debug)]
pub struct CertificateSummary<'a>(pub &'a [u8]);

#[cfg(feature = "serde")]
impl serde::Serialize for CertificateSummary<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let parsed = SmkiCertificate::from_der(self.0).ok();
        let mut st = s.serialize_struct("CertificateSummary", 6)?;
        st.serialize_field("length", &self.0.len())?;
        st.serialize_field("der", &crate::hex::Hex(self.0))?;
        st.serialize_field("kind", &parsed.as_ref().map(|p| p.kind().name()))?;
        st.serialize_field(
            "entity_id",
            &parsed.as_ref().and_then(SmkiCertificate::entity_id),
        )?;
        st.serialize_field("role", &parsed.as_ref().and_then(SmkiCertificate::role))?;
        st.serialize_field(
            "subject_key_id",
            &parsed.as_ref().map(SmkiCertificate::subject_key_id),
        )?;
        st.end()
    }
}

/// GBCS key identifier (RFC 5280 §4.2.1.2 method 2): `0x4` nibble followed by the low 60 bits
/// of SHA-1 of the uncompressed point `04 || X || Y`.
#[must_use]
pub fn key_id(point: &[u8; 65]) -> KeyId {
    crate::crypto::key_id_of(point)
}

/// A parsed SMKI certificate, borrowing its DER bytes.
#[derive(Clone)]
pub struct SmkiCertificate<'a> {
    der: &'a [u8],
    tbs: &'a [u8],
    signature: Signature,
    kind: CertificateKind,
    common_name: Option<alloc::string::String>,
    subject_key_id: KeyId,
    authority_key_id: Option<KeyId>,
    key_usage: KeyUsage,
    public_key: PublicKey,
    policies: Vec<ObjectIdentifier>,
    policies_critical: bool,
    not_before: i64,
    not_after: i64,
}

fn ext_value(
    exts: &[x509_cert::ext::Extension],
    oid: ObjectIdentifier,
) -> Option<&x509_cert::ext::Extension> {
    exts.iter().find(|e| e.extn_id == oid)
}

/// A GBCS key identifier: 8 bytes (RFC 5280 allows any length; GBCS fixes it).
fn eight_bytes(id: &der::asn1::OctetString) -> Option<KeyId> {
    id.as_bytes().try_into().ok().map(KeyId)
}

/// `HardwareModuleName ::= SEQUENCE { hwType OBJECT IDENTIFIER, hwSerialNum OCTET STRING }`
/// (RFC 4108), the `otherName` of a device certificate's subjectAltName; the serial number is
/// the device's entity ID. x509-cert has no type for it; the test PKI encodes it with this one.
#[derive(Clone, Debug, PartialEq, Eq, der::Sequence)]
pub struct HardwareModuleName {
    /// The hardware type (the test PKI uses `sim::pki::DEVICE_HW_TYPE`).
    pub hw_type: ObjectIdentifier,
    /// The serial number: the 8-byte entity ID.
    pub hw_serial_num: der::asn1::OctetString,
}

fn time_seconds(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

impl<'a> SmkiCertificate<'a> {
    /// Parses and profile-checks a DER certificate.
    ///
    /// # Errors
    /// [`SmkiError`] for anything the GBCS certificate profile forbids (the SKI mismatch is
    /// reported separately, see [`Self::check_profile`]).
    pub fn from_der(der: &'a [u8]) -> Result<Self, SmkiError> {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|_| SmkiError::Malformed("not a DER certificate"))?;
        // The signed bytes exactly as received: the first element of the outer SEQUENCE.
        let tbs = {
            let mut r = Reader::new(der, 0);
            let mut outer = asn1::read_tlv(&mut r, asn1::SEQUENCE, "certificate")
                .map_err(|_| SmkiError::Malformed("outer"))?;
            let start = outer;
            asn1::read_tlv(&mut outer, asn1::SEQUENCE, "tbsCertificate")
                .map_err(|_| SmkiError::Malformed("tbs"))?;
            let n = outer.offset() - start.offset();
            let mut s = start;
            s.take(n, "tbsCertificate")
                .map_err(|_| SmkiError::Malformed("tbs"))?
        };
        let tbs_cert = &cert.tbs_certificate;
        if cert.signature_algorithm.oid != OID_ECDSA_SHA256
            || tbs_cert.signature.oid != OID_ECDSA_SHA256
        {
            return Err(SmkiError::NotEcdsaSha256);
        }
        let signature = ecdsa_sig_value(cert.signature.raw_bytes())
            .ok_or(SmkiError::Malformed("signature value"))?;

        let spki = &tbs_cert.subject_public_key_info;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if spki.algorithm.oid != OID_EC_PUBLIC_KEY || curve != Some(OID_P256) {
            return Err(SmkiError::NotP256);
        }
        let point_bytes = spki.subject_public_key.raw_bytes();
        let point: [u8; 65] = match point_bytes.first() {
            Some(0x02 | 0x03) => return Err(SmkiError::CompressedPoint),
            _ => point_bytes.try_into().map_err(|_| SmkiError::NotP256)?,
        };
        let public_key = PublicKey::from_sec1_bytes(&point).map_err(|_| SmkiError::NotP256)?;

        let exts: &[x509_cert::ext::Extension] = tbs_cert.extensions.as_deref().unwrap_or_default();
        let ku = ext_value(exts, OID_KEY_USAGE)
            .filter(|e| e.critical)
            .ok_or(SmkiError::MissingCriticalKeyUsage)?;
        let key_usage = KeyUsage::from_ber(ku.extn_value.as_bytes())
            .map_err(|_| SmkiError::Malformed("keyUsage value"))?;
        let subject_key_id = ext_value(exts, OID_SKI)
            .and_then(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .and_then(|ski| eight_bytes(&ski.0))
            .ok_or(SmkiError::MissingSubjectKeyIdentifier)?;
        let authority_key_id = ext_value(exts, OID_AKI)
            .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .and_then(|aki| aki.key_identifier.as_ref().and_then(eight_bytes));
        let (policies, policies_critical) = match ext_value(exts, OID_POLICIES) {
            Some(e) => {
                let p =
                    x509_cert::ext::pkix::CertificatePolicies::from_der(e.extn_value.as_bytes())
                        .map_err(|_| SmkiError::Malformed("certificatePolicies"))?;
                (
                    p.0.iter().map(|i| i.policy_identifier).collect(),
                    e.critical,
                )
            }
            None => (Vec::new(), false),
        };

        // Subject attributes.
        let mut role = None;
        let mut unique_id = None;
        let mut common_name = None;
        for rdn in &tbs_cert.subject.0 {
            for atv in rdn.0.iter() {
                if atv.oid == OID_OU {
                    let s =
                        core::str::from_utf8(atv.value.value()).map_err(|_| SmkiError::BadRole)?;
                    let digits = s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
                    role = Some(
                        s.parse::<u8>()
                            .ok()
                            .filter(|_| digits)
                            .map(RemotePartyRole)
                            .ok_or(SmkiError::BadRole)?,
                    );
                } else if atv.oid == OID_UNIQUE_ID {
                    let bits = der::asn1::BitString::from_der(
                        &atv.value.to_der().map_err(|_| SmkiError::BadEntityId)?,
                    )
                    .map_err(|_| SmkiError::BadEntityId)?;
                    unique_id = Some(EntityId(
                        bits.raw_bytes()
                            .try_into()
                            .map_err(|_| SmkiError::BadEntityId)?,
                    ));
                } else if atv.oid == OID_CN {
                    common_name = core::str::from_utf8(atv.value.value())
                        .ok()
                        .map(alloc::string::String::from);
                }
            }
        }
        let self_signed = tbs_cert.subject == tbs_cert.issuer;
        let kind = if let (Some(role), Some(entity_id)) = (role, unique_id) {
            CertificateKind::Organisation { role, entity_id }
        } else if tbs_cert.subject.0.is_empty() {
            let san = ext_value(exts, OID_SAN).ok_or(SmkiError::Malformed(
                "device certificate without subjectAltName",
            ))?;
            CertificateKind::Device {
                entity_id: hardware_serial(san.extn_value.as_bytes())
                    .ok_or(SmkiError::BadEntityId)?,
            }
        } else if self_signed {
            CertificateKind::Root
        } else {
            CertificateKind::IssuingCa
        };

        Ok(Self {
            der,
            tbs,
            signature,
            kind,
            common_name,
            subject_key_id,
            authority_key_id,
            key_usage,
            public_key,
            policies,
            policies_critical,
            not_before: time_seconds(&tbs_cert.validity.not_before),
            not_after: time_seconds(&tbs_cert.validity.not_after),
        })
    }

    /// The certificate's DER bytes.
    #[must_use]
    pub const fn as_der(&self) -> &'a [u8] {
        self.der
    }

    /// The TBSCertificate bytes, as received (what the issuer signed).
    #[must_use]
    pub const fn tbs_bytes(&self) -> &'a [u8] {
        self.tbs
    }

    /// The issuer's signature, raw `r || s`.
    #[must_use]
    pub const fn signature(&self) -> &Signature {
        &self.signature
    }

    /// What the certificate certifies.
    #[must_use]
    pub const fn kind(&self) -> CertificateKind {
        self.kind
    }

    /// The entity ID (organisation or device).
    #[must_use]
    pub const fn entity_id(&self) -> Option<EntityId> {
        match self.kind {
            CertificateKind::Organisation { entity_id, .. }
            | CertificateKind::Device { entity_id } => Some(entity_id),
            _ => None,
        }
    }

    /// The remote party role (organisation certificates).
    #[must_use]
    pub const fn role(&self) -> Option<RemotePartyRole> {
        match self.kind {
            CertificateKind::Organisation { role, .. } => Some(role),
            _ => None,
        }
    }

    /// The subject CN, if any.
    #[must_use]
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The subject key identifier as stated.
    #[must_use]
    pub const fn subject_key_id(&self) -> KeyId {
        self.subject_key_id
    }

    /// The authority key identifier (absent for a root).
    #[must_use]
    pub const fn authority_key_id(&self) -> Option<KeyId> {
        self.authority_key_id
    }

    /// The key usage.
    #[must_use]
    pub const fn key_usage(&self) -> KeyUsage {
        self.key_usage
    }

    /// The subject public key.
    #[must_use]
    pub const fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The key identifier computed from the public key.
    #[must_use]
    pub const fn computed_key_id(&self) -> KeyId {
        self.public_key.key_id()
    }

    /// Whether the stated SKI is the one computed from the key.
    #[must_use]
    pub fn ski_matches_key(&self) -> bool {
        self.computed_key_id() == self.subject_key_id
    }

    /// The certificate policy OIDs.
    #[must_use]
    pub fn policies(&self) -> &[ObjectIdentifier] {
        &self.policies
    }

    /// notBefore, seconds since the Unix epoch.
    #[must_use]
    pub const fn not_before(&self) -> i64 {
        self.not_before
    }

    /// notAfter, seconds since the Unix epoch (`99991231235959Z` for devices).
    #[must_use]
    pub const fn not_after(&self) -> i64 {
        self.not_after
    }

    /// notAfter as a GeneralizedTime.
    #[must_use]
    pub fn not_after_time(&self) -> Option<GeneralizedTime> {
        GeneralizedTime::from_unix_seconds(self.not_after)
    }

    /// Whether `time` (Unix seconds) is within the validity period.
    #[must_use]
    pub const fn is_valid_at(&self, time: i64) -> bool {
        self.not_before <= time && time <= self.not_after
    }

    /// Whether this is a CA certificate (keyCertSign).
    #[must_use]
    pub const fn is_ca(&self) -> bool {
        self.key_usage.0 & KeyUsage::KEY_CERT_SIGN.0 != 0
    }

    /// The full GBCS profile: what [`Self::from_der`] checks, plus a matching SKI, critical
    /// certificate policies, and (end-entity) exactly one of digitalSignature / keyAgreement.
    ///
    /// # Errors
    /// The first profile violation found.
    pub fn check_profile(&self) -> Result<(), SmkiError> {
        if !self.ski_matches_key() {
            return Err(SmkiError::SkiMismatch {
                stated: self.subject_key_id,
                computed: self.computed_key_id(),
            });
        }
        if self.policies.is_empty() || !self.policies_critical {
            return Err(SmkiError::MissingCriticalPolicies);
        }
        let end_entity = matches!(
            self.kind,
            CertificateKind::Organisation { .. } | CertificateKind::Device { .. }
        );
        if end_entity
            && self.key_usage != KeyUsage::DIGITAL_SIGNATURE
            && self.key_usage != KeyUsage::KEY_AGREEMENT
        {
            return Err(SmkiError::MissingCriticalKeyUsage);
        }
        Ok(())
    }

    /// Verifies that `issuer` signed this certificate.
    ///
    /// # Errors
    /// [`crate::crypto::CryptoError::BadSignature`].
    pub fn verify_signed_by(&self, issuer: &PublicKey) -> Result<(), crate::crypto::CryptoError> {
        issuer.verify(self.tbs, &self.signature)
    }
}

impl fmt::Debug for SmkiCertificate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmkiCertificate")
            .field("kind", &self.kind)
            .field("subject_key_id", &self.subject_key_id)
            .field("authority_key_id", &self.authority_key_id)
            .field("key_usage", &self.key_usage)
            .finish_non_exhaustive()
    }
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` as raw `r || s`. Tolerant of
/// non-minimal INTEGERs (an RTDS device certificate has `02 20 00 1E …`); each value must
/// fit 32 bytes once leading zeros are dropped.
fn ecdsa_sig_value(bytes: &[u8]) -> Option<Signature> {
    let mut r = Reader::new(bytes, 0);
    let mut seq = asn1::read_tlv(&mut r, asn1::SEQUENCE, "ECDSA-Sig-Value").ok()?;
    r.finish("ECDSA-Sig-Value").ok()?;
    let mut out = [0u8; 64];
    for half in out.chunks_mut(32) {
        let int = asn1::read_tlv(&mut seq, asn1::INTEGER, "ECDSA-Sig-Value").ok()?;
        let digits = int.remaining();
        let first_non_zero = digits.iter().position(|b| *b != 0).unwrap_or(digits.len());
        let digits = digits.get(first_non_zero..)?;
        if digits.len() > 32 {
            return None;
        }
        half.get_mut(32 - digits.len()..)?.copy_from_slice(digits);
    }
    seq.finish("ECDSA-Sig-Value").ok()?;
    Some(Signature(out))
}

/// The hwSerialNum of a subjectAltName whose first name is a hardwareModuleName `otherName`.
fn hardware_serial(san: &[u8]) -> Option<EntityId> {
    let names = SubjectAltName::from_der(san).ok()?;
    let Some(GeneralName::OtherName(other)) = names.0.first() else {
        return None;
    };
    if other.type_id != OID_HW_MODULE_NAME {
        return None;
    }
    let hw: HardwareModuleName = other.value.decode_as().ok()?;
    hw.hw_serial_num.as_bytes().try_into().ok().map(EntityId)
}
