//! The simulated meter applies the CS02b mode table as a meter does: commands forged past the
//! builder — another `[2]`, a target the mode may not replace, a forbidden field, the wrong
//! protection, a foreign signer, a used counter — are refused with no cell and no counter
//! changed; a property test over random mode × signer × target × fields × protection holds
//! the same for every combination.

#[path = "support/sim_modes_common.rs"]
mod common;

use common::*;
use gbcs::payload::modes::{self, ModeViolation};
use gbcs::payload::{
    CertificateDer, CredentialsReplacementMode, KeyUsage, RemotePartyRole,
    RemotePartySeqNumberChange, SeqOf, SpecialistSeqNumber, TrustAnchorCellIdentifier,
    TrustAnchorReplacement, UpdateSecurityCredentialsCommand,
};
use gbcs::sim::pki::ids;
use gbcs::sim::{Rejection, Reply};
use proptest::prelude::*;

#[test]
fn an_acb_command_naming_the_tcos_cell_cannot_replace_it() {
    // The case found by hand: mode 4 (the ACB replacing its own key, MAC only) carrying
    // [2] = {transitionalCoS, DS} and aiming at the role-5 cell.
    let pki = pki();
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(&pki.ecos.ds.certificate),
        target_cell: TCOS_DS,
    }];
    let cmd = UpdateSecurityCredentialsCommand {
        control: control(4, Some(TCOS_DS), 50),
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&[]),
        execution_date_time: None,
    };
    let code = gbcs::frame::MessageCode(0x0104);
    refused_unchanged(
        &forge(code, 50, pki.acb.entity_id, &cmd, None, true),
        Rejection::ModeRule(ModeViolation::AuthorisingCell {
            expected: None,
            found: Some(TCOS_DS),
        }),
    );
    // Without [2], the target is still not the ACB's to replace.
    let cmd = UpdateSecurityCredentialsCommand {
        control: control(4, None, 50),
        ..cmd
    };
    refused_unchanged(
        &forge(code, 50, pki.acb.entity_id, &cmd, None, true),
        Rejection::ModeRule(ModeViolation::Target(TCOS_DS)),
    );
}

#[test]
fn supplier_by_supplier_cannot_replace_another_roles_cell() {
    let pki = pki();
    let supplier_ds =
        TrustAnchorCellIdentifier::new(RemotePartyRole::SUPPLIER, KeyUsage::DIGITAL_SIGNATURE);
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(&pki.ecos.ds.certificate),
        target_cell: TCOS_DS,
    }];
    let cmd = UpdateSecurityCredentialsCommand {
        control: control(2, Some(supplier_ds), 60),
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&[]),
        execution_date_time: None,
    };
    refused_unchanged(
        &forge(
            gbcs::frame::MessageCode(0x0102),
            60,
            pki.supplier_a.entity_id,
            &cmd,
            Some(&pki.supplier_a.ds.key),
            true,
        ),
        Rejection::ModeRule(ModeViolation::Target(TCOS_DS)),
    );
}

#[test]
fn trans_cos_by_trans_cos_refuses_forbidden_fields_wrong_protection_foreign_signers_and_replays() {
    let pki = pki();
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(&pki.ecos.ds.certificate),
        target_cell: TCOS_DS,
    }];
    let specialists = [SpecialistSeqNumber {
        usage: gbcs::payload::SeqNumberUsage::PREPAYMENT_TOP_UP,
        seq_number: 0,
    }];
    let base = |counter: u64| UpdateSecurityCredentialsCommand {
        control: control(6, Some(TCOS_DS), counter),
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&path),
        execution_date_time: None,
    };
    let code = gbcs::frame::MessageCode(0x0106);
    let tcos = pki.tcos.entity_id;
    // [5] belongs to supplierBySupplier only.
    let mut with_specialist = base(70);
    with_specialist.control.new_specialist_floor_seq_numbers =
        Some(SeqOf::from_slice(&specialists));
    refused_unchanged(
        &forge(
            code,
            70,
            tcos,
            &with_specialist,
            Some(&pki.tcos.ds.key),
            true,
        ),
        Rejection::ModeRule(ModeViolation::SpecialistFloor),
    );
    // [6] only where the mode replaces another role's cells.
    let others = [RemotePartySeqNumberChange {
        role: RemotePartyRole::SUPPLIER,
        floor_seq_number: 0,
        specialist_floor_seq_numbers: None,
    }];
    let mut with_others = base(70);
    with_others.control.other_seq_number_changes = Some(SeqOf::from_slice(&others));
    refused_unchanged(
        &forge(code, 70, tcos, &with_others, Some(&pki.tcos.ds.key), true),
        Rejection::ModeRule(ModeViolation::OtherFloors),
    );
    // No MAC, no signature, a foreign signature, [3] not the counter.
    refused_unchanged(
        &forge(code, 70, tcos, &base(70), Some(&pki.tcos.ds.key), false),
        Rejection::MissingMac,
    );
    refused_unchanged(
        &forge(code, 70, tcos, &base(70), None, true),
        Rejection::NotSigned,
    );
    refused_unchanged(
        &forge(
            code,
            70,
            tcos,
            &base(70),
            Some(&pki.supplier_a.ds.key),
            true,
        ),
        Rejection::BadSignature,
    );
    refused_unchanged(
        &forge(code, 70, tcos, &base(71), Some(&pki.tcos.ds.key), true),
        Rejection::SeqNumberMismatch,
    );
    // Accepted once; the same counter again is a replay, refused with nothing changed (the
    // TCoS party renews its own certificate, so its key still authorises the second try).
    let same = [TrustAnchorReplacement {
        certificate: CertificateDer(&pki.tcos.ds.certificate),
        target_cell: TCOS_DS,
    }];
    let renewal = UpdateSecurityCredentialsCommand {
        replacements: SeqOf::from_slice(&same),
        ..base(70)
    };
    let good = forge(code, 70, tcos, &renewal, Some(&pki.tcos.ds.key), true);
    let mut m = meter();
    assert!(matches!(m.process(&good), Reply::Response(_)));
    let before = state(&m);
    assert_eq!(
        m.process(&good),
        Reply::Rejected(Rejection::Replay {
            counter: 70,
            stored: 70
        })
    );
    assert_eq!(state(&m), before);
}

