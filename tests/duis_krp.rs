//! DUIS requests to GBCS. SRV 6.15.1 `UpdateSecurityCredentialsKRP`: for every DUIS 6.15.1
//! template in `../shared/duis/` with an RTDS command of the same service and variant, the
//! command built from the template equals DCC's in every field but the certificates (the
//! templates carry newer ones), the counter, the signature and the MAC — compared on the
//! decoded values. Malformed requests are refused naming the element.

#[path = "support/duis_krp_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;

use common::*;
use gbcs::cos::Execution;
use gbcs::duis::schema::SchemaProblem;
use gbcs::duis::{DuisError, KrpRequest, KrpRole};
use gbcs::message;
use gbcs::payload::Payload;

#[test]
fn every_6_15_1_template_builds_dccs_command_but_for_certificates_and_counters() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    let mut compared = Vec::new();
    for (name, path) in shared::duis_templates(&dir, &["_6.15.1_"]) {
        let xml = std::fs::read_to_string(&path).expect("template");
        let req =
            KrpRequest::from_xml(&xml, &shared::trust()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rtds_name = name.replace("_REQUEST_DUIS.XML", "_COMMAND_GBCS.HEX");
        let Some(rtds) = files.iter().find(|f| f.name == rtds_name) else {
            continue;
        };
        let dcc = gbcs::parse(&rtds.bytes).expect("RTDS command");
        let Payload::UpdateSecurityCredentialsCommand(theirs) = dcc.payload() else {
            panic!("{rtds_name}")
        };
        let counter = dcc.header().originator_counter;
        let pre = req
            .with_command(counter, |cmd| {
                message::build_precommand(
                    &req.header(counter, &shared::RTDS_DCC),
                    &Payload::UpdateSecurityCredentialsCommand(*cmd),
                )
            })
            .unwrap_or_else(|e| panic!("{name}: the builder refused: {e}"));
        let ours = gbcs::parse(&pre).expect("ours parses");
        let Payload::UpdateSecurityCredentialsCommand(mine) = ours.payload() else {
            panic!("{name}")
        };
        // Every field, the execution date-time included: DUIS `3000-12-31` is DCC's
        // `99991231235959Z`, a future date is carried to the second.
        let (a, b) = (shape(ours.header(), mine), shape(dcc.header(), theirs));
        assert_eq!(a, b, "{name}: built command differs from {rtds_name}");
        compared.push(name);
    }
    eprintln!("6.15.1 templates compared with DCC's commands: {compared:#?}");
    assert!(
        compared.len() >= 7,
        "only {} pairs: {compared:?}",
        compared.len()
    );
}

#[test]
fn a_6_15_1_request_maps_each_role_to_its_mode() {
    assert_eq!(KrpRole::Supplier.mode().0, 2);
    assert_eq!(KrpRole::NetworkOperator.mode().0, 3);
    assert_eq!(KrpRole::LoadController.mode().0, 11);
    assert_eq!(
        KrpRole::LoadController.authorising_cell(),
        KrpRole::Supplier.authorising_cell()
    );
}

