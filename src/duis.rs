//! DUIS service requests as input (feature `duis`, schema DUIS 5.4): SRV 6.23
//! `UpdateSecurityCredentialsCoS` ([`Srv623Request`], below), 6.15.1
//! `UpdateSecurityCredentialsKRP` and 6.21 `RequestHandoverOfDCCControlledDevice`
//! ([`KrpRequest`]), 8.5 `ServiceOptOut` ([`OptOutRequest`]) and 6.24.1
//! `RetrieveDeviceSecurityCredentialsKRP` ([`ReadRequest`]); [`service_variant`] says which
//! reader takes a document. Every reader bounds its input ([`MAX_REQUEST_BYTES`]), names the
//! element at fault, and checks each certificate (DER, the SMKI profile, the role and key
//! usage of the cell it is for; CAs in the path) before any command is built.
//!
//! The other way, [`response`] turns a device's CS02a/CS02b response or alert into the DUIS
//! body the Service User receives (MMC `ra:GBCSResponse`, schema 5.4).
//!
//! SRV 6.23, mapped to a typed [`ChangeOfSupplierRequest`] as `gbcs-cs02.md` C.4 says:
//!
//! | DUIS element | GBCS |
//! |---|---|
//! | `RequestID` `originator:target:counter` | the target device (the counter and originator are the Service User's) |
//! | `SupplierFloorSeqNumber` | `[6]` {supplier, floor} |
//! | `SupplierPrepaymentTopUpFloorSeqNumber` | its specialist floor {prePaymentTopUp, n} |
//! | `SupplierReplacementCertificates/*` | replacements → {supplier, DS}, {supplier, KA}, {supplier, KA, prePaymentTopUp} |
//! | `CertificationPathCertificates/Certificate` | certificationPathCertificates |
//! | `ApplyTimeBasedCPVChecks` true / false | `[1]` absent / `[1] = disapply` |
//! | `ExecutionDateTime` | executionDateTime in whole seconds; a date in year 3000 or later (the DUIS cancellation templates use `3000-12-31`) becomes the GBCS cancellation `99991231235959Z` (our reading of C.2) |
//! | `ImportMPxN` | not carried in GBCS (checked by DCC) |
//! | `ExecutionDateTime` year ≥ 3000 (cancellation) | no `[6]`, though the request has its floor elements (DCC's 6.23 cancellation) |

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

mod krp;
mod opt_out;
mod read;
pub mod response;

pub use krp::{KrpRequest, KrpRole, KrpService, DCC_ACB};
pub use opt_out::OptOutRequest;
pub use read::ReadRequest;
pub use response::{gbcs_response_xml, ResponseError, Service, RESPONSE_NAMESPACE};

use crate::cos::command::{ChangeOfSupplierRequest, Execution};
use crate::frame::EntityId;
use crate::payload::{CertificateDer, GeneralizedTime};

/// The DUIS namespace of service requests.
pub const NAMESPACE: &str = "http://www.dccinterface.co.uk/ServiceUserGateway";

/// Why a DUIS request could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DuisError {
    /// Not well-formed XML.
    Xml(String),
    /// A required element is missing.
    Missing(&'static str),
    /// An element's value is not what the schema allows.
    Invalid(&'static str),
    /// Not an SRV 6.23 UpdateSecurityCredentialsCoS request.
    NotSrv623,
    /// Not a request of this service (the `ServiceReferenceVariant` expected).
    NotService(&'static str),
    /// A certificate that is not DER, breaks the GBCS SMKI profile, or does not fit the cell
    /// it is meant for.
    Certificate {
        /// The element that carries it.
        element: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The request is larger than [`MAX_REQUEST_BYTES`].
    TooLarge(usize),
}

impl fmt::Display for DuisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Xml(e) => write!(f, "not well-formed XML: {e}"),
            Self::Missing(e) => write!(f, "missing element {e}"),
            Self::Invalid(e) => write!(f, "invalid value in {e}"),
            Self::NotSrv623 => f.write_str("not an SRV 6.23 UpdateSecurityCredentialsCoS request"),
            Self::NotService(s) => write!(f, "not an SRV {s} request"),
            Self::Certificate { element, reason } => write!(f, "{element}: {reason}"),
            Self::TooLarge(n) => write!(
                f,
                "request of {n} bytes, over the {MAX_REQUEST_BYTES}-byte limit"
            ),
        }
    }
}

impl core::error::Error for DuisError {}

/// The largest request read (256 KiB): a DUIS certificate request is a few kilobytes, so
/// anything larger is refused before it is parsed.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// The cells DUIS certificates go into.
mod cells {
    use crate::payload::{CellUsage, KeyUsage, RemotePartyRole, TrustAnchorCellIdentifier};

