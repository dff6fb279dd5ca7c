//! The test PKI and the simulated meter: the PKI is valid and deterministic; the meter takes a
//! change of supplier and a migration as a GBCS device does, refuses what a device refuses
//! (replays, foreign signatures, bad MACs, certificates that fail path validation), dates
//! commands in the future with their alerts, and fails on demand.

#[path = "support/sim_common.rs"]
mod common;
#[path = "support/cos.rs"]
mod cos;

use common::*;
use cos::{Options, T0};
use gbcs::crypto::{KeyAgreement, SharedSecret};
use gbcs::frame::{CraFlag, MessageCode};
use gbcs::payload::{
    AlertCode, CredentialsReplacementMode, GeneralizedTime, Payload, RemotePartyRole, StatusCode,
    TrustAnchorCellIdentifier, UpdateSecurityCredentialsResponse,
};
use gbcs::sim::pki::ids;
use gbcs::sim::{Rejection, Reply, TestPki};
use gbcs::smki::{validate_path, CertificateKind, SmkiCertificate};

#[test]
fn pki_is_deterministic_and_everything_it_issues_validates() {
    let a = pki();
    let b = pki();
    let c = TestPki::generate(b"another seed").expect("pki");
    assert_eq!(a.tcos.ds.certificate, b.tcos.ds.certificate);
    assert_eq!(
        a.device(METER).expect("device").ka.certificate,
        b.device(METER).expect("device").ka.certificate
    );
    assert_ne!(a.tcos.ds.certificate, c.tcos.ds.certificate);

    let anchor = a.root_anchor();
    let root = SmkiCertificate::from_der(&a.root.certificate).expect("root");
    assert_eq!(root.kind(), CertificateKind::Root);
    root.check_profile().expect("root profile");
    let org_path = [SmkiCertificate::from_der(&a.issuing_ca.certificate).expect("CA")];
    let dev_path = [SmkiCertificate::from_der(&a.device_ca.certificate).expect("device CA")];
    for party in a.parties() {
        let mut certs = vec![&party.ds.certificate, &party.ka.certificate];
        certs.extend(party.prepayment_ka.as_ref().map(|k| &k.certificate));
        for der in certs {
            let cert = SmkiCertificate::from_der(der).expect("parses");
            cert.check_profile().expect("profile");
            assert_eq!(
                cert.kind(),
                CertificateKind::Organisation {
                    role: party.role,
                    entity_id: party.entity_id
                }
            );
            validate_path(&cert, &org_path, &anchor, Some(T0)).expect("chains to the root");
        }
    }
    for n in 0..5 {
        let d = a.device(ids::device(n)).expect("device");
        for der in [&d.ds.certificate, &d.ka.certificate] {
            let cert = SmkiCertificate::from_der(der).expect("parses");
            cert.check_profile().expect("profile");
            assert_eq!(
                cert.kind(),
                CertificateKind::Device {
                    entity_id: ids::device(n)
                }
            );
            assert_eq!(cert.not_after_time().map(|t| t.year), Some(9999));
            validate_path(&cert, &dev_path, &anchor, Some(T0)).expect("chains");
        }
    }
    // The ECoS party is distinct from the TCoS party: own entity ID, own keys.
    assert_ne!(a.tcos.entity_id, a.ecos.entity_id);
    assert_ne!(a.tcos.ds.key_id, a.ecos.ds.key_id);
    assert_eq!(a.ecos.role, RemotePartyRole::TRANSITIONAL_COS);
}

#[test]
fn tcos_signed_supplier_by_trans_cos_replaces_the_supplier_cells() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let cmd = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        100,
        &Options::default(),
    );
    let rsp = response(meter.process(&cmd));
    assert_eq!(statuses(&meter, &rsp), vec![StatusCode::SUCCESS; 3]);
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| (c.entity_id, c.key_id)),
        Some((ids::SUPPLIER_B, pki.supplier_b.ds.key_id))
    );
    assert_eq!(meter.counter(RemotePartyRole::SUPPLIER), 0, "floor applied");
    assert_eq!(meter.counter(RemotePartyRole::TRANSITIONAL_COS), 100);
    let m = gbcs::parse(&rsp).expect("parse");
    let h = m.header();
    assert_eq!(
        (h.cra_flag, h.originator, h.recipient, h.originator_counter),
        (CraFlag::RESPONSE, METER, ids::TCOS, 100)
    );
    assert!(h.date_time.is_some());
}

