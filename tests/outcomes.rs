//! The migration's rules one by one (`ecos.md` §4): candidate selection, outcome
//! interpretation after verification, back-off, and the ledger's refusal to count an attempt
//! twice.

#[path = "support/outcomes_common.rs"]
mod common;

use common::*;
use gbcs::cos::migration::{
    interpret_response, select, Decision, DeviceRecord, InvalidReason, IssuedCommand,
    MigrationPolicy, MigrationStatus, Outcome, Priority, RetryPolicy, SkipReason, TransientCause,
};
use gbcs::cos::route::DeviceType;
use gbcs::cos::{CosState, Ledger, SecPartyId};
use gbcs::message::{self, CommandHeader};
use gbcs::payload::{
    CertificateDer, CredentialsReplacementMode, ExecutionOutcome, Payload, ReplacementOutcome,
    SeqOf, StatusCode, TrustAnchorCellIdentifier, UpdateSecurityCredentialsResponse,
};
use gbcs::sim::pki::ids;
use gbcs::sim::{Reply, TestPki};

#[test]
fn exclusions_are_keyed_by_manufacturer_and_model_and_a_listed_gpf_is_not_sent_commands() {
    let pki = TestPki::generate(b"outcomes").expect("pki");
    let mut policy = MigrationPolicy::default();
    policy.non_migratable.insert(mk("BROKEN"), None);
    let base = record(&pki);
    let with = |f: &dyn Fn(&mut DeviceRecord)| {
        let mut r = base.clone();
        f(&mut r);
        select(&r, &policy, CLOCK)
    };
    assert_eq!(
        with(&|r| r.model = mk("BROKEN")),
        Decision::Skip(SkipReason::NonMigratable)
    );
    // The same model name from another manufacturer is another model.
    assert_eq!(
        with(&|r| r.model = gbcs::cos::ModelKey::new("OTHER", "BROKEN")),
        Decision::Migrate(Priority::Normal)
    );
    // A Gas Proxy Function of a listed model is not sent commands either: revised ETMAD
    // 3.10 keeps DCC's obligation to resolve it, not its migratability (`ecos.md` §4.1).
    assert_eq!(
        with(&|r| {
            r.model = mk("BROKEN");
            r.device_type = DeviceType::Gpf;
        }),
        Decision::Skip(SkipReason::NonMigratable)
    );
    // Flagged ineligible, a GPF is still DCC's to migrate.
    assert_eq!(
        with(&|r| {
            r.ineligible = Some("site access".into());
            r.device_type = DeviceType::Gpf;
        }),
        Decision::Migrate(Priority::Normal)
    );
    assert_eq!(
        with(&|r| r.ineligible = Some("site access".into())),
        Decision::Skip(SkipReason::Ineligible("site access".into()))
    );
    assert!("BROKEN".parse::<gbcs::cos::ModelKey>().is_err());
    assert_eq!(
        "ACME/BROKEN".parse::<gbcs::cos::ModelKey>(),
        Ok(mk("BROKEN"))
    );
}

#[test]
fn a_faulted_device_is_eligible_again_only_when_its_firmware_changed() {
    let pki = TestPki::generate(b"outcomes").expect("pki");
    let policy = MigrationPolicy::default();
    let mut r = record(&pki);
    gbcs::cos::migration::apply(
        &mut r,
        &Outcome::DeviceFault(StatusCode::OTHER),
        &policy,
        CLOCK,
    );
    assert_eq!(r.faulted_firmware, Some("1.0".into()));
    let faulted = SkipReason::Faulted(gbcs::cos::migration::Responsibility::Supplier);
    assert_eq!(select(&r, &policy, CLOCK), Decision::Skip(faulted.clone()));
    // The same version written differently is the same firmware.
    r.firmware = "1.00".into();
    assert_eq!(select(&r, &policy, CLOCK), Decision::Skip(faulted));
    r.firmware = "1.0.1".into();
    assert_eq!(
        select(&r, &policy, CLOCK),
        Decision::Migrate(Priority::Normal)
    );
    assert_eq!(
        gbcs::cos::ledger::Standing::of(&r, &policy),
        gbcs::cos::ledger::Standing::Open
    );
}

