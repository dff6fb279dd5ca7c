//! Helpers shared by the tests split out of `tests/duis_response.rs`.
#![allow(dead_code)]

use super::shared;
use gbcs::duis::response::{gbcs_response_xml, Service};
use gbcs::message::{self, Message};
use gbcs::payload::{
    CellUsage, ExecutionOutcome, KeyUsage, Payload, RemotePartyRole, ReplacementOutcome,
    StatusCode, TrustAnchorCellIdentifier,
};
use std::path::{Path, PathBuf};

pub const RA: &str = "http://www.dccinterface.co.uk/ResponseAndAlert";

/// The RTDS responses and alerts of the CS02a/b/f/g folders.
pub fn responses(shared: &Path) -> Vec<shared::RtdsFile> {
    shared::cs02_files(shared)
        .into_iter()
        .filter(|f| f.name.contains("_RESPONSE_") || f.name.contains("_ALERT_"))
        .collect()
}

/// The service variant an RTDS folder is named for (`6.15.1_CS02b…`), `None` for `NA_…`.
pub fn folder_service(folder: &str) -> Option<Service> {
    folder.split('_').next().and_then(Service::from_variant)
}

/// The MMC schema the bodies are validated against.
pub fn mmc(shared: &Path) -> PathBuf {
    shared.join("duis/schema/mmc-5.4.xsd")
}

pub fn write_temp(dir: &Path, name: &str, xml: &str) -> PathBuf {
    let path = dir.join(format!("{name}.xml"));
    std::fs::write(&path, xml).expect("write temp XML");
    path
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gbcs-duis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn eui(id: gbcs::frame::EntityId) -> String {
    id.0.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join("-")
}

/// The `ra:` elements named `name` under `node`, in document order, at any depth.
pub fn all<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    node.descendants()
        .filter(|n| n.tag_name().name() == name && n.tag_name().namespace() == Some(RA))
        .collect()
}

pub fn text_of<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|n| n.tag_name().name() == name && n.tag_name().namespace() == Some(RA))
        .and_then(|n| n.text())
}

/// The status elements as (name, code).
pub fn statuses(node: roxmltree::Node<'_, '_>) -> Vec<(String, u8)> {
    all(node, "StatusCode")
        .into_iter()
        .map(|s| {
            (
                text_of(s, "ASN1Status").unwrap_or_default().to_owned(),
                s.attribute("ResponseCode")
                    .and_then(|c| c.parse().ok())
                    .expect("ResponseCode"),
            )
        })
        .collect()
}

pub fn status_pair(s: StatusCode) -> (String, u8) {
    (s.name().unwrap_or("notKnown").to_owned(), s.0)
}

