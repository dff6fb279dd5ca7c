//! The GBCS cryptographic test vector (GBCS 18.4, `gbcs-cs02.md` E) as known answers, and
//! GMAC checked against AES-GCM with an empty plaintext.

use gbcs::crypto::kdf::other_info;
use gbcs::crypto::{
    compute_mac, gmac, KeyAgreement, KeyAgreementKey, MacKey, PublicKey, SharedSecret, Signature,
    SignatureSigner, SignatureVerifier, SigningKey,
};
use gbcs::frame::{EntityId, MessageCode, SignatureTail};
use gbcs::hex;
use gbcs::vectors as v;
use sha2::Digest as _;

fn h<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).expect("hex");
    out
}

fn message() -> Vec<u8> {
    hex::decode(v::MESSAGE).expect("hex")
}

#[test]
fn test_vector_frames_decode() {
    let bytes = message();
    let m = gbcs::parse(&bytes).expect("parse");
    let hdr = m.header();
    assert_eq!(hdr.originator, EntityId::from_u64(v::SUPPLIER_A));
    assert_eq!(hdr.recipient, EntityId::from_u64(v::DEVICE_A));
    assert_eq!(hdr.originator_counter, 1);
    assert_eq!(hdr.message_code(), MessageCode(0x00B3));
    assert_eq!(m.frame().payload().len(), 0x35);
    assert!(!m.payload().is_typed());
    assert_eq!(m.frame().mac(), Some(&h::<12>("5D832D15B57A56D620F198B3")));
    assert!(matches!(m.tail(), SignatureTail::Signature(_)));
}

#[test]
fn test_vector_signature_verifies_and_digest_matches() {
    let bytes = message();
    let m = gbcs::parse(&bytes).expect("parse");
    let signed = m.frame().general_signing().signed_bytes();
    assert_eq!(signed.len(), 86);
    assert_eq!(
        sha2::Sha256::digest(signed).as_slice(),
        h::<32>(v::SIGNED_DIGEST)
    );
    let key = PublicKey::from_sec1_bytes(&h::<65>(v::SUPPLIER_A_DS_PUBLIC)).expect("public key");
    m.verify_signature(&key).expect("signature");
    let private = SigningKey::from_scalar(&h(v::SUPPLIER_A_DS_PRIVATE)).expect("private key");
    assert_eq!(private.public_key(), key);
    // Our own (RFC 6979) signature over the same bytes verifies too, and is deterministic,
    // and it is what a RustCrypto key's `sign` gives.
    let ours = private.sign_deterministic(signed).expect("sign");
    assert_eq!(ours, private.sign_deterministic(signed).expect("sign"));
    key.verify(signed, &ours).expect("our signature");
    let rustcrypto = private
        .clone()
        .with_backend(gbcs::crypto::Backend::RustCrypto)
        .expect("backend");
    assert_eq!(rustcrypto.sign(signed).expect("sign"), ours);
    // The default backend's signature verifies with either backend's key.
    let default = private.sign(signed).expect("sign");
    for &b in gbcs::crypto::Backend::ALL {
        key.clone()
            .with_backend(b)
            .expect("backend")
            .verify(signed, &default)
            .expect("default-backend signature");
    }
    // A signature with randomness also verifies, and differs.
    let mut rng = rand_core::OsRng;
    let randomized = private.sign_with_rng(&mut rng, signed).expect("sign");
    key.verify(signed, &randomized)
        .expect("randomized signature");
    assert_ne!(randomized, ours);
    // Including the DF tag breaks it.
    let SignatureTail::Signature(sig) = m.tail() else {
        unreachable!()
    };
    let with_tag = m.frame().general_signing().precommand_bytes();
    assert!(key.verify(with_tag, &Signature(*sig)).is_err());
}

#[test]
fn test_vector_z_key_and_mac_reproduce() {
    let bytes = message();
    let m = gbcs::parse(&bytes).expect("parse");
    let acb = KeyAgreementKey::from_scalar(&h(v::ACB_KA_PRIVATE)).expect("ACB KA");
    let device = PublicKey::from_sec1_bytes(&h::<65>(v::DEVICE_A_KA_PUBLIC)).expect("device KA");
    let z = acb.agree(&device).expect("ECDH");
    assert_eq!(z.as_bytes(), &h::<32>(v::Z));
    assert_eq!(other_info(m.header()), h::<33>(v::OTHER_INFO));
    let key = MacKey::derive(&z, m.header());
    assert_eq!(key.as_bytes(), &h::<16>(v::MAC_KEY));
    let mac = compute_mac(&key, m.header(), 0, m.frame().general_signing().as_bytes());
    assert_eq!(mac, h::<12>(&v::GCM_TAG[..24]));
    m.verify_mac(&z).expect("MAC");
    assert!(m.verify_mac(&SharedSecret::from_bytes([0; 32])).is_err());
}

