//! SRV 6.23 along the ETMAD split on a simulated meter: an unknown meter is queried first and
//! its CS02a answer resolves the route; on a TCoS meter the TCoS-signed 0x0107 is accepted and
//! the supplier cells change; after migration the ECoS-signed one is accepted, while a
//! TCoS-signed one is refused by the router and builder and rejected by the meter.

use gbcs::cos::classify::{self, UnknownReason};
use gbcs::cos::command::{credential_query, Execution, MigrationCommand};
use gbcs::cos::route::{route, DeviceType, Refusal, Route, RoutePolicy};
use gbcs::cos::{BuildError, CosParty, CosRegistry, CosState, EvidenceSource};
use gbcs::message::{self, CommandHeader};
use gbcs::payload::{
    CertificateDer, KeyUsage, RemotePartyRole, StatusCode, TrustAnchorCellIdentifier,
};
use gbcs::sim::pki::ids;
use gbcs::sim::{Rejection, Reply, SimDevice, TestPki};

const CLOCK: i64 = 1_700_000_000;
const METER: gbcs::frame::EntityId = ids::device(3);
const SUPPLIER_DS: TrustAnchorCellIdentifier =
    TrustAnchorCellIdentifier::new(RemotePartyRole::SUPPLIER, KeyUsage::DIGITAL_SIGNATURE);

fn setup() -> (TestPki, CosRegistry, SimDevice) {
    let pki = TestPki::generate(b"routing tests").expect("pki");
    let mut registry = CosRegistry::new();
    registry
        .add_certificate(CosParty::Tcos, &pki.tcos.ds.certificate)
        .expect("TCoS certificate");
    registry
        .add_certificate(CosParty::Ecos, &pki.ecos.ds.certificate)
        .expect("ECoS certificate");
    let meter = pki
        .meter(METER, &pki.supplier_a, &pki.tcos, CLOCK)
        .expect("meter");
    (pki, registry, meter)
}