    pub(super) const SUPPLIER_DS: TrustAnchorCellIdentifier =
        TrustAnchorCellIdentifier::new(RemotePartyRole::SUPPLIER, KeyUsage::DIGITAL_SIGNATURE);
    pub(super) const SUPPLIER_KA: TrustAnchorCellIdentifier =
        TrustAnchorCellIdentifier::new(RemotePartyRole::SUPPLIER, KeyUsage::KEY_AGREEMENT);
    pub(super) const SUPPLIER_KA_TOP_UP: TrustAnchorCellIdentifier = TrustAnchorCellIdentifier {
        role: RemotePartyRole::SUPPLIER,
        key_usage: KeyUsage::KEY_AGREEMENT,
        cell_usage: CellUsage::PREPAYMENT_TOP_UP,
    };
}

/// Parses a request document, bounded by [`MAX_REQUEST_BYTES`].
fn document(xml: &str) -> Result<roxmltree::Document<'_>, DuisError> {
    if xml.len() > MAX_REQUEST_BYTES {
        return Err(DuisError::TooLarge(xml.len()));
    }
    roxmltree::Document::parse(xml).map_err(|e| DuisError::Xml(alloc::format!("{e}")))
}

/// A certificate for `cell`, checked before it goes into a command: DER, the GBCS SMKI profile,
/// an organisation certificate of the cell's role (a load controller cell also takes the
/// supplier's own, as DCC's CS02g commands show) with the cell's key usage.
fn cell_certificate(
    der: Vec<u8>,
    element: &'static str,
    cell: crate::payload::TrustAnchorCellIdentifier,
) -> Result<Vec<u8>, DuisError> {
    use crate::payload::RemotePartyRole;
    use crate::smki::{CertificateKind, SmkiCertificate};
    let bad = |reason: String| DuisError::Certificate { element, reason };
    let cert = SmkiCertificate::from_der(&der).map_err(|e| bad(alloc::format!("{e}")))?;
    cert.check_profile()
        .map_err(|e| bad(alloc::format!("{e}")))?;
    let role = match cert.kind() {
        CertificateKind::Organisation { role, .. } => role,
        _ => return Err(bad(String::from("not an organisation certificate"))),
    };
    let fits = role == cell.role
        || (cell.role == RemotePartyRole::LOAD_CONTROLLER && role == RemotePartyRole::SUPPLIER);
    if !fits {
        return Err(bad(alloc::format!(
            "role {role} does not fit cell role {}",
            cell.role
        )));
    }
    if cert.key_usage() != cell.key_usage {
        return Err(bad(alloc::format!(
            "key usage {} does not fit the cell's {}",
            cert.key_usage(),
            cell.key_usage
        )));
    }
    Ok(der)
}

/// A certification-path certificate: DER, the profile, a CA.
fn ca_certificate(der: Vec<u8>) -> Result<Vec<u8>, DuisError> {
    let bad = |reason: String| DuisError::Certificate {
        element: "Certificate",
        reason,
    };
    let cert =
        crate::smki::SmkiCertificate::from_der(&der).map_err(|e| bad(alloc::format!("{e}")))?;
    cert.check_profile()
        .map_err(|e| bad(alloc::format!("{e}")))?;
    if !cert.is_ca() {
        return Err(bad(String::from("not a CA certificate")));
    }
    Ok(der)
}

/// `CertificationPathCertificates`: one or more CA certificates, each checked.
fn certification_path(req: roxmltree::Node<'_, '_>) -> Result<Vec<Vec<u8>>, DuisError> {
    let path = child(req, "CertificationPathCertificates")
        .ok_or(DuisError::Missing("CertificationPathCertificates"))?;
    let certs = path
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "Certificate")
        .map(|n| base64_der(n.text().unwrap_or_default(), "Certificate").and_then(ca_certificate))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(DuisError::Missing("Certificate"));
    }
    Ok(certs)
}

/// `ApplyTimeBasedCPVChecks` (`xs:boolean`).
fn apply_cpv(req: roxmltree::Node<'_, '_>) -> Result<bool, DuisError> {
    match text(req, "ApplyTimeBasedCPVChecks")? {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DuisError::Invalid("ApplyTimeBasedCPVChecks")),
    }
}

