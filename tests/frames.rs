//! The frame layer, smoltcp-style: for the grouping header, the MAC header and the signature
//! tail, deconstruct a fixed byte array through the view, construct one by emitting, parse to
//! the typed value, emit from it; and negative tests asserting the error kind and offset.

use gbcs::codec::Writer;
use gbcs::frame::{
    CraFlag, DlmsDateTime, EntityId, Frame, GeneralSigning, GroupingHeader, GroupingHeaderView,
    MacHeader, MacHeaderView, MessageCode, OtherInformation, SecurityControl, SignatureTail,
};
use gbcs::ErrorKind;

/// The grouping header of the RTDS 6.23 command (`gbcs-cs02.md` D, offsets 15–50).
static COMMAND_HEADER: [u8; 36] = [
    0xDF, 0x09, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x71, 0x08, 0x90, 0xB3, 0xD5, 0x1F,
    0x30, 0x00, 0x00, 0x04, 0x08, 0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA0, 0x00, 0x02, 0x01,
    0x07, 0x82, 0x06, 0xDD,
];

/// The grouping header of the RTDS transCoSByTransCoS response (date-time present).
static RESPONSE_HEADER: [u8; 46] = [
    0xDF, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x70, 0x08, 0x00, 0xDB, 0x12, 0x34,
    0x56, 0x78, 0x90, 0xA0, 0x08, 0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x00, 0x00, 0x04, 0x0C, 0x07, 0xDF,
    0x01, 0x01, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0xFF, 0x02, 0x01, 0x06, 0x47,
];

const TCOS: EntityId = EntityId::from_u64(0x90B3_D51F_3000_0004);
const METER: EntityId = EntityId::from_u64(0x00DB_1234_5678_90A0);

fn command_repr() -> GroupingHeader<'static> {
    GroupingHeader {
        cra_flag: CraFlag::COMMAND,
        originator_counter: 6001,
        originator: TCOS,
        recipient: METER,
        date_time: None,
        other_information: OtherInformation::code(MessageCode::CS02B_SUPPLIER_BY_TRANS_COS),
        content_len: 1757,
    }
}

fn response_repr() -> GroupingHeader<'static> {
    GroupingHeader {
        cra_flag: CraFlag::RESPONSE,
        originator_counter: 6000,
        originator: METER,
        recipient: TCOS,
        date_time: Some(DlmsDateTime([
            0x07, 0xDF, 0x01, 0x01, 0xFF, 0, 0, 0, 0, 0x80, 0x00, 0xFF,
        ])),
        other_information: OtherInformation::code(MessageCode::CS02B_TRANS_COS_BY_TRANS_COS),
        content_len: 0x47,
    }
}

#[test]
fn grouping_header_deconstruct() {
    let view = GroupingHeaderView::new_checked(&COMMAND_HEADER).expect("view");
    assert_eq!(view.header_len(), 36);
    assert_eq!(view.cra_flag(), CraFlag::COMMAND);
    assert_eq!(view.originator_counter(), 6001);
    assert_eq!(view.originator(), TCOS);
    assert_eq!(view.recipient(), METER);
    assert_eq!(view.date_time(), None);
    assert_eq!(view.message_code(), MessageCode(0x0107));
    assert_eq!(view.content_len(), 1757);

    let view = GroupingHeaderView::new_checked(&RESPONSE_HEADER).expect("view");
    let dt = view.date_time().expect("date-time");
    assert_eq!(
        (dt.year(), dt.month(), dt.day(), dt.hour()),
        (2015, 1, 1, 0)
    );
    assert_eq!(view.content_len(), 0x47);
}

#[test]
fn grouping_header_construct() {
    for (repr, bytes) in [
        (command_repr(), &COMMAND_HEADER[..]),
        (response_repr(), &RESPONSE_HEADER[..]),
    ] {
        let mut buf = vec![0xAA; repr.buffer_len()];
        repr.emit(&mut Writer::new(&mut buf)).expect("emit");
        assert_eq!(buf, bytes);
    }
}

