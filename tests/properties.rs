//! Property tests: generated CS02a/CS02b payloads and whole frames round-trip through
//! encode → decode → encode; built, signed and MAC'd commands verify; and no input, however
//! arbitrary, makes a decoder panic.

#[path = "support/mode_text.rs"]
mod mode_text;

use gbcs::codec::Writer;
use gbcs::crypto::{KeyAgreement, KeyAgreementKey, SigningKey};
use gbcs::frame::{
    CraFlag, DlmsDateTime, EntityId, GeneralSigning, GroupingHeader, MessageCode, OtherInformation,
    SignatureTail,
};
use gbcs::message::{self, CommandHeader};
use gbcs::payload::{
    AuthorisingRemotePartyControl, CellUsage, CertificateDer, CredentialDetailsCommand,
    CredentialDetailsResponse, CredentialsReplacementMode, Decode, Encode, GeneralizedTime, KeyId,
    KeyUsage, Payload, RemotePartyDetails, RemotePartyRole, RemotePartySeqNumberChange,
    SeqNumberUsage, SeqOf, SpecialistSeqNumber, StatusCode, TimeBasedCpvChecks,
    TrustAnchorCellContents, TrustAnchorCellIdentifier, TrustAnchorReplacement,
    UpdateSecurityCredentialsAlert, UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse, MAX_SEQ_NUMBER,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn seq() -> impl Strategy<Value = u64> {
    prop_oneof![0..300u64, 0..=MAX_SEQ_NUMBER]
}

fn cell() -> impl Strategy<Value = TrustAnchorCellIdentifier> {
    (
        any::<u8>(),
        any::<u16>(),
        prop_oneof![Just(0u8), any::<u8>()],
    )
        .prop_map(|(r, k, c)| TrustAnchorCellIdentifier {
            role: RemotePartyRole(r),
            key_usage: KeyUsage(k),
            cell_usage: CellUsage(c),
        })
}

fn certificate() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..300).prop_map(|content| {
        let mut out = vec![0x30];
        let n = content.len();
        if n < 128 {
            out.push(u8::try_from(n).expect("short"));
        } else {
            out.extend_from_slice(&[
                0x82,
                u8::try_from(n >> 8).expect("hi"),
                u8::try_from(n & 0xFF).expect("lo"),
            ]);
        }
        out.extend_from_slice(&content);
        out
    })
}

fn time() -> impl Strategy<Value = GeneralizedTime> {
    (0..=9999u16, 1..=12u8, 1..=28u8, 0..24u8, 0..60u8, 0..60u8)
        .prop_map(|(y, mo, d, h, mi, s)| GeneralizedTime::new(y, mo, d, h, mi, s).expect("valid"))
}

type Specialist = Vec<(u8, u64)>;

#[derive(Debug, Clone)]
struct CommandSpec {
    mode: u8,
    key: Option<Vec<u8>>,
    cpv: Option<u8>,
    cell: Option<TrustAnchorCellIdentifier>,
    seq: u64,
    floor: Option<u64>,
    specialist: Option<Specialist>,
    others: Option<Vec<(u8, u64, Option<Specialist>)>>,
    replacements: Vec<(Vec<u8>, TrustAnchorCellIdentifier)>,
    path: Vec<Vec<u8>>,
    time: Option<GeneralizedTime>,
}

/// Makes `spec` satisfy its mode's rules as the GBCS text states them (`support/mode_text.rs`,
/// written apart from the library's table): `[2]`, `[3]` = `counter`, the fields the mode
/// forbids dropped, `[0]` supplied where required, targets the mode may not replace dropped.
fn conform(spec: &mut CommandSpec, counter: u64) {
    use mode_text::Field;
    let Some(r) = mode_text::text_rule(spec.mode) else {
        return;
    };
    spec.cell = r.authorising;
    spec.seq = counter;
    match r.key {
        Field::Required => {
            spec.key.get_or_insert_with(|| vec![0x5A; 16]);
        }
        Field::Forbidden => spec.key = None,
        Field::Allowed => {}
    }
    if r.floor == Field::Forbidden {
        spec.floor = None;
    }
    if r.specialist == Field::Forbidden {
        spec.specialist = None;
    }
    if r.others == Field::Forbidden {
        spec.others = None;
    }
    spec.replacements.retain(|(_, c)| r.targets.contains(c));
}