/// `ExecutionDateTime`, if any, mapped ([`date_time`]).
fn execution(req: roxmltree::Node<'_, '_>) -> Result<Execution, DuisError> {
    match child(req, "ExecutionDateTime").and_then(|n| n.text()) {
        None => Ok(Execution::Immediate),
        Some(t) => date_time(t.trim()).ok_or(DuisError::Invalid("ExecutionDateTime")),
    }
}

/// An optional non-negative integer element.
fn optional_number(
    req: roxmltree::Node<'_, '_>,
    name: &'static str,
) -> Result<Option<u64>, DuisError> {
    child(req, name)
        .map(|n| {
            n.text()
                .map(str::trim)
                .and_then(|t| t.parse().ok())
                .ok_or(DuisError::Invalid(name))
        })
        .transpose()
}

/// The `RequestID`: `<originator EUI-64>:<target EUI-64>:<counter>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestId {
    /// The Service User (the supplier).
    pub originator: EntityId,
    /// The target device.
    pub target: EntityId,
    /// The Service User's counter.
    pub counter: u64,
}

/// An SRV 6.23 request read from DUIS, owning its certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srv623Request {
    /// The request ID.
    pub request_id: RequestId,
    /// SupplierFloorSeqNumber.
    pub supplier_floor: u64,
    /// SupplierPrepaymentTopUpFloorSeqNumber.
    pub prepayment_floor: Option<u64>,
    /// DigitalSigningCertificate (DER).
    pub supplier_ds: Vec<u8>,
    /// KeyAgreementCertificate (DER).
    pub supplier_ka: Option<Vec<u8>>,
    /// KeyAgreementTopUpCertificate (DER).
    pub supplier_prepayment_ka: Option<Vec<u8>>,
    /// CertificationPathCertificates (DER).
    pub certification_path: Vec<Vec<u8>>,
    /// ApplyTimeBasedCPVChecks.
    pub apply_time_based_cpv_checks: bool,
    /// ExecutionDateTime, mapped.
    pub execution: Execution,
    /// ImportMPxN (not sent to the device).
    pub import_mpxn: Option<String>,
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(NAMESPACE)
    })
}

fn text<'a>(node: roxmltree::Node<'a, '_>, name: &'static str) -> Result<&'a str, DuisError> {
    child(node, name)
        .and_then(|n| n.text())
        .map(str::trim)
        .ok_or(DuisError::Missing(name))
}

fn base64_der(s: &str, field: &'static str) -> Result<Vec<u8>, DuisError> {
    decode_base64(s).ok_or(DuisError::Invalid(field))
}

/// `RequestID`: `<originator EUI-64>:<target EUI-64>:<counter>`.
fn request_id(id: &str) -> Result<RequestId, DuisError> {
    let mut parts = id.split(':');
    (|| {
        let r = RequestId {
            originator: eui64(parts.next()?)?,
            target: eui64(parts.next()?)?,
            counter: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(r)
    })()
    .ok_or(DuisError::Invalid("RequestID"))
}

fn eui64(s: &str) -> Option<EntityId> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    hex.parse().ok()
}

/// Parses `YYYY-MM-DDThh:mm:ss[.ff]Z`.
fn date_time(s: &str) -> Option<Execution> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(str::parse::<u16>);
    let (y, mo, da) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(str::parse::<u8>);
    let (h, mi, se) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let g = GeneralizedTime::new(y, u8::try_from(mo).ok()?, u8::try_from(da).ok()?, h, mi, se)?;
    Some(if y >= 3000 {
        Execution::Cancel
    } else {
        Execution::At(g)
    })
}

/// The `ServiceReferenceVariant` of a DUIS request (`6.23`, `6.15.1`, …): which reader takes it.
///
/// # Errors
/// [`DuisError::Xml`] for a document that is not XML; [`DuisError::Missing`] without the
/// header element.
pub fn service_variant(xml: &str) -> Result<String, DuisError> {
    let doc = document(xml)?;
    let header = child(doc.root_element(), "Header").ok_or(DuisError::Missing("Header"))?;
    Ok(String::from(text(header, "ServiceReferenceVariant")?))
}