#[test]
fn after_migration_only_the_ecos_party_can_change_supplier() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let migrate = cos::trans_cos_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.ecos,
        METER,
        50,
        &Options {
            own_floor: Some(0),
            ..Options::default()
        },
    );
    let rsp = response(meter.process(&migrate));
    assert_eq!(statuses(&meter, &rsp), vec![StatusCode::SUCCESS]);
    let cell = meter
        .cell(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
        .expect("cell");
    assert_eq!(
        (cell.entity_id, cell.key_id),
        (ids::ECOS, pki.ecos.ds.key_id)
    );
    assert_eq!(
        meter.counter(RemotePartyRole::TRANSITIONAL_COS),
        0,
        "floor for the incoming party"
    );

    let by_tcos = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        51,
        &Options::default(),
    );
    assert_eq!(
        meter.process(&by_tcos),
        Reply::Rejected(Rejection::BadSignature)
    );
    let by_ecos = cos::supplier_by_trans_cos(
        &pki,
        &pki.ecos,
        &pki.supplier_b,
        METER,
        1,
        &Options::default(),
    );
    let rsp = response(meter.process(&by_ecos));
    assert_eq!(statuses(&meter, &rsp), vec![StatusCode::SUCCESS; 3]);
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_B)
    );
}

#[test]
fn rejects_a_replayed_counter() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let first = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        7,
        &Options::default(),
    );
    response(meter.process(&first));
    assert_eq!(
        meter.process(&first),
        Reply::Rejected(Rejection::Replay {
            counter: 7,
            stored: 7
        })
    );
    let lower = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        6,
        &Options::default(),
    );
    assert_eq!(
        meter.process(&lower),
        Reply::Rejected(Rejection::Replay {
            counter: 6,
            stored: 7
        })
    );
}

#[test]
fn rejects_a_signature_by_a_party_not_in_the_authorising_cell() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let before: Vec<_> = meter.cells().map(|(k, v)| (*k, v.clone())).collect();
    let cmd = cos::supplier_by_trans_cos(
        &pki,
        &pki.ecos,
        &pki.supplier_b,
        METER,
        9,
        &Options::default(),
    );
    assert_eq!(
        meter.process(&cmd),
        Reply::Rejected(Rejection::BadSignature)
    );
    let after: Vec<_> = meter.cells().map(|(k, v)| (*k, v.clone())).collect();
    assert_eq!(before, after);
    assert_eq!(
        meter.counter(RemotePartyRole::TRANSITIONAL_COS),
        0,
        "a refused command does not move the counter"
    );
}

#[test]
fn rejects_a_bad_or_missing_mac() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let mut cmd = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        9,
        &Options::default(),
    );
    let last = cmd.len() - 1;
    cmd[last] ^= 1;
    assert_eq!(meter.process(&cmd), Reply::Rejected(Rejection::BadMac));
    let unmacd = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        9,
        &Options {
            mac: false,
            ..Options::default()
        },
    );
    assert_eq!(
        meter.process(&unmacd),
        Reply::Rejected(Rejection::MissingMac)
    );
    // A MAC keyed with another device's secret.
    let other = pki.acb_secret(ids::device(2)).expect("z");
    let m = gbcs::parse(&unmacd).expect("parse");
    let wrong =
        gbcs::message::add_mac(m.frame().general_signing().as_bytes(), &other).expect("mac");
    assert_eq!(meter.process(&wrong), Reply::Rejected(Rejection::BadMac));
    assert!(matches!(
        meter.process(&wrong[..10]),
        Reply::Rejected(Rejection::Malformed(_))
    ));
}

#[test]
fn a_replacement_that_fails_path_validation_gets_status_10_and_changes_nothing() {
    let pki = pki();
    let rogue = TestPki::generate(b"rogue").expect("pki");
    let mut meter = tcos_meter(&pki);
    let before = meter.cell(SUPPLIER_DS).expect("cell").clone();
    let opts = Options {
        certificate_override: Some(rogue.supplier_b.ds.certificate.clone()),
        ..Options::default()
    };
    let cmd = cos::supplier_by_trans_cos(&pki, &pki.tcos, &pki.supplier_b, METER, 3, &opts);
    let rsp = response(meter.process(&cmd));
    assert_eq!(
        statuses(&meter, &rsp),
        vec![
            StatusCode::NO_TRUST_ANCHOR,
            StatusCode::SUCCESS,
            StatusCode::SUCCESS
        ]
    );
    assert_eq!(*meter.cell(SUPPLIER_DS).expect("cell"), before);
    // A certificate of the wrong role for the cell is a bad certificate.
    let opts = Options {
        certificate_override: Some(pki.network_operator.ds.certificate.clone()),
        ..Options::default()
    };
    let cmd = cos::supplier_by_trans_cos(&pki, &pki.tcos, &pki.supplier_b, METER, 4, &opts);
    assert_eq!(run(&mut meter, &cmd)[0], StatusCode::BAD_CERTIFICATE);
}