fn response(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[test]
fn srv_6_23_before_and_after_migration() {
    let (pki, registry, mut meter) = setup();
    let policy = RoutePolicy::default();
    let z = pki.acb_secret(METER).expect("z");
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let tcos = pki.tcos.signer();
    let ecos = pki.ecos.signer();

    // Nothing known: query first; the CS02a answer resolves the route.
    assert_eq!(
        route(METER, DeviceType::Esme, None, &policy),
        Route::QueryFirst { device: METER }
    );
    let q = credential_query(pki.acb.entity_id, METER, 1, &z).expect("query");
    let answer = response(meter.process(&q));
    let answer = gbcs::parse(&answer).expect("parse");
    answer.verify_mac(&z).expect("MAC");
    let known = classify::from_credential_details(&registry, &answer).expect("evidence");
    assert_eq!(known.state, CosState::Tcos);
    assert_eq!(
        known.evidence.source,
        EvidenceSource::CredentialDetailsResponse
    );
    let r = route(METER, DeviceType::Esme, Some(&known), &policy);
    assert_eq!(
        r,
        Route::Tcos {
            credential: Some(pki.tcos.credential()),
            signed_by: CosParty::Tcos
        }
    );

    // TCoS path: the ECoS party may not sign; the TCoS party's 0x0107 is accepted.
    assert!(matches!(
        pki.supplier_b
            .change_of_supplier_to(METER, &path, Execution::Immediate)
            .build(&r, &registry, &ecos, 10, &z),
        Err(BuildError::WrongSigner { .. })
    ));
    let cmd = pki
        .supplier_b
        .change_of_supplier_to(METER, &path, Execution::Immediate)
        .build(&r, &registry, &tcos, 10, &z)
        .expect("build");
    let rsp_bytes = response(meter.process(&cmd));
    let rsp = gbcs::parse(&rsp_bytes).expect("parse");
    rsp.verify_signature(&meter.ds_public_key())
        .expect("device signature");
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_B)
    );
    let from_cmd = classify::from_accepted_command(
        &registry,
        &gbcs::parse(&cmd).expect("parse"),
        &rsp,
        Some(pki.tcos.ds.key_id),
    )
    .expect("evidence");
    assert_eq!(from_cmd.state, CosState::Tcos);

    // Migration.
    let migration = MigrationCommand::new(
        &registry,
        CertificateDer(&pki.ecos.ds.certificate),
        &path,
        Some(0),
        true,
    )
    .expect("ECoS");
    let m = migration
        .build(&registry, METER, pki.tcos.credential(), &tcos, 11, &z)
        .expect("0x0106");
    let outcome_bytes = response(meter.process(&m));
    let outcome = gbcs::parse(&outcome_bytes).expect("parse");
    let now = classify::from_update_outcome(&registry, &outcome).expect("evidence");
    assert_eq!(now.state, CosState::Ecos);
    // The migration outcome is newer than the CS02a reading and replaces it; an inventory
    // hint never replaces a device reading, and always yields to one.
    assert!(now.supersedes(&known));
    let hint = classify::from_inventory(METER, CosParty::Tcos);
    assert!(!hint.supersedes(&now));
    assert!(now.supersedes(&hint));
    let r = route(METER, DeviceType::Esme, Some(&now), &policy);
    assert_eq!(
        r,
        Route::Ecos {
            credential: Some(pki.ecos.credential())
        }
    );

    // ECoS path: the TCoS party is refused by the builder …
    assert!(matches!(
        pki.supplier_a
            .change_of_supplier_to(METER, &path, Execution::Immediate)
            .build(&r, &registry, &tcos, 12, &z),
        Err(BuildError::WrongSigner { .. })
    ));
    // … and rejected by the meter if sent anyway.
    let command = pki
        .supplier_a
        .change_of_supplier_to(METER, &path, Execution::Immediate)
        .payload(12)
        .expect("0x0107 payload");
    let header = CommandHeader {
        message_code: gbcs::frame::MessageCode::CS02B_SUPPLIER_BY_TRANS_COS,
        counter: 12,
        originator: pki.tcos.entity_id,
        recipient: METER,
    };
    let forced = message::build_command(
        &header,
        &command.payload(),
        Some(&pki.tcos.ds.key),
        Some(&z),
    )
    .expect("build");
    assert_eq!(
        meter.process(&forced),
        Reply::Rejected(Rejection::BadSignature)
    );
    // The ECoS party's 0x0107 is accepted (its counter starts above the floor the migration set).
    let cmd = pki
        .supplier_a
        .change_of_supplier_to(METER, &path, Execution::Immediate)
        .build(&r, &registry, &ecos, 1, &z)
        .expect("build");
    let rsp_bytes = response(meter.process(&cmd));
    let rsp = gbcs::parse(&rsp_bytes).expect("parse");
    let gbcs::payload::Payload::UpdateSecurityCredentialsResponse(u) = rsp.payload() else {
        panic!()
    };
    assert!(u
        .execution_outcome
        .expect("outcome")
        .replacement_outcomes
        .iter()
        .all(|o| o.status == StatusCode::SUCCESS));
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_A)
    );
    // That 0x0107's outcome does not name {5, DS}: it says nothing of the cell and replaces
    // nothing.
    let silent = classify::from_update_outcome(&registry, &rsp).expect("evidence");
    assert_eq!(
        silent.state,
        CosState::Unknown(UnknownReason::NoCell { status: None })
    );
    assert!(!silent.supersedes(&now));
    // A fresh CS02a reading replaces the outcome; the first reading (lower ACB counter), if it
    // arrived late, would not replace the fresh one.
    let answer_bytes =
        response(meter.process(&credential_query(pki.acb.entity_id, METER, 2, &z).expect("query")));
    let fresh =
        classify::from_credential_details(&registry, &gbcs::parse(&answer_bytes).expect("parse"))
            .expect("evidence");
    assert_eq!(fresh.state, CosState::Ecos);
    assert!(fresh.supersedes(&now));
    assert!(!known.supersedes(&fresh));
}

