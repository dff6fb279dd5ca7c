//! The payload layer: known answers both ways (bytes → typed value and typed value → bytes)
//! for each CS02a and CS02b type, fed with the annotated messages of `gbcs-cs02.md` D; the
//! device length form `82 00 xx`; and negative tests asserting the error kind and offset.

use gbcs::frame::{CraFlag, EntityId, MessageCode};
use gbcs::hex;
use gbcs::message::{self, CommandHeader};
use gbcs::payload::{
    AlertCode, AuthorisingRemotePartyControl, CellUsage, CertificateDer, CredentialDetailsCommand,
    CredentialDetailsResponse, CredentialsReplacementMode, Decode, Encode, ExecutionOutcome,
    GeneralizedTime, KeyId, KeyUsage, Payload, RemotePartyDetails, RemotePartyRole,
    RemotePartySeqNumberChange, ReplacementOutcome, SeqNumberUsage, SeqOf, SpecialistSeqNumber,
    StatusCode, TimeBasedCpvChecks, TrustAnchorCellContents, TrustAnchorCellIdentifier,
    TrustAnchorReplacement, UpdateSecurityCredentialsAlert, UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
};
use gbcs::ErrorKind;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// Asserts `bytes` decodes to `value` and `value` encodes to `bytes`.
fn known_answer<'a, T>(bytes: &'a [u8], value: &T)
where
    T: Decode<'a> + Encode + PartialEq + core::fmt::Debug,
{
    assert_eq!(&T::from_ber(bytes).expect("decode"), value);
    assert_eq!(value.encoded_len(), bytes.len());
    assert_eq!(value.to_der().expect("encode"), bytes);
}

const TCOS: EntityId = EntityId::from_u64(0x90B3_D51F_3000_0004);
const OLD_TCOS_KEY: KeyId = KeyId([0x4B, 0x38, 0xEB, 0x47, 0x56, 0x1D, 0x93, 0xE8]);
const NEW_TCOS_KEY: KeyId = KeyId([0x4F, 0x3F, 0x10, 0x85, 0x56, 0x96, 0xFE, 0xF2]);
const SUPPLIER: EntityId = EntityId::from_u64(0x90B3_D51F_3001_0000);

#[test]
fn cs02a_command_known_answer() {
    let roles = [RemotePartyRole::SUPPLIER, RemotePartyRole::NETWORK_OPERATOR];
    let value = CredentialDetailsCommand {
        authorising_cell: TrustAnchorCellIdentifier::ACB_KA,
        roles: SeqOf::from_slice(&roles),
    };
    known_answer(&h("3011 3007 020104 03020308 3006 020102 020103"), &value);
}

#[test]
fn cs02a_response_known_answer_and_device_lengths() {
    let supplier_cells = [
        TrustAnchorCellContents {
            key_usage: KeyUsage::DIGITAL_SIGNATURE,
            cell_usage: CellUsage::MANAGEMENT,
            subject_unique_id: SUPPLIER,
            subject_key_identifier: "44899792D196F4B8".parse().expect("key id"),
        },
        TrustAnchorCellContents {
            key_usage: KeyUsage::KEY_AGREEMENT,
            cell_usage: CellUsage::PREPAYMENT_TOP_UP,
            subject_unique_id: SUPPLIER,
            subject_key_identifier: "41FB49221588C570".parse().expect("key id"),
        },
    ];
    let details = [
        RemotePartyDetails {
            role: RemotePartyRole::SUPPLIER,
            status: StatusCode::SUCCESS,
            current_seq_number: Some(0),
            cells: Some(SeqOf::from_slice(&supplier_cells)),
        },
        RemotePartyDetails {
            role: RemotePartyRole(3),
            status: StatusCode::TRUST_ANCHOR_NOT_FOUND,
            current_seq_number: None,
            cells: None,
        },
    ];
    let value = CredentialDetailsResponse {
        details: SeqOf::from_slice(&details),
    };
    let canonical = h("304C 3042 020102 0A0100 020100 3037 3018 03020780 040890B3D51F30010000 040844899792D196F4B8 \
                       301B 03020308 020101 040890B3D51F30010000 040841FB49221588C570 \
                       3006 020103 0A0119");
    known_answer(&canonical, &value);
    // A device writes lengths 128-255 as 82 00 xx and short lengths in long form too.
    let device = h("308200 4D 308142 020102 0A0100 020100 3037 3018 03020780 040890B3D51F30010000 040844899792D196F4B8 \
                    301B 03020308 020101 040890B3D51F30010000 040841FB49221588C570 \
                    3006 020103 0A0119");
    let decoded = CredentialDetailsResponse::from_ber(&device).expect("BER lengths");
    assert_eq!(decoded, value);
    assert_eq!(decoded.to_der().expect("encode"), canonical);
    assert_eq!(
        decoded
            .role(RemotePartyRole::NETWORK_OPERATOR)
            .map(|d| d.status),
        Some(StatusCode(25))
    );
}