#[test]
fn time_based_checks_apply_unless_disapplied() {
    let pki = pki();
    // 2041: after the organisation certificates expire.
    let late = 2_240_000_000;
    let mut meter = pki
        .meter(METER, &pki.supplier_a, &pki.tcos, late)
        .expect("meter");
    let cmd = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        3,
        &Options::default(),
    );
    assert_eq!(run(&mut meter, &cmd), vec![StatusCode::NO_TRUST_ANCHOR; 3]);
    let cmd = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        4,
        &Options {
            disapply_time_checks: true,
            ..Options::default()
        },
    );
    assert_eq!(run(&mut meter, &cmd), vec![StatusCode::SUCCESS; 3]);
}

#[test]
fn future_dated_commands_wait_for_their_time_and_raise_an_alert() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let at = GeneralizedTime::from_unix_seconds(T0 + 3600).expect("time");
    let cmd = cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        20,
        &Options {
            execution: Some(at),
            ..Options::default()
        },
    );
    let rsp = response(meter.process(&cmd));
    let m = gbcs::parse(&rsp).expect("parse");
    assert_eq!(
        m.payload(),
        &Payload::UpdateSecurityCredentialsResponse(UpdateSecurityCredentialsResponse {
            execution_outcome: None
        })
    );
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_A)
    );
    assert!(meter.advance_to(T0 + 3599).is_empty());
    let alerts = meter.advance_to(T0 + 3600);
    assert_eq!(alerts.len(), 1);
    let alert = gbcs::parse(&alerts[0]).expect("alert parses");
    alert
        .verify_signature(&meter.ds_public_key())
        .expect("device signature");
    let h = alert.header();
    assert_eq!(
        (h.cra_flag, h.message_code(), h.recipient, h.date_time),
        (CraFlag::ALERT, MessageCode::CS02B_ALERT, ids::TCOS, None)
    );
    let Payload::UpdateSecurityCredentialsAlert(a) = alert.payload() else {
        panic!("not an alert")
    };
    assert_eq!(a.alert_code, AlertCode::FUTURE_DATED_SUCCESS);
    assert_eq!(a.execution_date_time, at);
    assert_eq!(a.execution_outcome.authorising_seq_number, 20);
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_B)
    );
    assert!(meter.advance_to(T0 + 7200).is_empty(), "executed once");
}

#[test]
fn a_failed_future_dated_command_shows_only_in_its_alert() {
    let pki = pki();
    let rogue = TestPki::generate(b"rogue").expect("pki");
    let mut meter = tcos_meter(&pki);
    let at = GeneralizedTime::from_unix_seconds(T0 + 60).expect("time");
    let opts = Options {
        execution: Some(at),
        certificate_override: Some(rogue.supplier_b.ds.certificate.clone()),
        ..Options::default()
    };
    response(meter.process(&cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        20,
        &opts,
    )));
    let alerts = meter.advance_to(T0 + 60);
    let alert = gbcs::parse(&alerts[0]).expect("alert");
    let Payload::UpdateSecurityCredentialsAlert(a) = alert.payload() else {
        panic!("not an alert")
    };
    assert_eq!(a.alert_code, AlertCode::FUTURE_DATED_FAILURE);
    let statuses: Vec<_> = a
        .execution_outcome
        .replacement_outcomes
        .iter()
        .map(|o| o.status)
        .collect();
    assert_eq!(
        statuses,
        vec![
            StatusCode::NO_TRUST_ANCHOR,
            StatusCode::SUCCESS,
            StatusCode::SUCCESS
        ]
    );
}

#[test]
fn the_never_date_cancels_a_pending_command() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let at = GeneralizedTime::from_unix_seconds(T0 + 60).expect("time");
    response(meter.process(&cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        20,
        &Options {
            execution: Some(at),
            ..Options::default()
        },
    )));
    assert_eq!(meter.pending_at(), Some(T0 + 60));
    let cancel = Options {
        execution: Some(GeneralizedTime::CANCELLATION),
        ..Options::default()
    };
    let rsp = response(meter.process(&cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        21,
        &cancel,
    )));
    assert!(
        matches!(gbcs::parse(&rsp).expect("parse").payload(), Payload::UpdateSecurityCredentialsResponse(r) if r.execution_outcome.is_none())
    );
    assert_eq!(meter.pending_at(), None);
    assert!(meter.advance_to(T0 + 120).is_empty());
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_A)
    );
}

