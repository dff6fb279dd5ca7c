//! GBCS responses and alerts to DUIS: every RTDS CS02a/CS02f/CS02b/CS02g response and alert of
//! a DUIS service becomes an MMC `ra:GBCSResponse` that carries the decoded values (compared
//! field by field here) and that validates against `../shared/duis/schema/mmc-5.4.xsd` with
//! `xmllint` (Debian's `libxml2-utils`, which `.ci/run` installs). Modes no DUIS service sends
//! are refused, as are a command, a service that does not send the message, and responses
//! larger than the schema allows.

#[path = "support/duis_response_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/xmllint.rs"]
mod xmllint;

use common::*;
use gbcs::duis::response::{execution_outcome_xml, gbcs_response_xml, Service};
use gbcs::duis::ResponseError;
use gbcs::frame::CraFlag;
use gbcs::message::{self};
use gbcs::payload::{
    CredentialsReplacementMode, ExecutionOutcome, Payload, RemotePartyRole, ReplacementOutcome,
    SeqOf,
};
use std::path::Path;

#[test]
fn every_rtds_response_and_alert_of_a_duis_service_maps_to_a_valid_duis_body() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let dir = temp_dir("rtds");
    let (files, [alerts, reads, updates]) = map_every_response(&responses(&shared), &dir);
    assert!(
        files.len() >= 20 && alerts >= 4 && reads >= 4 && updates >= 12,
        "{} bodies ({alerts} alerts, {reads} reads, {updates} CS02b/g responses): the RTDS \
         has at least 20",
        files.len()
    );
    xmllint::assert_all_validate(&mmc(&shared), &files);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_response_in_a_6_21_folder_is_mapped_as_the_handover_it_answers() {
    // RTDS 4.5.0 has no 6.21 folder; a 6.15.1 supplier response filed as a handover's is what
    // one would hold (the same modes), and the harness maps it as 6.21.
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let handovers: Vec<shared::RtdsFile> = responses(&shared)
        .into_iter()
        .filter(|f| {
            f.folder.starts_with("6.15.1_CS02bSupplierBySupplier")
                || f.folder.starts_with("6.15.1_CS02bNOByNO")
        })
        .map(|f| shared::RtdsFile {
            folder: f.folder.replacen("6.15.1_", "6.21_", 1) + "Handover",
            name: f.name.replacen("_6.15.1_", "_6.21_", 1),
            bytes: f.bytes,
        })
        .collect();
    assert!(!handovers.is_empty());
    let dir = temp_dir("handover-folder");
    let (files, [_, _, updates]) = map_every_response(&handovers, &dir);
    assert_eq!(
        files.len(),
        handovers.len(),
        "every handover response mapped"
    );
    assert!(updates >= 1);
    for f in &files {
        let xml = std::fs::read_to_string(f).expect("body");
        assert!(xml.contains("<ra:ServiceReferenceVariant>6.21</ra:ServiceReferenceVariant>"));
        // A response is the handover's; an alert is an alert whatever the service.
        if !f.display().to_string().contains("_ALERT_") {
            assert!(
                xml.contains("RequestHandoverOfDCCControlledDeviceRsp"),
                "{}",
                f.display()
            );
        }
    }
    xmllint::assert_all_validate(&mmc(&shared), &files);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rtds_responses_of_modes_without_a_duis_service_are_refused() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let mut refused = 0;
    for f in responses(&shared) {
        if folder_service(&f.folder).is_some() {
            continue;
        }
        let msg = message::parse(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let result = gbcs_response_xml(&msg, None);
        if matches!(msg.payload(), Payload::CredentialDetailsResponse(_)) {
            // A CS02a/CS02f read signed by a supplier answers the same way as 6.24.1's.
            assert!(result.is_ok(), "{}: {result:?}", f.name);
        } else {
            assert!(
                matches!(result, Err(ResponseError::NoService(_))),
                "{}: {result:?}",
                f.name
            );
            refused += 1;
        }
    }
    // transCoSByTransCoS, recovery, and loadControllerByLoadController (responses and alert).
    assert!(refused >= 6, "{refused} refused; the RTDS has at least 6");
}

#[test]
fn a_handover_response_is_a_6_21_body_when_the_caller_says_so() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let dir = temp_dir("handover");
    let mut files = Vec::new();
    for prefix in [
        "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_RESPONSE",
        "CS02bNOByNO_6.15.1_SUCCESS_RESPONSE",
    ] {
        let bytes = rtds_message(&shared, prefix);
        let msg = message::parse(&bytes).expect("parse");
        let xml = gbcs_response_xml(&msg, Some(Service::RequestHandover)).expect("6.21");
        assert_carries(prefix, &msg, Service::RequestHandover, &xml);
        files.push(write_temp(&dir, prefix, &xml));
    }
    xmllint::assert_all_validate(&mmc(&shared), &files);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rejects_a_service_that_does_not_send_the_message() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let cases: [(&str, &[Service]); 4] = [
        (
            "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE",
            &[
                Service::UpdateSecurityCredentialsKrp,
                Service::RequestHandover,
                Service::RetrieveDeviceSecurityCredentialsKrp,
                Service::ServiceOptOut,
            ],
        ),
        (
            // CS02g loadControllerBySupplier is 6.15.1 only: no handover, no CoS.
            "CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE_SUCCESS_RESPONSE",
            &[
                Service::RequestHandover,
                Service::UpdateSecurityCredentialsCos,
                Service::ServiceOptOut,
                Service::RetrieveDeviceSecurityCredentialsKrp,
            ],
        ),
        (
            "CS02aMAC_6.24.1_SUCCESS_RESPONSE",
            &[
                Service::UpdateSecurityCredentialsKrp,
                Service::RequestHandover,
                Service::UpdateSecurityCredentialsCos,
                Service::ServiceOptOut,
            ],
        ),
        (
            "CS02bSupplierBySupplier_6.15.1_8F66_FUTURE_DATED_SUCCESS_ALERT",
            &[
                Service::UpdateSecurityCredentialsCos,
                Service::ServiceOptOut,
                Service::RetrieveDeviceSecurityCredentialsKrp,
            ],
        ),
    ];
    for (prefix, wrong) in cases {
        let bytes = rtds_message(&shared, prefix);
        let msg = message::parse(&bytes).expect("parse");
        for s in wrong {
            assert!(
                matches!(
                    gbcs_response_xml(&msg, Some(*s)),
                    Err(ResponseError::WrongService { service, .. }) if service == *s
                ),
                "{prefix} as {s}"
            );
        }
    }
}

