//! Issuing one certificate of the GBCS profile with x509-cert's own types: the TBS
//! certificate, the names, and the extensions (`SubjectKeyIdentifier`,
//! `AuthorityKeyIdentifier`, `SubjectAltName` with a hardwareModuleName `OtherName`,
//! `BasicConstraints`, `CertificatePolicies`), DER-encoded by the `der` crate.
//!
//! x509-cert's `CertificateBuilder` is not used: its profiles compute a 20-byte SHA-1 subject
//! key identifier where GBCS wants the 8-byte method-2 one (`0x4` nibble and 60 bits), and they
//! choose the criticality and presence of extensions themselves, where the GBCS profile marks
//! keyUsage, certificatePolicies and a device's subjectAltName critical.

use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use der::asn1::{Any, BitString, ObjectIdentifier, OctetString, SetOfVec};
use der::oid::AssociatedOid;
use der::{Encode as _, Tag};
use sha2::{Digest as _, Sha256};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use super::{IssueError, DEVICE_HW_TYPE, DEVICE_POLICY, ORGANISATION_POLICY};
use crate::ber::Encode as _;
use crate::crypto::{PublicKey, SigningKey};
use crate::frame::EntityId;
use crate::payload::{KeyId, KeyUsage, RemotePartyRole};
use crate::smki::{self, HardwareModuleName};

pub(super) fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn attr(
    oid: ObjectIdentifier,
    tag: Tag,
    value: &[u8],
) -> Result<RelativeDistinguishedName, IssueError> {
    let value = Any::new(tag, value).map_err(|_| IssueError("attribute"))?;
    let set = SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
        .map_err(|_| IssueError("attribute"))?;
    Ok(RelativeDistinguishedName(set))
}

fn org_name(role: RemotePartyRole, entity: EntityId) -> Result<Name, IssueError> {
    let ou = [b'0' + role.0 / 10, b'0' + role.0 % 10];
    let mut bits = vec![0u8];
    bits.extend_from_slice(&entity.0);
    Ok(RdnSequence(vec![
        attr(smki::OID_OU, Tag::PrintableString, &ou)?,
        attr(smki::OID_UNIQUE_ID, Tag::BitString, &bits)?,
    ]))
}

pub(super) fn ca_name(ou: &str, cn: &str) -> Result<Name, IssueError> {
    Ok(RdnSequence(vec![
        attr(smki::OID_OU, Tag::PrintableString, ou.as_bytes())?,
        attr(smki::OID_CN, Tag::PrintableString, cn.as_bytes())?,
    ]))
}

fn time(secs: i64) -> Result<Time, IssueError> {
    let d = Duration::from_secs(u64::try_from(secs).map_err(|_| IssueError("time"))?);
    if secs < 2_524_608_000 {
        der::asn1::UtcTime::from_unix_duration(d)
            .map(Time::UtcTime)
            .map_err(|_| IssueError("time"))
    } else {
        der::asn1::GeneralizedTime::from_unix_duration(d)
            .map(Time::GeneralTime)
            .map_err(|_| IssueError("time"))
    }
}

/// The extension holding `value` (DER) under `T`'s OID.
fn extension<T: AssociatedOid + der::Encode>(
    critical: bool,
    value: &T,
) -> Result<Extension, IssueError> {
    let der = value.to_der().map_err(|_| IssueError("extension"))?;
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(der).map_err(|_| IssueError("extension"))?,
    })
}

fn key_identifier(id: KeyId) -> Result<OctetString, IssueError> {
    OctetString::new(id.0.to_vec()).map_err(|_| IssueError("key identifier"))
}

/// What kind of certificate to issue.
pub(super) enum Subject {
    Organisation(RemotePartyRole, EntityId),
    Device(EntityId),
    Ca(Name),
}

pub(super) struct Issuer<'a> {
    pub name: &'a Name,
    pub key: &'a SigningKey,
    pub key_id: Option<KeyId>,
}

pub(super) fn issue(
    subject: &Subject,
    public_key: &PublicKey,
    key_usage: KeyUsage,
    issuer: &Issuer<'_>,
    serial_seed: &[u8],
    validity: (i64, i64),
) -> Result<Vec<u8>, IssueError> {
    let point = public_key.to_uncompressed();
    // keyUsage is the payload layer's own named-bit BIT STRING (the same DER as x509-cert's).
    let ku = key_usage.to_der().map_err(|_| IssueError("keyUsage"))?;
    let mut exts = vec![
        Extension {
            extn_id: smki::OID_KEY_USAGE,
            critical: true,
            extn_value: OctetString::new(ku).map_err(|_| IssueError("keyUsage"))?,
        },
        extension(
            false,
            &SubjectKeyIdentifier(key_identifier(public_key.key_id())?),
        )?,
    ];
    let (name, policy) = match subject {
        Subject::Organisation(role, entity) => (org_name(*role, *entity)?, ORGANISATION_POLICY),
        Subject::Device(entity) => {
            let hw = HardwareModuleName {
                hw_type: DEVICE_HW_TYPE,
                hw_serial_num: OctetString::new(entity.0.to_vec())
                    .map_err(|_| IssueError("hwSerialNum"))?,
            };
            let san = SubjectAltName(vec![GeneralName::OtherName(OtherName {
                type_id: smki::OID_HW_MODULE_NAME,
                value: Any::encode_from(&hw).map_err(|_| IssueError("hardwareModuleName"))?,
            })]);
            exts.push(extension(true, &san)?);
            (RdnSequence(Vec::new()), DEVICE_POLICY)
        }
        Subject::Ca(name) => {
            let bc = BasicConstraints {
                ca: true,
                path_len_constraint: None,
            };
            exts.push(extension(true, &bc)?);
            (name.clone(), ORGANISATION_POLICY)
        }
    };
    let policies = CertificatePolicies(vec![PolicyInformation {
        policy_identifier: policy,
        policy_qualifiers: None,
    }]);
    exts.push(extension(true, &policies)?);
    if let Some(aki) = issuer.key_id {
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(key_identifier(aki)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        exts.push(extension(false, &aki)?);
    }
    let mut serial = digest(&[b"gbcs-test-pki serial", serial_seed]);
    serial[0] = (serial[0] & 0x7F) | 0x10;
    let curve = Any::encode_from(&smki::OID_P256).map_err(|_| IssueError("curve"))?;
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(serial.get(..16).unwrap_or_default())
            .map_err(|_| IssueError("serial"))?,
        signature: AlgorithmIdentifierOwned {
            oid: smki::OID_ECDSA_SHA256,
            parameters: None,
        },
        issuer: issuer.name.clone(),
        validity: Validity {
            not_before: time(validity.0)?,
            not_after: time(validity.1)?,
        },
        subject: name,
        subject_public_key_info: SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: smki::OID_EC_PUBLIC_KEY,
                parameters: Some(curve),
            },
            subject_public_key: BitString::from_bytes(&point).map_err(|_| IssueError("key"))?,
        },
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    };
    let tbs_der = tbs.to_der().map_err(|_| IssueError("tbsCertificate"))?;
    // Certificates are the same bytes whatever backend the keys are on.
    let raw = issuer
        .key
        .sign_deterministic(&tbs_der)
        .map_err(|_| IssueError("signature"))?;
    let sig = p256::ecdsa::Signature::from_slice(&raw.0).map_err(|_| IssueError("signature"))?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: smki::OID_ECDSA_SHA256,
            parameters: None,
        },
        signature: BitString::from_bytes(sig.to_der().as_bytes())
            .map_err(|_| IssueError("signature"))?,
    };
    cert.to_der().map_err(|_| IssueError("certificate"))
}
