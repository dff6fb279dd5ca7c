//! The CS02b/CS02g mode table (`payload::modes`): every RTDS command satisfies its row
//! (fields and protection), and for each mode the builder refuses each thing the row forbids
//! — the wrong `[2]`, a forbidden target, a forbidden or missing field, a `[3]` that is not
//! the counter, a signature or MAC the protection does not have, another payload under a
//! CS02b code — naming the rule.

#[path = "support/mode_text.rs"]
mod mode_text;
#[path = "support/shared.rs"]
mod shared;

use gbcs::crypto::{KeyAgreement, KeyAgreementKey, SigningKey};
use gbcs::frame::{EntityId, SignatureTail};
use gbcs::message::{self, CommandHeader};
use gbcs::payload::modes::{
    self, check, rule, FieldRule, ModeViolation, Protection, Targets, MODE_RULES,
};
use gbcs::payload::{
    AuthorisingRemotePartyControl, CellUsage, CertificateDer, CredentialsReplacementMode, KeyUsage,
    Payload, RemotePartyRole, RemotePartySeqNumberChange, SeqOf, SpecialistSeqNumber,
    TrustAnchorCellIdentifier, TrustAnchorReplacement, UpdateSecurityCredentialsCommand,
};
use gbcs::GbcsError;

#[test]
fn every_rtds_cs02b_and_cs02g_command_satisfies_its_modes_row() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut checked = 0;
    let mut modes_seen = std::collections::BTreeSet::new();
    for f in shared::cs02_files(&dir) {
        if !(f.is_command() || f.is_precommand()) {
            continue;
        }
        let m = gbcs::parse(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let Payload::UpdateSecurityCredentialsCommand(c) = m.payload() else {
            continue;
        };
        let h = m.header();
        check(h.message_code(), c, h.originator_counter)
            .unwrap_or_else(|v| panic!("{}: {v}", f.name));
        let row = rule(c.control.mode).expect("known mode");
        if f.is_command() {
            let signed = matches!(m.tail(), SignatureTail::Signature(_));
            let macd = m.frame().mac().is_some();
            row.check_protection(signed, macd)
                .unwrap_or_else(|v| panic!("{}: {v}", f.name));
        }
        modes_seen.insert(c.control.mode.0);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} RTDS CS02b/CS02g commands");
    assert!(modes_seen.len() >= 7, "modes seen: {modes_seen:?}");
    // A row marked as seen has its reference files. (A row marked inferred may gain files as
    // the reference data grows: that is no fault of the table.)
    for r in MODE_RULES.iter().filter(|r| r.seen_in_reference_data) {
        assert!(
            modes_seen.contains(&r.mode.0),
            "mode {} is marked seen but no reference command has it",
            r.mode
        );
    }
}

#[test]
fn the_mode_table_agrees_with_the_gbcs_text_for_every_mode() {
    use mode_text::{Field, TEXT};
    let field = |f: Field| match f {
        Field::Forbidden => FieldRule::Forbidden,
        Field::Allowed => FieldRule::Allowed,
        Field::Required => FieldRule::Required,
    };
    for t in &TEXT {
        let row = rule(CredentialsReplacementMode(t.mode))
            .unwrap_or_else(|| panic!("mode {}: no row ({})", t.mode, t.source));
        let says = |what: &str| format!("mode {} {what}: the text says ({})", t.mode, t.source);
        assert_eq!(row.message_code.0, t.code, "{}", says("message code"));
        assert_eq!(row.authorising_cell, t.authorising, "{}", says("[2]"));
        assert_eq!(
            (row.protection.signed(), row.protection.macd()),
            (t.signed, t.macd),
            "{}",
            says("protection")
        );
        assert_eq!(row.plain_text_key, field(t.key), "{}", says("[0]"));
        assert_eq!(row.floor, field(t.floor), "{}", says("[4]"));
        assert_eq!(row.specialist_floor, field(t.specialist), "{}", says("[5]"));
        assert_eq!(row.other_floors, field(t.others), "{}", says("[6]"));
        for c in all_cells() {
            assert_eq!(
                row.targets.contains(&c),
                t.targets.contains(&c),
                "{}",
                says(&format!("target {c:?}"))
            );
        }
    }
    assert_eq!(MODE_RULES.len(), TEXT.len(), "a row the text does not have");
}

