//! What the DUIS 5.4 schema (`duis-5.4.xsd`) requires of the requests this crate reads, checked
//! before anything is read from them: element names and namespaces, order, cardinalities, the
//! `schemaVersion` attribute, no stray text or attributes, and each value's type — with the
//! element, line and column of the first fault.
//!
//! The content models, transcribed from the schema (`?` optional, `+` one or more):
//!
//! ```text
//! Request @schemaVersion (xs:decimal)
//!   Header: RequestID, FirstInSequence?, PrecedingServiceRequestID?, CommandVariant (1–9),
//!           ServiceReference, ServiceReferenceVariant
//!   Body: one of the five services below
//!   ds:Signature?                                  (XML-DSig; its content is not checked here)
//! UpdateSecurityCredentialsKRP (6.15.1) / RequestHandoverOfDCCControlledDevice (6.21):
//!   ExecutionDateTime?, RemotePartyRole, RemotePartyFloorSeqNumber?,
//!   RemotePartyPrepaymentTopUpFloorSeqNumber?,
//!   ReplacementCertificates: 6.15.1 SupplierOrNetworkOperatorCertificates:
//!                              DigitalSigningCertificate?, KeyAgreementCertificate?,
//!                              KeyAgreementTopUpCertificate?
//!                            6.21 DigitalSigningCertificate, KeyAgreementCertificate?,
//!                              KeyAgreementTopUpCertificate?
//!   CertificationPathCertificates: Certificate (1–3), ApplyTimeBasedCPVChecks
//! UpdateSecurityCredentialsCoS (6.23): ExecutionDateTime?, SupplierFloorSeqNumber,
//!   SupplierPrepaymentTopUpFloorSeqNumber?, SupplierReplacementCertificates (as 6.21's),
//!   CertificationPathCertificates, ApplyTimeBasedCPVChecks, ImportMPxN (string, 1–13)
//! ServiceOptOut (8.5): ExecutionDateTime, ACBFloorSeqNumber,
//!   ReplacementCertificates: DigitalSigningCertificate?, KeyAgreementCertificate;
//!   CertificationPathCertificates, ApplyTimeBasedCPVChecks
//! RetrieveDeviceSecurityCredentialsKRP (6.24.1): RemotePartyRole (1–7)
//! ```
//!
//! Value types: `RequestID` (`xs:token`, the schema's pattern: two EUI-64s and a counter up
//! to 2⁶⁴−1 without leading zeros), `xs:dateTime`, floors (`xs:nonNegativeInteger` up to
//! 2⁶³−1), `xs:boolean`, `xs:base64Binary`, `RemotePartyRole` (`xs:token` enumeration),
//! `CommandVariant` (`xs:positiveInteger` 1–9), `ServiceReference`/`ServiceReferenceVariant`
//! (`xs:string`, compared exactly: only the five services read here are accepted).
//! White space is collapsed as each type says (not for `xs:string`). The test suite checks
//! this module against `xmllint --schema` on mutated templates: a mutation is accepted here
//! exactly when xmllint validates it.

use alloc::string::String;
use core::fmt;

use roxmltree::{Document, Node};

use super::NAMESPACE;

mod values;

use values::{collapse, decimal, value_ok, Value};
pub(crate) use values::{date_time, element_text};

/// The XML-DSig namespace (`ds:Signature`).
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// What is wrong at a place in a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaProblem {
    /// A required child element is missing (the error names the parent).
    Missing(&'static str),
    /// An element the content model does not allow here: unknown, out of order, or in another
    /// namespace.
    Unexpected,
    /// More of this element than the schema allows.
    TooMany {
        /// The schema's `maxOccurs`.
        max: u8,
    },
    /// The value is not of the element's type (the type named).
    Value(&'static str),
    /// Text where only elements may be.
    Text,
    /// Elements inside an element of simple type.
    ElementInValue,
    /// An attribute the schema does not declare here (its name).
    Attribute(String),
    /// The root is not `sr:Request`.
    NotRequest,
    /// The `Body` holds a service request this crate does not read (its element).
    Service(String),
}

/// A schema fault: the element, where it is, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// The element at fault (for [`SchemaProblem::Missing`], the parent).
    pub element: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
    /// What is wrong.
    pub problem: SchemaProblem,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}: ",
            self.line, self.column, self.element
        )?;
        match &self.problem {
            SchemaProblem::Missing(child) => write!(f, "missing required element {child}"),
            SchemaProblem::Unexpected => f.write_str(
                "element not allowed here (unknown, out of order, or in another namespace)",
            ),
            SchemaProblem::TooMany { max } => write!(f, "more than {max} of this element"),
            SchemaProblem::Value(t) => write!(f, "value is not a valid {t}"),
            SchemaProblem::Text => f.write_str("text where only elements are allowed"),
            SchemaProblem::ElementInValue => f.write_str("elements inside a value"),
            SchemaProblem::Attribute(a) => write!(f, "attribute {a} not allowed"),
            SchemaProblem::NotRequest => f.write_str("the root element is not sr:Request"),
            SchemaProblem::Service(s) => write!(f, "service request {s} is not one gbcs reads"),
        }
    }
}

