//! The `gbcs` binary, continued from `cli.rs`: notices as CSV, `--help` with an example for
//! every subcommand, hex, base64, binary and stdin read alike, keys in an HSM from the command
//! line, `decode --json` in its recorded shape for every CS02 file, and `build --duis` choosing
//! the service from the request.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/softhsm.rs"]
mod softhsm;

use common::*;
use std::process::Command;

#[test]
fn report_notices_prints_csv_with_a_header_row_for_each_supplier() {
    let ledger = tmp("notices-ledger.json");
    ok(&gbcs(&[
        "migrate",
        "--simulate",
        "400",
        "--seed",
        "8",
        "--ledger",
        ledger.to_str().expect("path"),
    ]));
    let path = ledger.to_str().expect("path");
    let mut rows = 0;
    for supplier in ["SUPA01", "SUPB02", "SUPC03"] {
        let out = ok(&gbcs(&[
            "report",
            "notices",
            "--ledger",
            path,
            "--supplier",
            supplier,
        ]));
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some("device,supplier,kind,category,gbcs_status,reason,last_outcome,since")
        );
        for line in lines {
            rows += 1;
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 8, "{line}");
            assert_eq!(fields[1], supplier);
            assert!(
                [
                    "non-migratable",
                    "ineligible",
                    "faulted",
                    "needs-investigation"
                ]
                .contains(&fields[2]),
                "{line}"
            );
            // The category agrees with the kind; a GBCS status only beside a device refusal
            // or a fault DCC resolves.
            let category = gbcs::cos::ledger::NoticeCategory::from_name(fields[3]);
            assert!(category.is_some(), "{line}");
            assert_eq!(
                fields[2] == "non-migratable" || fields[2] == "ineligible",
                category == Some(gbcs::cos::ledger::NoticeCategory::Excluded),
                "{line}"
            );
            if !fields[4].is_empty() {
                assert!(fields[4].parse::<u8>().is_ok(), "{line}");
                assert!(
                    matches!(fields[3], "device refused" | "DCC to resolve"),
                    "{line}"
                );
            }
        }
    }
    assert!(
        rows > 0,
        "a default mix has devices to tell suppliers about"
    );
    // A supplier with no devices: the header alone.
    let none = ok(&gbcs(&[
        "report",
        "notices",
        "--ledger",
        path,
        "--supplier",
        "NONE99",
    ]));
    assert_eq!(
        none,
        "device,supplier,kind,category,gbcs_status,reason,last_outcome,since\n"
    );
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
        vec!["build", "--help"],
        vec!["classify", "--help"],
        vec!["migrate", "--help"],
        vec!["report", "ecosmig-005", "--help"],
        vec!["report", "ecosmig-007", "--help"],
        vec!["report", "notices", "--help"],
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
        "--dcc",
        "rtds",
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

#[test]
fn decode_json_is_the_recorded_shape_for_every_cs02_file() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let (mut matched, mut unrecorded) = (0, Vec::new());
    for f in shared::cs02_files(&dir) {
        let json = ok(&gbcs(&["decode", "--json", &rtds_path(&dir, &f)]));
        let got = canonical_json_sha256(&json);
        match JSON_SHA256.iter().find(|(name, _)| *name == f.name) {
            Some((_, want)) => {
                assert_eq!(&got, want, "{}: decode --json changed", f.name);
                matched += 1;
            }
            None => unrecorded.push(f.name),
        }
    }
    if !unrecorded.is_empty() {
        eprintln!(
            "note: no recorded JSON for {} new files: {unrecorded:?}",
            unrecorded.len()
        );
    }
    assert!(matched >= 60, "only {matched} recorded files found");
}