#[test]
fn supplier_by_trans_cos_control_known_answer() {
    let topup = [SpecialistSeqNumber {
        usage: SeqNumberUsage::PREPAYMENT_TOP_UP,
        seq_number: 0,
    }];
    let changes = [RemotePartySeqNumberChange {
        role: RemotePartyRole::SUPPLIER,
        floor_seq_number: 0,
        specialist_floor_seq_numbers: Some(SeqOf::from_slice(&topup)),
    }];
    let value = AuthorisingRemotePartyControl {
        mode: CredentialsReplacementMode::SUPPLIER_BY_TRANS_COS,
        plain_text_symmetric_key: None,
        apply_time_based_cpv_checks: None,
        authorising_cell: Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
        authorising_seq_number: 6001,
        new_floor_seq_number: None,
        new_specialist_floor_seq_numbers: None,
        other_seq_number_changes: Some(SeqOf::from_slice(&changes)),
    };
    known_answer(&h("3024 020107 A207020105 03020780 83021771 A612 3010 020102 020100 3008 3006 020100 020100"), &value);
}

#[test]
fn every_optional_control_field_round_trips() {
    let topup = [SpecialistSeqNumber {
        usage: SeqNumberUsage(0),
        seq_number: 7,
    }];
    let value = AuthorisingRemotePartyControl {
        mode: CredentialsReplacementMode::ANY_BY_CONTINGENCY,
        plain_text_symmetric_key: Some(&[0xAB; 16]),
        apply_time_based_cpv_checks: Some(TimeBasedCpvChecks::APPLY),
        authorising_cell: Some(TrustAnchorCellIdentifier {
            role: RemotePartyRole::ROOT,
            key_usage: KeyUsage::KEY_CERT_SIGN,
            cell_usage: CellUsage(1),
        }),
        authorising_seq_number: 128,
        new_floor_seq_number: Some(0x7FFF_FFFF_FFFF_FFFF),
        new_specialist_floor_seq_numbers: Some(SeqOf::from_slice(&topup)),
        other_seq_number_changes: Some(SeqOf::empty()),
    };
    let want = h(
        "303E 020109 8010ABABABABABABABABABABABABABABABAB 810100 A20A020100 03020204 020101 \
                  83020080 84087FFFFFFFFFFFFFFF A508 3006 020100 020107 A600",
    );
    known_answer(&want, &value);
}

#[test]
fn trans_cos_by_trans_cos_response_known_answer() {
    let outcomes = [ReplacementOutcome {
        cell: TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
        status: StatusCode::SUCCESS,
        existing_subject_unique_id: TCOS,
        existing_subject_key_identifier: OLD_TCOS_KEY,
        replacing_subject_unique_id: TCOS,
        replacing_subject_key_identifier: NEW_TCOS_KEY,
    }];
    let value = UpdateSecurityCredentialsResponse {
        execution_outcome: Some(ExecutionOutcome {
            authorising_seq_number: 6000,
            mode: CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
            seq_number_changes: SeqOf::empty(),
            replacement_outcomes: SeqOf::from_slice(&outcomes),
        }),
    };
    let bytes = h("3045 0500 3041 02021770 020106 3000 3036 3034 3007 020105 03020780 0A0100 \
                   040890B3D51F30000004 04084B38EB47561D93E8 040890B3D51F30000004 04084F3F10855696FEF2");
    known_answer(&bytes, &value);
    let outcome = value.execution_outcome.expect("outcome");
    assert_eq!(
        outcome
            .outcome_for(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
            .map(|o| o.replacing_subject_key_identifier),
        Some(NEW_TCOS_KEY)
    );
}

#[test]
fn future_dated_acceptance_known_answer() {
    known_answer(
        &h("30020500"),
        &UpdateSecurityCredentialsResponse {
            execution_outcome: None,
        },
    );
}

#[test]
fn alert_known_answer() {
    let value = UpdateSecurityCredentialsAlert {
        alert_code: AlertCode::FUTURE_DATED_SUCCESS,
        execution_date_time: GeneralizedTime::new(2030, 1, 2, 0, 0, 0).expect("time"),
        execution_outcome: ExecutionOutcome {
            authorising_seq_number: 6002,
            mode: CredentialsReplacementMode::SUPPLIER_BY_TRANS_COS,
            seq_number_changes: SeqOf::empty(),
            replacement_outcomes: SeqOf::empty(),
        },
    };
    let mut bytes = h("3023 0203008F66 180F");
    bytes.extend_from_slice(b"20300102000000Z");
    bytes.extend_from_slice(&h("300B 02021772 020107 3000 3000"));
    known_answer(&bytes, &value);
}

#[test]
fn command_known_answer_with_certificates_as_bytes() {
    let cert_a = h("3003020101");
    let cert_ca = h("3082000403020102");
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(&cert_a),
        target_cell: TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
    }];
    let path = [CertificateDer(&cert_ca)];
    let value = UpdateSecurityCredentialsCommand {
        control: AuthorisingRemotePartyControl {
            mode: CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
            plain_text_symmetric_key: None,
            apply_time_based_cpv_checks: Some(TimeBasedCpvChecks::DISAPPLY),
            authorising_cell: Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
            authorising_seq_number: 6000,
            new_floor_seq_number: None,
            new_specialist_floor_seq_numbers: None,
            other_seq_number_changes: None,
        },
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&path),
        execution_date_time: Some(GeneralizedTime::CANCELLATION),
    };
    let mut bytes = h("3042 3013 020106 810101 A207020105 03020780 83021770 3010 300E 3003020101 3007020105 03020780 \
                       3008 3082000403020102 180F");
    bytes.extend_from_slice(b"99991231235959Z");
    known_answer(&bytes, &value);
    // The certificate is carried as it came (its non-minimal length kept).
    let decoded = UpdateSecurityCredentialsCommand::from_ber(&bytes).expect("decode");
    assert_eq!(
        decoded
            .certification_path
            .first()
            .map(|c| c.as_bytes().len()),
        Some(8)
    );
    assert!(decoded.execution_date_time.expect("time").is_cancellation());
}