#[test]
fn grouping_header_parse() {
    let view = GroupingHeaderView::new_checked(&COMMAND_HEADER).expect("view");
    assert_eq!(GroupingHeader::parse(&view), command_repr());
    let view = GroupingHeaderView::new_checked(&RESPONSE_HEADER).expect("view");
    assert_eq!(GroupingHeader::parse(&view), response_repr());
}

#[test]
fn grouping_header_emit_round_trips_supplementary_information() {
    let supplementary = [0x11u8; 24];
    let repr = GroupingHeader {
        other_information: OtherInformation {
            message_code: MessageCode(0x0060),
            supplementary: &supplementary,
        },
        content_len: 300,
        ..command_repr()
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Writer::new(&mut buf)).expect("emit");
    let view = GroupingHeaderView::new_checked(&buf).expect("view");
    assert_eq!(view.header_len(), buf.len());
    assert_eq!(GroupingHeader::parse(&view), repr);
    let mut small = vec![0u8; repr.buffer_len() - 1];
    assert_eq!(
        repr.emit(&mut Writer::new(&mut small)).unwrap_err().kind(),
        ErrorKind::BufferTooSmall
    );
}

#[test]
fn accepts_non_minimal_header_lengths() {
    // other-information length 81 02 and content length 82 00 47.
    let mut bytes = RESPONSE_HEADER[..42].to_vec();
    bytes.extend_from_slice(&[0x81, 0x02, 0x01, 0x06, 0x82, 0x00, 0x47]);
    let view = GroupingHeaderView::new_checked(&bytes).expect("view");
    assert_eq!(GroupingHeader::parse(&view), response_repr());
}

fn header_error(bytes: &[u8]) -> (ErrorKind, usize) {
    let e = GroupingHeaderView::new_checked(bytes).expect_err("must fail");
    (e.kind(), e.offset())
}

#[test]
fn rejects_malformed_grouping_headers_with_kind_and_offset() {
    let mut b = COMMAND_HEADER;
    b[0] = 0xDE;
    assert_eq!(
        header_error(&b),
        (
            ErrorKind::UnexpectedValue {
                expected: 0xDF,
                found: 0xDE
            },
            0
        )
    );
    let mut b = COMMAND_HEADER;
    b[1] = 0x0A;
    assert_eq!(
        header_error(&b),
        (
            ErrorKind::UnexpectedValue {
                expected: 9,
                found: 10
            },
            1
        )
    );
    let mut b = COMMAND_HEADER;
    b[11] = 0x07;
    assert_eq!(
        header_error(&b),
        (
            ErrorKind::UnexpectedValue {
                expected: 8,
                found: 7
            },
            11
        )
    );
    let mut b = COMMAND_HEADER;
    b[20] = 0x09;
    assert_eq!(
        header_error(&b),
        (
            ErrorKind::UnexpectedValue {
                expected: 8,
                found: 9
            },
            20
        )
    );
    let mut b = COMMAND_HEADER;
    b[29] = 0x05;
    assert_eq!(header_error(&b), (ErrorKind::InvalidLength, 29));
    let mut b = COMMAND_HEADER;
    b[30] = 0x01;
    assert_eq!(header_error(&b), (ErrorKind::InvalidLength, 30));
    let mut b = COMMAND_HEADER;
    b[33] = 0x80;
    assert_eq!(header_error(&b), (ErrorKind::InvalidLength, 33));
}

#[test]
fn rejects_truncated_grouping_header() {
    for len in 0..COMMAND_HEADER.len() {
        let (kind, offset) = header_error(&COMMAND_HEADER[..len]);
        assert_eq!(kind, ErrorKind::Truncated, "prefix {len}");
        assert!(offset <= len, "prefix {len}: offset {offset}");
    }
}