#[test]
fn rejects_commands() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let mut commands = 0;
    for f in shared::cs02_files(&shared) {
        if !f.is_command() {
            continue;
        }
        let msg = message::parse(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(msg.header().cra_flag, CraFlag::COMMAND, "{}", f.name);
        assert_eq!(
            gbcs_response_xml(&msg, None),
            Err(ResponseError::NotResponse),
            "{}",
            f.name
        );
        commands += 1;
    }
    assert!(commands >= 20, "{commands} commands");
}

#[test]
fn an_unknown_status_is_not_known_with_its_number_and_still_validates() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let mut bytes = rtds_message(
        &shared,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE",
    );
    let offset = message::parse(&bytes)
        .expect("parse")
        .frame()
        .payload_offset();
    // The first ReplacementOutcome status: ENUMERATED 0 (`0A 01 00`) becomes 99.
    let at = bytes[offset..]
        .windows(3)
        .position(|w| w == [0x0A, 0x01, 0x00])
        .expect("a status")
        + offset;
    bytes[at + 2] = 99;
    let msg = message::parse(&bytes).expect("unknown status values are kept");
    let xml = gbcs_response_xml(&msg, None).expect("body");
    assert!(xml.contains("<ra:StatusCode ResponseCode=\"99\">"), "{xml}");
    assert!(
        xml.contains("<ra:ASN1Status>notKnown</ra:ASN1Status>"),
        "{xml}"
    );
    assert!(xml.contains("MessageSuccess=\"false\""), "{xml}");
    let dir = temp_dir("unknown");
    let file = write_temp(&dir, "unknown-status", &xml);
    xmllint::assert_all_validate(&mmc(&shared), &[file]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_validation_itself_rejects_a_body_the_schema_forbids() {
    // The schema check can fail: a status without its ASN1Status element (what this crate
    // wrote before it was validated) is refused.
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let bytes = rtds_message(
        &shared,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE",
    );
    let msg = message::parse(&bytes).expect("parse");
    let xml = gbcs_response_xml(&msg, None).expect("body");
    let broken = xml
        .replace("<ra:ASN1Status>", "")
        .replace("</ra:ASN1Status>", "");
    let dir = temp_dir("broken");
    let file = write_temp(&dir, "broken", &broken);
    xmllint::assert_refused(&mmc(&shared), &file);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rejects_more_replacement_outcomes_than_the_schema_allows() {
    let three = outcome_with(3);
    let four = outcome_with(4);
    fn outcome(r: &[ReplacementOutcome]) -> ExecutionOutcome<'_> {
        ExecutionOutcome {
            authorising_seq_number: 7,
            mode: CredentialsReplacementMode::SUPPLIER_BY_SUPPLIER,
            seq_number_changes: SeqOf::empty(),
            replacement_outcomes: SeqOf::from_slice(r),
        }
    }
    let xml = execution_outcome_xml(&outcome(&three)).expect("three fit");
    assert_eq!(xml.matches("<ra:ReplacementOutcome>").count(), 3);
    assert!(xml.starts_with(&format!("<ra:ExecutionOutcome xmlns:ra=\"{RA}\">")));
    assert_eq!(
        execution_outcome_xml(&outcome(&four)),
        Err(ResponseError::OverSchema {
            element: "ReplacementOutcome",
            count: 4,
            max: 3
        })
    );
    // One sequence-number change, with one top-up floor, is all the schema has room for.
    static TOP_UPS: [gbcs::payload::SpecialistSeqNumber; 2] = [
        gbcs::payload::SpecialistSeqNumber {
            usage: gbcs::payload::SeqNumberUsage::PREPAYMENT_TOP_UP,
            seq_number: 1,
        },
        gbcs::payload::SpecialistSeqNumber {
            usage: gbcs::payload::SeqNumberUsage::PREPAYMENT_TOP_UP,
            seq_number: 2,
        },
    ];
    let change = |top_ups: usize| gbcs::payload::RemotePartySeqNumberChange {
        role: RemotePartyRole::SUPPLIER,
        floor_seq_number: 5,
        specialist_floor_seq_numbers: Some(SeqOf::from_slice(&TOP_UPS[..top_ups])),
    };
    let with_changes = |changes: &[gbcs::payload::RemotePartySeqNumberChange<'static>]| {
        execution_outcome_xml(&ExecutionOutcome {
            seq_number_changes: SeqOf::from_slice(changes),
            ..outcome(&three)
        })
    };
    let xml = with_changes(&[change(1)]).expect("one change, one top-up");
    assert!(xml.contains("<ra:RemotePartyPrepaymentTopUpFloorSeqNumber>1<"));
    assert_eq!(
        with_changes(&[change(1), change(1)]),
        Err(ResponseError::OverSchema {
            element: "RemotePartySeqNumberChange",
            count: 2,
            max: 1
        })
    );
    assert_eq!(
        with_changes(&[change(2)]),
        Err(ResponseError::OverSchema {
            element: "RemotePartyPrepaymentTopUpFloorSeqNumber",
            count: 2,
            max: 1
        })
    );
}

#[test]
fn service_variants_round_trip_and_unknown_ones_are_none() {
    for s in Service::ALL {
        assert_eq!(Service::from_variant(s.variant()), Some(s));
    }
    for v in ["6.15", "6.24.2", "6.17", "", "6.23 "] {
        assert_eq!(Service::from_variant(v), None, "{v:?}");
    }
}

#[test]
fn the_simulated_meters_responses_map_too_including_8_5_and_a_6_23_alert() {
    // test-vectors/ holds the simulated meter's answers: 8.5 (0x0104) and a future-dated
    // 6.23 alert have no RTDS response, so they are checked here.
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let dir = temp_dir("vectors");
    let mut files = Vec::new();
    let mut services = std::collections::BTreeSet::new();
    let mut refused = 0;
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .expect("test-vectors")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            n.ends_with("-response.hex") || n.ends_with("-alert.hex")
        })
        .collect();
    names.sort();
    for path in names {
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let bytes = gbcs::hex::decode(&std::fs::read_to_string(&path).expect("read"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let msg = message::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        match gbcs_response_xml(&msg, None) {
            Ok(xml) => {
                let service = ["6.15.1", "6.23", "6.24.1", "8.5"]
                    .into_iter()
                    .find(|v| xml.contains(&format!(">{v}</ra:ServiceReferenceVariant>")))
                    .and_then(Service::from_variant)
                    .unwrap_or_else(|| panic!("{name}: no variant"));
                assert_carries(name, &msg, service, &xml);
                services.insert(service.variant());
                files.push(write_temp(&dir, name, &xml));
            }
            // 0x0106 (the migration) and 0x0108 (recovery) have no DUIS service.
            Err(ResponseError::NoService(code)) => {
                assert!([0x0106, 0x0108].contains(&code.0), "{name}: {code} refused");
                refused += 1;
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
    for v in ["6.15.1", "6.23", "6.24.1", "8.5"] {
        assert!(
            services.contains(v),
            "no simulated {v} response: {services:?}"
        );
    }
    assert!(refused >= 2, "{refused}");
    xmllint::assert_all_validate(&mmc(&shared), &files);
    let _ = std::fs::remove_dir_all(&dir);
}