#[test]
fn rejects_a_command_whose_mode_disagrees_with_its_code() {
    let bytes = h("3019 3013 020106 810101 A207020105 03020780 83021770 3000 3000");
    let ok = Payload::decode(MessageCode(0x0106), CraFlag::COMMAND, &bytes, 100).expect("agrees");
    assert!(ok.is_typed());
    let e = Payload::decode(MessageCode(0x0107), CraFlag::COMMAND, &bytes, 100)
        .expect_err("mode 6 under 0x0107");
    assert_eq!(
        (e.kind(), e.offset(), e.field()),
        (ErrorKind::ModeMismatch, 104, "credentialsReplacementMode")
    );
    // And the builder refuses the same.
    let header = CommandHeader {
        message_code: MessageCode(0x0107),
        counter: 6000,
        originator: TCOS,
        recipient: EntityId::from_u64(0x00DB_1234_5678_90A0),
    };
    let e = message::build_precommand(&header, &ok).expect_err("builder must refuse");
    let kind = |e: gbcs::GbcsError| match e {
        gbcs::GbcsError::Codec(c) => Some(c.kind()),
        _ => None,
    };
    assert_eq!(kind(e), Some(ErrorKind::ModeMismatch));
    let roles = [RemotePartyRole::TRANSITIONAL_COS];
    let cs02a = Payload::CredentialDetailsCommand(CredentialDetailsCommand {
        authorising_cell: TrustAnchorCellIdentifier::ACB_KA,
        roles: SeqOf::from_slice(&roles),
    });
    assert_eq!(
        kind(message::build_precommand(&header, &cs02a).expect_err("CS02a under 0x0107")),
        Some(ErrorKind::ModeMismatch)
    );
    let g = CredentialsReplacementMode::LOAD_CONTROLLER_BY_SUPPLIER;
    assert_eq!(g.message_code(), Some(MessageCode(0x0126)));
    assert_eq!(
        CredentialsReplacementMode::from_message_code(MessageCode(0x0125)),
        Some(CredentialsReplacementMode(10))
    );
    assert_eq!(CredentialsReplacementMode(12).message_code(), None);
}

