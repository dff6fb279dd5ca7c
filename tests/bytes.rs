//! The `bytes` feature: owned messages that keep their parsed views, and builders that write
//! into any `BufMut`.

#[path = "support/shared.rs"]
mod shared;

use bytes::{Bytes, BytesMut};
use gbcs::message::{self, CommandHeader, OwnedMessage};
use gbcs::ErrorKind;

#[test]
fn owned_messages_give_the_views_parse_gives_for_every_rtds_cs02_file() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    assert!(files.len() >= 60, "only {} files", files.len());
    let owned: Vec<OwnedMessage> = files
        .iter()
        .map(|f| OwnedMessage::parse_bytes(Bytes::from(f.bytes.clone())).expect("parses"))
        .collect();
    // Across a thread boundary, clones share the bytes and still give the same views.
    let moved = owned.clone();
    let counts = std::thread::spawn(move || {
        moved
            .iter()
            .map(|m| m.message().header().originator_counter)
            .collect::<Vec<_>>()
    })
    .join()
    .expect("thread");
    for ((f, o), counter) in files.iter().zip(&owned).zip(counts) {
        let parsed = gbcs::parse(&f.bytes).expect("parses");
        assert_eq!(o.message(), &parsed, "{}", f.name);
        assert_eq!(o.bytes().as_ref(), f.bytes.as_slice());
        assert_eq!(counter, parsed.header().originator_counter);
    }
}

#[test]
fn owned_parsing_refuses_what_parse_refuses() {
    for bad in [&b""[..], &[0xDF], &[0xDD, 0x00, 0x00]] {
        let want = gbcs::parse(bad).expect_err("malformed");
        let got = OwnedMessage::parse_bytes(Bytes::copy_from_slice(bad)).expect_err("malformed");
        assert_eq!(got, want);
    }
}

/// A signer that gives back a recorded signature, after checking it is asked to sign the
/// bytes that signature was made over.
struct Recorded {
    signature: gbcs::crypto::Signature,
    signed: Vec<u8>,
}

impl gbcs::crypto::SignatureSigner for Recorded {
    fn sign(&self, message: &[u8]) -> Result<gbcs::crypto::Signature, gbcs::crypto::CryptoError> {
        assert_eq!(message, self.signed.as_slice(), "asked to sign other bytes");
        Ok(self.signature)
    }
}

#[test]
fn builders_write_into_any_buf_mut_and_refuse_a_full_one() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let f = shared::cs02_file(
        &dir,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
    );
    let m = gbcs::parse(&f.bytes).expect("parses");
    let precommand = m.frame().general_signing().precommand_bytes();
    let h = m.header();
    let header = CommandHeader::of(h);
    let mut out = BytesMut::new();
    message::put_precommand(&header, m.payload(), &mut out).expect("writes");
    assert_eq!(out.as_ref(), precommand);
    // The whole command, signed and MAC'd, written into a Vec: byte for byte DCC's. DCC's
    // signature is not reproducible (its nonce is DCC's), so the signer hands back the one the
    // file carries after checking it is asked to sign exactly the bytes DCC signed; the MAC is
    // computed with the keystore's ACB and device keys.
    let gbcs::frame::SignatureTail::Signature(dcc_signature) = m.tail() else {
        panic!("the 6.23 command is signed")
    };
    let signer = Recorded {
        signature: gbcs::crypto::Signature(*dcc_signature),
        signed: precommand[1..].to_vec(),
    };
    let ks = shared::keystore(&dir);
    let z = {
        use gbcs::crypto::keystore::KeyRole;
        use gbcs::crypto::KeyAgreement as _;
        ks.key_agreement_key(
            gbcs::frame::EntityId::from_u64(shared::ACB),
            KeyRole::KeyAgreement,
        )
        .expect("ACB KA")
        .agree(
            &ks.public_key(h.recipient, KeyRole::KeyAgreement)
                .expect("device KA"),
        )
        .expect("Z")
    };
    let mut vec = Vec::new();
    message::put_command(&header, m.payload(), Some(&signer), Some(&z), &mut vec).expect("writes");
    assert_eq!(
        gbcs::hex::encode_upper(&vec),
        gbcs::hex::encode_upper(&f.bytes),
        "put_command gives DCC's command"
    );
    let mut small = [0u8; 100];
    let e = message::put_precommand(&header, m.payload(), &mut &mut small[..]).expect_err("full");
    assert!(
        matches!(e, gbcs::GbcsError::Codec(c) if c.kind() == ErrorKind::BufferTooSmall),
        "{e:?}"
    );
}
