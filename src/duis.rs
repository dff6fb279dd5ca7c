//! DUIS service requests as input (feature `duis`, schema DUIS 5.4): SRV 6.23
//! `UpdateSecurityCredentialsCoS` ([`Srv623Request`], below), 6.15.1
//! `UpdateSecurityCredentialsKRP` and 6.21 `RequestHandoverOfDCCControlledDevice`
//! ([`KrpRequest`]), 8.5 `ServiceOptOut` ([`OptOutRequest`]) and 6.24.1
//! `RetrieveDeviceSecurityCredentialsKRP` ([`ReadRequest`]); [`service_variant`] says which
//! reader takes a document. Every reader bounds its input ([`MAX_REQUEST_BYTES`]), names the
//! element at fault, and checks each certificate (DER, the SMKI profile, the role and key
//! usage of the cell it is for; CAs in the path) before any command is built — and verifies it
//! ([`CertificateTrust`]): signed by its CA in the request's certification path, that path
//! leading to the SMKI root when the caller gives it, every certificate valid at the time of
//! building and at a future-dated request's execution time; a future-dated request already
//! past is refused. DCC's own parties (its ACB, its TCoS party) are the caller's to name
//! ([`DccParties`]): they differ between DCC's environments.
//!
//! The other way, [`response`] turns a device's CS02a/CS02b response or alert into the DUIS
//! body the Service User receives (MMC `ra:GBCSResponse`, schema 5.4).
//!
//! Every request is first checked against the DUIS 5.4 schema ([`schema`]: element names and
//! namespaces, order, cardinalities, value types), with the element, line and column of the
//! first fault; then against the rules below, each fault placed at its element's line
//! ([`DuisError::At`]).
//!
//! ## The mapping, one row per service request
//!
//! | request | GBCS command | mode | `[2]` authorising cell | originator / signer | protection | floors | execution date-time |
//! |---|---|---|---|---|---|---|---|
//! | 6.15.1 supplier | CS02b 0x0102 | 2 supplierBySupplier | {supplier, DS} | the requesting supplier / its DS key | signature + ACB MAC | `[4]` floor, `[5]` {prePaymentTopUp} | carried; year ≥ 3000 → `99991231235959Z` |
//! | 6.15.1 network operator | CS02b 0x0103 | 3 networkOperatorByNetworkOperator | {networkOperator, DS} | the requesting NO | signature + ACB MAC | `[4]` | carried |
//! | 6.15.1 load controller | CS02g 0x0126 | 11 loadControllerBySupplier | {supplier, DS} | the requesting supplier | signature + ACB MAC | `[6]` {loadController, floor} | carried |
//! | 6.21 handover (supplier / NO) | CS02b 0x0102 / 0x0103 | 2 / 3 | the role's DS cell (DCC's ACB sits there) | DCC's ACB (*inferred*, design notes) | signature + ACB MAC | as 6.15.1 | carried (*inferred*) |
//! | 6.23 change of supplier | CS02b 0x0107 | 7 supplierByTransCoS | {transCoS, DS} | DCC's TCoS party | signature + ACB MAC | `[6]` {supplier, floor, prePaymentTopUp}; **none on a cancellation** (DCC's command) | carried |
//! | 8.5 opt-out | CS02b 0x0104 | 4 accessControlBrokerByACB | none | DCC's ACB | MAC only (signature byte `00`) | `[4]` | **not carried** (*inferred*: DCC schedules it) |
//! | 6.24.1 read | CS02a 0x0008 / CS02f 0x011B | — | {accessControlBroker, KA} | DCC's ACB | MAC only | — | — |
//!
//! Certificates go into the cell of their element (DS, KA, KA top-up of the role replaced;
//! 8.5's KA into {accessControlBroker, KA}) after the checks above; the certification path is
//! the request's, in order; `ApplyTimeBasedCPVChecks` false is `[1] = disapply`, true leaves
//! `[1]` out. Read from the reference data (the suite compares DCC's commands field by
//! field): every 6.15.1 row and its future-dated and cancellation forms, 6.23 immediate, both
//! 6.24.1 reads byte for byte. The 6.23 cancellation without `[6]` is DCC's behaviour as
//! reported to us (RTDS 4.5.0 has no 6.23 cancellation). Inferred, with no RTDS command: 6.21,
//! 8.5's date, and CS02f for a read that asks for the load controller ([`ReadRequest`]). Rules the
//! schema does not make, ours: `ExecutionDateTime` must carry a time zone (an offset is
//! applied), and `ImportMPxN` must be an MPAN core (13 digits) or an MPRN (6–10 digits).
//!
//! ## SRV 6.23 in detail
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
//! | `ImportMPxN` | not carried in GBCS (checked by DCC; read and checked here as an MPAN core or MPRN) |
//! | `ExecutionDateTime` year ≥ 3000 (cancellation) | no `[6]`, though the request has its floor elements (DCC's 6.23 cancellation) |

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub mod build;
mod error;
mod krp;
mod opt_out;
mod read;
pub mod response;
pub mod schema;
mod trust;