#[test]
fn a_gas_proxy_function_reports_to_the_gas_supplier_once_a_gas_meter_is_commissioned() {
    let pki = TestPki::generate(b"outcomes").expect("pki");
    let gas = SecPartyId::new("GASS04").expect("id");
    let electricity = SecPartyId::new("SUPA01").expect("id");
    let mut r = record(&pki);
    r.device_type = DeviceType::Gpf;
    r.responsible_supplier = gas.clone();
    r.electricity_supplier = Some(electricity.clone());
    assert_eq!(r.reporting_supplier(), &electricity);
    r.gas_meter_commissioned = true;
    assert_eq!(r.reporting_supplier(), &gas);
    // Any other device reports to its responsible supplier, whatever the flag says.
    r.device_type = DeviceType::Esme;
    r.gas_meter_commissioned = false;
    assert_eq!(r.reporting_supplier(), &gas);
}

#[test]
fn candidate_selection_follows_the_table() {
    let pki = TestPki::generate(b"outcomes").expect("pki");
    let mut policy = MigrationPolicy::default();
    policy.non_migratable.insert(mk("BROKEN"), None);
    policy
        .non_migratable
        .insert(mk("FIXABLE"), Some("2.0".into()));
    let base = record(&pki);
    let with = |f: &dyn Fn(&mut DeviceRecord)| {
        let mut r = base.clone();
        f(&mut r);
        select(&r, &policy, CLOCK)
    };
    assert_eq!(with(&|_| {}), Decision::Migrate(Priority::Normal));
    assert_eq!(
        with(&|r| r.state = CosState::Ecos),
        Decision::Skip(SkipReason::AlreadyEcos)
    );
    assert_eq!(
        with(&|r| r.state = CosState::Unknown(gbcs::cos::UnknownReason::NoEvidence)),
        Decision::Read(Priority::Normal)
    );
    // A lost reply, or an overdue alert: read the cell before anything else goes out.
    assert_eq!(
        with(&|r| r.unconfirmed = Some(7)),
        Decision::Read(Priority::Normal)
    );
    assert_eq!(
        with(&|r| {
            r.status = MigrationStatus::AwaitingAlert;
            r.next_attempt_at = Some(CLOCK);
        }),
        Decision::Read(Priority::Normal)
    );
    assert_eq!(
        with(&|r| {
            r.status = MigrationStatus::AwaitingAlert;
            r.next_attempt_at = Some(CLOCK + 1);
        }),
        Decision::Skip(SkipReason::AwaitingAlert)
    );
    // Reads that never get an answer end in investigation, like attempts.
    assert_eq!(
        with(&|r| {
            r.state = CosState::Unknown(gbcs::cos::UnknownReason::NoEvidence);
            r.unanswered_reads = 5;
        }),
        Decision::Skip(SkipReason::NeedsInvestigation)
    );
    // A device of an excluded model is not read either.
    assert_eq!(
        with(&|r| {
            r.state = CosState::Unknown(gbcs::cos::UnknownReason::NoEvidence);
            r.model = mk("BROKEN");
        }),
        Decision::Skip(SkipReason::NonMigratable)
    );
    assert_eq!(
        with(&|r| r.model = mk("BROKEN")),
        Decision::Skip(SkipReason::NonMigratable)
    );
    assert_eq!(
        with(&|r| r.model = mk("FIXABLE")),
        Decision::Skip(SkipReason::NonMigratable)
    );
    assert_eq!(
        with(&|r| {
            r.model = mk("FIXABLE");
            r.firmware = "2.0".into()
        }),
        Decision::Migrate(Priority::Normal)
    );
    // A later firmware carries the fix too; an earlier one (1.10 is after 1.9) does not.
    for (firmware, eligible) in [
        ("2.0.1", true),
        ("10.0", true),
        ("1.10", false),
        ("2.0-rc1", true),
        ("1.99", false),
    ] {
        let decision = with(&|r| {
            r.model = mk("FIXABLE");
            r.firmware = firmware.into()
        });
        assert_eq!(
            decision == Decision::Migrate(Priority::Normal),
            eligible,
            "firmware {firmware}: {decision:?}"
        );
    }
    assert_eq!(
        with(&|r| r.ineligible = Some("access".into())),
        Decision::Skip(SkipReason::Ineligible("access".into()))
    );
    assert_eq!(
        with(&|r| r.device_type = DeviceType::Chf),
        Decision::Skip(SkipReason::OutOfScope(DeviceType::Chf))
    );
    assert_eq!(
        with(&|r| r.device_type = DeviceType::Gpf),
        Decision::Migrate(Priority::Normal)
    );
    assert_eq!(
        with(&|r| r.attempts = 5),
        Decision::Skip(SkipReason::NeedsInvestigation)
    );
    assert_eq!(
        with(&|r| r.next_attempt_at = Some(CLOCK + 1)),
        Decision::Skip(SkipReason::BackingOff(CLOCK + 1))
    );
    assert_eq!(
        with(&|r| r.last_communication = CLOCK - 31 * 86_400),
        Decision::Migrate(Priority::Low)
    );
    assert_eq!(
        with(&|r| r.status = MigrationStatus::AwaitingAlert),
        Decision::Skip(SkipReason::AwaitingAlert)
    );
    policy.in_scope.insert(DeviceType::Chf);
    assert_eq!(
        select(
            &DeviceRecord {
                device_type: DeviceType::Chf,
                ..base.clone()
            },
            &policy,
            CLOCK
        ),
        Decision::Migrate(Priority::Normal)
    );
}

