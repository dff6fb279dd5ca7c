//! Differential test against RTDS: a simulated meter initialised with the cells the RTDS
//! responses report as *existing* answers each immediate RTDS CS02b command to device
//! `00DB1234567890A0` with a response payload byte-identical to the RTDS response payload
//! (6.15.1 supplierBySupplier success and CPV error, NOByNO, 6.23 supplierByTransCoS,
//! transCoSByTransCoS, and the mode-8 recovery command).
//!
//! RTDS does not publish the meter's private keys, so the meter checks the MAC with the
//! shared secret computed from the ACB side, and signs with a generated key.

#[path = "support/shared.rs"]
mod shared;

use std::collections::HashMap;

use gbcs::crypto::keystore::KeyRole;
use gbcs::crypto::{KeyAgreement, PublicKey, SigningKey};
use gbcs::frame::{EntityId, SignatureTail};
use gbcs::payload::{KeyId, Payload, TrustAnchorCellIdentifier};
use gbcs::sim::{Cell, DeviceKeyAgreement, Reply, SimDevice};
use gbcs::smki::SmkiCertificate;

const DEVICE: EntityId = EntityId::from_u64(0x00DB_1234_5678_90A0);
/// 2020-06-01, inside the validity of every certificate the commands carry.
const CLOCK: i64 = 1_590_969_600;

/// Every organisation key in the keystore by (entity ID, key ID).
fn keystore_keys(dir: &std::path::Path) -> HashMap<(EntityId, KeyId), PublicKey> {
    let mut out = HashMap::new();
    for (name, _, der) in shared::keystore_pems(dir) {
        if !name.starts_with("90b3") {
            continue;
        }
        let cert = SmkiCertificate::from_der(&der).expect("certificate");
        if let Some(id) = cert.entity_id() {
            out.insert((id, cert.subject_key_id()), cert.public_key().clone());
        }
    }
    out
}

#[test]
fn simulated_meter_answers_rtds_commands_byte_for_byte() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let keys = keystore_keys(&dir);
    let files = shared::cs02_files(&dir);
    let z = ks
        .key_agreement_key(EntityId::from_u64(shared::ACB), KeyRole::KeyAgreement)
        .expect("ACB KA")
        .agree(
            &ks.public_key(DEVICE, KeyRole::KeyAgreement)
                .expect("device KA"),
        )
        .expect("ECDH");
    let mut compared = Vec::new();
    for cmd_file in files
        .iter()
        .filter(|f| f.is_command() && f.folder.contains("CS02b"))
    {
        let cmd = gbcs::parse(&cmd_file.bytes).expect("command");
        let Payload::UpdateSecurityCredentialsCommand(c) = *cmd.payload() else {
            continue;
        };
        if c.execution_date_time.is_some() || cmd.header().recipient != DEVICE {
            continue;
        }
        let rsp_name = cmd_file.name.replace("_COMMAND_", "_RESPONSE_");
        let Some(rsp_file) = files
            .iter()
            .find(|f| f.folder == cmd_file.folder && f.name == rsp_name)
        else {
            continue;
        };
        let rsp = gbcs::parse(&rsp_file.bytes).expect("response");
        let Payload::UpdateSecurityCredentialsResponse(r) = *rsp.payload() else {
            panic!("{rsp_name}")
        };
        let outcome = r.execution_outcome.expect("immediate outcome");

        // The meter as the RTDS response says it was before the command.
        let path: Vec<SmkiCertificate<'_>> = c
            .certification_path
            .iter()
            .map(|x| SmkiCertificate::from_der(x.as_bytes()).expect("CA"))
            .collect();
        let anchor = shared::rtds_root_anchor(&path[0]);
        let ds = SigningKey::from_scalar(&[0x5A; 32]).expect("generated device key");
        let mut meter = SimDevice::new(
            DEVICE,
            ds,
            DeviceKeyAgreement::Shared(z.clone()),
            &anchor,
            CLOCK,
        );
        for o in outcome.replacement_outcomes.iter() {
            let (entity, key_id) = (
                o.existing_subject_unique_id,
                o.existing_subject_key_identifier,
            );
            meter.install(
                o.cell,
                Cell {
                    entity_id: entity,
                    key_id,
                    public_key: keys.get(&(entity, key_id)).cloned(),
                },
            );
        }
        let auth = c.control.authorising_cell.expect("authorising cell");
        if meter
            .cell(auth)
            .and_then(|cell| cell.public_key.as_ref())
            .is_none()
        {
            let originator = cmd.header().originator;
            let key = ks
                .public_key(originator, KeyRole::DigitalSignature)
                .expect("originator DS");
            let cert = SmkiCertificate::from_der(
                &ks.certificate_der(originator, KeyRole::DigitalSignature)
                    .expect("DER"),
            )
            .expect("certificate")
            .subject_key_id();
            meter.install(
                auth,
                Cell {
                    entity_id: originator,
                    key_id: cert,
                    public_key: Some(key),
                },
            );
        }
        assert!(matches!(cmd.tail(), SignatureTail::Signature(_)));

        let Reply::Response(ours) = meter.process(&cmd_file.bytes) else {
            panic!("{}: {:?}", cmd_file.name, meter.process(&cmd_file.bytes))
        };
        let ours = gbcs::parse(&ours).expect("our response");
        ours.verify_signature(&meter.ds_public_key())
            .expect("signed with the generated key");
        assert_eq!(
            gbcs::hex::encode_upper(ours.frame().payload()),
            gbcs::hex::encode_upper(rsp.frame().payload()),
            "{}: payload differs",
            cmd_file.name
        );
        assert_eq!(
            ours.header().originator_counter,
            rsp.header().originator_counter
        );
        assert_eq!(
            (ours.header().originator, ours.header().recipient),
            (rsp.header().originator, rsp.header().recipient)
        );
        // The cells now hold what the response reports as replacing.
        for o in outcome.replacement_outcomes.iter() {
            let cell: TrustAnchorCellIdentifier = o.cell;
            let now = meter.cell(cell).expect("cell");
            assert_eq!(
                (now.entity_id, now.key_id),
                (
                    o.replacing_subject_unique_id,
                    o.replacing_subject_key_identifier
                )
            );
        }
        compared.push(cmd_file.name.clone());
    }
    eprintln!("byte-identical responses: {compared:#?}");
    for want in [
        "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_COMMAND_GBCS.HEX",
        "CS02bNOByNO_6.15.1_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bAnyExceptAbnormalRootByRecovery_NA_SUCCESS_COMMAND_GBCS.HEX",
    ] {
        assert!(compared.iter().any(|c| c == want), "{want} not compared");
    }
}