/// The modes no reference message shows (0, 1, 4, 5, 9), built through the public builder
/// with every expectation taken from the text: what it allows builds with the protection it
/// names and no other; what it forbids is refused.
#[test]
fn modes_no_reference_message_shows_build_as_the_text_says() {
    let signer = SigningKey::from_scalar(&[0x11; 32]).expect("key");
    let acb = KeyAgreementKey::from_scalar(&[0x22; 32]).expect("key");
    let meter = KeyAgreementKey::from_scalar(&[0x33; 32]).expect("key");
    let z = acb.agree(&meter.public_key()).expect("z");
    static KEY: [u8; 16] = [0x5A; 16];
    for mode in [0u8, 1, 4, 5, 9] {
        let t = mode_text::text_rule(mode).expect("text row");
        let target = all_cells()
            .into_iter()
            .find(|c| t.targets.contains(c))
            .expect("a target");
        let outside = all_cells().into_iter().find(|c| !t.targets.contains(c));
        let build = |change: &dyn Fn(
            &mut AuthorisingRemotePartyControl<'_>,
            &mut Vec<TrustAnchorReplacement<'_>>,
        ),
                     sign: bool,
                     mac: bool| {
            let mut control = AuthorisingRemotePartyControl {
                mode: CredentialsReplacementMode(mode),
                plain_text_symmetric_key: (t.key == mode_text::Field::Required).then_some(&KEY[..]),
                apply_time_based_cpv_checks: None,
                authorising_cell: t.authorising,
                authorising_seq_number: COUNTER,
                new_floor_seq_number: None,
                new_specialist_floor_seq_numbers: None,
                other_seq_number_changes: None,
            };
            let mut replacements = vec![TrustAnchorReplacement {
                certificate: CertificateDer(CERT),
                target_cell: target,
            }];
            change(&mut control, &mut replacements);
            let cmd = UpdateSecurityCredentialsCommand {
                control,
                replacements: SeqOf::from_slice(&replacements),
                certification_path: SeqOf::from_slice(&[]),
                execution_date_time: None,
            };
            message::build_command(
                &header(gbcs::frame::MessageCode(t.code)),
                &Payload::UpdateSecurityCredentialsCommand(cmd),
                sign.then_some(&signer as &dyn gbcs::crypto::SignatureSigner),
                mac.then_some(&z),
            )
        };
        let why = t.source;
        // As the text allows: built, and it parses back to the same mode.
        let ok = build(&|_, _| {}, t.signed, t.macd)
            .unwrap_or_else(|e| panic!("mode {mode} ({why}): {e}"));
        let m = gbcs::parse(&ok).expect("parses");
        assert_eq!(m.header().message_code().0, t.code, "mode {mode}");
        // Another protection: refused.
        if !t.signed {
            assert_eq!(
                refused(build(&|_, _| {}, true, t.macd)),
                ModeViolation::Signature,
                "mode {mode}"
            );
        }
        if !t.macd {
            assert_eq!(
                refused(build(&|_, _| {}, t.signed, true)),
                ModeViolation::Mac,
                "mode {mode}"
            );
        }
        // Another [2], or none where the text names one: refused.
        let other = if t.authorising.is_some() {
            None
        } else {
            Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
        };
        assert!(
            matches!(
                refused(build(&|c, _| c.authorising_cell = other, t.signed, t.macd)),
                ModeViolation::AuthorisingCell { .. }
            ),
            "mode {mode}"
        );
        // A cell it does not replace: refused.
        if let Some(outside) = outside {
            assert_eq!(
                refused(build(&|_, r| r[0].target_cell = outside, t.signed, t.macd)),
                ModeViolation::Target(outside),
                "mode {mode}"
            );
        }
        // [0]: required only for contingency.
        let flipped = if t.key == mode_text::Field::Required {
            None
        } else {
            Some(&KEY[..])
        };
        assert_eq!(
            refused(build(
                &|c, _| c.plain_text_symmetric_key = flipped,
                t.signed,
                t.macd
            )),
            ModeViolation::PlainTextKey,
            "mode {mode}"
        );
        // The floors the text forbids.
        if t.floor == mode_text::Field::Forbidden {
            assert_eq!(
                refused(build(
                    &|c, _| c.new_floor_seq_number = Some(0),
                    t.signed,
                    t.macd
                )),
                ModeViolation::Floor,
                "mode {mode}"
            );
        } else {
            build(&|c, _| c.new_floor_seq_number = Some(0), t.signed, t.macd)
                .unwrap_or_else(|e| panic!("mode {mode} [4] ({why}): {e}"));
        }
    }
}