pub use error::DuisError;
pub use krp::{KrpRequest, KrpRole, KrpService};
pub use opt_out::OptOutRequest;
pub use read::ReadRequest;
pub use response::{gbcs_response_xml, ResponseError, Service, RESPONSE_NAMESPACE};
pub use trust::CertificateTrust;

use crate::cos::command::{ChangeOfSupplierRequest, Execution};
use crate::frame::EntityId;
use crate::payload::{CertificateDer, GeneralizedTime};

/// DCC's own parties in one of its environments: the access control broker, which originates
/// the 6.21 handovers, the 8.5 opt-out and the 6.24.1 reads and MACs every command, and the TCoS
/// party, which signs SRV 6.23's 0x0107. They differ between DCC's environments (the RTDS test
/// parties, integration, production), so the caller names them; the library holds none.
///
/// ```
/// use gbcs::duis::DccParties;
/// // The RTDS test parties, as a test of DCC's reference data would name them.
/// let rtds = DccParties {
///     acb: "90B3D51F30000002".parse()?,
///     tcos: "90B3D51F30000004".parse()?,
/// };
/// assert_ne!(rtds.acb, rtds.tcos);
/// # Ok::<(), gbcs::hex::HexError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DccParties {
    /// DCC's access control broker.
    pub acb: EntityId,
    /// DCC's transitional change-of-supplier party (in the meters' {transCoS, DS} cell).
    pub tcos: EntityId,
}

/// The DUIS namespace of service requests.
pub const NAMESPACE: &str = "http://www.dccinterface.co.uk/ServiceUserGateway";

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

/// Parses a document, bounded by [`MAX_REQUEST_BYTES`].
fn parse(xml: &str) -> Result<roxmltree::Document<'_>, DuisError> {
    if xml.len() > MAX_REQUEST_BYTES {
        return Err(DuisError::TooLarge(xml.len()));
    }
    roxmltree::Document::parse(xml).map_err(|e| DuisError::Xml(alloc::format!("{e}")))
}

/// Reads a request: parses it, checks it against the schema, finds its `RequestID`, its
/// `ServiceReferenceVariant` (one of `accepts`, else [`DuisError::NotService`]`(expected)`)
/// and the `Body`'s service request (the element that variant names), and calls `read` with
/// them; a fault `read` reports is placed at its element ([`located`]).
fn read_request<T>(
    xml: &str,
    expected: &'static str,
    accepts: &[(&'static str, &'static str)],
    read: impl FnOnce(RequestId, &'static str, roxmltree::Node<'_, '_>) -> Result<T, DuisError>,
) -> Result<T, DuisError> {
    let doc = parse(xml)?;
    let service = schema::check(&doc).map_err(DuisError::Schema)?;
    let result = (|| {
        let header = child(doc.root_element(), "Header").ok_or(DuisError::Missing("Header"))?;
        let variant = text(header, "ServiceReferenceVariant")?;
        let (variant, _) = accepts
            .iter()
            .find(|(v, element)| *v == variant && service.tag_name().name() == *element)
            .ok_or(DuisError::NotService(expected))?;
        read(request_id(&text(header, "RequestID")?)?, variant, service)
    })();
    located(&doc, result)
}

/// A reader's fault placed at its element: the first element of the name it gives (or the
/// `Body`'s service request when there is none).
fn located<T>(doc: &roxmltree::Document<'_>, r: Result<T, DuisError>) -> Result<T, DuisError> {
    r.map_err(|e| {
        let name = e.element().map(String::from);
        let node = name
            .and_then(|name| {
                doc.descendants()
                    .find(|n| n.is_element() && n.tag_name().name() == name)
            })
            .or_else(|| {
                doc.root_element()
                    .children()
                    .find(|n| n.tag_name().name() == "Body")
                    .and_then(|b| b.first_element_child())
            })
            .unwrap_or_else(|| doc.root_element());
        let (line, column) = schema::position(doc, node);
        DuisError::At {
            line,
            column,
            error: alloc::boxed::Box::new(e),
        }
    })
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
        .map(|n| base64_der(&value(n), "Certificate").and_then(ca_certificate))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(DuisError::Missing("Certificate"));
    }
    Ok(certs)
}

/// `ApplyTimeBasedCPVChecks` (`xs:boolean`).
fn apply_cpv(req: roxmltree::Node<'_, '_>) -> Result<bool, DuisError> {
    match &*text(req, "ApplyTimeBasedCPVChecks")? {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DuisError::Invalid("ApplyTimeBasedCPVChecks")),
    }
}