/// The DUIS `RemotePartyRole` of a GBCS role: the enumeration of duis-5.4.xsd and
/// mmc-5.4.xsd, written here from the schema (not taken from the library); a role the
/// enumeration lacks has no element.
pub fn duis_role(role: u8) -> Option<&'static str> {
    Some(match role {
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

/// Checks that `xml` carries what `msg` says, field by field.
pub fn assert_carries(name: &str, msg: &Message<'_>, service: Service, xml: &str) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "GBCSResponse", "{name}");
    let h = msg.header();
    let header = all(root, "Header")[0];
    let field = |f: &str| text_of(header, f).unwrap_or_else(|| panic!("{name}: no {f}"));
    assert_eq!(field("BusinessOriginatorID"), eui(h.originator), "{name}");
    assert_eq!(field("BusinessTargetID"), eui(h.recipient), "{name}");
    assert_eq!(
        field("OriginatorCounter"),
        h.originator_counter.to_string(),
        "{name}"
    );
    assert_eq!(
        field("GBCSHexadecimalMessageCode"),
        format!("{:04X}", h.message_code().0),
        "{name}"
    );
    assert_eq!(field("ServiceReference"), service.reference(), "{name}");
    assert_eq!(
        field("ServiceReferenceVariant"),
        service.variant(),
        "{name}"
    );
    // The header's date-time, when it has one, as the Timestamp; none otherwise.
    let stamp = h.date_time.and_then(|d| {
        gbcs::payload::GeneralizedTime::new(
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
        )
    });
    assert_eq!(
        text_of(header, "Timestamp").map(str::to_owned),
        stamp.map(|t| t.to_string()),
        "{name}"
    );

    let outcome_check = |o: &ExecutionOutcome<'_>, node: roxmltree::Node<'_, '_>| {
        assert_eq!(
            text_of(node, "AuthorisingRemotePartyOriginatorCounter"),
            Some(o.authorising_seq_number.to_string().as_str()),
            "{name}"
        );
        let floors: Vec<String> = all(node, "RemotePartyFloorSeqNumber")
            .iter()
            .filter_map(|n| n.text().map(str::to_owned))
            .collect();
        let want: Vec<String> = o
            .seq_number_changes
            .iter()
            .map(|c| c.floor_seq_number.to_string())
            .collect();
        assert_eq!(floors, want, "{name}: floors");
        let replacements = all(node, "ReplacementOutcome");
        assert_eq!(
            replacements.len(),
            o.replacement_outcomes.len(),
            "{name}: outcomes"
        );
        for (x, r) in replacements.iter().zip(o.replacement_outcomes.iter()) {
            assert_eq!(statuses(*x), vec![status_pair(r.status)], "{name}");
            assert_eq!(
                text_of(*x, "RemotePartyRole"),
                duis_role(r.cell.role.0),
                "{name}: the cell's role {}",
                r.cell.role.0
            );
            assert_eq!(
                text_of(*x, "ExistingRemotePartyID"),
                Some(eui(r.existing_subject_unique_id).as_str()),
                "{name}"
            );
            assert_eq!(
                text_of(*x, "NewRemotePartyID"),
                Some(eui(r.replacing_subject_unique_id).as_str()),
                "{name}"
            );
        }
    };

    match msg.payload() {
        Payload::UpdateSecurityCredentialsResponse(r) => {
            let rsp = all(root, service.response_element());
            assert_eq!(rsp.len(), 1, "{name}: one {}", service.response_element());
            let success = r
                .execution_outcome
                .as_ref()
                .is_none_or(|o| o.replacement_outcomes.iter().all(|o| o.status.is_success()));
            assert_eq!(
                rsp[0].attribute("MessageSuccess"),
                Some(if success { "true" } else { "false" }),
                "{name}"
            );
            let outcomes = all(rsp[0], "ExecutionOutcome");
            match &r.execution_outcome {
                Some(o) => outcome_check(o, outcomes[0]),
                None => assert!(outcomes.is_empty(), "{name}: no outcome before execution"),
            }
        }
        Payload::UpdateSecurityCredentialsAlert(a) => {
            let content = all(root, "DeviceAlertContent")[0];
            assert_eq!(
                text_of(content, "GBCSHexAlertCode"),
                Some(format!("{:04X}", a.alert_code.0).as_str()),
                "{name}"
            );
            assert_eq!(
                text_of(content, "Timestamp"),
                Some(a.execution_date_time.to_string().as_str()),
                "{name}"
            );
            outcome_check(
                &a.execution_outcome,
                all(content, "UpdateSecurityCredentialsExecutionOutcome")[0],
            );
        }
        Payload::CredentialDetailsResponse(r) => {
            let rsp = all(root, service.response_element())[0];
            let details = all(rsp, "RemotePartyDetails");
            // One per cell, or one for a role without cells.
            let mut want = Vec::new();
            for d in r.details.iter() {
                let cells: Vec<_> = d.cells.map(|c| c.iter().collect()).unwrap_or_default();
                if cells.is_empty() {
                    want.push((d.role, d.status, None));
                }
                for c in cells {
                    want.push((d.role, d.status, Some(c.subject_unique_id)));
                }
            }
            assert_eq!(details.len(), want.len(), "{name}: details");
            for (x, (role, status, id)) in details.iter().zip(&want) {
                assert_eq!(statuses(*x), vec![status_pair(*status)], "{name}");
                assert_eq!(
                    text_of(*x, "ExistingRemotePartyID").map(str::to_owned),
                    id.map(eui),
                    "{name}"
                );
                assert_eq!(
                    text_of(*x, "RemotePartyRole"),
                    duis_role(role.0),
                    "{name}: role {}",
                    role.0
                );
            }
            let success = r.details.iter().all(|d| d.status.is_success());
            assert_eq!(
                rsp.attribute("MessageSuccess"),
                Some(if success { "true" } else { "false" }),
                "{name}"
            );
        }
        other => panic!("{name}: unexpected payload {other:?}"),
    }
}

/// Maps every response and alert of `files` whose folder names a DUIS service: as the service
/// of the request it answers (the folder's: a 6.21 response is a 6.15.1 one by its content
/// alone), checked field by field; the service inferred from the message alone agrees except
/// where the message cannot tell (6.21 and 6.15.1 send the same modes). Returns the bodies
/// written to `dir` and how many alerts, reads and updates.
pub fn map_every_response(files: &[shared::RtdsFile], dir: &Path) -> (Vec<PathBuf>, [usize; 3]) {
    let mut bodies = Vec::new();
    let (mut alerts, mut reads, mut updates) = (0, 0, 0);
    for f in files
        .iter()
        .filter(|f| f.name.contains("_RESPONSE_") || f.name.contains("_ALERT_"))
    {
        let Some(service) = folder_service(&f.folder) else {
            continue;
        };
        let msg = message::parse(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let xml =
            gbcs_response_xml(&msg, Some(service)).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert!(
            xml.contains(&format!(
                "<ra:ServiceReferenceVariant>{}</ra:ServiceReferenceVariant>",
                service.variant()
            )),
            "{}: not mapped as {service}",
            f.name
        );
        assert_carries(&f.name, &msg, service, &xml);
        let inferred = gbcs_response_xml(&msg, None).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        if service.variant() == "6.21" {
            assert!(
                inferred.contains(">6.15.1<"),
                "{}: a handover reads as 6.15.1",
                f.name
            );
        } else {
            assert_eq!(
                inferred, xml,
                "{}: the message alone says {service}",
                f.name
            );
        }
        match msg.payload() {
            Payload::UpdateSecurityCredentialsAlert(_) => alerts += 1,
            Payload::CredentialDetailsResponse(_) => reads += 1,
            _ => updates += 1,
        }
        bodies.push(write_temp(dir, &format!("{}-{}", f.folder, f.name), &xml));
    }
    (bodies, [alerts, reads, updates])
}

pub fn rtds_message(shared: &Path, prefix: &str) -> Vec<u8> {
    shared::cs02_file(shared, prefix).bytes
}

pub fn outcome_with(n: usize) -> Vec<ReplacementOutcome> {
    (0..n)
        .map(|_| ReplacementOutcome {
            cell: TrustAnchorCellIdentifier {
                role: RemotePartyRole::SUPPLIER,
                key_usage: KeyUsage::DIGITAL_SIGNATURE,
                cell_usage: CellUsage::MANAGEMENT,
            },
            status: StatusCode::SUCCESS,
            existing_subject_unique_id: gbcs::frame::EntityId([1; 8]),
            existing_subject_key_identifier: gbcs::payload::KeyId([2; 8]),
            replacing_subject_unique_id: gbcs::frame::EntityId([3; 8]),
            replacing_subject_key_identifier: gbcs::payload::KeyId([4; 8]),
        })
        .collect()
}