/// A small MAC'd message: MAC header, a header with a 3-byte payload, no signature, MAC.
fn macd_message() -> Vec<u8> {
    let gh = GroupingHeader {
        content_len: 3,
        ..command_repr()
    };
    let mut apdu = vec![0u8; gh.buffer_len()];
    gh.emit(&mut Writer::new(&mut apdu)).expect("emit");
    apdu.extend_from_slice(&[0x05, 0x01, 0x00, 0x00]);
    let mh = MacHeader::for_apdu(apdu.len());
    let mut out = vec![0u8; mh.buffer_len()];
    mh.emit(&mut Writer::new(&mut out)).expect("emit");
    out.extend_from_slice(&apdu);
    out.extend_from_slice(&[0xEE; 12]);
    out
}

#[test]
fn mac_header_deconstruct() {
    let bytes = macd_message();
    let view = MacHeaderView::new_checked(&bytes).expect("view");
    assert_eq!(view.header_len(), 13);
    assert_eq!(
        view.security_control(),
        SecurityControl::AUTHENTICATION_ONLY
    );
    assert_eq!(view.invocation_counter(), 0);
    assert_eq!(view.ciphered_len(), bytes.len() - 8);
    assert_eq!(view.mac(), [0xEE; 12]);
    assert_eq!(view.authenticated_content().first(), Some(&0xDF));
}

#[test]
fn mac_header_construct_and_emit() {
    // The 6.23 command's MAC header (`gbcs-cs02.md` D offsets 0–14).
    let want = [0xDD, 0, 0, 0, 0, 0, 0, 0x82, 0x07, 0x53, 0x11, 0, 0, 0, 0];
    let repr = MacHeader::for_apdu(1875 - 17);
    assert_eq!(repr.ciphered_len, 1875);
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Writer::new(&mut buf)).expect("emit");
    assert_eq!(buf, want);
}

#[test]
fn mac_header_parse() {
    let bytes = macd_message();
    let view = MacHeaderView::new_checked(&bytes).expect("view");
    let repr = MacHeader::parse(&view);
    assert_eq!(
        repr,
        MacHeader::for_apdu(view.authenticated_content().len())
    );
    assert_eq!(repr.apdu_len(), view.authenticated_content().len());
}