const COUNTER: u64 = 7001;
const CERT: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x00];

fn header(code: gbcs::frame::MessageCode) -> CommandHeader {
    CommandHeader {
        message_code: code,
        counter: COUNTER,
        originator: EntityId::from_u64(0x90B3_D51F_3000_0004),
        recipient: EntityId::from_u64(0x00DB_1234_5678_90A0),
    }
}

/// Every cell the matrix aims at.
fn all_cells() -> Vec<TrustAnchorCellIdentifier> {
    let mut out = Vec::new();
    for role in [0u8, 1, 2, 3, 4, 5, 6, 8] {
        for usage in [KeyUsage::DIGITAL_SIGNATURE, KeyUsage::KEY_AGREEMENT] {
            out.push(TrustAnchorCellIdentifier::new(RemotePartyRole(role), usage));
        }
    }
    out.push(modes::ROOT);
    out.push(TrustAnchorCellIdentifier {
        role: RemotePartyRole::SUPPLIER,
        key_usage: KeyUsage::KEY_AGREEMENT,
        cell_usage: CellUsage::PREPAYMENT_TOP_UP,
    });
    out
}

/// A command that satisfies `row`, then changed by `f`; built with `build_precommand`.
fn build_with<'a>(
    row: &modes::ModeRule,
    f: impl FnOnce(&mut AuthorisingRemotePartyControl<'a>, &mut Vec<TrustAnchorReplacement<'a>>),
) -> Result<Vec<u8>, GbcsError> {
    with_row_command(row, f, |payload| {
        message::build_precommand(&header(row.message_code), payload)
    })
}

/// A command that satisfies `row` (its first target, the fields it requires or allows), then
/// changed by `f`, handed to `then`.
fn with_row_command<'a, R>(
    row: &modes::ModeRule,
    f: impl FnOnce(&mut AuthorisingRemotePartyControl<'a>, &mut Vec<TrustAnchorReplacement<'a>>),
    then: impl FnOnce(&Payload<'_>) -> R,
) -> R {
    static KEY: [u8; 16] = [0x5A; 16];
    let target = all_cells()
        .into_iter()
        .find(|c| row.targets.contains(c))
        .expect("a target");
    let mut control = AuthorisingRemotePartyControl {
        mode: row.mode,
        plain_text_symmetric_key: (row.plain_text_key == FieldRule::Required).then_some(&KEY[..]),
        apply_time_based_cpv_checks: None,
        authorising_cell: row.authorising_cell,
        authorising_seq_number: COUNTER,
        new_floor_seq_number: None,
        new_specialist_floor_seq_numbers: None,
        other_seq_number_changes: None,
    };
    let mut replacements = vec![TrustAnchorReplacement {
        certificate: CertificateDer(CERT),
        target_cell: target,
    }];
    // The fields a row allows, put in so that taking them out is not what is tested.
    if row.floor == FieldRule::Allowed {
        control.new_floor_seq_number = Some(0);
    }
    f(&mut control, &mut replacements);
    let cmd = UpdateSecurityCredentialsCommand {
        control,
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&[]),
        execution_date_time: None,
    };
    then(&Payload::UpdateSecurityCredentialsCommand(cmd))
}

