//! The cos layer against RTDS: classification with a registry of the RTDS TCoS credentials
//! (`90B3D51F30000004`, key IDs `4B38EB47561D93E8` and `4F3F10855696FEF2`), and the 0x0107
//! builder reproducing DCC's 6.23 command.

#[path = "support/shared.rs"]
mod shared;

use gbcs::cos::classify::{self, UnknownReason};
use gbcs::cos::command::{ChangeOfSupplierRequest, CosSigner, Execution};
use gbcs::cos::{CosParty, CosRegistry, CosState, Credential, MatchKind, Route};
use gbcs::crypto::keystore::KeyRole;
use gbcs::crypto::KeyAgreement;
use gbcs::frame::EntityId;
use gbcs::payload::{KeyUsage, Payload, RemotePartyRole, TrustAnchorCellIdentifier};

const TCOS: EntityId = EntityId::from_u64(0x90B3_D51F_3000_0004);

fn registry() -> CosRegistry {
    let mut r = CosRegistry::new();
    r.add(
        CosParty::Tcos,
        Credential {
            entity_id: TCOS,
            key_id: "4B38EB47561D93E8".parse().expect("key id"),
        },
    );
    r.add(
        CosParty::Tcos,
        Credential {
            entity_id: TCOS,
            key_id: "4F3F10855696FEF2".parse().expect("key id"),
        },
    );
    r
}

fn file<'a>(files: &'a [shared::RtdsFile], name: &str) -> &'a shared::RtdsFile {
    files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not in RTDS"))
}

#[test]
fn trans_cos_outcome_classifies_tcos_by_key_before_and_after() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    let rsp = gbcs::parse(
        &file(
            &files,
            "CS02bTransCoSByTransCoS_NA_SUCCESS_RESPONSE_GBCS.HEX",
        )
        .bytes,
    )
    .expect("parse");
    let after = classify::from_update_outcome(&registry(), &rsp).expect("evidence");
    assert_eq!(
        (after.state, after.matched),
        (CosState::Tcos, Some(MatchKind::Key))
    );
    assert_eq!(
        after
            .evidence
            .credential
            .map(|c| c.key_id.to_string())
            .as_deref(),
        Some("4F3F10855696FEF2")
    );
    let Payload::UpdateSecurityCredentialsResponse(r) = rsp.payload() else {
        panic!()
    };
    let o = r
        .execution_outcome
        .expect("outcome")
        .outcome_for(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS)
        .expect("cell");
    let before = Credential {
        entity_id: o.existing_subject_unique_id,
        key_id: o.existing_subject_key_identifier,
    };
    assert_eq!(
        classify::classify_credential(&registry(), before),
        (CosState::Tcos, Some(MatchKind::Key))
    );
    // With only the old key registered, the new one matches by entity only.
    let mut old_only = CosRegistry::new();
    old_only.add(CosParty::Tcos, before);
    assert_eq!(
        classify::from_update_outcome(&old_only, &rsp)
            .expect("evidence")
            .matched,
        Some(MatchKind::EntityOnly)
    );
}

#[test]
fn credential_detail_responses_give_unknown_with_the_reason() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut n = 0;
    for f in shared::cs02_files(&dir).iter().filter(|f| {
        f.name.contains("_RESPONSE_") && (f.folder.contains("CS02a") || f.folder.contains("CS02f"))
    }) {
        let m = gbcs::parse(&f.bytes).expect("parse");
        let c = classify::from_credential_details(&registry(), &m).expect("evidence");
        let Payload::CredentialDetailsResponse(r) = m.payload() else {
            panic!("{}", f.name)
        };
        let reported = r.role(RemotePartyRole::TRANSITIONAL_COS).map(|d| d.status);
        assert_eq!(
            c.state,
            CosState::Unknown(UnknownReason::NoCell { status: reported }),
            "{}",
            f.name
        );
        assert_eq!(c.evidence.device, m.header().originator);
        n += 1;
    }
    assert_eq!(n, 8, "CS02a/CS02f MAC and signature, success and error");
}