fn specialist() -> impl Strategy<Value = Specialist> {
    vec((any::<u8>(), seq()), 0..3)
}

fn command_spec() -> impl Strategy<Value = CommandSpec> {
    (
        (
            0..12u8,
            option::of(vec(any::<u8>(), 0..40)),
            option::of(0..3u8),
            option::of(cell()),
            seq(),
            option::of(seq()),
        ),
        (
            option::of(specialist()),
            option::of(vec((any::<u8>(), seq(), option::of(specialist())), 0..4)),
            vec((certificate(), cell()), 0..4),
            vec(certificate(), 0..3),
            option::of(time()),
        ),
    )
        .prop_map(
            |(
                (mode, key, cpv, cell, seq, floor),
                (specialist, others, replacements, path, time),
            )| CommandSpec {
                mode,
                key,
                cpv,
                cell,
                seq,
                floor,
                specialist,
                others,
                replacements,
                path,
                time,
            },
        )
}

fn specialists(s: &Specialist) -> Vec<SpecialistSeqNumber> {
    s.iter()
        .map(|&(u, n)| SpecialistSeqNumber {
            usage: SeqNumberUsage(u),
            seq_number: n,
        })
        .collect()
}

/// Builds the borrowed command from the spec's storage and hands it to `f`.
fn with_command<R>(
    spec: &CommandSpec,
    f: impl FnOnce(UpdateSecurityCredentialsCommand<'_>) -> R,
) -> R {
    let own_specialist = spec.specialist.as_ref().map(specialists);
    let other_specialists: Vec<Option<Vec<SpecialistSeqNumber>>> = spec
        .others
        .iter()
        .flatten()
        .map(|(_, _, s)| s.as_ref().map(specialists))
        .collect();
    let others: Option<Vec<RemotePartySeqNumberChange<'_>>> = spec.others.as_ref().map(|o| {
        o.iter()
            .zip(&other_specialists)
            .map(|(&(role, floor, _), s)| RemotePartySeqNumberChange {
                role: RemotePartyRole(role),
                floor_seq_number: floor,
                specialist_floor_seq_numbers: s.as_deref().map(SeqOf::from_slice),
            })
            .collect()
    });
    let replacements: Vec<TrustAnchorReplacement<'_>> = spec
        .replacements
        .iter()
        .map(|(c, cell)| TrustAnchorReplacement {
            certificate: CertificateDer(c),
            target_cell: *cell,
        })
        .collect();
    let path: Vec<CertificateDer<'_>> = spec.path.iter().map(|c| CertificateDer(c)).collect();
    f(UpdateSecurityCredentialsCommand {
        control: AuthorisingRemotePartyControl {
            mode: CredentialsReplacementMode(spec.mode),
            plain_text_symmetric_key: spec.key.as_deref(),
            apply_time_based_cpv_checks: spec.cpv.map(TimeBasedCpvChecks),
            authorising_cell: spec.cell,
            authorising_seq_number: spec.seq,
            new_floor_seq_number: spec.floor,
            new_specialist_floor_seq_numbers: own_specialist.as_deref().map(SeqOf::from_slice),
            other_seq_number_changes: others.as_deref().map(SeqOf::from_slice),
        },
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&path),
        execution_date_time: spec.time,
    })
}

fn round_trips<'a, T: Decode<'a> + Encode + PartialEq + core::fmt::Debug>(
    value: &T,
    der: &'a [u8],
) {
    let back = T::from_ber(der).expect("decode");
    assert_eq!(&back, value);
    assert_eq!(back.to_der().expect("re-encode"), der);
}

