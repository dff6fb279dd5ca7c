//! Differential test against RTDS: for every CS02b and CS02g command whose response is in
//! the reference data — any device, any mode, immediate, future-dated or cancellation — a
//! simulated meter set up with the cells the response (or the alert) reports as *existing*
//! answers with a response payload byte-identical to DCC's; a future-dated one answers
//! `commandAccepted`, changes nothing until its time, and then sends an alert whose payload
//! is byte-identical to DCC's 8F66/8F67 alert (0x00CB, or 0x0124 for CS02g).
//!
//! RTDS does not publish the meter's private keys, so the meter checks the MAC with the
//! shared secret computed from the ACB side, and signs with a generated key.
//!
//! The harness ([`answer_every_pair`]) takes any reference set laid out as RTDS is — every
//! mode, with or without an authorising cell — and is run on the project's own vectors too,
//! whose MAC-only mode-4 command (accessControlBrokerByACB, no `[2]`) RTDS 4.5.0 lacks.

#[path = "support/shared.rs"]
mod shared;

use std::collections::HashMap;

use gbcs::crypto::keystore::KeyRole;
use gbcs::crypto::{KeyAgreement, PublicKey, SigningKey};
use gbcs::frame::EntityId;
use gbcs::payload::{KeyId, Payload, TrustAnchorCellIdentifier};
use gbcs::sim::{Cell, DeviceKeyAgreement, Reply, SimDevice};
use gbcs::smki::{CertificateKind, SmkiCertificate, TrustAnchor};

/// 2020-06-01, inside the validity of every certificate the RTDS commands carry.
const CLOCK: i64 = 1_590_969_600;

/// Every organisation key in the keystore by (entity ID, key ID).
fn keystore_keys(dir: &std::path::Path) -> HashMap<(EntityId, KeyId), PublicKey> {
    let mut out = HashMap::new();
    for (_, label, der) in shared::keystore_pems(dir) {
        if label != "CERTIFICATE" {
            continue;
        }
        let Ok(cert) = SmkiCertificate::from_der(&der) else {
            continue;
        };
        if let CertificateKind::Organisation { entity_id, .. } = cert.kind() {
            out.insert(
                (entity_id, cert.subject_key_id()),
                cert.public_key().clone(),
            );
        }
    }
    out
}

/// A reference set: its messages, keystore folder (the `shared` layout), its ACB, the root
/// its meters hold, and the time its meters are set to.
struct Reference {
    dir: std::path::PathBuf,
    files: Vec<shared::RtdsFile>,
    acb: EntityId,
    root: TrustAnchor,
    clock: i64,
}

/// What the harness compared: the commands answered byte for byte, the alerts.
struct Compared {
    responses: Vec<String>,
    alerts: Vec<String>,
    pairs: usize,
}

/// The RTDS file in `folder` named `name`, if the reference data has it.
fn find<'a>(
    files: &'a [shared::RtdsFile],
    folder: &str,
    name: &str,
) -> Option<&'a shared::RtdsFile> {
    files.iter().find(|f| f.folder == folder && f.name == name)
}

/// The alert that ends a future-dated command (`…_FUTURE_DATED_X_COMMAND_…` →
/// `…_8F6?_FUTURE_DATED_X_ALERT_…`).
fn alert_for<'a>(
    files: &'a [shared::RtdsFile],
    cmd: &shared::RtdsFile,
) -> Option<&'a shared::RtdsFile> {
    let tail = cmd
        .name
        .split_once("FUTURE_DATED_")?
        .1
        .replace("_COMMAND_", "_ALERT_");
    let head = cmd.name.split_once("FUTURE_DATED_")?.0;
    files.iter().find(|f| {
        f.folder == cmd.folder
            && f.name.starts_with(head)
            && f.name.ends_with(&format!("FUTURE_DATED_{tail}"))
    })
}