/// A particle of a sequence: an element, its cardinality and its content.
struct Particle {
    name: &'static str,
    min: u8,
    max: u8,
    content: Content,
}

enum Content {
    Value(Value),
    Sequence(&'static [Particle]),
}

const fn leaf(name: &'static str, min: u8, max: u8, v: Value) -> Particle {
    Particle {
        name,
        min,
        max,
        content: Content::Value(v),
    }
}

const fn seq(name: &'static str, min: u8, parts: &'static [Particle]) -> Particle {
    Particle {
        name,
        min,
        max: 1,
        content: Content::Sequence(parts),
    }
}

const HEADER: &[Particle] = &[
    leaf("RequestID", 1, 1, Value::RequestId),
    leaf("FirstInSequence", 0, 1, Value::Boolean),
    leaf("PrecedingServiceRequestID", 0, 1, Value::RequestId),
    leaf("CommandVariant", 1, 1, Value::CommandVariant),
    leaf("ServiceReference", 1, 1, Value::ServiceReference),
    leaf(
        "ServiceReferenceVariant",
        1,
        1,
        Value::ServiceReferenceVariant,
    ),
];

const CERTIFICATION_PATH: Particle = seq(
    "CertificationPathCertificates",
    1,
    &[leaf("Certificate", 1, 3, Value::Base64)],
);
const APPLY_CPV: Particle = leaf("ApplyTimeBasedCPVChecks", 1, 1, Value::Boolean);

const OPTIONAL_EXECUTION: Particle = leaf("ExecutionDateTime", 0, 1, Value::DateTime);
const REMOTE_PARTY_TOP_UP_FLOOR: Particle = leaf(
    "RemotePartyPrepaymentTopUpFloorSeqNumber",
    0,
    1,
    Value::Floor,
);

/// DS (required), KA and KA top-up: 6.21's and 6.23's replacement certificates.
const DS_KA_TOP_UP: &[Particle] = &[
    leaf("DigitalSigningCertificate", 1, 1, Value::Base64),
    leaf("KeyAgreementCertificate", 0, 1, Value::Base64),
    leaf("KeyAgreementTopUpCertificate", 0, 1, Value::Base64),
];

const KRP: &[Particle] = &[
    OPTIONAL_EXECUTION,
    leaf("RemotePartyRole", 1, 1, Value::Role),
    leaf("RemotePartyFloorSeqNumber", 0, 1, Value::Floor),
    REMOTE_PARTY_TOP_UP_FLOOR,
    seq(
        "ReplacementCertificates",
        1,
        &[seq(
            "SupplierOrNetworkOperatorCertificates",
            1,
            &[
                leaf("DigitalSigningCertificate", 0, 1, Value::Base64),
                leaf("KeyAgreementCertificate", 0, 1, Value::Base64),
                leaf("KeyAgreementTopUpCertificate", 0, 1, Value::Base64),
            ],
        )],
    ),
    CERTIFICATION_PATH,
    APPLY_CPV,
];

const HANDOVER: &[Particle] = &[
    OPTIONAL_EXECUTION,
    leaf("RemotePartyRole", 1, 1, Value::Role),
    leaf("RemotePartyFloorSeqNumber", 0, 1, Value::Floor),
    REMOTE_PARTY_TOP_UP_FLOOR,
    seq("ReplacementCertificates", 1, DS_KA_TOP_UP),
    CERTIFICATION_PATH,
    APPLY_CPV,
];

const COS: &[Particle] = &[
    OPTIONAL_EXECUTION,
    leaf("SupplierFloorSeqNumber", 1, 1, Value::Floor),
    leaf("SupplierPrepaymentTopUpFloorSeqNumber", 0, 1, Value::Floor),
    seq("SupplierReplacementCertificates", 1, DS_KA_TOP_UP),
    CERTIFICATION_PATH,
    APPLY_CPV,
    leaf("ImportMPxN", 1, 1, Value::MpxnString),
];

const OPT_OUT: &[Particle] = &[
    leaf("ExecutionDateTime", 1, 1, Value::DateTime),
    leaf("ACBFloorSeqNumber", 1, 1, Value::Floor),
    seq(
        "ReplacementCertificates",
        1,
        &[
            leaf("DigitalSigningCertificate", 0, 1, Value::Base64),
            leaf("KeyAgreementCertificate", 1, 1, Value::Base64),
        ],
    ),
    CERTIFICATION_PATH,
    APPLY_CPV,
];

const READ: &[Particle] = &[leaf("RemotePartyRole", 1, 7, Value::Role)];

/// The services read, by body element.
const SERVICES: &[(&str, &[Particle])] = &[
    ("UpdateSecurityCredentialsKRP", KRP),
    ("RequestHandoverOfDCCControlledDevice", HANDOVER),
    ("UpdateSecurityCredentialsCoS", COS),
    ("ServiceOptOut", OPT_OUT),
    ("RetrieveDeviceSecurityCredentialsKRP", READ),
];

/// Checks a request document against the schema's content models for the five services
/// this crate reads (the rules above), without reading it: the same check every reader
/// makes first.
///
/// ```
/// use gbcs::duis::{schema, DuisError};
/// let xml = r#"<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4">
///   <sr:Header>
///     <sr:RequestID>90-B3-D5-1F-30-00-00-02:00-DB-12-34-56-78-90-A0:1302</sr:RequestID>
///     <sr:CommandVariant>1</sr:CommandVariant>
///     <sr:ServiceReference>6.24</sr:ServiceReference>
///     <sr:ServiceReferenceVariant>6.24.1</sr:ServiceReferenceVariant>
///   </sr:Header>
///   <sr:Body>
///     <sr:RetrieveDeviceSecurityCredentialsKRP>
///       <sr:RemotePartyRole>TransCoS</sr:RemotePartyRole>
///     </sr:RetrieveDeviceSecurityCredentialsKRP>
///   </sr:Body>
/// </sr:Request>"#;
/// assert!(schema::validate(xml).is_ok());
/// let Err(DuisError::Schema(e)) = schema::validate(&xml.replace(">TransCoS<", ">Toaster<")) else {
///     panic!("an unknown role is refused")
/// };
/// assert_eq!((e.element.as_str(), e.line), ("RemotePartyRole", 10));
/// ```
///
/// # Errors
/// [`super::DuisError::TooLarge`], [`super::DuisError::Xml`], or
/// [`super::DuisError::Schema`] with the element, line and column.
pub fn validate(xml: &str) -> Result<(), super::DuisError> {
    let doc = super::parse(xml)?;
    check(&doc).map(|_| ()).map_err(super::DuisError::Schema)
}

/// The line and column of a node.
pub(super) fn position(doc: &Document<'_>, node: Node<'_, '_>) -> (u32, u32) {
    let p = doc.text_pos_at(node.range().start);
    (p.row, p.col)
}

struct Checker<'d, 'i> {
    doc: &'d Document<'i>,
}

impl<'d, 'i> Checker<'d, 'i> {
    fn error(&self, node: Node<'_, '_>, problem: SchemaProblem) -> SchemaError {
        let (line, column) = position(self.doc, node);
        SchemaError {
            element: String::from(node.tag_name().name()),
            line,
            column,
            problem,
        }
    }