fn cell_contents() -> impl Strategy<Value = TrustAnchorCellContents> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<[u8; 8]>(),
        any::<[u8; 8]>(),
    )
        .prop_map(|(k, c, e, key)| TrustAnchorCellContents {
            key_usage: KeyUsage(k),
            cell_usage: CellUsage(c),
            subject_unique_id: EntityId(e),
            subject_key_identifier: KeyId(key),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_cs02b_commands_round_trip(spec in command_spec()) {
        with_command(&spec, |cmd| {
            let der = cmd.to_der().expect("encode");
            round_trips(&cmd, &der);
            // Under its own message code the typed decode agrees too.
            if let Some(code) = cmd.message_code() {
                let p = Payload::decode(code, CraFlag::COMMAND, &der, 0).expect("typed");
                assert_eq!(p, Payload::UpdateSecurityCredentialsCommand(cmd));
            }
        });
    }

    #[test]
    fn generated_cs02a_payloads_round_trip(
        roles in vec(any::<u8>(), 0..6),
        auth in cell(),
        details in vec((any::<u8>(), any::<u8>(), option::of(seq()), option::of(vec(cell_contents(), 0..4))), 0..4),
    ) {
        let roles: Vec<RemotePartyRole> = roles.into_iter().map(RemotePartyRole).collect();
        let cmd = CredentialDetailsCommand { authorising_cell: auth, roles: SeqOf::from_slice(&roles) };
        round_trips(&cmd, &cmd.to_der().expect("encode"));
        let ds: Vec<RemotePartyDetails<'_>> = details
            .iter()
            .map(|(r, s, n, cells)| RemotePartyDetails {
                role: RemotePartyRole(*r),
                status: StatusCode(*s),
                current_seq_number: *n,
                cells: cells.as_deref().map(SeqOf::from_slice),
            })
            .collect();
        let rsp = CredentialDetailsResponse { details: SeqOf::from_slice(&ds) };
        round_trips(&rsp, &rsp.to_der().expect("encode"));
    }

    #[test]
    fn generated_cs02b_responses_and_alerts_round_trip(
        seq_n in seq(), mode in any::<u8>(), code in any::<u16>(), t in time(),
        outcomes in vec((cell(), any::<u8>(), any::<[u8; 8]>(), any::<[u8; 8]>(), any::<[u8; 8]>(), any::<[u8; 8]>()), 0..5),
        immediate in any::<bool>(),
    ) {
        let outcomes: Vec<_> = outcomes
            .into_iter()
            .map(|(cell, s, a, b, c, d)| gbcs::payload::ReplacementOutcome {
                cell,
                status: StatusCode(s),
                existing_subject_unique_id: EntityId(a),
                existing_subject_key_identifier: KeyId(b),
                replacing_subject_unique_id: EntityId(c),
                replacing_subject_key_identifier: KeyId(d),
            })
            .collect();
        let outcome = gbcs::payload::ExecutionOutcome {
            authorising_seq_number: seq_n,
            mode: CredentialsReplacementMode(mode),
            seq_number_changes: SeqOf::empty(),
            replacement_outcomes: SeqOf::from_slice(&outcomes),
        };
        let rsp = UpdateSecurityCredentialsResponse { execution_outcome: immediate.then_some(outcome) };
        round_trips(&rsp, &rsp.to_der().expect("encode"));
        let alert = UpdateSecurityCredentialsAlert { alert_code: gbcs::payload::AlertCode(code), execution_date_time: t, execution_outcome: outcome };
        round_trips(&alert, &alert.to_der().expect("encode"));
    }

    #[test]
    fn generated_frames_round_trip(
        cra in any::<u8>(), counter in any::<u64>(), orig in any::<[u8; 8]>(), recip in any::<[u8; 8]>(),
        dt in option::of(any::<[u8; 12]>()), code in any::<u16>(), supplementary in vec(any::<u8>(), 0..300),
        payload in vec(any::<u8>(), 0..400), tail in 0..3u8, sig in any::<[u8; 32]>(),
    ) {
        let tail = match tail {
            0 => SignatureTail::Signature([sig, sig].concat().try_into().expect("64")),
            1 => SignatureTail::NoSignature,
            _ => SignatureTail::Absent,
        };
        let cra = if tail == SignatureTail::Absent { CraFlag::COMMAND } else { CraFlag(cra) };
        let header = GroupingHeader {
            cra_flag: cra,
            originator_counter: counter,
            originator: EntityId(orig),
            recipient: EntityId(recip),
            date_time: dt.map(DlmsDateTime),
            other_information: OtherInformation { message_code: MessageCode(code), supplementary: &supplementary },
            content_len: payload.len(),
        };
        let mut bytes = vec![0u8; header.buffer_len() + payload.len() + tail.len()];
        let mut w = Writer::new(&mut bytes);
        header.emit(&mut w).expect("header");
        w.put(&payload, "payload").expect("payload");
        tail.emit(&mut w).expect("tail");
        let gs = GeneralSigning::parse(&bytes).expect("parse");
        prop_assert_eq!(gs.header(), &header);
        prop_assert_eq!(gs.payload(), &payload[..]);
        prop_assert_eq!(gs.tail(), &tail);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..600)) {
        let _ = gbcs::parse(&bytes);
        let _ = UpdateSecurityCredentialsCommand::from_ber(&bytes);
        let _ = UpdateSecurityCredentialsResponse::from_ber(&bytes);
        let _ = UpdateSecurityCredentialsAlert::from_ber(&bytes);
        let _ = CredentialDetailsCommand::from_ber(&bytes);
        let _ = CredentialDetailsResponse::from_ber(&bytes);
    }

    #[test]
    fn decoders_never_panic_behind_valid_headers(
        mac in any::<bool>(), code in prop_oneof![Just(0x0008u16), 0x0100..0x010Au16, Just(0x00CB), Just(0x0125)],
        cra in 1..4u8, body in vec(any::<u8>(), 0..400),
    ) {
        // A well-formed header announcing a typed payload, followed by arbitrary bytes.
        let header = GroupingHeader {
            cra_flag: CraFlag(cra),
            originator_counter: 1,
            originator: EntityId([1; 8]),
            recipient: EntityId([2; 8]),
            date_time: None,
            other_information: OtherInformation::code(MessageCode(code)),
            content_len: body.len(),
        };
        let mut bytes = vec![0u8; header.buffer_len()];
        header.emit(&mut Writer::new(&mut bytes)).expect("emit");
        bytes.extend_from_slice(&body);
        bytes.push(0);
        let bytes = if mac {
            message::add_mac(&bytes, &gbcs::crypto::SharedSecret::from_bytes([3; 32])).unwrap_or(bytes)
        } else {
            bytes
        };
        let _ = gbcs::parse(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn built_signed_and_maced_commands_parse_and_verify(spec in command_spec(), counter in 1..=MAX_SEQ_NUMBER) {
        let signer = SigningKey::from_scalar(&[0x11; 32]).expect("key");
        let acb = KeyAgreementKey::from_scalar(&[0x22; 32]).expect("key");
        let meter = KeyAgreementKey::from_scalar(&[0x33; 32]).expect("key");
        let mut spec = spec;
        spec.mode %= 12;
        conform(&mut spec, counter);
        with_command(&spec, |cmd| {
            let header = CommandHeader {
                message_code: cmd.message_code().expect("known mode"),
                counter,
                originator: EntityId([0x90; 8]),
                recipient: EntityId([0x00; 8]),
            };
            let payload = Payload::UpdateSecurityCredentialsCommand(cmd);
            let pre = message::build_precommand(&header, &payload).expect("pre-command");
            let signed = message::sign_precommand(&pre, &signer).expect("sign");
            let wire = message::add_mac(&signed, &acb.agree(&meter.public_key()).expect("z")).expect("MAC");
            let m = gbcs::parse(&wire).expect("parse");
            assert_eq!(m.payload(), &payload);
            m.verify_signature(&signer.public_key()).expect("signature");
            m.verify_mac(&meter.agree(&acb.public_key()).expect("z")).expect("MAC");
        });
    }

    #[test]
    fn the_builder_refuses_exactly_what_the_gbcs_text_forbids(spec in command_spec(), counter in 1..=MAX_SEQ_NUMBER, tidy in any::<bool>()) {
        // Random commands, half of them made to conform first: the builder accepts a command
        // if and only if the table does, and a refusal names the rule.
        let mut spec = spec;
        spec.mode %= 12;
        if tidy {
            conform(&mut spec, counter);
        }
        with_command(&spec, |cmd| {
            let code = cmd.message_code().expect("known mode");
            let header = CommandHeader {
                message_code: code,
                counter,
                originator: EntityId([0x90; 8]),
                recipient: EntityId([0x00; 8]),
            };
            // The oracle is the GBCS text's statement of the rules, not the library's table
            // (which the builder itself consults).
            let text = mode_text::text_allows(code.0, &cmd, counter);
            let built = message::build_precommand(&header, &Payload::UpdateSecurityCredentialsCommand(cmd));
            match (text, built) {
                (true, Ok(_)) | (false, Err(gbcs::GbcsError::ModeRule(_))) => {}
                (t, b) => panic!("the text allows it: {t}; the builder: {b:?}"),
            }
            if tidy {
                assert!(text, "a conformed command is allowed by the text");
            }
        });
    }
}