/// For every CS02b/CS02g command of `r` whose response `r` has: a meter set up as the
/// response (or the alert) says it was answers byte for byte, and a future-dated one then
/// alerts byte for byte. Any mode: a command without an authorising cell (`[2]` absent,
/// authorised by the MAC alone) is answered like any other.
fn answer_every_pair(r: &Reference) -> Compared {
    let ks = gbcs::crypto::keystore::Keystore::open(r.dir.join("rtds/keystore")).expect("keystore");
    let keys = keystore_keys(&r.dir);
    let files = &r.files;
    let mut compared = Vec::new();
    let mut alerts_compared = Vec::new();
    for cmd_file in files
        .iter()
        .filter(|f| f.is_command() && (f.folder.contains("CS02b") || f.folder.contains("CS02g")))
    {
        let cmd = gbcs::parse(&cmd_file.bytes).expect("command");
        let Payload::UpdateSecurityCredentialsCommand(c) = *cmd.payload() else {
            continue;
        };
        let device = cmd.header().recipient;
        let Some(rsp_file) = find(
            files,
            &cmd_file.folder,
            &cmd_file.name.replace("_COMMAND_", "_RESPONSE_"),
        ) else {
            continue;
        };
        let rsp = gbcs::parse(&rsp_file.bytes).expect("response");
        let Payload::UpdateSecurityCredentialsResponse(resp) = *rsp.payload() else {
            panic!("{}", rsp_file.name)
        };
        let future = c
            .execution_date_time
            .filter(|t| t.unix_seconds() > r.clock && !t.is_cancellation());
        let alert_file = future.and_then(|_| alert_for(files, cmd_file));
        let alert = alert_file.map(|f| gbcs::parse(&f.bytes).expect("alert"));
        // What the device held before: the outcome of the response, else of the alert.
        let outcome = match (&resp.execution_outcome, &alert) {
            (Some(o), _) => Some(*o),
            (None, Some(a)) => match a.payload() {
                Payload::UpdateSecurityCredentialsAlert(a) => Some(a.execution_outcome),
                other => panic!("{other:?}"),
            },
            (None, None) => None,
        };

        // The meter as the reference data says it was before the command.
        let z = ks
            .key_agreement_key(r.acb, KeyRole::KeyAgreement)
            .expect("ACB KA")
            .agree(
                &ks.public_key(device, KeyRole::KeyAgreement)
                    .expect("device KA"),
            )
            .expect("ECDH");
        let ds = SigningKey::from_scalar(&[0x5A; 32]).expect("generated device key");
        let mut meter = SimDevice::new(device, ds, DeviceKeyAgreement::Shared(z), &r.root, r.clock);
        for o in outcome.iter().flat_map(|o| o.replacement_outcomes.iter()) {
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
        // The authorising cell, when the mode has one (a MAC-only mode such as
        // accessControlBrokerByACB has none): the originator's key if the outcome did not
        // name it.
        let auth = c.control.authorising_cell;
        if let Some(auth) = auth.filter(|a| {
            meter
                .cell(*a)
                .and_then(|cell| cell.public_key.as_ref())
                .is_none()
        }) {
            let originator = cmd.header().originator;
            let key = ks
                .public_key(originator, KeyRole::DigitalSignature)
                .expect("originator DS");
            let key_id = SmkiCertificate::from_der(
                &ks.certificate_der(originator, KeyRole::DigitalSignature)
                    .expect("DER"),
            )
            .expect("certificate")
            .subject_key_id();
            meter.install(
                auth,
                Cell {
                    entity_id: originator,
                    key_id,
                    public_key: Some(key),
                },
            );
        }

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
        compared.push(cmd_file.name.clone());

        // A future-dated command: nothing changes until its time, then the alert.
        if let (Some(t), Some(alert), Some(alert_file)) = (future, &alert, alert_file) {
            assert_eq!(
                meter.pending_at(),
                Some(t.unix_seconds()),
                "{}",
                cmd_file.name
            );
            let sent = meter.advance_to(t.unix_seconds());
            let [ours] = sent.as_slice() else {
                panic!("{}: {} alerts", cmd_file.name, sent.len())
            };
            let ours = gbcs::parse(ours).expect("our alert");
            assert_eq!(ours.header().message_code(), alert.header().message_code());
            assert_eq!(
                (ours.header().originator, ours.header().recipient),
                (alert.header().originator, alert.header().recipient)
            );
            assert_eq!(
                gbcs::hex::encode_upper(ours.frame().payload()),
                gbcs::hex::encode_upper(alert.frame().payload()),
                "{}: alert payload differs",
                alert_file.name
            );
            alerts_compared.push(alert_file.name.clone());
        }
        // The cells now hold what the outcome reports as replacing.
        if future.is_none() || alert.is_some() {
            for o in outcome.iter().flat_map(|o| o.replacement_outcomes.iter()) {
                let cell: TrustAnchorCellIdentifier = o.cell;
                let now = meter.cell(cell).expect("cell");
                assert_eq!(
                    (now.entity_id, now.key_id),
                    (
                        o.replacing_subject_unique_id,
                        o.replacing_subject_key_identifier
                    ),
                    "{}",
                    cmd_file.name
                );
            }
        }
    }
    // Every command/response pair the reference holds, whatever the device and mode.
    let pairs = files
        .iter()
        .filter(|f| f.is_command() && (f.folder.contains("CS02b") || f.folder.contains("CS02g")))
        .filter(|f| find(files, &f.folder, &f.name.replace("_COMMAND_", "_RESPONSE_")).is_some())
        .count();
    Compared {
        responses: compared,
        alerts: alerts_compared,
        pairs,
    }
}

#[test]
fn simulated_meter_answers_every_rtds_cs02b_and_cs02g_command_byte_for_byte() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    // The root the meters hold: recovered from the CA of a command whose path is DCC's Z1
    // (an error case's path may carry another CA, which must then fail CPV).
    let root = {
        let f = shared::cs02_file(
            &dir,
            "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND",
        );
        let m = gbcs::parse(&f.bytes).expect("6.23");
        let Payload::UpdateSecurityCredentialsCommand(c) = *m.payload() else {
            panic!("6.23 command")
        };
        let z1 = c.certification_path.iter().next().expect("Z1");
        shared::rtds_root_anchor(&SmkiCertificate::from_der(z1.as_bytes()).expect("Z1"))
    };
    let reference = Reference {
        dir: dir.clone(),
        files,
        acb: EntityId::from_u64(shared::ACB),
        root,
        clock: CLOCK,
    };
    let Compared {
        responses: compared,
        alerts: alerts_compared,
        pairs,
    } = answer_every_pair(&reference);
    eprintln!(
        "byte-identical responses: {compared:#?}\nbyte-identical alerts: {alerts_compared:#?}"
    );
    assert_eq!(compared.len(), pairs, "every pair answered");
    assert!(
        pairs >= 17,
        "only {pairs} RTDS CS02b/CS02g command/response pairs"
    );
    assert!(alerts_compared.len() >= 4, "alerts: {alerts_compared:?}");
    for want in [
        "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_ERROR_COMMAND_GBCS.HEX",
        "CS02bNOByNO_6.15.1_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bTransCoSByTransCoS_NA_SUCCESS_COMMAND_GBCS.HEX",
        "CS02bAnyExceptAbnormalRootByRecovery_NA_SUCCESS_COMMAND_GBCS.HEX",
        "CS02gLoadControllerByLoadController_NA_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
        "CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
    ] {
        assert!(compared.iter().any(|c| c == want), "{want} not compared");
    }
}

