//! The project's own test vectors (`test-vectors/`) regenerate byte for byte, and each one
//! decodes and verifies with the test PKI's keys — also with nothing but the published
//! test PKI (`test-vectors/test-pki.pem`), as another implementation would; the refusals
//! are refused.

use gbcs::crypto::KeyAgreement;
use gbcs::frame::{CraFlag, EntityId, SignatureTail};
use gbcs::payload::Payload;
use gbcs::sim::pki::{ids, TestPki};

#[test]
fn regeneration_reproduces_the_committed_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let vectors = gbcs::sim::vectors::generate().expect("generate");
    assert_eq!(vectors.len(), 20);
    for (name, bytes) in &vectors {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            gbcs::hex::decode(&text).expect("hex"),
            *bytes,
            "{name} differs from its regeneration"
        );
    }
}

#[test]
fn every_vector_decodes_and_verifies() {
    let pki = TestPki::generate(gbcs::sim::vectors::SEED).expect("pki");
    let device = pki.device(ids::device(1)).expect("device");
    let z = pki
        .acb
        .ka
        .key
        .agree(&device.ka.key.public_key())
        .expect("z");
    for (name, bytes) in gbcs::sim::vectors::generate().expect("generate") {
        let m = gbcs::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.payload().is_typed(), "{name}");
        if m.frame().mac().is_some() {
            m.verify_mac(&z).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        if let SignatureTail::Signature(_) = m.tail() {
            let h = m.header();
            let key = if h.cra_flag == CraFlag::COMMAND {
                pki.parties()
                    .into_iter()
                    .find(|p| p.entity_id == h.originator)
                    .expect("signer")
                    .ds
                    .key
                    .public_key()
            } else {
                device.ds.key.public_key()
            };
            m.verify_signature(&key)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        if name.ends_with("-response.hex")
            && !name.starts_with("cs02a")
            && !name.contains("future")
            && !name.contains("wrong-role")
        {
            let Payload::UpdateSecurityCredentialsResponse(r) = m.payload() else {
                panic!("{name}")
            };
            assert!(
                r.execution_outcome
                    .expect("outcome")
                    .replacement_outcomes
                    .iter()
                    .all(|o| o.status.is_success()),
                "{name}"
            );
        }
    }
}

/// The published bundle `test-vectors/test-pki.pem` split into its files (the `# name` line
/// before each PEM block names it), written into a fresh folder laid out like the RTDS
/// keystore: what another implementation would do with it.
fn published_keystore() -> (std::path::PathBuf, Vec<(String, String)>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let bundle = std::fs::read_to_string(root.join("test-pki.pem")).expect("test-pki.pem");
    let mut files: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in bundle.lines() {
        if let Some(name) = line
            .strip_prefix("# ")
            .filter(|n| n.ends_with(".pem") || n.ends_with(".key"))
        {
            files.push((name.to_owned(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            inside |= line.starts_with("-----BEGIN");
            if inside {
                text.push_str(line);
                text.push('\n');
            }
            inside &= !line.starts_with("-----END");
        }
    }
    let dir = std::env::temp_dir().join(format!("gbcs-test-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    (dir, files)
}

#[test]
fn the_published_test_pki_is_the_generators() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let bundle = std::fs::read_to_string(root.join("test-pki.pem")).expect("test-pki.pem");
    assert_eq!(
        bundle,
        gbcs::sim::vectors::test_pki_bundle().expect("bundle"),
        "test-pki.pem differs from its regeneration"
    );
    let (dir, files) = published_keystore();
    // Every file of the generator, split back out byte for byte.
    assert_eq!(files, gbcs::sim::vectors::keystore().expect("keystore"));
    assert!(files.len() >= 40);
    for (name, text) in &files {
        if name.ends_with(".key") {
            // Each private key is the one its certificate certifies.
            let cert = gbcs::crypto::PublicKey::from_pem(
                &std::fs::read_to_string(dir.join(name.replace(".key", ".pem"))).expect("pem"),
            )
            .expect("certificate");
            let public = if name.contains("-ds") {
                gbcs::crypto::SigningKey::from_pem(text)
                    .expect("key")
                    .public_key()
            } else {
                gbcs::crypto::KeyAgreementKey::from_pem(text)
                    .expect("key")
                    .public_key()
            };
            assert_eq!(public, cert, "{name}");
        }
    }
}

#[test]
fn every_vector_verifies_with_the_published_test_pki_alone() {
    use gbcs::crypto::keystore::{KeyRole, Keystore};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let (dir, _) = published_keystore();
    let ks = Keystore::open(&dir).expect("keystore");
    let acb = EntityId::from_u64(0x7E57_0000_0000_0002);
    let mut signatures = 0;
    let mut macs = 0;
    for (name, _) in gbcs::sim::vectors::generate().expect("generate") {
        let text = std::fs::read_to_string(root.join(name)).expect("vector");
        let bytes = gbcs::hex::decode(&text).expect("hex");
        let m = gbcs::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let h = m.header();
        if let SignatureTail::Signature(_) = m.tail() {
            let key = ks
                .public_key(h.originator, KeyRole::DigitalSignature)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            m.verify_signature(&key)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            signatures += 1;
        }
        if m.frame().mac().is_some() {
            let device = if h.cra_flag == CraFlag::COMMAND {
                h.recipient
            } else {
                h.originator
            };
            let z = ks
                .key_agreement_key(acb, KeyRole::KeyAgreement)
                .expect("ACB KA key")
                .agree(
                    &ks.public_key(device, KeyRole::KeyAgreement)
                        .expect("device KA"),
                )
                .expect("z");
            m.verify_mac(&z).unwrap_or_else(|e| panic!("{name}: {e}"));
            macs += 1;
        }
    }
    assert!(
        signatures >= 15 && macs >= 10,
        "{signatures} signatures, {macs} MACs"
    );
}

#[test]
fn the_refusal_vectors_are_refused() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let read = |name: &str| {
        gbcs::hex::decode(&std::fs::read_to_string(root.join(name)).expect("vector")).expect("hex")
    };
    // The forged mode-4 command breaks its row of the mode table.
    let forged = read("0104-names-tcos-cell-refused-command.hex");
    let m = gbcs::parse(&forged).expect("parses: the refusal is the meter's, not the codec's");
    let Payload::UpdateSecurityCredentialsCommand(c) = m.payload() else {
        panic!("a CS02b command")
    };
    assert!(matches!(
        gbcs::payload::modes::check(m.header().message_code(), c, m.header().originator_counter),
        Err(gbcs::payload::modes::ModeViolation::AuthorisingCell { expected: None, .. })
    ));
    // The wrong-role 0x0106: answered, with badCertificate for the role-5 cell.
    let rsp = read("0106-wrong-role-certificate-response.hex");
    let m = gbcs::parse(&rsp).expect("response");
    let Payload::UpdateSecurityCredentialsResponse(r) = m.payload() else {
        panic!("a response")
    };
    let o = r.execution_outcome.expect("outcome");
    let statuses: Vec<_> = o.replacement_outcomes.iter().map(|o| o.status).collect();
    assert_eq!(statuses, [gbcs::payload::StatusCode::BAD_CERTIFICATE]);
}
