//! The project's own test vectors (`test-vectors/`) regenerate byte for byte, and each one
//! decodes and verifies with the test PKI's keys.

use gbcs::crypto::KeyAgreement;
use gbcs::frame::{CraFlag, SignatureTail};
use gbcs::payload::Payload;
use gbcs::sim::pki::{ids, TestPki};

#[test]
fn regeneration_reproduces_the_committed_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let vectors = gbcs::sim::vectors::generate().expect("generate");
    assert_eq!(vectors.len(), 11);
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
        if name.ends_with("-response.hex") && !name.starts_with("cs02a") && !name.contains("future")
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