/// The project's vectors, laid out as RTDS is: each command and its response named as RTDS
/// names them, in a folder per mode, with the test PKI's keystore.
fn vectors_reference() -> Reference {
    use gbcs::sim::vectors;
    let dir = std::env::temp_dir().join(format!("gbcs-sim-vectors-{}", std::process::id()));
    let ks_dir = dir.join("rtds/keystore");
    std::fs::create_dir_all(&ks_dir).expect("keystore folder");
    for (name, text) in vectors::keystore().expect("keystore") {
        std::fs::write(ks_dir.join(name), text).expect("keystore file");
    }
    // Vector file name → (RTDS folder, RTDS file name).
    let rtds_name = |name: &str| -> Option<(&'static str, String)> {
        let (folder, stem) = match name.split_once('-')?.0 {
            "0103" => ("NA_CS02bNOByNO", "CS02bNOByNO_NA_"),
            "0104" => ("NA_CS02bACBByACB", "CS02bACBByACB_NA_"),
            "0106" => ("NA_CS02bTransCoSByTransCoS", "CS02bTransCoSByTransCoS_NA_"),
            "0107" => ("NA_CS02bSupplierByTransCoS", "CS02bSupplierByTransCoS_NA_"),
            "0108" => (
                "NA_CS02bAnyExceptAbnormalRootByRecovery",
                "CS02bAnyExceptAbnormalRootByRecovery_NA_",
            ),
            _ => return None,
        };
        let case = name.strip_suffix(".hex")?.split_once('-')?.1;
        let (case, kind) = case.rsplit_once('-')?;
        let kind = kind.to_uppercase();
        let case = case.to_uppercase().replace('-', "_");
        Some(if case == "FUTURE_DATED" && kind == "ALERT" {
            (
                folder,
                format!("{stem}8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX"),
            )
        } else if case == "FUTURE_DATED" {
            (
                folder,
                format!("{stem}FUTURE_DATED_SUCCESS_{kind}_GBCS.HEX"),
            )
        } else {
            (folder, format!("{stem}{case}_{kind}_GBCS.HEX"))
        })
    };
    let files = vectors::generate()
        .expect("vectors")
        .into_iter()
        .filter_map(|(name, bytes)| {
            let (folder, name) = rtds_name(name)?;
            Some(shared::RtdsFile {
                name,
                folder: folder.to_owned(),
                bytes,
            })
        })
        .collect();
    let pki = gbcs::sim::TestPki::generate(vectors::SEED).expect("PKI");
    Reference {
        dir,
        files,
        acb: pki.acb.entity_id,
        root: pki.root_anchor(),
        clock: vectors::CLOCK,
    }
}

#[test]
fn the_harness_answers_every_mode_including_a_mac_only_command_without_an_authorising_cell() {
    let reference = vectors_reference();
    let mac_only = reference
        .files
        .iter()
        .filter(|f| f.is_command())
        .find(|f| {
            let m = gbcs::parse(&f.bytes).expect("vector");
            matches!(m.payload(), Payload::UpdateSecurityCredentialsCommand(c) if c.control.authorising_cell.is_none())
        })
        .map(|f| f.name.clone())
        .expect("a vector without [2]");
    let compared = answer_every_pair(&reference);
    assert_eq!(
        compared.responses.len(),
        compared.pairs,
        "every pair answered"
    );
    assert!(compared.pairs >= 8, "{} vector pairs", compared.pairs);
    assert!(
        compared.responses.contains(&mac_only),
        "{mac_only} (no [2]) not answered: {:?}",
        compared.responses
    );
    assert_eq!(compared.alerts.len(), 1, "the future-dated 0x0107's alert");
    let _ = std::fs::remove_dir_all(&reference.dir);
}