#[test]
fn rejects_malformed_payloads_with_kind_and_offset() {
    let cases: [(&str, ErrorKind, usize); 9] = [
        // wrong outer tag
        ("3102 0500", ErrorKind::UnexpectedTag { expected: 0x30, found: 0x31 }, 0),
        // commandAccepted is not NULL
        ("3002 0400", ErrorKind::UnexpectedTag { expected: 0x05, found: 0x04 }, 2),
        // NULL with content
        ("3003 050100", ErrorKind::TrailingData, 4),
        // trailing bytes inside the SEQUENCE
        ("3004 0500 0500", ErrorKind::TrailingData, 4),
        // seq number above 2^63-1
        ("300F 0500 300B 0209008000000000000000", ErrorKind::ValueOutOfRange, 6),
        // mode 256 does not fit
        ("300F 0500 300B 020101 0202 0100 3000 3000", ErrorKind::ValueOutOfRange, 11),
        // non-minimal integer
        ("300F 0500 300B 02020001 020106 3000 3000", ErrorKind::NonCanonical, 8),
        // an entity ID of 7 bytes in an outcome
        ("3043 0500 303F 020100 020106 3000 3035 3033 3007020105 03020780 0A0100 040700000000000004 040890B3D51F30000004 040890B3D51F30000004 040890B3D51F30000004", ErrorKind::InvalidLength, 32),
        // indefinite length
        ("3080 0500 0000", ErrorKind::InvalidLength, 1),
    ];
    for (hexs, kind, offset) in cases {
        let bytes = h(hexs);
        let e = UpdateSecurityCredentialsResponse::from_ber(&bytes).expect_err(hexs);
        assert_eq!((e.kind(), e.offset()), (kind, offset), "{hexs}: {e}");
    }
    let e = UpdateSecurityCredentialsResponse::from_ber(&h("30020500 00")).expect_err("trailing");
    assert_eq!((e.kind(), e.offset()), (ErrorKind::TrailingData, 4));
    let e = UpdateSecurityCredentialsResponse::from_ber(&h("3004 0500")).expect_err("short");
    assert_eq!((e.kind(), e.offset()), (ErrorKind::Truncated, 2));
}

#[test]
fn encoding_refuses_values_the_type_cannot_hold() {
    let value = ExecutionOutcome {
        authorising_seq_number: u64::MAX,
        mode: CredentialsReplacementMode(7),
        seq_number_changes: SeqOf::empty(),
        replacement_outcomes: SeqOf::empty(),
    };
    assert_eq!(
        value.to_der().expect_err("out of range").kind(),
        ErrorKind::ValueOutOfRange
    );
    let mut small = [0u8; 4];
    let ok = UpdateSecurityCredentialsResponse {
        execution_outcome: None,
    };
    assert_eq!(
        ok.encode_to_slice(&mut small).expect("fits"),
        &[0x30, 0x02, 0x05, 0x00]
    );
    let mut tiny = [0u8; 3];
    assert_eq!(
        ok.encode_to_slice(&mut tiny).expect_err("too small").kind(),
        ErrorKind::BufferTooSmall
    );
}

#[test]
fn unknown_enumeration_values_survive_a_round_trip() {
    let outcome = [ReplacementOutcome {
        cell: TrustAnchorCellIdentifier {
            role: RemotePartyRole(99),
            key_usage: KeyUsage(0x8080),
            cell_usage: CellUsage(7),
        },
        status: StatusCode(200),
        existing_subject_unique_id: EntityId([1; 8]),
        existing_subject_key_identifier: KeyId([2; 8]),
        replacing_subject_unique_id: EntityId([3; 8]),
        replacing_subject_key_identifier: KeyId([4; 8]),
    }];
    let value = ExecutionOutcome {
        authorising_seq_number: 1,
        mode: CredentialsReplacementMode(77),
        seq_number_changes: SeqOf::empty(),
        replacement_outcomes: SeqOf::from_slice(&outcome),
    };
    let der = value.to_der().expect("encode");
    assert_eq!(ExecutionOutcome::from_ber(&der).expect("decode"), value);
    assert_eq!(format!("{:?}", RemotePartyRole(99)), "RemotePartyRole(99)");
    assert_eq!(
        format!("{:?}", RemotePartyRole::TRANSITIONAL_COS),
        "transitionalCoS"
    );
}

/// Every name of every wire enumeration reads back as its value, and every value (named or
/// not) prints as something `FromStr` reads back.
#[test]
fn every_wire_enumeration_round_trips_through_its_name_and_display() {
    fn check<T>(known: &[T], unknown: T)
    where
        T: Copy + PartialEq + core::fmt::Debug + core::fmt::Display + core::str::FromStr,
        <T as core::str::FromStr>::Err: core::fmt::Debug,
    {
        assert!(!known.is_empty());
        for &v in known.iter().chain([unknown].iter()) {
            let text = v.to_string();
            assert_eq!(text.parse::<T>().expect("reads back"), v, "{text}");
        }
        assert!("not a name".parse::<T>().is_err());
    }
    check(RemotePartyRole::KNOWN, RemotePartyRole(99));
    check(KeyUsage::KNOWN, KeyUsage(0x8800));
    check(CellUsage::KNOWN, CellUsage(9));
    check(StatusCode::KNOWN, StatusCode(200));
    check(AlertCode::KNOWN, AlertCode(0x1234));
    check(
        CredentialsReplacementMode::KNOWN,
        CredentialsReplacementMode(12),
    );
    check(TimeBasedCpvChecks::KNOWN, TimeBasedCpvChecks(2));
    check(SeqNumberUsage::KNOWN, SeqNumberUsage(1));
    check(MessageCode::KNOWN, MessageCode(0x0FFF));
    check(CraFlag::KNOWN, CraFlag(0x7F));
    assert_eq!(
        RemotePartyRole::TRANSITIONAL_COS.to_string(),
        "transitionalCoS"
    );
    assert_eq!(MessageCode(0x0FFF).to_string(), "0x0FFF");
    assert_eq!(format!("{:?}", KeyUsage(0x8800)), "KeyUsage(0x8800)");
    assert_eq!(
        "0x0107".parse(),
        Ok(MessageCode::CS02B_SUPPLIER_BY_TRANS_COS)
    );
}

