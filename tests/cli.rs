//! The `gbcs` binary: decode every RTDS CS02 file (tree and JSON that re-parses), verify them
//! all with the RTDS keystore and fail on a corrupted copy, sign and MAC the 6.23 pre-command
//! back into DCC's command, build the 6.23 command from the DUIS template, map responses,
//! and classify. (`cli_reports.rs` migrates and reports; `cli_io.rs` has the rest.)

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/softhsm.rs"]
mod softhsm;

use common::*;
use gbcs::crypto::keystore::KeyRole;
use gbcs::frame::EntityId;
use gbcs::payload::Payload;

#[test]
fn decodes_every_cs02_file_as_a_tree_and_as_json_that_reparses() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    for f in shared::cs02_files(&dir) {
        let path = rtds_path(&dir, &f);
        let tree = ok(&gbcs(&["decode", &path]));
        assert!(
            tree.contains("grouping_header:") && tree.contains("payload:"),
            "{}",
            f.name
        );
        let json = ok(&gbcs(&["decode", "--json", &path]));
        let v: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let m = gbcs::parse(&f.bytes).expect("parse");
        assert_eq!(v["length"], f.bytes.len());
        assert_eq!(
            v["grouping_header"]["originator_counter"],
            m.header().originator_counter
        );
        assert_eq!(
            v["grouping_header"]["originator"],
            m.header().originator.to_string()
        );
        assert_eq!(
            v["grouping_header"]["message_code"]["value"],
            m.header().message_code().0
        );
        assert_ne!(v["payload"]["type"], "Other", "{}", f.name);
        assert_eq!(v["mac_header"].is_null(), m.frame().mac().is_none());
    }
}

#[test]
fn decodes_a_non_cs02_message_to_its_frames() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let f = shared::rtds_files(&dir)
        .into_iter()
        .find(|f| f.folder.starts_with("1.1.1_ECS01a"))
        .expect("a non-CS02 file");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&gbcs(&["decode", "--json", &rtds_path(&dir, &f)])))
            .expect("json");
    assert_eq!(v["payload"]["type"], "Other");
    assert!(v["payload"]["hex"].as_str().is_some_and(|h| !h.is_empty()));
}