    /// No attributes but namespace declarations (which roxmltree keeps apart).
    fn no_attributes(&self, node: Node<'_, '_>) -> Result<(), SchemaError> {
        match node.attributes().next() {
            Some(a) => Err(self.error(node, SchemaProblem::Attribute(String::from(a.name())))),
            None => Ok(()),
        }
    }

    /// Element-only content: the element children, no text but white space.
    fn elements<'a>(
        &self,
        node: Node<'a, 'i>,
    ) -> Result<impl Iterator<Item = Node<'a, 'i>>, SchemaError> {
        if node
            .children()
            .any(|n| n.is_text() && !n.text().unwrap_or_default().trim().is_empty())
        {
            return Err(self.error(node, SchemaProblem::Text));
        }
        Ok(node.children().filter(Node::is_element))
    }

    fn sequence(&self, node: Node<'_, 'i>, parts: &[Particle]) -> Result<(), SchemaError> {
        self.no_attributes(node)?;
        let mut i = 0;
        let mut count = 0u8;
        for child in self.elements(node)? {
            let name = child.tag_name().name();
            let ours = child.tag_name().namespace() == Some(NAMESPACE);
            loop {
                let Some(p) = parts.get(i) else {
                    // Past the end: unknown, out of order, or one too many of the last.
                    let again = ours && parts.last().is_some_and(|p| p.name == name);
                    return Err(match parts.last() {
                        Some(p) if again => {
                            self.error(child, SchemaProblem::TooMany { max: p.max })
                        }
                        _ => self.error(child, SchemaProblem::Unexpected),
                    });
                };
                if ours && p.name == name {
                    if count == p.max {
                        return Err(self.error(child, SchemaProblem::TooMany { max: p.max }));
                    }
                    count += 1;
                    self.particle(child, p)?;
                    break;
                }
                if count < p.min {
                    // A required element is missing before this one (or this one is
                    // unknown or out of order: either way the required one is not here).
                    let known = ours && parts.iter().any(|q| q.name == name);
                    let earlier = parts
                        .get(..i)
                        .is_some_and(|e| e.iter().any(|q| q.name == name));
                    return Err(if known && earlier {
                        self.error(child, SchemaProblem::Unexpected)
                    } else if known {
                        self.error(node, SchemaProblem::Missing(p.name))
                    } else {
                        self.error(child, SchemaProblem::Unexpected)
                    });
                }
                i += 1;
                count = 0;
            }
        }
        while let Some(p) = parts.get(i) {
            if count < p.min {
                return Err(self.error(node, SchemaProblem::Missing(p.name)));
            }
            i += 1;
            count = 0;
        }
        Ok(())
    }