#[test]
fn malformed_6_15_1_requests_are_refused_naming_the_element() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let xml = std::fs::read_to_string(
        dir.join("duis/CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"),
    )
    .expect("template");
    let ok = KrpRequest::from_xml(&xml, &shared::trust()).expect("the template reads");
    assert_eq!(ok.role, KrpRole::Supplier);
    assert_eq!(ok.execution, Execution::Immediate);
    let broken =
        |from: &str, to: &str| KrpRequest::from_xml(&xml.replacen(from, to, 1), &shared::trust());
    let line = |needle: &str| line_of(&xml, needle);
    assert_bad_value(
        broken(
            "<sr:RemotePartyRole>Supplier",
            "<sr:RemotePartyRole>Toaster",
        ),
        "RemotePartyRole",
        line("<sr:RemotePartyRole>"),
    );
    // A schema-valid variant of another service: not this reader's.
    let other = broken(
        "6.15.1</sr:ServiceReferenceVariant>",
        "6.23</sr:ServiceReferenceVariant>",
    )
    .expect_err("6.23");
    assert_eq!(other.cause(), &DuisError::NotService("6.15.1 or 6.21"));
    assert_bad_value(
        broken(
            "<sr:ApplyTimeBasedCPVChecks>false",
            "<sr:ApplyTimeBasedCPVChecks>maybe",
        ),
        "ApplyTimeBasedCPVChecks",
        line("<sr:ApplyTimeBasedCPVChecks>"),
    );
    assert_bad_value(
        broken(
            "<sr:RemotePartyFloorSeqNumber>0",
            "<sr:RemotePartyFloorSeqNumber>x",
        ),
        "RemotePartyFloorSeqNumber",
        line("<sr:RemotePartyFloorSeqNumber>"),
    );
    assert_bad_value(
        broken(":1000</sr:RequestID>", ":1000:7</sr:RequestID>"),
        "RequestID",
        line("<sr:RequestID>"),
    );
    assert_bad_value(
        broken(
            "<sr:DigitalSigningCertificate>MII",
            "<sr:DigitalSigningCertificate>!!",
        ),
        "DigitalSigningCertificate",
        line("<sr:DigitalSigningCertificate>"),
    );
    assert!(matches!(
        broken("<sr:Body>", "<sr:Bodyx>"),
        Err(DuisError::Xml(_))
    ));
    // The prepayment top-up belongs to the supplier alone (not a schema rule): refused at the
    // top-up floor's line.
    let top_up = broken(
        "<sr:RemotePartyRole>Supplier",
        "<sr:RemotePartyRole>NetworkOperator",
    )
    .expect_err("top-up for a network operator");
    assert_eq!(
        top_up.cause(),
        &DuisError::Invalid("RemotePartyPrepaymentTopUpFloorSeqNumber")
    );
    assert_eq!(
        top_up.line(),
        Some(line("<sr:RemotePartyPrepaymentTopUpFloorSeqNumber>"))
    );
    // Order, cardinality, a missing element, stray text and attributes, each at its line.
    let swapped = xml.replacen("<sr:RemotePartyRole>Supplier</sr:RemotePartyRole>", "", 1);
    let swapped = swapped.replacen(
        "<sr:ApplyTimeBasedCPVChecks>",
        "<sr:RemotePartyRole>Supplier</sr:RemotePartyRole><sr:ApplyTimeBasedCPVChecks>",
        1,
    );
    let e = schema_fault(KrpRequest::from_xml(&swapped, &shared::trust()));
    assert_eq!(
        (e.element.as_str(), &e.problem),
        (
            "UpdateSecurityCredentialsKRP",
            &SchemaProblem::Missing("RemotePartyRole")
        ),
        "{e}"
    );
    let twice = xml.replacen(
        "<sr:RemotePartyFloorSeqNumber>",
        "<sr:RemotePartyFloorSeqNumber>1</sr:RemotePartyFloorSeqNumber><sr:RemotePartyFloorSeqNumber>",
        1,
    );
    let e = schema_fault(KrpRequest::from_xml(&twice, &shared::trust()));
    assert_eq!(e.element, "RemotePartyFloorSeqNumber", "{e}");
    assert_eq!(e.line, line("<sr:RemotePartyFloorSeqNumber>"), "{e}");
    let no_path = {
        let start = xml
            .find("<sr:CertificationPathCertificates>")
            .expect("path");
        let end = xml
            .find("</sr:CertificationPathCertificates>")
            .expect("path end")
            + "</sr:CertificationPathCertificates>".len();
        format!("{}{}", &xml[..start], &xml[end..])
    };
    let e = schema_fault(KrpRequest::from_xml(&no_path, &shared::trust()));
    assert_eq!(
        e.problem,
        SchemaProblem::Missing("CertificationPathCertificates"),
        "{e}"
    );
    let e = schema_fault(broken("<sr:Header>", "<sr:Header>stray text"));
    assert_eq!(
        (e.element.as_str(), &e.problem),
        ("Header", &SchemaProblem::Text)
    );
    let e = schema_fault(broken("<sr:Body>", "<sr:Body colour=\"red\">"));
    assert_eq!(e.problem, SchemaProblem::Attribute("colour".into()));
    assert_eq!(e.line, line("<sr:Body>"));
    let e = schema_fault(broken(" schemaVersion=\"5.4\"", ""));
    assert!(matches!(e.problem, SchemaProblem::Attribute(_)), "{e}");
    assert_bad_value(
        broken("</sr:CommandVariant>", "0</sr:CommandVariant>"),
        "CommandVariant",
        line("<sr:CommandVariant>"),
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Any template with a character changed, text cut or repeated reads to a request or an
    /// error that names its place. The mutation works on characters, so every case is text
    /// (a byte at or above 0x80 used to make it invalid UTF-8, and the case checked nothing).
    #[test]
    fn mutated_templates_never_panic_any_reader(
        at in 0usize..6000,
        cut in 0usize..200,
        c in proptest::prelude::any::<char>(),
        which in 0usize..16,
    ) {
        let Some(dir) = shared::shared_dir() else {
            return Ok(());
        };
        let names = shared::duis_templates(&dir, &shared::DUIS_SERVICES);
        let path = &names[which % names.len()].1;
        let original = std::fs::read_to_string(path).expect("template");
        let mut chars: Vec<char> = original.chars().collect();
        let at = at % chars.len();
        chars[at] = c;
        let end = (at + cut).min(chars.len());
        if cut % 3 == 0 {
            chars.drain(at..end);
        } else if cut % 3 == 1 {
            let dup = chars[at..end].to_vec();
            chars.splice(at..at, dup);
        }
        let xml: String = chars.into_iter().collect();
        // Every reader, whatever the service: a value or a typed error, located.
        let _ = gbcs::duis::service_variant(&xml);
        let cos = gbcs::duis::Srv623Request::from_xml(&xml, &shared::trust());
        assert_told(&xml, &cos);
        let opt_out = gbcs::duis::OptOutRequest::from_xml(&xml, &shared::trust());
        assert_told(&xml, &opt_out);
        let read = gbcs::duis::ReadRequest::from_xml(&xml);
        assert_told(&xml, &read);
        let krp = KrpRequest::from_xml(&xml, &shared::trust());
        assert_told(&xml, &krp);
        // At most one reader takes a document: each reads one service.
        let taken = [cos.is_ok(), opt_out.is_ok(), read.is_ok(), krp.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count();
        proptest::prop_assert!(taken <= 1, "{taken} readers took one document");
        if let Ok(req) = krp {
            // Whatever reads also builds or is refused with a typed error.
            let _ = req.with_command(1, |cmd| {
                message::build_precommand(&req.header(1, &shared::RTDS_DCC), &Payload::UpdateSecurityCredentialsCommand(*cmd))
            });
        }
    }
}

/// SRV 6.24.1: the read DCC's ACB sends is byte-identical to DCC's own (no signature; the
/// MAC is deterministic), for each template that has an RTDS command.
#[test]
fn every_6_24_1_template_builds_dccs_read_byte_for_byte() {
    use gbcs::crypto::keystore::KeyRole;
    use gbcs::crypto::KeyAgreement;
    use gbcs::duis::ReadRequest;
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let acb = gbcs::frame::EntityId::from_u64(shared::ACB);
    let files = shared::cs02_files(&dir);
    let mut compared = Vec::new();
    for (name, path) in shared::duis_templates(&dir, &["_6.24.1_"]) {
        let req = ReadRequest::from_xml(&std::fs::read_to_string(&path).expect("template"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let Some(rtds) = files
            .iter()
            .find(|f| f.name == name.replace("_REQUEST_DUIS.XML", "_COMMAND_GBCS.HEX"))
        else {
            continue;
        };
        let dcc = gbcs::parse(&rtds.bytes).expect("RTDS");
        assert_eq!(req.message_code(), dcc.header().message_code(), "{name}");
        let z = ks
            .key_agreement_key(acb, KeyRole::KeyAgreement)
            .expect("ACB KA")
            .agree(
                &ks.public_key(req.request_id.target, KeyRole::KeyAgreement)
                    .expect("device KA"),
            )
            .expect("z");
        let ours = req
            .command(acb, dcc.header().originator_counter, req.message_code(), &z)
            .expect("build");
        assert_eq!(
            gbcs::hex::encode_upper(&ours),
            gbcs::hex::encode_upper(&rtds.bytes),
            "{name}"
        );
        compared.push(name);
    }
    assert!(compared.len() >= 2, "{compared:?}");
}

#[test]
fn malformed_6_24_1_requests_are_refused_naming_the_element() {
    use gbcs::duis::ReadRequest;
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let xml = std::fs::read_to_string(dir.join("duis/CS02aMAC_6.24.1_SUCCESS_REQUEST_DUIS.XML"))
        .expect("template");
    let ok = ReadRequest::from_xml(&xml).expect("reads");
    assert_eq!(ok.roles.len(), 2);
    assert_eq!(ok.message_code(), gbcs::frame::MessageCode::CS02A);
    let broken = |from: &str, to: &str| ReadRequest::from_xml(&xml.replacen(from, to, 1));
    assert_bad_value(
        broken(">Supplier<", ">Toaster<"),
        "RemotePartyRole",
        line_of(&xml, ">Supplier<"),
    );
    let none = xml
        .replace("<sr:RemotePartyRole>Supplier</sr:RemotePartyRole>", "")
        .replace(
            "<sr:RemotePartyRole>NetworkOperator</sr:RemotePartyRole>",
            "",
        );
    let e = schema_fault(ReadRequest::from_xml(&none));
    assert_eq!(
        (e.element.as_str(), &e.problem),
        (
            "RetrieveDeviceSecurityCredentialsKRP",
            &SchemaProblem::Missing("RemotePartyRole")
        )
    );
    let eight = xml.replace(
        "<sr:RemotePartyRole>Supplier</sr:RemotePartyRole>",
        &"<sr:RemotePartyRole>Supplier</sr:RemotePartyRole>".repeat(7),
    );
    let e = schema_fault(ReadRequest::from_xml(&eight));
    assert_eq!(e.problem, SchemaProblem::TooMany { max: 7 }, "{e}");
    let other = broken(
        "6.24.1</sr:ServiceReferenceVariant>",
        "6.15.1</sr:ServiceReferenceVariant>",
    )
    .expect_err("6.15.1");
    assert_eq!(other.cause(), &DuisError::NotService("6.24.1"));
}

/// SRV 6.21 and 8.5 have no RTDS command: the mapping (the design notes') is checked on the
/// decoded command, the mode table accepts it, and each is protected as its mode says.
#[test]
fn handover_and_opt_out_templates_map_to_their_modes_from_dccs_acb() {
    use gbcs::duis::{KrpService, OptOutRequest};
    const DCC_ACB: gbcs::frame::EntityId = shared::RTDS_DCC.acb;
    use gbcs::payload::{KeyUsage, RemotePartyRole, TrustAnchorCellIdentifier};
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let read = |n: &str| std::fs::read_to_string(dir.join("duis").join(n)).expect("template");
    for (file, role, mode) in [
        (
            "CS02bSupplierBySupplierHandover_6.21_SUCCESS_REQUEST_DUIS.XML",
            KrpRole::Supplier,
            2u8,
        ),
        (
            "CS02bNOByNOHandover_6.21_SUCCESS_REQUEST_DUIS.XML",
            KrpRole::NetworkOperator,
            3,
        ),
    ] {
        let req = KrpRequest::from_xml(&read(file), &shared::trust())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            (req.service, req.role),
            (KrpService::Handover, role),
            "{file}"
        );
        assert_eq!(
            req.default_originator(&shared::RTDS_DCC),
            DCC_ACB,
            "the ACB hands its cell over"
        );
        let header = req.header(2000, &shared::RTDS_DCC);
        let pre = req
            .with_command(2000, |cmd| {
                message::build_precommand(&header, &Payload::UpdateSecurityCredentialsCommand(*cmd))
            })
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let m = gbcs::parse(&pre).expect("parses");
        assert_eq!(m.header().originator, DCC_ACB);
        let Payload::UpdateSecurityCredentialsCommand(c) = m.payload() else {
            panic!("{file}")
        };
        assert_eq!(c.control.mode.0, mode);
        let replaced = role.replaced();
        assert_eq!(
            c.replacements.iter().next().map(|r| r.target_cell),
            Some(TrustAnchorCellIdentifier::new(
                replaced,
                KeyUsage::DIGITAL_SIGNATURE
            ))
        );
        assert_eq!(c.control.new_floor_seq_number, Some(0), "{file}");
        gbcs::payload::modes::check(m.header().message_code(), c, 2000)
            .unwrap_or_else(|v| panic!("{file}: {v}"));
    }
    // A handover cannot be for the load controller.
    let bad = read("CS02bNOByNOHandover_6.21_SUCCESS_REQUEST_DUIS.XML").replace(
        "<sr:RemotePartyRole>NetworkOperator",
        "<sr:RemotePartyRole>LoadController",
    );
    let e = KrpRequest::from_xml(&bad, &shared::trust()).expect_err("a load controller handover");
    assert_eq!(e.cause(), &DuisError::Invalid("RemotePartyRole"));
    assert_eq!(e.line(), Some(line_of(&bad, "<sr:RemotePartyRole>")));

    // 8.5: the template's KeyAgreementCertificate is the ACB's *DS* certificate (OU 04,
    // keyUsage digitalSignature): refused before any command is built, as a meter would.
    let template = read("CS02bACBByACB_8.5_SUCCESS_REQUEST_DUIS.XML");
    let e =
        OptOutRequest::from_xml(&template, &shared::trust()).expect_err("a DS certificate for KA");
    assert!(matches!(
        e.cause(),
        DuisError::Certificate {
            element: "KeyAgreementCertificate",
            ..
        }
    ));
    assert_eq!(
        e.line(),
        Some(line_of(&template, "<sr:KeyAgreementCertificate>"))
    );
    // With the ACB's KA certificate in its place: mode 4 from the ACB, MAC only, no [2], the
    // template's date not carried.
    let start = template
        .find("<sr:KeyAgreementCertificate>")
        .expect("element")
        + "<sr:KeyAgreementCertificate>".len();
    let end = template
        .find("</sr:KeyAgreementCertificate>")
        .expect("element");
    let pem = std::fs::read_to_string(dir.join("rtds/keystore/90b3d51f30000002-ka.pem"))
        .expect("ACB KA certificate");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let xml = format!("{}{b64}{}", &template[..start], &template[end..]);
    // The keystore's ACB KA certificate expired on 2025-10-29: build as of mid-2025.
    let mid_2025 = gbcs::duis::CertificateTrust::new(None, 1_748_736_000);
    let req = OptOutRequest::from_xml(&xml, &mid_2025).expect("8.5 reads");
    assert!(matches!(req.requested_execution, Execution::At(_)));
    let header = req.header(3000, &shared::RTDS_DCC);
    assert_eq!(header.originator, DCC_ACB);
    let z = gbcs::crypto::SharedSecret::from_bytes([9; 32]);
    let signer = gbcs::crypto::SigningKey::from_scalar(&[0x11; 32]).expect("key");
    let (macd, signed) = req.with_command(3000, |cmd| {
        let payload = Payload::UpdateSecurityCredentialsCommand(*cmd);
        (
            message::build_command(&header, &payload, None, Some(&z)),
            message::build_command(&header, &payload, Some(&signer), Some(&z)),
        )
    });
    let macd = macd.expect("MAC only");
    assert_eq!(
        signed,
        Err(gbcs::GbcsError::ModeRule(
            gbcs::payload::modes::ModeViolation::Signature
        )),
        "mode 4 carries no signature"
    );
    let m = gbcs::parse(&macd).expect("parses");
    m.verify_mac(&z).expect("MAC");
    let Payload::UpdateSecurityCredentialsCommand(c) = m.payload() else {
        panic!("8.5")
    };
    assert_eq!(c.control.mode.0, 4);
    assert_eq!(c.control.authorising_cell, None);
    assert_eq!(c.execution_date_time, None, "the DUIS date is not carried");
    assert_eq!(
        c.replacements.iter().next().map(|r| r.target_cell),
        Some(TrustAnchorCellIdentifier::ACB_KA)
    );
    assert_eq!(
        c.replacements.iter().next().map(|r| r.target_cell.role),
        Some(RemotePartyRole::ACCESS_CONTROL_BROKER)
    );
    assert_bad_value(
        OptOutRequest::from_xml(
            &xml.replace("<sr:ACBFloorSeqNumber>0", "<sr:ACBFloorSeqNumber>-1"),
            &shared::trust(),
        ),
        "ACBFloorSeqNumber",
        line_of(&xml, "<sr:ACBFloorSeqNumber>"),
    );
    // 8.5's execution date-time is mandatory in the schema.
    let undated = {
        let start = xml.find("<sr:ExecutionDateTime>").expect("date");
        let end = xml.find("</sr:ExecutionDateTime>").expect("date end")
            + "</sr:ExecutionDateTime>".len();
        format!("{}{}", &xml[..start], &xml[end..])
    };
    let e = schema_fault(OptOutRequest::from_xml(&undated, &shared::trust()));
    assert_eq!(
        e.problem,
        SchemaProblem::Missing("ExecutionDateTime"),
        "{e}"
    );
}