#[test]
fn an_accepted_supplier_by_trans_cos_gives_tcos_from_its_signer() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    let ks = shared::keystore(&dir);
    let signer = gbcs::smki::SmkiCertificate::from_der(
        &ks.certificate_der(TCOS, KeyRole::DigitalSignature)
            .expect("DER"),
    )
    .expect("certificate")
    .subject_key_id();
    let cmd = gbcs::parse(
        &file(
            &files,
            "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
        )
        .bytes,
    )
    .expect("parse");
    let rsp = gbcs::parse(
        &file(
            &files,
            "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX",
        )
        .bytes,
    )
    .expect("parse");
    cmd.verify_signature(&ks.public_key(TCOS, KeyRole::DigitalSignature).expect("key"))
        .expect("the signer's key verifies");
    let c =
        classify::from_accepted_command(&registry(), &cmd, &rsp, Some(signer)).expect("evidence");
    assert_eq!((c.state, c.matched), (CosState::Tcos, Some(MatchKind::Key)));
    let c = classify::from_accepted_command(&registry(), &cmd, &rsp, None).expect("evidence");
    assert_eq!(
        (c.state, c.matched),
        (CosState::Tcos, Some(MatchKind::EntityOnly))
    );
    // A response that is not this command's is not evidence.
    let other = gbcs::parse(
        &file(
            &files,
            "CS02bTransCoSByTransCoS_NA_SUCCESS_RESPONSE_GBCS.HEX",
        )
        .bytes,
    )
    .expect("parse");
    assert!(classify::from_accepted_command(&registry(), &cmd, &other, Some(signer)).is_err());
    let empty = CosRegistry::new();
    assert_eq!(
        classify::from_accepted_command(&empty, &cmd, &rsp, Some(signer))
            .expect("evidence")
            .state,
        CosState::Unknown(UnknownReason::Unrecognised)
    );
}

#[test]
fn the_0107_builder_reproduces_dccs_6_23_command() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    let ks = shared::keystore(&dir);
    let rtds = file(
        &files,
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
    );
    let m = gbcs::parse(&rtds.bytes).expect("parse");
    let Payload::UpdateSecurityCredentialsCommand(c) = *m.payload() else {
        panic!()
    };
    let cert_for = |ku: KeyUsage, top_up: bool| {
        c.replacements
            .iter()
            .find(|r| r.target_cell.key_usage == ku && (r.target_cell.cell_usage.0 == 1) == top_up)
            .map(|r| r.certificate)
    };
    let path: Vec<_> = c.certification_path.iter().collect();
    let request = ChangeOfSupplierRequest {
        target: m.header().recipient,
        supplier_ds: cert_for(KeyUsage::DIGITAL_SIGNATURE, false).expect("DS"),
        supplier_ka: cert_for(KeyUsage::KEY_AGREEMENT, false),
        supplier_prepayment_ka: cert_for(KeyUsage::KEY_AGREEMENT, true),
        certification_path: &path,
        supplier_floor: 0,
        prepayment_floor: Some(0),
        apply_time_based_cpv_checks: true,
        execution: Execution::Immediate,
    };
    let counter = m.header().originator_counter;
    let pre = request.precommand(TCOS, counter).expect("pre-command");
    assert_eq!(
        pre,
        m.frame().general_signing().precommand_bytes(),
        "pre-command differs from DCC's"
    );

    // Signed by the TCoS key, MAC'd with the ACB key: verifies, and equals DCC's but for the
    // signature (and so the MAC).
    let key = ks.signing_key(TCOS).expect("TCoS key");
    let credential = Credential {
        entity_id: TCOS,
        key_id: "4B38EB47561D93E8".parse().expect("key id"),
    };
    let acb = ks
        .key_agreement_key(EntityId::from_u64(shared::ACB), KeyRole::KeyAgreement)
        .expect("ACB");
    let z = acb
        .agree(
            &ks.public_key(m.header().recipient, KeyRole::KeyAgreement)
                .expect("device KA"),
        )
        .expect("z");
    let route = Route::Tcos {
        credential: Some(credential),
        signed_by: CosParty::Tcos,
    };
    let ours = request
        .build(
            &route,
            &registry(),
            &CosSigner {
                credential,
                signer: &key,
            },
            counter,
            &z,
        )
        .expect("build");
    let ours = gbcs::parse(&ours).expect("parse");
    ours.verify_signature(&ks.public_key(TCOS, KeyRole::DigitalSignature).expect("key"))
        .expect("signature");
    ours.verify_mac(&z).expect("MAC");
    assert_eq!(ours.frame().general_signing().precommand_bytes(), &pre[..]);
    assert_eq!(ours.frame().mac_header(), m.frame().mac_header());
    // A signer that is not the credential in the cell is refused.
    let wrong = Credential {
        entity_id: TCOS,
        key_id: "4F3F10855696FEF2".parse().expect("key id"),
    };
    assert!(request
        .build(
            &route,
            &registry(),
            &CosSigner {
                credential: wrong,
                signer: &key
            },
            counter,
            &z
        )
        .is_err());
    assert!(matches!(
        request.build(
            &Route::QueryFirst {
                device: m.header().recipient
            },
            &registry(),
            &CosSigner {
                credential,
                signer: &key
            },
            counter,
            &z
        ),
        Err(gbcs::cos::BuildError::NotSignable(_))
    ));
}