#[test]
fn recovery_commands_carry_no_mac() {
    let pki = pki();
    let recovery_ds =
        TrustAnchorCellIdentifier::new(RemotePartyRole::RECOVERY, KeyUsage::DIGITAL_SIGNATURE);
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(&pki.ecos.ds.certificate),
        target_cell: TCOS_DS,
    }];
    let cmd = UpdateSecurityCredentialsCommand {
        control: control(8, Some(recovery_ds), 80),
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&[]),
        execution_date_time: None,
    };
    refused_unchanged(
        &forge(
            gbcs::frame::MessageCode(0x0108),
            80,
            pki.tcos.entity_id,
            &cmd,
            Some(&pki.tcos.ds.key),
            true,
        ),
        Rejection::ModeRule(ModeViolation::Mac),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn whatever_the_mode_signer_target_and_fields_a_refusal_changes_nothing(
        mode in 0..12u8,
        cell in prop::option::of(0..15usize),
        signer in 0..4usize,
        target in 0..15usize,
        floor in any::<bool>(),
        others in any::<bool>(),
        mac in any::<bool>(),
        counter in 1..200u64,
        tidy in any::<bool>(),
    ) {
        let pki = pki();
        let all = cells();
        let row = modes::rule(CredentialsReplacementMode(mode)).expect("row");
        // Half the cases take the mode's own [2] and fields, so that acceptance is reached too.
        let (cell, floor, others) = if tidy {
            (
                row.authorising_cell,
                floor && row.floor != modes::FieldRule::Forbidden,
                others && row.other_floors != modes::FieldRule::Forbidden,
            )
        } else {
            (cell.and_then(|i| all.get(i).copied()), floor, others)
        };
        // Tidy cases aim at a cell the mode may replace, with the mode's protection, signed by
        // the occupant of its authorising cell when the meter has one (TCoS, supplier).
        let allowed: Vec<_> = all.iter().copied().filter(|c| row.targets.contains(c)).collect();
        let target = if tidy && !allowed.is_empty() {
            allowed[target % allowed.len()]
        } else {
            all[target % all.len()]
        };
        let mac = if tidy { row.protection.macd() } else { mac };
        let signer = match (tidy, row.authorising_cell) {
            (true, Some(c)) if c == TCOS_DS => 0,
            (true, Some(c)) if c.role == RemotePartyRole::SUPPLIER => 1,
            _ => signer,
        };
        let replacements = [TrustAnchorReplacement {
            certificate: CertificateDer(&pki.ecos.ds.certificate),
            target_cell: target,
        }];
        let path = [CertificateDer(&pki.issuing_ca.certificate)];
        let changes = [RemotePartySeqNumberChange {
            role: RemotePartyRole::SUPPLIER,
            floor_seq_number: 0,
            specialist_floor_seq_numbers: None,
        }];
        let mut ctl = control(mode, cell, counter);
        ctl.new_floor_seq_number = floor.then_some(0);
        ctl.other_seq_number_changes = others.then(|| SeqOf::from_slice(&changes));
        let cmd = UpdateSecurityCredentialsCommand {
            control: ctl,
            replacements: SeqOf::from_slice(&replacements),
            certification_path: SeqOf::from_slice(&path),
            execution_date_time: None,
        };
        let keys = [Some(&pki.tcos.ds.key), Some(&pki.supplier_a.ds.key), Some(&pki.ecos.ds.key), None];
        let bytes = forge(row.message_code, counter, pki.tcos.entity_id, &cmd, keys[signer], mac);
        let mut m = meter();
        let before = state(&m);
        match m.process(&bytes) {
            Reply::Response(_) => {
                // Accepted: the table allowed it, the protection was the mode's, and the
                // signer was the occupant of the mode's authorising cell.
                prop_assert_eq!(modes::check(row.message_code, &cmd, counter), Ok(()));
                prop_assert_eq!(row.check_protection(keys[signer].is_some(), mac), Ok(()));
                if row.protection.signed() {
                    let fresh = meter();
                    let occupant = row
                        .authorising_cell
                        .and_then(|c| fresh.cell(c))
                        .and_then(|c| c.public_key.clone());
                    let signed_by = keys[signer].map(|k| k.public_key());
                    prop_assert!(occupant.is_some() && occupant == signed_by, "signed by the cell's occupant");
                }
            }
            Reply::Rejected(_) => prop_assert_eq!(state(&m), before),
            Reply::Silent => prop_assert!(false, "no faults injected"),
        }
    }
}