/// `ExecutionDateTime`, if any, mapped ([`date_time`]).
fn execution(req: roxmltree::Node<'_, '_>) -> Result<Execution, DuisError> {
    match child(req, "ExecutionDateTime").map(value) {
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
            value(n)
                .trim()
                .parse()
                .map_err(|_| DuisError::Invalid(name))
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
    /// ImportMPxN (not sent to the device): an MPAN core or MPRN.
    pub import_mpxn: String,
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(NAMESPACE)
    })
}

/// An element's value: its whole text ([`schema::element_text`], the function the schema
/// check reads values with, so a comment or a CDATA section inside a value never makes the
/// reader see another value than the check did).
fn value<'a>(node: roxmltree::Node<'a, '_>) -> alloc::borrow::Cow<'a, str> {
    schema::element_text(node)
}

/// The value of `node`'s child `name`, white space trimmed; [`DuisError::Missing`] without it.
fn text<'a>(
    node: roxmltree::Node<'a, '_>,
    name: &'static str,
) -> Result<alloc::borrow::Cow<'a, str>, DuisError> {
    use alloc::borrow::Cow;
    let v = value(child(node, name).ok_or(DuisError::Missing(name))?);
    Ok(match v {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) => Cow::Owned(String::from(o.trim())),
    })
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

/// An `xs:dateTime` as an execution: the instant in UTC, in whole seconds (a fraction is
/// dropped; an offset such as `+01:00` is applied); a date in year 3000 or later is the
/// cancellation. `None` without a time zone: DUIS times are UTC, and a time without one is
/// refused rather than guessed (our rule; the schema allows it).
fn date_time(s: &str) -> Option<Execution> {
    let (secs, zoned) = schema::date_time(s)?;
    if !zoned {
        return None;
    }
    let g = GeneralizedTime::from_unix_seconds(secs)?;
    Some(if g.year >= 3000 {
        Execution::Cancel
    } else {
        Execution::At(g)
    })
}

/// `ImportMPxN` as a meter point: an MPAN core (13 digits) or an MPRN (6 to 10 digits). The
/// schema asks only for 1 to 13 characters; the check digit is not verified (DUIS's own 6.23
/// template carries an MPAN whose check digit does not hold).
fn mpxn(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit()) && matches!(s.len(), 6..=10 | 13)
}

/// The `ServiceReferenceVariant` of a DUIS request (`6.23`, `6.15.1`, …): which reader takes it.
///
/// # Errors
/// [`DuisError::Xml`] for a document that is not XML; [`DuisError::Missing`] without the
/// header element.
pub fn service_variant(xml: &str) -> Result<String, DuisError> {
    let doc = parse(xml)?;
    let header = child(doc.root_element(), "Header").ok_or(DuisError::Missing("Header"))?;
    Ok(String::from(text(header, "ServiceReferenceVariant")?))
}

impl Srv623Request {
    /// Reads an SRV 6.23 request, checking its certificates under `trust`
    /// ([`CertificateTrust`]).
    ///
    /// # Errors
    /// [`DuisError`] naming the element at fault.
    pub fn from_xml(xml: &str, trust: &CertificateTrust<'_>) -> Result<Self, DuisError> {
        read_request(
            xml,
            "6.23",
            &[("6.23", "UpdateSecurityCredentialsCoS")],
            |id, _, req| {
                let r = Self::read(id, req)?;
                let mut certs =
                    alloc::vec![("DigitalSigningCertificate", r.supplier_ds.as_slice())];
                if let Some(ka) = &r.supplier_ka {
                    certs.push(("KeyAgreementCertificate", ka));
                }
                if let Some(top_up) = &r.supplier_prepayment_ka {
                    certs.push(("KeyAgreementTopUpCertificate", top_up));
                }
                trust::check(&certs, &r.certification_path, trust, r.execution)?;
                Ok(r)
            },
        )
    }

    fn read(request_id: RequestId, req: roxmltree::Node<'_, '_>) -> Result<Self, DuisError> {
        let certs = child(req, "SupplierReplacementCertificates")
            .ok_or(DuisError::Missing("SupplierReplacementCertificates"))?;
        let optional_cert = |name: &'static str| -> Result<Option<Vec<u8>>, DuisError> {
            child(certs, name)
                .map(|n| base64_der(&value(n), name))
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
            import_mpxn: Some(text(req, "ImportMPxN")?)
                .filter(|m| mpxn(m))
                .map(String::from)
                .ok_or(DuisError::Invalid("ImportMPxN"))?,
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
    if !s.bytes().any(|b| b.is_ascii_whitespace()) {
        return base64ct::Base64::decode_vec(s).ok();
    }
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