    fn particle(&self, node: Node<'_, 'i>, p: &Particle) -> Result<(), SchemaError> {
        match p.content {
            Content::Sequence(parts) => self.sequence(node, parts),
            Content::Value(v) => {
                self.no_attributes(node)?;
                if node.children().any(|n| n.is_element()) {
                    return Err(self.error(node, SchemaProblem::ElementInValue));
                }
                let text = element_text(node);
                if value_ok(v, &text) {
                    Ok(())
                } else {
                    Err(self.error(node, SchemaProblem::Value(v.type_name())))
                }
            }
        }
    }
}

/// Checks `doc` against the schema's content models for the five services read; returns the
/// `Body`'s service element.
pub(super) fn check<'a, 'i>(doc: &'a Document<'i>) -> Result<Node<'a, 'i>, SchemaError> {
    let c = Checker { doc };
    let root = doc.root_element();
    if root.tag_name().name() != "Request" || root.tag_name().namespace() != Some(NAMESPACE) {
        return Err(c.error(root, SchemaProblem::NotRequest));
    }
    // @schemaVersion (xs:decimal, required); xsi:schemaLocation is allowed.
    let mut version = false;
    for a in root.attributes() {
        match (a.namespace(), a.name()) {
            (None, "schemaVersion") if decimal(collapse(a.value()).as_str()) => version = true,
            (None, "schemaVersion") => {
                return Err(c.error(root, SchemaProblem::Value("xs:decimal (schemaVersion)")))
            }
            (Some("http://www.w3.org/2001/XMLSchema-instance"), "schemaLocation") => {}
            (_, name) => return Err(c.error(root, SchemaProblem::Attribute(String::from(name)))),
        }
    }
    if !version {
        return Err(c.error(
            root,
            SchemaProblem::Attribute(String::from("schemaVersion (missing)")),
        ));
    }
    let mut children = c.elements(root)?;
    let expect = |n: Option<Node<'a, 'i>>, name: &'static str| match n {
        Some(n) if n.tag_name().name() == name && n.tag_name().namespace() == Some(NAMESPACE) => {
            Ok(n)
        }
        Some(n) => Err(c.error(n, SchemaProblem::Unexpected)),
        None => Err(c.error(root, SchemaProblem::Missing(name))),
    };
    let header = expect(children.next(), "Header")?;
    c.sequence(header, HEADER)?;
    let body = expect(children.next(), "Body")?;
    c.no_attributes(body)?;
    let mut services = c.elements(body)?;
    let service = services
        .next()
        .ok_or_else(|| c.error(body, SchemaProblem::Missing("a service request")))?;
    if let Some(extra) = services.next() {
        return Err(c.error(extra, SchemaProblem::TooMany { max: 1 }));
    }
    let parts = SERVICES
        .iter()
        .find(|(name, _)| {
            service.tag_name().name() == *name && service.tag_name().namespace() == Some(NAMESPACE)
        })
        .map(|(_, parts)| *parts)
        .ok_or_else(|| {
            c.error(
                service,
                SchemaProblem::Service(String::from(service.tag_name().name())),
            )
        })?;
    c.sequence(service, parts)?;
    if let Some(n) = children.next() {
        let signature =
            n.tag_name().name() == "Signature" && n.tag_name().namespace() == Some(DSIG);
        if !signature {
            return Err(c.error(n, SchemaProblem::Unexpected));
        }
    }
    if let Some(n) = children.next() {
        return Err(c.error(n, SchemaProblem::Unexpected));
    }
    Ok(service)
}