fn refused(r: Result<Vec<u8>, GbcsError>) -> ModeViolation {
    match r {
        Err(GbcsError::ModeRule(v)) => v,
        other => panic!("expected a mode-rule refusal, got {other:?}"),
    }
}

#[test]
fn each_mode_builds_what_its_row_allows() {
    for row in &MODE_RULES {
        build_with(row, |_, _| {}).unwrap_or_else(|e| panic!("mode {}: {e}", row.mode));
    }
}

#[test]
fn each_mode_refuses_another_authorising_cell_or_none_where_one_is_needed() {
    for row in &MODE_RULES {
        for cell in all_cells().into_iter().map(Some).chain([None]) {
            if cell == row.authorising_cell {
                continue;
            }
            let v = refused(build_with(row, |c, _| c.authorising_cell = cell));
            assert_eq!(
                v,
                ModeViolation::AuthorisingCell {
                    expected: row.authorising_cell,
                    found: cell
                },
                "mode {}",
                row.mode
            );
        }
    }
    // The case the issue found: an ACB-by-ACB command that names the TCoS cell.
    let acb = rule(CredentialsReplacementMode(4)).expect("mode 4");
    assert!(matches!(
        refused(build_with(acb, |c, _| c.authorising_cell =
            Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS))),
        ModeViolation::AuthorisingCell { expected: None, .. }
    ));
}

#[test]
fn each_mode_refuses_every_target_it_may_not_replace() {
    let mut refusals = 0;
    for row in &MODE_RULES {
        for cell in all_cells() {
            if row.targets.contains(&cell) {
                continue;
            }
            let v = refused(build_with(row, |_, r| {
                r.push(TrustAnchorReplacement {
                    certificate: CertificateDer(CERT),
                    target_cell: cell,
                })
            }));
            assert_eq!(v, ModeViolation::Target(cell), "mode {}", row.mode);
            refusals += 1;
        }
    }
    assert!(refusals > 100);
    // The ACB by ACB may not replace the TCoS cell; supplierBySupplier may not replace the
    // network operator's.
    let acb = rule(CredentialsReplacementMode(4)).expect("mode 4");
    assert!(!acb
        .targets
        .contains(&TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS));
    assert_eq!(
        rule(CredentialsReplacementMode(8)).map(|r| r.targets),
        Some(Targets::AllButRoot)
    );
}

#[test]
fn each_mode_refuses_the_fields_it_forbids_and_wants_those_it_requires() {
    let key = [1u8; 16];
    static SPECIALISTS: [SpecialistSeqNumber; 1] = [SpecialistSeqNumber {
        usage: gbcs::payload::SeqNumberUsage::PREPAYMENT_TOP_UP,
        seq_number: 0,
    }];
    static OTHERS: [RemotePartySeqNumberChange<'static>; 1] = [RemotePartySeqNumberChange {
        role: RemotePartyRole::SUPPLIER,
        floor_seq_number: 0,
        specialist_floor_seq_numbers: None,
    }];
    for row in &MODE_RULES {
        match row.plain_text_key {
            FieldRule::Forbidden => assert_eq!(
                refused(build_with(row, |c, _| c.plain_text_symmetric_key = Some(&key))),
                ModeViolation::PlainTextKey
            ),
            FieldRule::Required => assert_eq!(
                refused(build_with(row, |c, _| c.plain_text_symmetric_key = None)),
                ModeViolation::PlainTextKey
            ),
            FieldRule::Allowed => {}
        }
        // Each floor field: refused where the row forbids it, built where it does not.
        let judged = |rule: FieldRule,
                      violation: ModeViolation,
                      set: &dyn Fn(&mut AuthorisingRemotePartyControl<'_>)| {
            let built = build_with(row, |c, _| set(c));
            if rule == FieldRule::Forbidden {
                assert_eq!(refused(built), violation, "mode {}", row.mode);
            } else {
                built.unwrap_or_else(|e| panic!("mode {}: {violation:?} allowed: {e}", row.mode));
            }
        };
        judged(row.floor, ModeViolation::Floor, &|c| {
            c.new_floor_seq_number = Some(0)
        });
        judged(row.specialist_floor, ModeViolation::SpecialistFloor, &|c| {
            c.new_specialist_floor_seq_numbers = Some(SeqOf::from_slice(&SPECIALISTS))
        });
        judged(row.other_floors, ModeViolation::OtherFloors, &|c| {
            c.other_seq_number_changes = Some(SeqOf::from_slice(&OTHERS))
        });
        // [1] is allowed everywhere.
        build_with(row, |c, _| {
            c.apply_time_based_cpv_checks = Some(gbcs::payload::TimeBasedCpvChecks::DISAPPLY)
        })
        .expect("[1] allowed");
    }
}