impl Srv623Request {
    /// Reads an SRV 6.23 request.
    ///
    /// # Errors
    /// [`DuisError`] naming the element at fault.
    pub fn from_xml(xml: &str) -> Result<Self, DuisError> {
        let doc = document(xml)?;
        let root = doc.root_element();
        let header = child(root, "Header").ok_or(DuisError::Missing("Header"))?;
        if text(header, "ServiceReference")? != "6.23" {
            return Err(DuisError::NotSrv623);
        }
        let body = child(root, "Body").ok_or(DuisError::Missing("Body"))?;
        let req = child(body, "UpdateSecurityCredentialsCoS").ok_or(DuisError::NotSrv623)?;
        let request_id = request_id(text(header, "RequestID")?)?;
        let certs = child(req, "SupplierReplacementCertificates")
            .ok_or(DuisError::Missing("SupplierReplacementCertificates"))?;
        let optional_cert = |name: &'static str| -> Result<Option<Vec<u8>>, DuisError> {
            child(certs, name)
                .and_then(|n| n.text())
                .map(|t| base64_der(t, name))
                .transpose()
        };
        let certification_path = certification_path(req)?;
        let apply = apply_cpv(req)?;
        let execution = execution(req)?;
        Ok(Self {
            request_id,
            supplier_floor: optional_number(req, "SupplierFloorSeqNumber")?
                .ok_or(DuisError::Missing("SupplierFloorSeqNumber"))?,
            prepayment_floor: optional_number(req, "SupplierPrepaymentTopUpFloorSeqNumber")?,
            supplier_ds: cell_certificate(
                optional_cert("DigitalSigningCertificate")?
                    .ok_or(DuisError::Missing("DigitalSigningCertificate"))?,
                "DigitalSigningCertificate",
                cells::SUPPLIER_DS,
            )?,
            supplier_ka: optional_cert("KeyAgreementCertificate")?
                .map(|c| cell_certificate(c, "KeyAgreementCertificate", cells::SUPPLIER_KA))
                .transpose()?,
            supplier_prepayment_ka: optional_cert("KeyAgreementTopUpCertificate")?
                .map(|c| {
                    cell_certificate(c, "KeyAgreementTopUpCertificate", cells::SUPPLIER_KA_TOP_UP)
                })
                .transpose()?,
            certification_path,
            apply_time_based_cpv_checks: apply,
            execution,
            import_mpxn: child(req, "ImportMPxN")
                .and_then(|n| n.text())
                .map(|t| String::from(t.trim())),
        })
    }

    /// Calls `f` with the typed change-of-supplier request (certificates borrowed).
    pub fn with_request<R>(&self, f: impl FnOnce(&ChangeOfSupplierRequest<'_>) -> R) -> R {
        let path: Vec<CertificateDer<'_>> = self
            .certification_path
            .iter()
            .map(|c| CertificateDer(c))
            .collect();
        f(&ChangeOfSupplierRequest {
            target: self.request_id.target,
            supplier_ds: CertificateDer(&self.supplier_ds),
            supplier_ka: self.supplier_ka.as_deref().map(CertificateDer),
            supplier_prepayment_ka: self.supplier_prepayment_ka.as_deref().map(CertificateDer),
            certification_path: &path,
            supplier_floor: self.supplier_floor,
            prepayment_floor: self.prepayment_floor,
            apply_time_based_cpv_checks: self.apply_time_based_cpv_checks,
            execution: self.execution,
        })
    }
}

fn eui_text(id: EntityId) -> String {
    let mut s = String::with_capacity(23);
    for (i, b) in id.0.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = fmt::Write::write_fmt(&mut s, format_args!("{b:02X}"));
    }
    s
}

const fn role_name(role: crate::payload::RemotePartyRole) -> Option<&'static str> {
    Some(match role.0 {
        0 => "Root",
        1 => "Recovery",
        2 => "Supplier",
        3 => "NetworkOperator",
        4 => "ACB",
        5 => "TransCoS",
        8 => "LoadController",
        _ => return None,
    })
}

const fn mode_name(mode: crate::payload::CredentialsReplacementMode) -> Option<&'static str> {
    Some(match mode.0 {
        2 => "SupplierBySupplier",
        3 => "NetworkOperatorByNetworkOperator",
        4 => "ACBByACB",
        7 => "SupplierByTransCoS",
        11 => "LoadControllerBySupplier",
        _ => return None,
    })
}

/// Decodes standard base64 (`+/`, `=` padding; ASCII white space skipped), as DUIS carries
/// certificates (and the CLI reads messages). `None` for anything else.
#[must_use]
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64ct::Encoding as _;
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64ct::Base64::decode_vec(&compact).ok()
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn decodes_base64_known_answers() {
        assert_eq!(decode_base64("TWFu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(decode_base64("TWE=").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(decode_base64("TQ==").as_deref(), Some(&b"M"[..]));
        assert_eq!(decode_base64("TW\nFu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(decode_base64("TW!u"), None);
        assert_eq!(decode_base64("TW Fu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(decode_base64("TQ=A"), None);
        assert_eq!(decode_base64("TQ="), None);
        assert_eq!(decode_base64(""), Some(alloc::vec::Vec::new()));
    }
}