#[test]
fn verifies_every_cs02_file_and_fails_on_a_corrupted_copy() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = dir.join("rtds/keystore").display().to_string();
    let mut checked = 0;
    for f in shared::cs02_files(&dir) {
        let path = rtds_path(&dir, &f);
        if f.is_precommand() {
            // Nothing authenticates a pre-command: exit 1, unless allowed.
            let out = gbcs(&["verify", "--dcc", "rtds", "--keystore", &ks, &path]);
            assert_eq!(out.status.code(), Some(1), "{}", f.name);
            // The report on stdout, the one-line verdict on stderr.
            assert!(String::from_utf8_lossy(&out.stdout).contains("not authenticated"));
            assert_eq!(
                String::from_utf8_lossy(&out.stderr).trim(),
                "error: verification failed: nothing authenticates the message (see the report on stdout)"
            );
            let out = ok(&gbcs(&[
                "verify",
                "--dcc",
                "rtds",
                "--keystore",
                &ks,
                "--allow-unauthenticated",
                &path,
            ]));
            assert!(!out.contains("FAIL"), "{}: {out}", f.name);
            continue;
        }
        let out = ok(&gbcs(&[
            "verify",
            "--dcc",
            "rtds",
            "--keystore",
            &ks,
            &path,
        ]));
        assert!(
            !out.contains("FAIL") && !out.contains("NO KEY"),
            "{}: {out}",
            f.name
        );
        let m = gbcs::parse(&f.bytes).expect("parse");
        let h = m.header();
        // Each signature is bound to whose it must be.
        if out.contains("signature: PASS") {
            let who = if h.cra_flag == gbcs::frame::CraFlag::COMMAND {
                format!("the originator {}'s DS certificate", h.originator)
            } else {
                format!("the device {}'s DS certificate", h.originator)
            };
            assert!(out.contains(&who), "{}: {out}", f.name);
        }
        // And each MAC to the ACB x device pair.
        if out.contains("MAC: PASS") {
            assert!(
                out.contains("(the ACB 90B3D51F30000002 x the device 00DB"),
                "{}: {out}",
                f.name
            );
        }
        if matches!(m.payload(), Payload::UpdateSecurityCredentialsCommand(_)) {
            assert!(out.contains("mode rule: PASS"), "{}: {out}", f.name);
        }
        checked += 1;
    }
    assert!(checked >= 50, "{checked} RTDS CS02 messages verified");
    let f = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    // A byte inside the first replacement certificate (offsets 101..533): still a well-formed
    // message, but neither the signature nor the MAC can verify.
    let mut bad = f.bytes.clone();
    bad[400] ^= 1;
    assert!(gbcs::parse(&bad).is_ok());
    let path = tmp("corrupted.hex");
    std::fs::write(&path, gbcs::hex::encode_upper(&bad)).expect("write");
    let out = gbcs(&[
        "verify",
        "--dcc",
        "rtds",
        "--keystore",
        &ks,
        path.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("signature: FAIL") && report.contains("MAC: FAIL"),
        "{report}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: verification failed: signature, MAC (see the report on stdout)"
    );
    // Not a message at all: exit 3 with the field and offset.
    let path = tmp("garbage.hex");
    std::fs::write(&path, "DF0901").expect("write");
    let out = gbcs(&["decode", path.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CRA flag and originator counter at byte 2"),
        "{err}"
    );
}

#[test]
fn signing_and_macing_the_6_23_precommand_gives_dccs_command_back() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let (f, pre) = rtds_6_23_precommand(&dir, "precommand.hex");
    let rtds = gbcs::parse(&f.bytes).expect("parse");
    let keys = dir.join("rtds/keystore");
    let signed = ok(&gbcs(&[
        "sign",
        "--key",
        keys.join("90b3d51f30000004-ds.key").to_str().expect("path"),
        pre.to_str().expect("path"),
    ]));
    let signed_path = tmp("signed.hex");
    std::fs::write(&signed_path, &signed).expect("write");
    let macd = ok(&gbcs(&[
        "mac",
        "--key",
        keys.join("90b3d51f30000002-ka.key").to_str().expect("path"),
        "--peer",
        keys.join("00db1234567890a0-ka.pem").to_str().expect("path"),
        signed_path.to_str().expect("path"),
    ]));
    let bytes = gbcs::hex::decode(&macd).expect("hex");
    let ours = gbcs::parse(&bytes).expect("parse");
    let ks = shared::keystore(&dir);
    ours.verify_signature(
        &ks.public_key(
            EntityId::from_u64(0x90B3_D51F_3000_0004),
            KeyRole::DigitalSignature,
        )
        .expect("key"),
    )
    .expect("signature");
    let z = gbcs::crypto::KeyAgreement::agree(
        &ks.key_agreement_key(EntityId::from_u64(shared::ACB), KeyRole::KeyAgreement)
            .expect("ACB"),
        &ks.public_key(rtds.header().recipient, KeyRole::KeyAgreement)
            .expect("device"),
    )
    .expect("z");
    ours.verify_mac(&z).expect("MAC");
    assert_eq!(ours.frame().mac_header(), rtds.frame().mac_header());
    assert_eq!(ours.header(), rtds.header());
    assert_eq!(ours.frame().payload(), rtds.frame().payload());
}