#[test]
fn refusals_stranded_devices_non_targets_and_unresolved_readings() {
    let (pki, registry, _) = setup();
    let tcos_known = classify::from_inventory(METER, CosParty::Tcos);
    let withdrawn = RoutePolicy {
        tcos_signing_available: false,
        tcos_keys_held_by: CosParty::Tcos,
    };
    assert_eq!(
        route(METER, DeviceType::Gsme, Some(&tcos_known), &withdrawn),
        Route::Refused(Refusal::StrandedTcos)
    );
    let transferred = RoutePolicy {
        tcos_signing_available: false,
        tcos_keys_held_by: CosParty::Ecos,
    };
    assert_eq!(
        route(METER, DeviceType::Gsme, Some(&tcos_known), &transferred),
        Route::Tcos {
            credential: None,
            signed_by: CosParty::Ecos
        }
    );
    for t in [
        DeviceType::Ppmid,
        DeviceType::Ihd,
        DeviceType::Cad,
        DeviceType::Hcalcs,
    ] {
        assert_eq!(
            route(METER, t, None, &RoutePolicy::default()),
            Route::Refused(Refusal::NotCosTarget(t))
        );
    }
    // A meter whose role-5 cell holds neither party: the reading does not resolve it.
    let rogue = TestPki::generate(b"rogue").expect("pki");
    let mut meter = pki
        .meter(METER, &pki.supplier_a, &rogue.tcos, CLOCK)
        .expect("meter");
    let z = pki.acb_secret(METER).expect("z");
    let answer =
        response(meter.process(&credential_query(pki.acb.entity_id, METER, 1, &z).expect("query")));
    let c = classify::from_credential_details(&registry, &gbcs::parse(&answer).expect("parse"))
        .expect("evidence");
    // Another PKI's TCoS party has the TCoS entity ID but an unknown key: TCoS, by entity only.
    assert_eq!(
        (c.state, c.matched),
        (CosState::Tcos, Some(gbcs::cos::MatchKind::EntityOnly))
    );
    // A credential of neither party.
    meter.install(
        TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
        gbcs::sim::Cell {
            entity_id: gbcs::frame::EntityId::from_u64(0x1234),
            key_id: rogue.tcos.ds.key_id,
            public_key: None,
        },
    );
    let answer =
        response(meter.process(&credential_query(pki.acb.entity_id, METER, 2, &z).expect("query")));
    let c = classify::from_credential_details(&registry, &gbcs::parse(&answer).expect("parse"))
        .expect("evidence");
    assert_eq!(c.state, CosState::Unknown(UnknownReason::Unrecognised));
    assert_eq!(
        route(METER, DeviceType::Esme, Some(&c), &RoutePolicy::default()),
        Route::Refused(Refusal::Unresolved(UnknownReason::Unrecognised))
    );
    // An inventory-only TCoS route accepts any registered TCoS credential, nothing else.
    let r = route(
        METER,
        DeviceType::Esme,
        Some(&tcos_known),
        &RoutePolicy::default(),
    );
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let ecos = pki.ecos.signer();
    assert!(matches!(
        pki.supplier_b
            .change_of_supplier_to(METER, &path, Execution::Immediate)
            .build(&r, &registry, &ecos, 3, &z),
        Err(BuildError::WrongSigner { expected: None, .. })
    ));
}

#[test]
fn a_migration_certificate_must_be_an_ecos_role_5_ds_certificate() {
    let (pki, registry, _) = setup();
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    for (name, der) in [
        ("TCoS", &pki.tcos.ds.certificate),
        ("ECoS KA", &pki.ecos.ka.certificate),
        ("supplier", &pki.supplier_a.ds.certificate),
        ("garbage", &vec![0x30, 0x00]),
    ] {
        assert_eq!(
            MigrationCommand::new(&registry, CertificateDer(der), &path, Some(0), true).err(),
            Some(BuildError::NotEcosCertificate),
            "{name}"
        );
    }
    let m = MigrationCommand::new(
        &registry,
        CertificateDer(&pki.ecos.ds.certificate),
        &path,
        Some(0),
        true,
    )
    .expect("ECoS");
    let z = pki.acb_secret(METER).expect("z");
    let ecos = pki.ecos.signer();
    // Only the TCoS credential in the cell may sign the migration.
    assert!(matches!(
        m.build(&registry, METER, pki.tcos.credential(), &ecos, 1, &z),
        Err(BuildError::WrongSigner { .. })
    ));
    assert!(matches!(
        m.build(&registry, METER, pki.ecos.credential(), &ecos, 1, &z),
        Err(BuildError::WrongSigner { .. })
    ));
}

