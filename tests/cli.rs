//! The `gbcs` binary: decode every RTDS CS02 file (tree and JSON that re-parses), verify them
//! all with the RTDS keystore and fail on a corrupted copy, sign and MAC the 6.23 pre-command
//! back into DCC's command, build the 6.23 command from the DUIS template, classify, migrate,
//! report, and `--help` with an example for every subcommand.

#[path = "support/shared.rs"]
mod shared;
#[path = "support/softhsm.rs"]
mod softhsm;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gbcs::crypto::keystore::KeyRole;
use gbcs::frame::EntityId;
use gbcs::payload::Payload;

fn gbcs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args(args)
        .output()
        .expect("run gbcs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "gbcs failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gbcs-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn rtds_path(dir: &Path, f: &shared::RtdsFile) -> String {
    dir.join("rtds/RTDS-4.5.0")
        .join(&f.folder)
        .join(&f.name)
        .display()
        .to_string()
}

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
    for f in shared::cs02_files(&dir) {
        let out = ok(&gbcs(&["verify", "--keystore", &ks, &rtds_path(&dir, &f)]));
        assert!(
            !out.contains("FAIL") && !out.contains("NO KEY"),
            "{}: {out}",
            f.name
        );
    }
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
    let out = gbcs(&["verify", "--keystore", &ks, path.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("signature: FAIL") && err.contains("MAC: FAIL"),
        "{err}"
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
    let f = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    let rtds = gbcs::parse(&f.bytes).expect("parse");
    let pre = tmp("precommand.hex");
    std::fs::write(
        &pre,
        gbcs::hex::encode_upper(rtds.frame().general_signing().precommand_bytes()),
    )
    .expect("write");
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
fn maps_a_cs02b_response_to_its_duis_execution_outcome() {
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
    assert_eq!(text("StatusCode"), ["success"; 3]);
    assert_eq!(
        text("CertificateType"),
        ["DigitalSigning", "KeyAgreement", "KeyAgreementTopUp"]
    );
    assert_eq!(text("NewRemotePartyID"), ["90-B3-D5-1F-30-03-00-00"; 3]);
    assert_eq!(text("RemotePartyPrepaymentTopUpFloorSeqNumber"), ["0"]);
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
fn classifies_from_a_response_with_a_registry_file() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let reg = tmp("registry.txt");
    std::fs::write(&reg, "# RTDS TCoS\ntcos 90B3D51F30000004 4B38EB47561D93E8\ntcos 90B3D51F30000004 4F3F10855696FEF2\n").expect("write");
    let f = shared::cs02_file(&dir, "CS02bTransCoSByTransCoS_NA_SUCCESS_RESPONSE");
    let out = ok(&gbcs(&[
        "classify",
        "--registry",
        reg.to_str().expect("path"),
        &rtds_path(&dir, &f),
    ]));
    assert!(
        out.contains("state: TCOS")
            && out.contains("matched: Key")
            && out.contains("4F3F10855696FEF2"),
        "{out}"
    );
    let f = shared::cs02_file(&dir, "CS02aMAC_6.24.1_SUCCESS_RESPONSE");
    let out = ok(&gbcs(&[
        "classify",
        "--registry",
        reg.to_str().expect("path"),
        &rtds_path(&dir, &f),
    ]));
    assert!(out.contains("state: UNKNOWN (NoCell"), "{out}");
}

#[test]
fn migrates_a_simulated_fleet_and_reports_from_its_ledger() {
    let ledger = tmp("ledger.csv");
    let out = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "300",
        "--seed",
        "5",
        "--ledger",
        ledger.to_str().expect("path"),
    ]));
    // "300 devices, M migrated, A attempts in …": the printed totals are the ledger's.
    let first = out.lines().next().unwrap_or_default();
    let words: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(
        (words.first(), words.get(1)),
        (Some(&"300"), Some(&"devices,")),
        "{out}"
    );
    let migrated: u64 = words[2].parse().expect("migrated count");
    let attempts: u64 = words[4].parse().expect("attempt count");
    let text = std::fs::read_to_string(&ledger).expect("ledger");
    let rows = gbcs::cli::parse_ledger(&text).expect("ledger parses");
    assert!(!rows.is_empty());
    let sum =
        |f: fn(&gbcs::cos::SupplierCounts) -> u64| rows.iter().map(|(_, c)| f(c)).sum::<u64>();
    assert_eq!(
        sum(|c| c.ecos_installed + c.remaining_tcos),
        300,
        "every device counted once"
    );
    assert_eq!(sum(|c| c.migrations_completed), migrated);
    assert_eq!(
        sum(|c| c.migrations_completed + c.failed_attempts),
        attempts
    );
    assert!(migrated > 200, "most of a default mix migrates: {migrated}");
    let supplier = rows[0].0.as_str().to_owned();
    let report = ok(&gbcs(&[
        "report",
        "ecosmig-007",
        "--ledger",
        ledger.to_str().expect("path"),
        "--supplier",
        &supplier,
        "--month",
        "2026-11",
    ]));
    let parsed = gbcs::cos::Ecosmig007::parse(&report, &gbcs::cos::report::ReportFormat::default())
        .expect("report parses");
    assert_eq!(parsed.counts, rows[0].1);
    assert!(report.starts_with(&format!("00,ECOSMIG-007,{supplier},1,")));
    assert!(report.contains(",20261201T060000,20261101T000000,20261130T235959,"));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for args in [
        vec!["--help"],
        vec!["decode", "--help"],
        vec!["verify", "--help"],
        vec!["sign", "--help"],
        vec!["mac", "--help"],
        vec!["build", "srv-6.23", "--help"],
        vec!["classify", "--help"],
        vec!["migrate", "--help"],
        vec!["report", "ecosmig-007", "--help"],
    ] {
        let out = ok(&gbcs(&args));
        let want = if args.len() == 1 {
            "Exit codes"
        } else {
            "Example"
        };
        assert!(out.contains(want), "{args:?}: {out}");
    }
    assert_eq!(gbcs(&["decode", "--no-such-flag"]).status.code(), Some(2));
}

