//! What the tool trusts and what it refuses, each rule with the case that breaks it: the MAC
//! checked against the device the CRA flag names (whatever its ID), DUIS certificates verified
//! before a command carries them, a signing key refused unless it is the originator's, a
//! future-dated request already past refused, and every file read up to a bound.

#[path = "support/trust_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;

use common::*;
use gbcs::duis::{CertificateTrust, DuisError, Srv623Request};
use gbcs::frame::EntityId;
use gbcs::sim::{Reply, TestPki};
use std::path::Path;

#[test]
fn verify_checks_the_mac_with_the_device_the_cra_flag_names_whatever_its_id() {
    // A device whose ID does not start with 00 (the old guess took such an originator for a
    // remote party and checked the MAC against the wrong pair).
    let pki = TestPki::generate(b"cra flag names the device").expect("PKI");
    let dir = tmp("cra-keystore");
    std::fs::create_dir_all(&dir).expect("keystore");
    for device in [
        EntityId::from_u64(0x1122_3344_5566_7788),
        EntityId::from_u64(0xFF00_0000_0000_0001),
        EntityId::from_u64(0x00DB_0000_0000_0001),
    ] {
        let creds = pki.device(device).expect("device");
        let mut meter = pki
            .meter(device, &pki.supplier_a, &pki.tcos, 1_764_547_200)
            .expect("meter");
        let z = pki.acb_secret(device).expect("Z");
        let command =
            gbcs::cos::command::credential_query(pki.acb.entity_id, device, 41, &z).expect("CS02a");
        let Reply::Response(response) = meter.process(&command) else {
            panic!("the meter answers its ACB's read")
        };
        std::fs::write(
            dir.join(keystore_name(pki.acb.entity_id, "ka.key")),
            pki.acb.ka.key.to_pkcs8_pem().as_bytes(),
        )
        .expect("ACB key");
        std::fs::write(
            dir.join(keystore_name(device, "ka.pem")),
            pem("CERTIFICATE", &creds.ka.certificate),
        )
        .expect("device KA");
        let acb = pki.acb.entity_id.to_string();
        for (what, bytes) in [("command", &command), ("response", &response)] {
            let file = tmp(&format!("{device}-{what}.hex"));
            std::fs::write(&file, gbcs::hex::encode_upper(bytes)).expect("message");
            let out = gbcs(&[
                "verify",
                "--keystore",
                path(&dir),
                "--acb",
                &acb,
                path(&file),
            ]);
            let report = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{device} {what}: {report}{}",
                stderr(&out)
            );
            assert!(
                report.contains(&format!(
                    "MAC: PASS with Z = {}",
                    keystore_name(pki.acb.entity_id, "ka.key")
                )) && report.contains(&format!("x the device {device})")),
                "{device} {what}: {report}"
            );
        }
    }
}