#[test]
fn the_duis_6_23_template_builds_the_rtds_command_but_for_certificates() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let duis = dir.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let f = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    let rtds = gbcs::parse(&f.bytes).expect("parse");
    let counter = rtds.header().originator_counter.to_string();
    let hex = ok(&gbcs(&[
        "build",
        "srv-6.23",
        "--dcc",
        "rtds",
        "--duis",
        duis.to_str().expect("path"),
        "--originator",
        "90B3D51F30000004",
        "--counter",
        &counter,
    ]));
    let bytes = gbcs::hex::decode(&hex).expect("hex");
    let ours = gbcs::parse(&bytes).expect("pre-command parses");
    let (
        Payload::UpdateSecurityCredentialsCommand(a),
        Payload::UpdateSecurityCredentialsCommand(b),
    ) = (ours.payload(), rtds.payload())
    else {
        panic!()
    };
    let h = |m: &gbcs::Message<'_>| {
        let h = m.header();
        (
            h.cra_flag,
            h.originator_counter,
            h.originator,
            h.recipient,
            h.date_time,
            h.message_code(),
        )
    };
    assert_eq!(h(&ours), h(&rtds));
    assert_eq!(a.control, b.control, "mode, [1], [2], [3], floors");
    assert_eq!(a.execution_date_time, b.execution_date_time);
    let cells = |c: &gbcs::payload::UpdateSecurityCredentialsCommand<'_>| {
        c.replacements
            .iter()
            .map(|r| r.target_cell)
            .collect::<Vec<_>>()
    };
    assert_eq!(cells(a), cells(b));
    assert_eq!(a.certification_path.len(), b.certification_path.len());
    // The template's certificates are newer than the hex's, so they differ (and are its own).
    assert_ne!(
        a.replacements.first().map(|r| r.certificate),
        b.replacements.first().map(|r| r.certificate)
    );
}