#[test]
fn gbz_command_and_response_macs_reproduce() {
    // The two further messages between the same parties (`gbcs-cs02.md` E).
    let cases = [
        (
            "DD000000000000541100000000DF0901000000000000000208123456789ABCDEF008FFFFFFFFFFFFFFFE0002002220D920000002000102000100005E2C03020201090C07DF0105FF000000008000FF000F1DD00D6745EBD8E0A663A4",
            "F3332152AB0EF4CC34E08323B5689C41",
        ),
        (
            "DD000000000000401100000000DF0902000000000000000208FFFFFFFFFFFFFFFE08123456789ABCDEF0000200220CDA2000000200000100010200000B3C1B312CEAE9C130060E29",
            "4D32AC55F1BB5B7BBD813B111871B078",
        ),
    ];
    let z_command = KeyAgreementKey::from_scalar(&h(v::ACB_KA_PRIVATE))
        .expect("ACB KA")
        .agree(&PublicKey::from_sec1_bytes(&h::<65>(v::DEVICE_A_KA_PUBLIC)).expect("device KA"))
        .expect("ECDH");
    let z_response = SharedSecret::from_bytes(h(
        "1545ADF275DC8E57ABE471E9F0C120C2FADD5B1251AFB7BDAB253C801B4111CE",
    ));
    for ((msg, k), z) in cases.iter().zip([&z_command, &z_response]) {
        let bytes = hex::decode(msg).expect("hex");
        let m = gbcs::parse(&bytes).expect("parse");
        assert_eq!(MacKey::derive(z, m.header()).as_bytes(), &h::<16>(k));
        m.verify_mac(z).expect("MAC");
    }
}

#[test]
fn gmac_equals_aes_gcm_tag_over_empty_plaintext() {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    let key = [0x42u8; 16];
    let iv = [7u8; 12];
    let cipher = aes_gcm::Aes128Gcm::new(&key.into());
    // Lengths around block boundaries, and AAD split into pieces at every offset.
    let data: Vec<u8> = (0..100u8).collect();
    for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 64, 100] {
        let aad = &data[..len];
        let want = cipher
            .encrypt_in_place_detached(&iv.into(), aad, &mut [])
            .expect("gcm");
        for split in 0..=len {
            let (a, b) = aad.split_at(split);
            let got = gmac(&MacKey::from_bytes(key), &iv, &[a, b]);
            assert_eq!(got.as_slice(), want.as_slice(), "len {len} split {split}");
        }
        let three = gmac(
            &MacKey::from_bytes(key),
            &iv,
            &[&aad[..len / 3], &aad[len / 3..len / 2], &aad[len / 2..]],
        );
        assert_eq!(three.as_slice(), want.as_slice());
    }
}

#[test]
fn nist_gcm_test_case_1_is_gmac_of_nothing() {
    // NIST GCM test case 1: K = 0, IV = 0, no AAD, no plaintext: tag 58E2FCCEFA7E3061367F1D57A4E7455A.
    let tag = gmac(&MacKey::from_bytes([0; 16]), &[0; 12], &[]);
    assert_eq!(tag, h::<16>("58E2FCCEFA7E3061367F1D57A4E7455A"));
}

#[test]
fn secrets_are_not_printed_by_debug() {
    let k = KeyAgreementKey::from_scalar(&h(v::ACB_KA_PRIVATE)).expect("key");
    let s = SigningKey::from_scalar(&h(v::SUPPLIER_A_DS_PRIVATE)).expect("key");
    for text in [
        format!("{k:?}"),
        format!("{s:?}"),
        format!("{:?}", MacKey::from_bytes(h(v::MAC_KEY))),
        format!("{:?}", SharedSecret::from_bytes(h(v::Z))),
    ] {
        for secret in [
            v::ACB_KA_PRIVATE,
            v::SUPPLIER_A_DS_PRIVATE,
            v::MAC_KEY,
            v::Z,
        ] {
            assert!(!text.to_uppercase().contains(secret), "{text}");
        }
    }
}

#[test]
fn keys_load_from_pem_and_der() {
    // PKCS#8 PEM of the GBCS 18.4 ACB KA key (identical to RTDS keystore/abababababababab-ka.key).
    let pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5KbPtDFHHPyuSR/V\nZtGchwgs+fp3Itf6JLKz9WadvvuhRANCAAQpL5f+wbMMOEm4BtkERuSgN9bReAGX\nluduUlW9w6CONG+fbm5+j2pNVZYtLy0OFs/ye/P5Jfp9uv0VqLHcaViU\n-----END PRIVATE KEY-----\n";
    let from_pem = KeyAgreementKey::from_pem(pem).expect("PKCS#8 PEM");
    let from_scalar = KeyAgreementKey::from_scalar(&h(v::ACB_KA_PRIVATE)).expect("scalar");
    assert_eq!(from_pem.public_key(), from_scalar.public_key());
    let der = hex::decode("308187020100301306072A8648CE3D020106082A8648CE3D030107046D306B0201010420E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFBA14403420004292F97FEC1B30C3849B806D90446E4A037D6D178019796E76E5255BDC3A08E346F9F6E6E7E8F6A4D55962D2F2D0E16CFF27BF3F925FA7DBAFD15A8B1DC695894").expect("hex");
    assert_eq!(
        KeyAgreementKey::from_der(&der)
            .expect("PKCS#8 DER")
            .public_key(),
        from_scalar.public_key()
    );
    let sec1 = hex::decode("30770201010420E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFBA00A06082A8648CE3D030107A14403420004292F97FEC1B30C3849B806D90446E4A037D6D178019796E76E5255BDC3A08E346F9F6E6E7E8F6A4D55962D2F2D0E16CFF27BF3F925FA7DBAFD15A8B1DC695894").expect("hex");
    assert_eq!(
        KeyAgreementKey::from_der(&sec1)
            .expect("SEC1 DER")
            .public_key(),
        from_scalar.public_key()
    );
    assert!(KeyAgreementKey::from_pem(
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"
    )
    .is_err());
    assert!(PublicKey::from_sec1_bytes(&[4; 65]).is_err());
    assert!(SigningKey::from_scalar(&[0; 32]).is_err());
}
