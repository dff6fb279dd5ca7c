//! `--deterministic`: wherever the tool signs (`sign`, `build --duis`, `build srv-6.23`,
//! `migrate`), RFC 6979 makes the same input give the same bytes, so commands compare byte for
//! byte; an HSM key, whose nonces are the token's own, is refused before the token is opened.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
use common::*;

#[test]
fn signing_twice_with_deterministic_gives_the_same_bytes_and_verifies() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let (_, pre) = rtds_6_23_precommand(&dir, "deterministic-precommand.hex");
    let key = dir.join("rtds/keystore/90b3d51f30000004-ds.key");
    let (key, pre) = (key.to_str().expect("path"), pre.to_str().expect("path"));
    let sign = |extra: &[&str]| {
        let mut args = vec!["sign", "--key", key, pre];
        args.extend_from_slice(extra);
        ok(&gbcs(&args))
    };
    let (a, b) = (sign(&["--deterministic"]), sign(&["--deterministic"]));
    assert_eq!(a, b, "RFC 6979: one signature for one input");
    let signed = gbcs::hex::decode(a.trim()).expect("hex");
    let ks = shared::keystore(&dir);
    gbcs::parse(&signed)
        .expect("parse")
        .verify_signature(
            &ks.public_key(
                gbcs::frame::EntityId::from_u64(0x90B3_D51F_3000_0004),
                gbcs::crypto::keystore::KeyRole::DigitalSignature,
            )
            .expect("key"),
        )
        .expect("verifies");
    if cfg!(feature = "aws-lc") {
        // AWS-LC's own nonces otherwise: two signatures of one input differ.
        assert_ne!(sign(&[]), sign(&[]));
    }
}

#[test]
fn building_from_every_certificate_template_twice_gives_the_same_command() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let keys = dir.join("rtds/keystore");
    let templates = shared::duis_templates(&dir, &shared::DUIS_SERVICES);
    let mut built = 0;
    for (name, path) in &templates {
        let path = path.to_str().expect("path");
        let build_with = |extra: &'static str| {
            gbcs(&[
                "build",
                "--duis",
                path,
                "--dcc",
                "rtds",
                "--counter",
                "7000",
                "--now",
                "2026-12-07T09:30:00Z",
                "--key",
                keys.join("90b3d51f30000004-ds.key").to_str().expect("key"),
                extra,
            ])
        };
        let build = || build_with("--deterministic");
        let (a, b) = (build(), build());
        // CS02a reads (6.24.1) are MAC'd, not signed: nothing random in them.
        if a.status.success() && !name.contains("_6.24.1_") && cfg!(feature = "aws-lc") {
            // Without it, AWS-LC's nonces: the signatures differ.
            let (c, d) = (build_with("--format=hex"), build_with("--format=hex"));
            assert_ne!(c.stdout, d.stdout, "{name}: signed with random nonces");
        }
        assert_eq!(a.status.code(), b.status.code(), "{name}");
        assert_eq!(a.stdout, b.stdout, "{name}: the same command both times");
        assert_eq!(a.stderr, b.stderr, "{name}: the same refusal both times");
        built += usize::from(a.status.success());
    }
    assert!(built > 0, "some template built: {templates:?}");
}

#[test]
fn an_hsm_key_with_deterministic_is_refused_before_the_token_is_opened() {
    let input = tmp("deterministic-hsm.hex");
    std::fs::write(&input, "00").expect("write");
    let o = gbcs(&[
        "sign",
        "--key",
        "pkcs11:token=absent;object=tcos-ds",
        "--deterministic",
        input.to_str().expect("path"),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("RFC 6979"), "{err}");
}

#[test]
fn a_deterministic_simulated_migration_completes() {
    let out = ok(&gbcs(&[
        "migrate",
        "--simulate",
        "30",
        "--seed",
        "2",
        "--deterministic",
    ]));
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("complete: 30 devices"),
        "{out}"
    );
}