#[test]
fn build_duis_chooses_the_service_from_the_request_and_signs_and_macs_as_asked() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = dir.join("rtds/keystore");
    let key = |n: &str| ks.join(n).display().to_string();
    let mut built = 0;
    for (name, path) in shared::duis_templates(&dir, &["_6.15.1_"]) {
        let signer = if name.contains("NOByNO") {
            "90b3d51f30020000-ds.key"
        } else {
            "90b3d51f30010000-ds.key"
        };
        let hex = ok(&gbcs(&[
            "build",
            "--dcc",
            "rtds",
            "--duis",
            path.to_str().expect("path"),
            "--counter",
            "7000",
            "--key",
            &key(signer),
            "--acb-key",
            &key("90b3d51f30000002-ka.key"),
            "--device-ka",
            &key("00db1234567890a0-ka.pem"),
        ]));
        let out_path = tmp(&format!("{name}.hex"));
        std::fs::write(&out_path, &hex).expect("write");
        let verified = ok(&gbcs(&[
            "verify",
            "--dcc",
            "rtds",
            "--keystore",
            ks.to_str().expect("path"),
            out_path.to_str().expect("path"),
        ]));
        assert!(
            verified.contains("signature: PASS")
                && verified.contains("MAC: PASS")
                && verified.contains("mode rule: PASS"),
            "{name}: {verified}"
        );
        // The same pre-command as hex, base64 and raw bytes (signatures by a key file are
        // randomised on the default backend, so the formats are compared unsigned).
        let args = |format: &'static str| {
            vec![
                "build".to_owned(),
                "--dcc".to_owned(),
                "rtds".to_owned(),
                "--duis".to_owned(),
                path.display().to_string(),
                "--counter".to_owned(),
                "7000".to_owned(),
                "--format".to_owned(),
                format.to_owned(),
            ]
        };
        let run = |format: &'static str| {
            let a = args(format);
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            gbcs(&refs)
        };
        let hex = ok(&run("hex"));
        let bytes = gbcs::hex::decode(hex.trim()).expect("hex");
        let b64 = ok(&run("base64"));
        assert_eq!(
            gbcs::duis::decode_base64(b64.trim()),
            Some(bytes.clone()),
            "{name}"
        );
        assert_eq!(run("binary").stdout, bytes, "{name}");
        built += 1;
    }
    assert!(built >= 7, "{built} 6.15.1 templates built");
    // Without keys: the pre-command, which verify calls unauthenticated.
    let t = dir.join("duis/CS02bNOByNO_6.15.1_SUCCESS_REQUEST_DUIS.XML");
    let pre = ok(&gbcs(&[
        "build",
        "--dcc",
        "rtds",
        "--duis",
        t.to_str().expect("path"),
        "--counter",
        "5",
    ]));
    let pre = gbcs::hex::decode(pre.trim()).expect("hex");
    let m = gbcs::parse(&pre).expect("pre-command");
    assert_eq!(m.header().originator_counter, 5);
    // A service gbcs does not build, and a missing counter: usage errors.
    let other = dir.join("duis/CS02c_6.17_SUCCESS_REQUEST_DUIS.XML");
    let out = gbcs(&[
        "build",
        "--dcc",
        "rtds",
        "--duis",
        other.to_str().expect("path"),
        "--counter",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SRV 6.17"));
    let out = gbcs(&[
        "build",
        "--dcc",
        "rtds",
        "--duis",
        t.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // 6.24.1: DCC's ACB reads the device, MAC'd; byte-identical to DCC's read.
    let t = dir.join("duis/CS02aMAC_6.24.1_SUCCESS_REQUEST_DUIS.XML");
    let read = ok(&gbcs(&[
        "build",
        "--dcc",
        "rtds",
        "--duis",
        t.to_str().expect("path"),
        "--counter",
        "1302",
        "--acb-key",
        &key("90b3d51f30000002-ka.key"),
        "--device-ka",
        &key("00db1234567890a0-ka.pem"),
    ]));
    let dcc = shared::cs02_file(&dir, "CS02aMAC_6.24.1_SUCCESS_COMMAND");
    assert_eq!(read.trim(), gbcs::hex::encode_upper(&dcc.bytes));
    // --read-as overrides the message code: the same read as a CS02f, then back.
    let read_as = |code: &str| {
        gbcs(&[
            "build",
            "--dcc",
            "rtds",
            "--duis",
            t.to_str().expect("path"),
            "--counter",
            "1302",
            "--read-as",
            code,
        ])
    };
    let as_f = gbcs::hex::decode(ok(&read_as("cs02f")).trim()).expect("hex");
    let m = gbcs::parse(&as_f).expect("CS02f pre-command");
    assert_eq!(m.header().message_code(), gbcs::frame::MessageCode::CS02F);
    let as_a = gbcs::hex::decode(ok(&read_as("cs02a")).trim()).expect("hex");
    let m = gbcs::parse(&as_a).expect("CS02a pre-command");
    assert_eq!(m.header().message_code(), gbcs::frame::MessageCode::CS02A);
    assert_eq!(read_as("cs02x").status.code(), Some(2));
    // A request that breaks the schema: exit 3, the element and its line named.
    let bad = tmp("bad-6.24.1.xml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&t)
            .expect("template")
            .replacen(">Supplier<", ">Toaster<", 1),
    )
    .expect("write");
    let out = gbcs(&[
        "build",
        "--dcc",
        "rtds",
        "--duis",
        bad.to_str().expect("path"),
        "--counter",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line ") && err.contains("RemotePartyRole"),
        "{err}"
    );
    // 6.23 through the same door, as the srv-6.23 subcommand builds it.
    let t623 = dir.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let a = ok(&gbcs(&[
        "build",
        "--dcc",
        "rtds",
        "--duis",
        t623.to_str().expect("path"),
        "--counter",
        "6001",
    ]));
    let b = ok(&gbcs(&[
        "build",
        "srv-6.23",
        "--dcc",
        "rtds",
        "--duis",
        t623.to_str().expect("path"),
        "--counter",
        "6001",
    ]));
    assert_eq!(a, b);
}