#[test]
fn rejects_malformed_mac_headers_with_kind_and_offset() {
    let good = macd_message();
    for i in 1..7 {
        let mut b = good.clone();
        b[i] = 1;
        let e = MacHeaderView::new_checked(&b).expect_err("must fail");
        assert_eq!(
            (e.kind(), e.offset()),
            (
                ErrorKind::UnexpectedValue {
                    expected: 0,
                    found: 1
                },
                i
            )
        );
    }
    let mut b = good.clone();
    b.push(0);
    let e = MacHeaderView::new_checked(&b).expect_err("trailing");
    assert_eq!(
        (e.kind(), e.offset()),
        (ErrorKind::TrailingData, good.len())
    );
    let e = MacHeaderView::new_checked(&good[..good.len() - 1]).expect_err("short");
    assert_eq!(e.kind(), ErrorKind::Truncated);
    let tiny = [
        0xDD, 0, 0, 0, 0, 0, 0, 0x10, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let e = MacHeaderView::new_checked(&tiny).expect_err("too short for a MAC");
    assert_eq!((e.kind(), e.offset()), (ErrorKind::InvalidLength, 7));
    let mut enc = good.clone();
    enc[8] = 0x31;
    let e = Frame::parse(&enc).expect_err("encrypted");
    assert_eq!(
        (e.kind(), e.offset()),
        (ErrorKind::UnsupportedSecurityControl, 8)
    );
}

#[test]
fn signature_tails_parse_and_emit() {
    let gh = GroupingHeader {
        content_len: 2,
        ..command_repr()
    };
    let mut base = vec![0u8; gh.buffer_len()];
    gh.emit(&mut Writer::new(&mut base)).expect("emit");
    base.extend_from_slice(&[0x05, 0x00]);
    let sig = [0x5A; 64];
    for tail in [
        SignatureTail::Signature(sig),
        SignatureTail::NoSignature,
        SignatureTail::Absent,
    ] {
        let mut bytes = base.clone();
        let mut t = vec![0u8; tail.len()];
        tail.emit(&mut Writer::new(&mut t)).expect("emit");
        bytes.extend_from_slice(&t);
        let gs = GeneralSigning::parse(&bytes).expect("parse");
        assert_eq!(gs.tail(), &tail);
        assert_eq!(gs.payload(), &[0x05, 0x00]);
        assert_eq!(gs.signed_bytes(), &bytes[1..base.len()]);
        assert_eq!(gs.precommand_bytes(), &base[..]);
    }
    let end = base.len();
    let with = |extra: &[u8]| {
        let mut b = base.clone();
        b.extend_from_slice(extra);
        GeneralSigning::parse(&b)
            .map(|_| ())
            .map_err(|e| (e.kind(), e.offset()))
    };
    assert_eq!(
        with(&[0x41]),
        Err((
            ErrorKind::UnexpectedValue {
                expected: 0x40,
                found: 0x41
            },
            end
        ))
    );
    assert_eq!(with(&[0x40, 1, 2, 3]), Err((ErrorKind::Truncated, end + 1)));
    assert_eq!(with(&[0x00, 0x00]), Err((ErrorKind::TrailingData, end + 1)));
    let mut sig_and_more = vec![0x40];
    sig_and_more.extend_from_slice(&[0; 65]);
    assert_eq!(
        with(&sig_and_more),
        Err((ErrorKind::TrailingData, end + 65))
    );
}

#[test]
fn rejects_response_without_signature_length() {
    let gh = GroupingHeader {
        content_len: 2,
        ..response_repr()
    };
    let mut bytes = vec![0u8; gh.buffer_len()];
    gh.emit(&mut Writer::new(&mut bytes)).expect("emit");
    bytes.extend_from_slice(&[0x05, 0x00]);
    let e = GeneralSigning::parse(&bytes).expect_err("a response is never a pre-command");
    assert_eq!(
        (e.kind(), e.offset()),
        (ErrorKind::InvalidSignatureTail, bytes.len())
    );
}

#[test]
fn rejects_maced_message_without_signature_length() {
    let gh = GroupingHeader {
        content_len: 2,
        ..command_repr()
    };
    let mut apdu = vec![0u8; gh.buffer_len()];
    gh.emit(&mut Writer::new(&mut apdu)).expect("emit");
    apdu.extend_from_slice(&[0x05, 0x00]);
    let mh = MacHeader::for_apdu(apdu.len());
    let mut bytes = vec![0u8; mh.buffer_len()];
    mh.emit(&mut Writer::new(&mut bytes)).expect("emit");
    let apdu_end = bytes.len() + apdu.len();
    bytes.extend_from_slice(&apdu);
    bytes.extend_from_slice(&[0; 12]);
    let e = Frame::parse(&bytes).expect_err("missing tail");
    assert_eq!(
        (e.kind(), e.offset()),
        (ErrorKind::InvalidSignatureTail, apdu_end)
    );
}

#[test]
fn unknown_wire_values_are_kept() {
    let mut b = COMMAND_HEADER;
    b[2] = 0x07;
    b[31] = 0x0F;
    b[32] = 0xFF;
    let view = GroupingHeaderView::new_checked(&b).expect("view");
    assert_eq!(view.cra_flag(), CraFlag(7));
    assert_eq!(view.message_code(), MessageCode(0x0FFF));
    let repr = GroupingHeader::parse(&view);
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Writer::new(&mut out)).expect("emit");
    assert_eq!(out, b);
}

#[test]
fn entity_ids_display_and_parse_as_hex() {
    assert_eq!(TCOS.to_string(), "90B3D51F30000004");
    assert_eq!("00db1234567890a0".parse::<EntityId>(), Ok(METER));
    assert!("00db1234567890a".parse::<EntityId>().is_err());
}