#[test]
fn a_tcos_key_rollover_keeps_the_meter_tcos_and_moves_the_signing_key() {
    use gbcs::payload::{
        AuthorisingRemotePartyControl, CredentialsReplacementMode, Payload, SeqOf,
        TimeBasedCpvChecks, TrustAnchorReplacement, UpdateSecurityCredentialsCommand,
    };
    let (pki, mut registry, mut meter) = setup();
    let z = pki.acb_secret(METER).expect("z");
    let renewed = pki.renew_ds(&pki.tcos, 1).expect("renewed TCoS credential");
    assert_ne!(renewed.key_id, pki.tcos.ds.key_id);
    // As RTDS's transCoSByTransCoS: the TCoS key in the cell signs its own replacement.
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(&renewed.certificate),
        target_cell: TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
    }];
    let cmd = UpdateSecurityCredentialsCommand {
        control: AuthorisingRemotePartyControl {
            mode: CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
            plain_text_symmetric_key: None,
            apply_time_based_cpv_checks: Some(TimeBasedCpvChecks::DISAPPLY),
            authorising_cell: Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
            authorising_seq_number: 7,
            new_floor_seq_number: None,
            new_specialist_floor_seq_numbers: None,
            other_seq_number_changes: None,
        },
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&path),
        execution_date_time: None,
    };
    let header = CommandHeader {
        message_code: gbcs::frame::MessageCode::CS02B_TRANS_COS_BY_TRANS_COS,
        counter: 7,
        originator: ids::TCOS,
        recipient: METER,
    };
    let bytes = message::build_command(
        &header,
        &Payload::UpdateSecurityCredentialsCommand(cmd),
        Some(&pki.tcos.ds.key),
        Some(&z),
    )
    .expect("build");
    let rsp_bytes = response(meter.process(&bytes));
    let rsp = gbcs::parse(&rsp_bytes).expect("parse");
    // The new key is not registered yet: TCoS, by entity only; registered: TCoS by key.
    let c = classify::from_update_outcome(&registry, &rsp).expect("evidence");
    assert_eq!(
        (c.state, c.matched),
        (CosState::Tcos, Some(gbcs::cos::MatchKind::EntityOnly))
    );
    registry
        .add_certificate(CosParty::Tcos, &renewed.certificate)
        .expect("renewed certificate");
    let c = classify::from_update_outcome(&registry, &rsp).expect("evidence");
    assert_eq!(
        (c.state, c.matched),
        (CosState::Tcos, Some(gbcs::cos::MatchKind::Key))
    );
    // SRV 6.23 must now be signed with the renewed key: the old one is refused.
    let r = route(METER, DeviceType::Esme, Some(&c), &RoutePolicy::default());
    let req = pki
        .supplier_b
        .change_of_supplier_to(METER, &path, Execution::Immediate);
    assert!(matches!(
        req.build(&r, &registry, &pki.tcos.signer(), 8, &z),
        Err(BuildError::WrongSigner { .. })
    ));
    let renewed_signer = gbcs::cos::CosSigner {
        credential: gbcs::cos::Credential {
            entity_id: ids::TCOS,
            key_id: renewed.key_id,
        },
        signer: &renewed.key,
    };
    let cmd = req
        .build(&r, &registry, &renewed_signer, 8, &z)
        .expect("build");
    let rsp_bytes = response(meter.process(&cmd));
    gbcs::parse(&rsp_bytes)
        .expect("parse")
        .verify_signature(&meter.ds_public_key())
        .expect("device signature");
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_B)
    );
}