#[test]
fn injected_failures_busy_silent_fault_and_certificate_rejection() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let cmd = |n| {
        cos::supplier_by_trans_cos(
            &pki,
            &pki.tcos,
            &pki.supplier_b,
            METER,
            n,
            &Options::default(),
        )
    };
    meter.faults.busy = 1;
    assert_eq!(
        run(&mut meter, &cmd(1)),
        vec![StatusCode::RESOURCES_BUSY; 3]
    );
    assert_eq!(
        meter.cell(SUPPLIER_DS).map(|c| c.entity_id),
        Some(ids::SUPPLIER_A)
    );
    meter.faults.silent = 1;
    assert_eq!(meter.process(&cmd(2)), Reply::Silent);
    meter.faults.fault_status = Some(StatusCode::INSUFFICIENT_MEMORY);
    assert_eq!(
        run(&mut meter, &cmd(3)),
        vec![StatusCode::INSUFFICIENT_MEMORY; 3]
    );
    meter.faults.fault_status = None;
    meter.faults.reject_certificates = true;
    assert_eq!(
        run(&mut meter, &cmd(4)),
        vec![StatusCode::BAD_CERTIFICATE; 3]
    );
    meter.faults.reject_certificates = false;
    assert_eq!(run(&mut meter, &cmd(5)), vec![StatusCode::SUCCESS; 3]);
}

#[test]
fn responses_use_the_device_length_form_unless_switched_off() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let rsp = response(meter.process(&cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_b,
        METER,
        1,
        &Options::default(),
    )));
    let m = gbcs::parse(&rsp).expect("parse");
    assert_eq!(
        &m.frame().payload()[..2],
        &[0x30, 0x82],
        "82 00 xx for a 128-255 byte payload"
    );
    assert_eq!(m.frame().payload()[2], 0x00);
    let device_form = *m.payload();
    meter.set_device_lengths(false);
    let rsp2 = response(meter.process(&cos::supplier_by_trans_cos(
        &pki,
        &pki.tcos,
        &pki.supplier_a,
        METER,
        2,
        &Options::default(),
    )));
    let m2 = gbcs::parse(&rsp2).expect("parse");
    assert_eq!(&m2.frame().payload()[..2], &[0x30, 0x81]);
    let Payload::UpdateSecurityCredentialsResponse(r) = device_form else {
        panic!()
    };
    assert_eq!(
        r.execution_outcome.map(|o| o.mode),
        Some(CredentialsReplacementMode::SUPPLIER_BY_TRANS_COS)
    );
}

#[test]
fn answers_a_cs02a_query_from_the_acb_with_a_macd_response() {
    let pki = pki();
    let mut meter = tcos_meter(&pki);
    let q = cos::acb_query(
        &pki,
        METER,
        5,
        &[RemotePartyRole::TRANSITIONAL_COS, RemotePartyRole(99)],
    );
    let rsp = response(meter.process(&q));
    let m = gbcs::parse(&rsp).expect("parse");
    let device_ka = pki.device(METER).expect("device").ka.key.public_key();
    let z: SharedSecret = pki.acb.ka.key.agree(&device_ka).expect("z");
    m.verify_mac(&z).expect("device MAC verifies at the ACB");
    let Payload::CredentialDetailsResponse(r) = m.payload() else {
        panic!("not a CS02a response")
    };
    let cos = r.role(RemotePartyRole::TRANSITIONAL_COS).expect("role 5");
    assert_eq!(cos.status, StatusCode::SUCCESS);
    let cell = cos.cells.and_then(|c| c.first()).expect("cell");
    assert_eq!(
        (cell.subject_unique_id, cell.subject_key_identifier),
        (ids::TCOS, pki.tcos.ds.key_id)
    );
    assert_eq!(
        r.role(RemotePartyRole(99))
            .map(|d| (d.status, d.cells.is_none())),
        Some((StatusCode::TRUST_ANCHOR_NOT_FOUND, true))
    );
    assert_eq!(
        meter.process(&q),
        Reply::Rejected(Rejection::Replay {
            counter: 5,
            stored: 5
        })
    );
}