#[test]
fn for_each_mode_every_wrong_signer_mac_target_field_and_counter_is_refused_with_nothing_changed() {
    let pki = pki();
    let m = meter();
    let acb_z = pki.acb_secret(METER).expect("z");
    // A MAC from another pair: the ACB's key with another device's.
    let other_z = pki.acb_secret(ids::device(2)).expect("z");
    let mut refused = 0;
    let mut accepted = Vec::new();
    for row in modes::MODE_RULES.iter() {
        let mode = row.mode.0;
        // The key in the mode's authorising cell (the occupant), if the meter has one.
        let occupant = row
            .authorising_cell
            .and_then(|c| m.cell(c))
            .and_then(|c| c.public_key.clone());
        let Some(target) = cells()
            .into_iter()
            .find(|c| row.targets.contains(c) && m.cell(*c).is_some())
        else {
            continue;
        };
        let good_signer = signers()
            .into_iter()
            .find(|k| Some(k.public_key()) == occupant);
        let base = Knobs {
            cell: row.authorising_cell,
            target,
            floor: false,
            others: false,
            signer: if row.protection.signed() {
                good_signer
            } else {
                None
            },
            mac: row.protection.macd().then(|| acb_z.clone()),
            counter: 500,
            stored: 0,
        };
        let mut expect_refused = |k: Knobs, what: &str| {
            let (reply, unchanged) = send(mode, &k);
            assert!(
                matches!(reply, Reply::Rejected(_)),
                "mode {mode}, {what}: {reply:?}"
            );
            assert!(
                unchanged,
                "mode {mode}, {what}: a refusal changed the meter"
            );
            refused += 1;
        };
        // Signed with every other key.
        if row.protection.signed() {
            for k in signers() {
                if Some(k.public_key()) != occupant {
                    expect_refused(
                        Knobs {
                            signer: Some(k),
                            ..Knobs {
                                mac: base.mac.clone(),
                                ..base
                            }
                        },
                        "another signer",
                    );
                }
            }
        }
        // MAC'd with another pair, or missing where needed, or present where forbidden.
        if row.protection.macd() {
            expect_refused(
                Knobs {
                    mac: Some(other_z.clone()),
                    ..Knobs { mac: None, ..base }
                },
                "another pair's MAC",
            );
            expect_refused(Knobs { mac: None, ..base }, "no MAC");
        } else {
            expect_refused(
                Knobs {
                    mac: Some(acb_z.clone()),
                    ..base
                },
                "a MAC the mode has not",
            );
        }
        // Each forbidden target.
        for c in cells() {
            if !row.targets.contains(&c) {
                expect_refused(
                    Knobs {
                        target: c,
                        mac: base.mac.clone(),
                        ..base
                    },
                    "a forbidden target",
                );
            }
        }
        // Each forbidden field.
        if row.floor == modes::FieldRule::Forbidden {
            expect_refused(
                Knobs {
                    floor: true,
                    mac: base.mac.clone(),
                    ..base
                },
                "[4]",
            );
        }
        if row.other_floors == modes::FieldRule::Forbidden {
            expect_refused(
                Knobs {
                    others: true,
                    mac: base.mac.clone(),
                    ..base
                },
                "[6]",
            );
        }
        // A used counter.
        if row.authorising_cell.is_some() {
            expect_refused(
                Knobs {
                    stored: 500,
                    mac: base.mac.clone(),
                    ..base
                },
                "a used counter",
            );
        }
        // And the good one is taken, where the meter holds the authorising key.
        if good_signer.is_some() || !row.protection.signed() {
            let (reply, _) = send(mode, &base);
            assert!(
                matches!(reply, Reply::Response(_)),
                "mode {mode}: {reply:?}"
            );
            accepted.push(mode);
        }
    }
    assert!(refused > 100, "{refused} refusals");
    // The modes the meter has the cells for: the supplier's, the network operator's, the
    // ACB's, the WAN provider's, the TCoS party's, recovery and contingency (the root).
    for mode in [2, 3, 4, 5, 6, 7, 8, 9] {
        assert!(
            accepted.contains(&mode),
            "mode {mode} never accepted: {accepted:?}"
        );
    }
}