#[test]
fn back_off_grows_sixfold_up_to_its_cap() {
    let r = RetryPolicy::default();
    let hours: Vec<i64> = (1..=6).map(|n| r.delay(n) / 3600).collect();
    assert_eq!(hours, [1, 6, 36, 168, 168, 168]);
}

#[test]
fn the_default_back_off_reaches_seven_days_within_the_attempt_limit() {
    let p = MigrationPolicy::default();
    assert_eq!(p.retry.cap_secs, 7 * 86_400);
    assert!(p.retry.reaches_cap_within(p.max_attempts));
    // The waits before the last attempt add up to more than a week.
    let waited: i64 = (1..p.max_attempts).map(|n| p.retry.delay(n)).sum();
    assert!(waited > 7 * 86_400, "{waited}");
    // Doubling from an hour would never get there in 5 attempts: such a policy is caught.
    let doubling = RetryPolicy {
        factor: 2,
        ..p.retry
    };
    assert!(!doubling.reaches_cap_within(p.max_attempts));
    assert!(!p.retry.reaches_cap_within(1));
}

#[test]
fn the_ledger_refuses_to_count_an_attempt_twice() {
    let mut l = Ledger::new();
    let s = SecPartyId::new("SUPA01").expect("id");
    assert_eq!(
        l.record(&s, ids::device(1), 7, &Outcome::Migrated, 0),
        Ok(true)
    );
    assert!(l
        .record(&s, ids::device(1), 7, &Outcome::Migrated, 0)
        .is_err());
    assert_eq!(
        l.record(&s, ids::device(1), 8, &Outcome::Pending, 0),
        Ok(false)
    );
    assert_eq!(
        l.record(
            &s,
            ids::device(1),
            9,
            &Outcome::Invalid(InvalidReason::BadSignature),
            0
        ),
        Ok(false)
    );
    assert_eq!(
        l.record(
            &s,
            ids::device(1),
            10,
            &Outcome::Transient(TransientCause::Busy),
            0
        ),
        Ok(true)
    );
    assert_eq!(l.attempts(&s), (1, 1));
}