#[test]
fn verify_names_the_key_file_it_lacks_and_a_keystore_that_is_not_a_folder() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let f = shared::cs02_file(&shared, "CS02aMAC_6.24.1_SUCCESS_RESPONSE");
    let file = tmp("cs02a-response.hex");
    std::fs::write(&file, gbcs::hex::encode_upper(&f.bytes)).expect("message");
    // A keystore with the device's KA certificate but not the ACB's private key.
    let dir = tmp("partial-keystore");
    std::fs::create_dir_all(&dir).expect("keystore");
    std::fs::copy(
        shared.join("rtds/keystore/00db1234567890a0-ka.pem"),
        dir.join("00db1234567890a0-ka.pem"),
    )
    .expect("copy");
    let out = gbcs(&[
        "verify",
        "--dcc",
        "rtds",
        "--keystore",
        path(&dir),
        path(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("MAC: NO KEY") && report.contains("90b3d51f30000002-ka.key"),
        "{report}"
    );
    // An empty key file is named as empty.
    std::fs::write(dir.join("90b3d51f30000002-ka.key"), "").expect("empty");
    let out = gbcs(&[
        "verify",
        "--dcc",
        "rtds",
        "--keystore",
        path(&dir),
        path(&file),
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("90b3d51f30000002-ka.key is empty"),
        "{report}"
    );
    // A keystore path that is a file.
    let out = gbcs(&[
        "verify",
        "--dcc",
        "rtds",
        "--keystore",
        path(&file),
        path(&file),
    ]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("is not a folder"), "{}", stderr(&out));
    // Without the ACB named, the MAC is not checked and the message says what to give.
    let out = gbcs(&[
        "verify",
        "--keystore",
        &shared.join("rtds/keystore").display().to_string(),
        path(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("give --acb ENTITY or --dcc rtds"));
}

#[test]
fn a_duis_certificate_with_one_byte_flipped_is_refused_before_any_command_is_built() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let xml = template_623(&shared);
    let ds = element_der(&xml, "DigitalSigningCertificate");
    let trust = shared::trust();
    assert!(
        Srv623Request::from_xml(&xml, &trust).is_ok(),
        "the template reads"
    );
    // The serial (after 30 82 LL LL 30 82 LL LL A0 03 02 01 02 02 LL), a digit of the notAfter
    // year ('5' of 2035 made '4', still a time), the last byte of the signature.
    let serial = 15;
    assert_eq!(ds[13], 0x02, "the serial's INTEGER tag");
    let year = not_after_offset(&ds) + 3;
    let signature = ds.len() - 1;
    for (what, at, flip) in [
        ("serial", serial, 0x01),
        ("notAfter", year, 0x01),
        ("signature", signature, 0x01),
    ] {
        let mut bad = ds.clone();
        bad[at] ^= flip;
        let e = Srv623Request::from_xml(
            &with_element(&xml, "DigitalSigningCertificate", &bad),
            &trust,
        )
        .expect_err(what);
        assert!(e.is_check_failure(), "{what}: {e}");
        match e.cause() {
            DuisError::Untrusted { element, reason } => {
                assert_eq!(*element, "DigitalSigningCertificate", "{what}");
                assert!(
                    reason.contains("signature does not verify"),
                    "{what}: {reason}"
                );
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(e.line().is_some(), "{what}: placed at its element");
        // The CLI: exit 1, naming the element.
        let file = tmp(&format!("flipped-{what}.xml"));
        std::fs::write(&file, with_element(&xml, "DigitalSigningCertificate", &bad))
            .expect("write");
        let out = build_rtds(&file, "7", &[]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("DigitalSigningCertificate: certificate not trusted"),
            "{what}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn certificates_chain_to_the_trust_anchor_and_are_valid_now_and_at_execution() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let xml = template_623(&shared);
    let z1 = element_der(&xml, "Certificate");
    let root = shared::rtds_root_anchor(&gbcs::smki::SmkiCertificate::from_der(&z1).expect("Z1"));
    // The RTDS root: the whole path verifies.
    let anchored = CertificateTrust::new(Some(&root), shared::BUILD_TIME);
    assert!(Srv623Request::from_xml(&xml, &anchored).is_ok());
    // Another root (the test PKI's): the request's CA is not signed by it.
    let pki = TestPki::generate(b"another root").expect("PKI");
    let other = pki.root_anchor();
    let e = Srv623Request::from_xml(
        &xml,
        &CertificateTrust::new(Some(&other), shared::BUILD_TIME),
    )
    .expect_err("another root");
    assert!(matches!(e.cause(), DuisError::Untrusted { .. }), "{e}");
    // Valid 2025-09-01 to 2035-09-01: refused before and after.
    for t in [1_735_689_600, 2_080_000_000] {
        let e = Srv623Request::from_xml(&xml, &CertificateTrust::new(Some(&root), t))
            .expect_err("outside validity");
        assert!(e.to_string().contains("not valid now"), "{e}");
    }
    // Future-dated: valid at the build time but not when it executes (2036).
    let later = xml.replace(
        "<sr:SupplierFloorSeqNumber>",
        "<sr:ExecutionDateTime>2036-01-15T00:00:00Z</sr:ExecutionDateTime>\n      <sr:SupplierFloorSeqNumber>",
    );
    let e = Srv623Request::from_xml(&later, &anchored).expect_err("expired by then");
    assert!(
        e.to_string().contains("not valid at ExecutionDateTime"),
        "{e}"
    );
    // The CLI with the root as a public key file: builds; with another root: exit 1.
    let root_file = tmp("rtds-root.pem");
    std::fs::write(&root_file, spki_pem(&root.public_key)).expect("root");
    let other_file = tmp("other-root.pem");
    std::fs::write(&other_file, spki_pem(&other.public_key)).expect("root");
    let template =
        shared.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let args = |anchor: &Path| {
        build_rtds(
            &template,
            "7",
            &[
                "--trust-anchor",
                path(anchor),
                "--now",
                "2026-12-07T09:30:00Z",
            ],
        )
    };
    let out = args(&root_file);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not checked against the SMKI root"));
    assert_eq!(args(&other_file).status.code(), Some(1));
    // Without --trust-anchor: built, and stderr says what was not checked.
    let out = build_rtds(&template, "7", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("not checked against the SMKI root"),
        "{}",
        stderr(&out)
    );
    // --now after the certificates' end: exit 1.
    let out = build_rtds(&template, "7", &["--now", "2036-01-01T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn a_future_dated_request_already_past_is_refused_but_an_8_5_only_warns() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let future =
        shared.join("duis/CS02bSupplierBySupplier_6.15.1_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML");
    // Executes 2030-01-15: fine today, refused as of 2031.
    let build = |file: &Path, now: &str| {
        gbcs(&[
            "build",
            "--duis",
            path(file),
            "--counter",
            "9",
            "--now",
            now,
        ])
    };
    assert_eq!(
        build(&future, "2026-12-07T09:30:00Z").status.code(),
        Some(0)
    );
    let out = build(&future, "2031-01-01T00:00:00Z");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ExecutionDateTime"),
        "{}",
        stderr(&out)
    );
    // A cancellation (year 3000) is never late.
    let cancel =
        shared.join("duis/CS02bSupplierBySupplier_6.15.1_CANCELLATION_SUCCESS_REQUEST_DUIS.XML");
    assert_eq!(
        build(&cancel, "2031-01-01T00:00:00Z").status.code(),
        Some(0)
    );
    // The 8.5 template's 2015 date is not carried into its command: a warning, and it builds.
    let opt_out = shared.join("duis/CS02bACBByACB_8.5_SUCCESS_REQUEST_DUIS.XML");
    let out = build_rtds(&opt_out, "9", &["--now", "2026-12-07T09:30:00Z"]);
    // (The 8.5 template carries a DS certificate for the KA cell, refused for its key usage.)
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // The library says the time is past without refusing it.
    let xml = std::fs::read_to_string(&opt_out).expect("8.5");
    let acb_ka = std::fs::read_to_string(shared.join("rtds/keystore/90b3d51f30000002-ka.pem"))
        .expect("ACB KA");
    let b64: String = acb_ka.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = gbcs::duis::decode_base64(&b64).expect("base64");
    let fixed = with_element(&xml, "KeyAgreementCertificate", &der);
    let mid_2025 = CertificateTrust::new(None, 1_748_736_000);
    let req = gbcs::duis::OptOutRequest::from_xml(&fixed, &mid_2025).expect("8.5 reads");
    assert!(req.requested_execution_passed(1_748_736_000));
    let file = tmp("opt-out-fixed.xml");
    std::fs::write(&file, &fixed).expect("write");
    let out = build_rtds(&file, "9", &["--now", "2025-06-01T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: ExecutionDateTime is already past"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_key_that_is_not_the_originators_ds_key_does_not_sign() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let ks = shared.join("rtds/keystore");
    let template =
        shared.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let build = |extra: &[&str]| {
        let mut args = vec![
            "build",
            "--dcc",
            "rtds",
            "--duis",
            path(&template),
            "--counter",
            "7",
        ];
        args.extend_from_slice(extra);
        gbcs(&args)
    };
    let key = |name: &str| ks.join(name).display().to_string();
    // The TCoS party's own DS key (its certificate beside it): signs.
    let out = build(&["--key", &key("90b3d51f30000004-ds.key")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The ACB's KA key, by its keystore name: refused.
    let out = build(&["--key", &key("90b3d51f30000002-ka.key")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("key-agreement key"),
        "{}",
        stderr(&out)
    );
    // A supplier's DS key (its certificate beside it): refused, naming whose it is.
    let out = build(&["--key", &key("90b3d51f30010000-ds.key")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("90B3D51F30010000's")
            && stderr(&out).contains("not the originator 90B3D51F30000004"),
        "{}",
        stderr(&out)
    );
    // The TCoS key copied where nothing says whose it is: signs, and stderr says it was not checked.
    let bare = tmp("bare.key");
    std::fs::copy(ks.join("90b3d51f30000004-ds.key"), &bare).expect("copy");
    let out = build(&["--key", path(&bare)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not checked that it is 90B3D51F30000004's DS key"),
        "{}",
        stderr(&out)
    );
    // ... and with --key-cert naming another party's certificate: refused.
    let out = build(&[
        "--key",
        path(&bare),
        "--key-cert",
        &key("90b3d51f30010000-ds.pem"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is for another key"),
        "{}",
        stderr(&out)
    );
    // 6.24.1 is not signed: a --key given is said to be unused.
    let read = shared.join("duis/CS02aMAC_6.24.1_SUCCESS_REQUEST_DUIS.XML");
    let out = build_rtds(&read, "7", &["--key", &key("90b3d51f30000004-ds.key")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("note: --key is not used"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn without_dcc_parties_named_a_dcc_originated_request_is_a_usage_error() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let template =
        shared.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let out = gbcs(&["build", "--duis", path(&template), "--counter", "7"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--dcc rtds"), "{}", stderr(&out));
    // Another environment's TCoS party: the command is from it.
    let out = gbcs(&[
        "build",
        "--tcos",
        "0102030405060708",
        "--duis",
        path(&template),
        "--counter",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bytes = gbcs::hex::decode(String::from_utf8_lossy(&out.stdout).trim()).expect("hex");
    let m = gbcs::parse(&bytes).expect("pre-command");
    assert_eq!(
        m.header().originator,
        EntityId::from_u64(0x0102_0304_0506_0708)
    );
}

#[test]
fn every_file_is_read_up_to_a_bound_for_its_kind() {
    // /dev/zero has no end: each read stops at its bound, exit 4 naming the file and bound.
    for args in [
        vec!["decode", "/dev/zero"],
        vec!["build", "--duis", "/dev/zero", "--counter", "1"],
        vec![
            "mac",
            "--key",
            "/dev/zero",
            "--peer",
            "/dev/zero",
            "/dev/null",
        ],
    ] {
        let out = gbcs(&args);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("/dev/zero: larger than")
                && stderr(&out).contains("bytes, the bound for"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn absurd_numbers_are_usage_errors_that_state_the_limit() {
    let out = gbcs(&["migrate", "--simulate", "18446744073709551615"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("100000000"), "{}", stderr(&out));
    let out = gbcs(&["migrate", "--simulate", "1000000000"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let template = shared.join("duis/CS02aMAC_6.24.1_SUCCESS_REQUEST_DUIS.XML");
    let out = build_rtds(&template, "18446744073709551615", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("9223372036854775807"),
        "{}",
        stderr(&out)
    );
    // 0x hex counters are counters.
    let hex = gbcs(&[
        "build",
        "--dcc",
        "rtds",
        "--duis",
        path(&template),
        "--counter",
        "0x516",
    ]);
    let dec = build_rtds(&template, "1302", &[]);
    assert_eq!(hex.status.code(), Some(0), "{}", stderr(&hex));
    assert_eq!(hex.stdout, dec.stdout);
    // A message written as 0x-prefixed hex is hex, not base64.
    let f = shared::cs02_file(&shared, "CS02aMAC_6.24.1_SUCCESS_RESPONSE");
    let file = tmp("prefixed.hex");
    std::fs::write(&file, format!("0x{}\n", gbcs::hex::encode_upper(&f.bytes))).expect("write");
    let out = gbcs(&["decode", "--json", path(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