#[test]
fn reads_hex_base64_binary_and_stdin_alike() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let f = shared::cs02_file(&dir, "CS02aMAC_6.24.1_SUCCESS_COMMAND");
    let want = ok(&gbcs(&["decode", "--json", &rtds_path(&dir, &f)]));
    let bin = tmp("message.bin");
    std::fs::write(&bin, &f.bytes).expect("write");
    assert_eq!(
        ok(&gbcs(&["decode", "--json", bin.to_str().expect("path")])),
        want
    );
    assert_eq!(
        ok(&gbcs(&[
            "decode",
            "--json",
            "--format",
            "binary",
            bin.to_str().expect("path")
        ])),
        want
    );
    let b64 = tmp("message.b64");
    std::fs::write(&b64, base64(&f.bytes)).expect("write");
    assert_eq!(
        ok(&gbcs(&["decode", "--json", b64.to_str().expect("path")])),
        want
    );
    assert_eq!(
        ok(&gbcs(&[
            "decode",
            "--json",
            "--format",
            "base64",
            b64.to_str().expect("path")
        ])),
        want
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args(["decode", "--json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        gbcs::hex::encode_upper(&f.bytes).as_bytes(),
    )
    .expect("write");
    assert_eq!(ok(&child.wait_with_output().expect("wait")), want);
    let out = gbcs(&["decode", "--format", "hex", b64.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(3));
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn keys_in_an_hsm_sign_mac_build_and_migrate_from_the_command_line() {
    use gbcs::crypto::KeyAgreement as _;
    let (Some(hsm), Some(dir)) = (softhsm::softhsm(), shared::shared_dir()) else {
        return;
    };
    hsm.token("cli");
    hsm.generate("cli", "tcos-ds", 1, true, false);
    hsm.generate("cli", "acb-ka", 2, false, true);
    let module = hsm.path.display().to_string();
    let uri = |label: &str| {
        format!(
            "pkcs11:token=cli;object={label}?pin-source=file:{}",
            hsm.dir.join("pin").display()
        )
    };
    // Sign DCC's 6.23 pre-command in the HSM: the token's key verifies it.
    let cmd = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    let pre = gbcs::parse(&cmd.bytes)
        .expect("parse")
        .frame()
        .general_signing()
        .precommand_bytes()
        .to_vec();
    let pre_file = tmp("hsm-precommand.hex");
    std::fs::write(&pre_file, gbcs::hex::encode_upper(&pre)).expect("write");
    let signed = ok(&gbcs(&[
        "sign",
        "--pkcs11-module",
        &module,
        "--key",
        &uri("tcos-ds"),
        pre_file.to_str().expect("path"),
    ]));
    let signed = gbcs::hex::decode(signed.trim()).expect("hex");
    let key = gbcs::crypto::pkcs11::HsmSigningKey::open(&hsm.module, &hsm.uri("cli", "tcos-ds"))
        .expect("key");
    gbcs::parse(&signed)
        .expect("parse")
        .verify_signature(key.public_key().expect("public key"))
        .expect("the HSM's signature verifies");
    // MAC it with the ACB key in the HSM; build the DUIS 6.23 request with both HSM keys.
    let signed_file = tmp("hsm-signed.hex");
    std::fs::write(&signed_file, gbcs::hex::encode_upper(&signed)).expect("write");
    let meter_ka = dir.join("rtds/keystore/00db1234567890a0-ka.pem");
    let meter_ka = meter_ka.to_str().expect("path");
    let macd = ok(&gbcs(&[
        "mac",
        "--pkcs11-module",
        &module,
        "--key",
        &uri("acb-ka"),
        "--peer",
        meter_ka,
        signed_file.to_str().expect("path"),
    ]));
    let macd = gbcs::hex::decode(macd.trim()).expect("hex");
    let acb =
        gbcs::crypto::pkcs11::HsmKeyAgreementKey::open(&hsm.module, &hsm.uri("cli", "acb-ka"))
            .expect("key");
    let meter = gbcs::crypto::PublicKey::from_pem(&std::fs::read_to_string(meter_ka).expect("pem"))
        .expect("meter KA");
    gbcs::parse(&macd)
        .expect("parse")
        .verify_mac(&acb.agree(&meter).expect("Z"))
        .expect("the HSM-derived MAC verifies");
    let duis = dir.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let built = ok(&gbcs(&[
        "build",
        "srv-6.23",
        "--duis",
        duis.to_str().expect("path"),
        "--counter",
        "6001",
        "--pkcs11-module",
        &module,
        "--key",
        &uri("tcos-ds"),
        "--acb-key",
        &uri("acb-ka"),
        "--device-ka",
        meter_ka,
    ]));
    let built = gbcs::hex::decode(built.trim()).expect("hex");
    let m = gbcs::parse(&built).expect("parse");
    m.verify_signature(key.public_key().expect("public key"))
        .expect("signed in the HSM");
    m.verify_mac(&acb.agree(&meter).expect("Z"))
        .expect("MAC'd with the HSM's Z");
    // A whole simulated migration with both keys in the HSM.
    let out = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "200",
        "--pkcs11-module",
        &module,
        "--key",
        &uri("tcos-ds"),
        "--acb-key",
        &uri("acb-ka"),
    ]));
    assert!(out.starts_with("200 devices, "), "{out}");
    assert!(
        !out.contains("AUTO-STOP") && !out.contains("LOCAL FAULTS"),
        "{out}"
    );
    // A PIN on the command line is refused; so is a key without the usage asked of it.
    let with_pin = "pkcs11:token=cli;object=tcos-ds?pin-value=1234";
    let refused = gbcs(&[
        "sign",
        "--pkcs11-module",
        &module,
        "--key",
        with_pin,
        pre_file.to_str().expect("path"),
    ]);
    assert_eq!(refused.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pin-value refused"));
    let wrong_usage = gbcs(&[
        "sign",
        "--pkcs11-module",
        &module,
        "--key",
        &uri("acb-ka"),
        pre_file.to_str().expect("path"),
    ]);
    assert_eq!(wrong_usage.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&wrong_usage.stderr).contains("CKA_SIGN"));
    // No module named anywhere.
    let no_module = Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args([
            "sign",
            "--key",
            &uri("tcos-ds"),
            pre_file.to_str().expect("path"),
        ])
        .env_remove("GBCS_PKCS11_MODULE")
        .output()
        .expect("run gbcs");
    assert_eq!(no_module.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&no_module.stderr).contains("no PKCS#11 module"));
}