#[test]
fn maps_responses_to_their_duis_bodies_and_refuses_a_service_that_does_not_send_them() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let f = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE",
    );
    let xml = ok(&gbcs(&["decode", "--duis-response", &rtds_path(&dir, &f)]));
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let text = |name: &str| {
        doc.descendants()
            .filter(|n| n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(text("AuthorisingRemotePartyOriginatorCounter"), ["6001"]);
    assert_eq!(text("CredentialsReplacementMode"), ["SupplierByTransCoS"]);
    assert_eq!(text("ServiceReferenceVariant"), ["6.23"]);
    assert_eq!(text("ASN1Status"), ["success"; 3]);
    assert_eq!(
        text("CertificateType"),
        ["DigitalSigning", "KeyAgreement", "KeyAgreementTopUp"]
    );
    assert_eq!(text("NewRemotePartyID"), ["90-B3-D5-1F-30-03-00-00"; 3]);
    assert_eq!(text("RemotePartyPrepaymentTopUpFloorSeqNumber"), ["0"]);
    // A 6.23 response is not a handover's; an unknown service is a usage error.
    let path = rtds_path(&dir, &f);
    let wrong = gbcs(&["decode", "--duis-response", "--service", "6.21", &path]);
    assert_eq!(wrong.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("SRV 6.21 does not send"));
    let unknown = gbcs(&["decode", "--duis-response", "--service", "6.99", &path]);
    assert_eq!(unknown.status.code(), Some(2));
    // A read names its roles, one detail per cell.
    let read = shared::cs02_file(&dir, "CS02aMAC_6.24.1_ERROR_RESPONSE");
    let xml = ok(&gbcs(&[
        "decode",
        "--duis-response",
        "--service",
        "6.24.1",
        &rtds_path(&dir, &read),
    ]));
    assert!(xml.contains("RetrieveDeviceSecurityCredentialsKRPRsp MessageSuccess=\"false\""));
    assert!(xml.contains("<ra:ASN1Status>trustAnchorNotFound</ra:ASN1Status>"));
    let cmd = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    assert_eq!(
        gbcs(&["decode", "--duis-response", &rtds_path(&dir, &cmd)])
            .status
            .code(),
        Some(3)
    );
}

#[test]
fn classifies_from_a_response_with_a_registry_file_after_verifying_it() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = dir.join("rtds/keystore").display().to_string();
    let reg = tmp("registry.txt");
    std::fs::write(&reg, "# RTDS TCoS\ntcos 90B3D51F30000004 4B38EB47561D93E8\ntcos 90B3D51F30000004 4F3F10855696FEF2\n").expect("write");
    let reg = reg.to_str().expect("path").to_owned();
    let f = shared::cs02_file(&dir, "CS02bTransCoSByTransCoS_NA_SUCCESS_RESPONSE");
    let path = rtds_path(&dir, &f);
    let out = ok(&gbcs(&[
        "classify",
        "--dcc",
        "rtds",
        "--registry",
        &reg,
        "--keystore",
        &ks,
        &path,
    ]));
    assert!(
        out.contains("verified: signature of the device 00DB1234567890A0")
            && out.contains("state: TCOS")
            && out.contains("matched: entity ID and key ID (both registered)")
            && out.contains("4F3F10855696FEF2"),
        "{out}"
    );
    // The device's own certificate file does as well.
    let cert = dir.join("rtds/keystore/00db1234567890a0-ds.pem");
    let out = ok(&gbcs(&[
        "classify",
        "--dcc",
        "rtds",
        "--registry",
        &reg,
        "--device-key",
        cert.to_str().expect("path"),
        &path,
    ]));
    assert!(out.contains("verified: signature of the device"), "{out}");
    // Nothing to verify with: a usage error; --no-verify classifies and says so.
    let out = gbcs(&["classify", "--dcc", "rtds", "--registry", &reg, &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-verify"));
    let out = ok(&gbcs(&[
        "classify",
        "--dcc",
        "rtds",
        "--registry",
        &reg,
        "--no-verify",
        &path,
    ]));
    assert!(
        out.contains("verified: NO") && out.contains("state: TCOS"),
        "{out}"
    );
    // A tampered response is not classified.
    let mut bad = f.bytes.clone();
    let n = bad.len();
    bad[n - 10] ^= 1;
    let bad_path = tmp("tampered-response.hex");
    std::fs::write(&bad_path, gbcs::hex::encode_upper(&bad)).expect("write");
    let out = gbcs(&[
        "classify",
        "--dcc",
        "rtds",
        "--registry",
        &reg,
        "--keystore",
        &ks,
        bad_path.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("state:"));
    // A CS02a read MAC'd for the ACB: the MAC is what is verified.
    let f = shared::cs02_file(&dir, "CS02aMAC_6.24.1_SUCCESS_RESPONSE");
    let out = ok(&gbcs(&[
        "classify",
        "--dcc",
        "rtds",
        "--registry",
        &reg,
        "--keystore",
        &ks,
        &rtds_path(&dir, &f),
    ]));
    assert!(
        out.contains("verified: ")
            && out.contains("state: UNKNOWN: the evidence does not report the role-5 cell"),
        "{out}"
    );
}

#[test]
fn a_malformed_registry_or_ledger_is_refused_naming_file_line_and_column() {
    let reg = tmp("bad-registry.txt");
    std::fs::write(
        &reg,
        "# ok\ntcos 90B3D51F30000004 4B38EB47561D93E8\n  acb 90B3D51F30000004 4B38EB47561D93E8\n",
    )
    .expect("write");
    let reg = reg.to_str().expect("path").to_owned();
    let out = gbcs(&["classify", "--dcc", "rtds", "--registry", &reg, "-"]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{reg}:3:3: expected tcos or ecos")),
        "{err}"
    );

    let ledger = tmp("bad-ledger.json");
    std::fs::write(
        &ledger,
        "{\"attempts\": [],\n \"devices\": {},\n \"report_sequences\": {\"ECOSMIG-007\": {\"SUPA\": [1, \"x\"]}}}\n",
    )
    .expect("write");
    let ledger = ledger.to_str().expect("path").to_owned();
    let out = gbcs(&[
        "report",
        "ecosmig-007",
        "--ledger",
        &ledger,
        "--supplier",
        "SUPA",
        "--month",
        "2026-11",
    ]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{ledger}:3:")), "{err}");
}