#[test]
fn responses_are_trusted_only_after_verification_and_matching() {
    let pki = TestPki::generate(b"outcomes").expect("pki");
    let device = ids::device(1);
    let mut registry = gbcs::cos::CosRegistry::new();
    registry
        .add(gbcs::cos::CosParty::Tcos, pki.tcos.credential())
        .add(gbcs::cos::CosParty::Ecos, pki.ecos.credential());
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let cmd = gbcs::cos::MigrationCommand::new(
        &registry,
        CertificateDer(&pki.ecos.ds.certificate),
        &path,
        Some(0),
        true,
    )
    .expect("ECoS");
    let z = pki.acb_secret(device).expect("z");
    let key = pki.device(device).expect("device").ds.key;
    let issued = |counter| IssuedCommand {
        device,
        originator: ids::TCOS,
        counter,
        ecos: pki.ecos.credential(),
    };
    let send = |meter: &mut gbcs::sim::SimDevice, counter| {
        let c = cmd
            .build(
                &registry,
                device,
                pki.tcos.credential(),
                &pki.tcos.signer(),
                counter,
                &z,
            )
            .expect("build");
        match meter.process(&c) {
            Reply::Response(r) => r,
            other => panic!("{other:?}"),
        }
    };

    let mut meter = pki
        .meter(device, &pki.supplier_a, &pki.tcos, CLOCK)
        .expect("meter");
    meter.faults.busy = 1;
    assert_eq!(
        interpret_response(&send(&mut meter, 1), &issued(1), &key.public_key()),
        Outcome::Transient(TransientCause::Busy)
    );
    meter.faults.fault_status = Some(StatusCode::INSUFFICIENT_MEMORY);
    assert_eq!(
        interpret_response(&send(&mut meter, 2), &issued(2), &key.public_key()),
        Outcome::DeviceFault(StatusCode::INSUFFICIENT_MEMORY)
    );
    meter.faults.fault_status = None;
    let ok = send(&mut meter, 3);
    assert_eq!(
        interpret_response(&ok, &issued(3), &key.public_key()),
        Outcome::Migrated
    );
    // The same response checked against another command, key or device is not trusted.
    assert_eq!(
        interpret_response(&ok, &issued(4), &key.public_key()),
        Outcome::Invalid(InvalidReason::WrongCounter)
    );
    assert_eq!(
        interpret_response(&ok, &issued(3), &pki.tcos.ds.key.public_key()),
        Outcome::Invalid(InvalidReason::BadSignature)
    );
    let other = IssuedCommand {
        device: ids::device(2),
        ..issued(3)
    };
    assert_eq!(
        interpret_response(&ok, &other, &key.public_key()),
        Outcome::Invalid(InvalidReason::WrongParties)
    );
    assert_eq!(
        interpret_response(&ok[..20], &issued(3), &key.public_key()),
        Outcome::Invalid(InvalidReason::Malformed)
    );

    // Future-dated: an acceptance is pending.
    let mut meter = pki
        .meter(device, &pki.supplier_a, &pki.tcos, CLOCK)
        .expect("meter");
    let later = cmd
        .scheduled_at(gbcs::payload::GeneralizedTime::from_unix_seconds(CLOCK + 60).expect("time"));
    let c = later
        .build(
            &registry,
            device,
            pki.tcos.credential(),
            &pki.tcos.signer(),
            5,
            &z,
        )
        .expect("build");
    let Reply::Response(r) = meter.process(&c) else {
        panic!()
    };
    assert_eq!(
        interpret_response(&r, &issued(5), &key.public_key()),
        Outcome::Pending
    );
    let alert = meter.advance_to(CLOCK + 60).pop().expect("alert");
    assert_eq!(
        gbcs::cos::migration::interpret_alert(&alert, &issued(5), &key.public_key()),
        Outcome::Migrated
    );

    // A signed success that installed another credential is a security incident; one that
    // does not name {5, DS} is not an outcome at all.
    let respond = |installed: gbcs::cos::Credential, cell: TrustAnchorCellIdentifier| {
        let outcomes = [ReplacementOutcome {
            cell,
            status: StatusCode::SUCCESS,
            existing_subject_unique_id: ids::TCOS,
            existing_subject_key_identifier: pki.tcos.ds.key_id,
            replacing_subject_unique_id: installed.entity_id,
            replacing_subject_key_identifier: installed.key_id,
        }];
        let payload =
            Payload::UpdateSecurityCredentialsResponse(UpdateSecurityCredentialsResponse {
                execution_outcome: Some(ExecutionOutcome {
                    authorising_seq_number: 6,
                    mode: CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
                    seq_number_changes: SeqOf::empty(),
                    replacement_outcomes: SeqOf::from_slice(&outcomes),
                }),
            });
        let header = gbcs::frame::GroupingHeader {
            cra_flag: gbcs::frame::CraFlag::RESPONSE,
            ..CommandHeader {
                message_code: gbcs::frame::MessageCode::CS02B_TRANS_COS_BY_TRANS_COS,
                counter: 6,
                originator: device,
                recipient: ids::TCOS,
            }
            .grouping_header(payload.encoded_len())
        };
        let mut pre = vec![0u8; header.buffer_len() + payload.encoded_len()];
        let mut w = gbcs::codec::Writer::new(&mut pre);
        header.emit(&mut w).expect("header");
        payload.encode(&mut w).expect("payload");
        message::sign_precommand(&pre, &key).expect("sign")
    };
    let rogue = TestPki::generate(b"rogue").expect("pki");
    let wrong = respond(
        gbcs::cos::Credential {
            entity_id: ids::ECOS,
            key_id: rogue.ecos.ds.key_id,
        },
        TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
    );
    assert!(
        matches!(interpret_response(&wrong, &issued(6), &key.public_key()), Outcome::WrongCredential(c) if c.key_id == rogue.ecos.ds.key_id)
    );
    let elsewhere = respond(pki.ecos.credential(), TrustAnchorCellIdentifier::ACB_KA);
    assert_eq!(
        interpret_response(&elsewhere, &issued(6), &key.public_key()),
        Outcome::Invalid(InvalidReason::NoCosCell)
    );
}
