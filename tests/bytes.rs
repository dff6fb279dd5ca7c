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
    let mut vec = Vec::new();
    message::put_command(&header, m.payload(), None, None, &mut vec).expect("writes");
    assert_eq!(
        vec,
        message::build_command(&header, m.payload(), None, None).expect("builds")
    );
    let mut small = [0u8; 100];
    let e = message::put_precommand(&header, m.payload(), &mut &mut small[..]).expect_err("full");
    assert!(
        matches!(e, gbcs::GbcsError::Codec(c) if c.kind() == ErrorKind::BufferTooSmall),
        "{e:?}"
    );
}