#[test]
fn each_mode_refuses_a_seq_number_that_is_not_the_counter() {
    for row in &MODE_RULES {
        for seq in [COUNTER - 1, COUNTER + 1, 0] {
            assert_eq!(
                refused(build_with(row, |c, _| c.authorising_seq_number = seq)),
                ModeViolation::SeqNumber {
                    counter: COUNTER,
                    found: seq
                }
            );
        }
    }
}

#[test]
fn the_builder_refuses_a_signature_or_mac_the_protection_does_not_have() {
    let signer = SigningKey::from_scalar(&[0x11; 32]).expect("key");
    let acb = KeyAgreementKey::from_scalar(&[0x22; 32]).expect("key");
    let meter = KeyAgreementKey::from_scalar(&[0x33; 32]).expect("key");
    let z = acb.agree(&meter.public_key()).expect("z");
    for row in &MODE_RULES {
        with_row_command(
            row,
            |_, _| {},
            |payload| {
                let h = header(row.message_code);
                let build = |sign: bool, mac: bool| {
                    message::build_command(
                        &h,
                        payload,
                        sign.then_some(&signer as &dyn gbcs::crypto::SignatureSigner),
                        mac.then_some(&z),
                    )
                };
                match row.protection {
                    Protection::MacOnly => {
                        assert_eq!(refused(build(true, true)), ModeViolation::Signature);
                        build(false, true).expect("MAC only");
                    }
                    Protection::SignatureOnly => {
                        assert_eq!(refused(build(true, true)), ModeViolation::Mac);
                        build(true, false).expect("signature only");
                    }
                    Protection::SignatureAndMac => {
                        build(true, true).expect("both");
                    }
                }
            },
        );
        // And a parsed command is judged by the same rule.
        assert_eq!(
            row.check_protection(!row.protection.signed(), row.protection.macd()),
            Err(ModeViolation::Signature)
        );
        assert_eq!(
            row.check_protection(row.protection.signed(), !row.protection.macd()),
            Err(ModeViolation::Mac)
        );
    }
}

#[test]
fn a_cs02_message_code_never_carries_another_payload() {
    for code in [0x0008u16, 0x011B, 0x0106, 0x0107, 0x0125] {
        let e = message::build_precommand(
            &header(gbcs::frame::MessageCode(code)),
            &Payload::Other(&[0x30, 0x00]),
        )
        .expect_err("refused");
        assert_eq!(
            e,
            GbcsError::ModeRule(ModeViolation::NotACs02bPayload),
            "{code:04X}"
        );
    }
    // Other message codes carry their bytes untouched.
    message::build_precommand(
        &header(gbcs::frame::MessageCode(0x0060)),
        &Payload::Other(&[0x30, 0x00]),
    )
    .expect("another use case's payload");
}