/// The mode ↔ message-code table is one-to-one, covers modes 0–11, and refuses the codes
/// around it.
#[test]
fn every_mode_has_one_message_code_and_back() {
    use gbcs::payload::MODE_MESSAGE_CODES;
    assert_eq!(
        CredentialsReplacementMode::KNOWN.len(),
        MODE_MESSAGE_CODES.len()
    );
    for &mode in CredentialsReplacementMode::KNOWN {
        let code = mode.message_code().expect("every named mode has a code");
        assert_eq!(
            CredentialsReplacementMode::from_message_code(code),
            Some(mode)
        );
        assert!(code
            .name()
            .is_some_and(|n| n.ends_with(mode.name().unwrap_or("?"))));
    }
    for code in [0x00FF, 0x010A, 0x0124, 0x0127, 0x0008, 0x00CB] {
        assert_eq!(
            CredentialsReplacementMode::from_message_code(MessageCode(code)),
            None
        );
    }
    assert_eq!(CredentialsReplacementMode(12).message_code(), None);
}

/// An owned outcome lends out the view a decoded one gives: nested specialist floors
/// included, in DER and in the devices' length form.
#[test]
fn owned_outcomes_view_encode_and_decode_like_borrowed_ones() {
    use gbcs::codec::LengthForm;
    use gbcs::payload::{ExecutionOutcome, OwnedExecutionOutcome, OwnedSeqNumberChanges};
    let topup = [SpecialistSeqNumber {
        usage: SeqNumberUsage::PREPAYMENT_TOP_UP,
        seq_number: 9,
    }];
    let changes = [
        RemotePartySeqNumberChange {
            role: RemotePartyRole::SUPPLIER,
            floor_seq_number: 300,
            specialist_floor_seq_numbers: Some(SeqOf::from_slice(&topup)),
        },
        RemotePartySeqNumberChange {
            role: RemotePartyRole::TRANSITIONAL_COS,
            floor_seq_number: 0,
            specialist_floor_seq_numbers: None,
        },
    ];
    let outcomes = [ReplacementOutcome {
        cell: TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
        status: StatusCode::SUCCESS,
        existing_subject_unique_id: SUPPLIER,
        existing_subject_key_identifier: KeyId([1; 8]),
        replacing_subject_unique_id: SUPPLIER,
        replacing_subject_key_identifier: KeyId([2; 8]),
    }];
    let borrowed = ExecutionOutcome {
        authorising_seq_number: 77,
        mode: CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
        seq_number_changes: SeqOf::from_slice(&changes),
        replacement_outcomes: SeqOf::from_slice(&outcomes),
    };
    let owned = OwnedExecutionOutcome {
        authorising_seq_number: 77,
        mode: CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
        seq_number_changes: OwnedSeqNumberChanges::new(&changes).expect("encodes"),
        replacement_outcomes: outcomes.to_vec(),
    };
    assert_eq!(owned.view(), borrowed);
    assert_eq!(owned.view().seq_number_changes.len(), 2);
    for form in [LengthForm::Minimal, LengthForm::Device] {
        let a = owned.view().to_vec_in(form).expect("encodes");
        assert_eq!(a, borrowed.to_vec_in(form).expect("encodes"));
        assert_eq!(ExecutionOutcome::from_ber(&a).expect("decodes"), borrowed);
    }
    let too_big = RemotePartySeqNumberChange {
        role: RemotePartyRole::SUPPLIER,
        floor_seq_number: u64::MAX,
        specialist_floor_seq_numbers: None,
    };
    assert_eq!(
        OwnedSeqNumberChanges::new(&[too_big]).unwrap_err().kind(),
        ErrorKind::ValueOutOfRange
    );
}
