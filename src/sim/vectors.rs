//! The project's own test vectors (`test-vectors/`): messages made with the test PKI and a
//! simulated meter — a CS02a role-5 query and its MAC'd response, a 0x0107 signed by the TCoS
//! party, the 0x0106 migration command, a 0x0107 signed by the ECoS party, a future-dated
//! 0x0107 with its acceptance and 0x00CB alert — each with its response. Everything is
//! deterministic: `generate` always returns the same bytes.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::ber::Encode;
use crate::codec::Writer;
use crate::cos::command::{credential_query, Execution, MigrationCommand};
use crate::cos::registry::{CosParty, CosRegistry};
use crate::cos::route::Route;
use crate::frame::{EntityId, MessageCode};
use crate::message::{self, CommandHeader};
use crate::payload::{
    AuthorisingRemotePartyControl, CertificateDer, CredentialsReplacementMode, GeneralizedTime,
    KeyUsage, Payload, RemotePartyRole, SeqOf, TrustAnchorCellIdentifier, TrustAnchorReplacement,
    UpdateSecurityCredentialsCommand,
};
use crate::sim::pki::{ids, IssueError, TestPki};
use crate::sim::Reply;

/// The seed of the PKI behind the vectors.
pub const SEED: &[u8] = b"gbcs test vectors";
/// The simulated meter's clock: 2023-11-14T22:13:20Z.
pub const CLOCK: i64 = 1_700_000_000;

/// Why the vectors could not be generated (an internal fault).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorError(pub &'static str);

impl From<IssueError> for VectorError {
    fn from(_: IssueError) -> Self {
        Self("test PKI")
    }
}

/// Generates every vector as (file name, bytes), in a fixed order.
///
/// # Errors
/// [`VectorError`] only on an internal fault.
pub fn generate() -> Result<Vec<(&'static str, Vec<u8>)>, VectorError> {
    let pki = TestPki::generate(SEED)?;
    let device = ids::device(1);
    let mut meter = pki.meter(device, &pki.supplier_a, &pki.tcos, CLOCK)?;
    let z = pki.acb_secret(device)?;
    let mut registry = CosRegistry::new();
    registry
        .add(CosParty::Tcos, pki.tcos.credential())
        .add(CosParty::Ecos, pki.ecos.credential());
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let tcos = pki.tcos.signer();
    let ecos = pki.ecos.signer();

    let mut out = Vec::new();
    let exchange = |name_cmd: &'static str,
                    name_rsp: &'static str,
                    cmd: Vec<u8>,
                    meter: &mut crate::sim::SimDevice|
     -> Result<Vec<(&'static str, Vec<u8>)>, VectorError> {
        let Reply::Response(rsp) = meter.process(&cmd) else {
            return Err(VectorError("the meter did not answer"));
        };
        Ok(vec![(name_cmd, cmd), (name_rsp, rsp)])
    };

    let q = credential_query(pki.acb.entity_id, device, 1, &z).map_err(|_| VectorError("CS02a"))?;
    out.extend(exchange(
        "cs02a-role5-query-command.hex",
        "cs02a-role5-query-response.hex",
        q,
        &mut meter,
    )?);

    let tcos_route = Route::Tcos {
        credential: Some(pki.tcos.credential()),
        signed_by: CosParty::Tcos,
    };
    let c = pki
        .supplier_b
        .change_of_supplier_to(device, &path, Execution::Immediate)
        .build(&tcos_route, &registry, &tcos, 100, &z)
        .map_err(|_| VectorError("0x0107 by TCoS"))?;
    out.extend(exchange(
        "0107-tcos-signed-command.hex",
        "0107-tcos-signed-response.hex",
        c,
        &mut meter,
    )?);

    let migration = MigrationCommand::new(
        &registry,
        CertificateDer(&pki.ecos.ds.certificate),
        &path,
        Some(0),
        true,
    )
    .map_err(|_| VectorError("ECoS certificate"))?;
    let m = migration
        .build(&registry, device, pki.tcos.credential(), &tcos, 101, &z)
        .map_err(|_| VectorError("0x0106"))?;
    out.extend(exchange(
        "0106-migration-command.hex",
        "0106-migration-response.hex",
        m,
        &mut meter,
    )?);

    let ecos_route = Route::Ecos {
        credential: Some(pki.ecos.credential()),
    };
    let c = pki
        .supplier_a
        .change_of_supplier_to(device, &path, Execution::Immediate)
        .build(&ecos_route, &registry, &ecos, 1, &z)
        .map_err(|_| VectorError("0x0107 by ECoS"))?;
    out.extend(exchange(
        "0107-ecos-signed-command.hex",
        "0107-ecos-signed-response.hex",
        c,
        &mut meter,
    )?);

    let at = GeneralizedTime::from_unix_seconds(CLOCK + 86_400).ok_or(VectorError("time"))?;
    let c = pki
        .supplier_b
        .change_of_supplier_to(device, &path, Execution::At(at))
        .build(&ecos_route, &registry, &ecos, 2, &z)
        .map_err(|_| VectorError("future-dated 0x0107"))?;
    out.extend(exchange(
        "0107-future-dated-command.hex",
        "0107-future-dated-response.hex",
        c,
        &mut meter,
    )?);
    let alert = meter
        .advance_to(CLOCK + 86_400)
        .pop()
        .ok_or(VectorError("no alert"))?;
    out.push(("0107-future-dated-alert.hex", alert));

    // The other parties' own renewals, each under its mode's protection.
    let renew = |mode: CredentialsReplacementMode,
                 cell: TrustAnchorCellIdentifier,
                 authorising: Option<TrustAnchorCellIdentifier>,
                 certificate: &[u8],
                 originator: EntityId,
                 counter: u64,
                 signer: Option<&dyn crate::crypto::SignatureSigner>,
                 mac: bool|
     -> Result<Vec<u8>, VectorError> {
        let replacements = [TrustAnchorReplacement {
            certificate: CertificateDer(certificate),
            target_cell: cell,
        }];
        let cmd = UpdateSecurityCredentialsCommand {
            control: AuthorisingRemotePartyControl {
                mode,
                plain_text_symmetric_key: None,
                apply_time_based_cpv_checks: None,
                authorising_cell: authorising,
                authorising_seq_number: counter,
                new_floor_seq_number: Some(0),
                new_specialist_floor_seq_numbers: None,
                other_seq_number_changes: None,
            },
            replacements: SeqOf::from_slice(&replacements),
            certification_path: SeqOf::from_slice(&path),
            execution_date_time: None,
        };
        let header = CommandHeader {
            message_code: mode.message_code().ok_or(VectorError("mode"))?,
            counter,
            originator,
            recipient: device,
        };
        message::build_command(
            &header,
            &Payload::UpdateSecurityCredentialsCommand(cmd),
            signer,
            mac.then_some(&z),
        )
        .map_err(|_| VectorError("renewal"))
    };
    let no = &pki.network_operator;
    let no_ds = TrustAnchorCellIdentifier::new(
        RemotePartyRole::NETWORK_OPERATOR,
        KeyUsage::DIGITAL_SIGNATURE,
    );
    out.extend(exchange(
        "0103-network-operator-renewal-command.hex",
        "0103-network-operator-renewal-response.hex",
        renew(
            CredentialsReplacementMode::NETWORK_OPERATOR_BY_NETWORK_OPERATOR,
            no_ds,
            Some(no_ds),
            &no.ds.certificate,
            no.entity_id,
            10,
            Some(&no.ds.key),
            true,
        )?,
        &mut meter,
    )?);
    out.extend(exchange(
        "0104-acb-renewal-command.hex",
        "0104-acb-renewal-response.hex",
        renew(
            CredentialsReplacementMode::ACCESS_CONTROL_BROKER_BY_ACB,
            TrustAnchorCellIdentifier::ACB_KA,
            None,
            &pki.acb.ka.certificate,
            pki.acb.entity_id,
            2,
            None,
            true,
        )?,
        &mut meter,
    )?);
    let recovery_ds =
        TrustAnchorCellIdentifier::new(RemotePartyRole::RECOVERY, KeyUsage::DIGITAL_SIGNATURE);
    out.extend(exchange(
        "0108-recovery-renewal-command.hex",
        "0108-recovery-renewal-response.hex",
        renew(
            CredentialsReplacementMode::ANY_EXCEPT_ABNORMAL_ROOT_BY_RECOVERY,
            recovery_ds,
            Some(recovery_ds),
            &pki.recovery.ds.certificate,
            pki.recovery.entity_id,
            10,
            Some(&pki.recovery.ds.key),
            false,
        )?,
        &mut meter,
    )?);

    // Refusals. A 0x0106 that carries a supplier's certificate for the role-5 cell: the
    // meter answers badCertificate (5) and keeps the cell.
    let wrong = renew(
        CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
        TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
        Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
        &pki.supplier_b.ds.certificate,
        pki.ecos.entity_id,
        3,
        Some(&pki.ecos.ds.key),
        true,
    )?;
    out.extend(exchange(
        "0106-wrong-role-certificate-command.hex",
        "0106-wrong-role-certificate-response.hex",
        wrong,
        &mut meter,
    )?);
    // A mode-4 command (the ACB, MAC only) that names the TCoS cell as its authority and aims
    // at it: put together past the builder, which refuses it; the meter refuses it too and
    // sends nothing, so there is no response file.
    let aimed = [TrustAnchorReplacement {
        certificate: CertificateDer(&pki.tcos.ds.certificate),
        target_cell: TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
    }];
    let forged = UpdateSecurityCredentialsCommand {
        control: AuthorisingRemotePartyControl {
            mode: CredentialsReplacementMode::ACCESS_CONTROL_BROKER_BY_ACB,
            plain_text_symmetric_key: None,
            apply_time_based_cpv_checks: None,
            authorising_cell: Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
            authorising_seq_number: 3,
            new_floor_seq_number: None,
            new_specialist_floor_seq_numbers: None,
            other_seq_number_changes: None,
        },
        replacements: SeqOf::from_slice(&aimed),
        certification_path: SeqOf::from_slice(&path),
        execution_date_time: None,
    };
    let der = forged.to_der().map_err(|_| VectorError("forged payload"))?;
    let header = CommandHeader {
        message_code: MessageCode(0x0104),
        counter: 3,
        originator: pki.acb.entity_id,
        recipient: device,
    };
    let gh = header.grouping_header(der.len());
    let mut forged = vec![0u8; gh.buffer_len()];
    gh.emit(&mut Writer::new(&mut forged))
        .map_err(|_| VectorError("forged header"))?;
    forged.extend_from_slice(&der);
    forged.push(0);
    let forged = message::add_mac(&forged, &z).map_err(|_| VectorError("forged MAC"))?;
    if !matches!(meter.process(&forged), Reply::Rejected(_)) {
        return Err(VectorError("the meter took a forged mode-4 command"));
    }
    out.push(("0104-names-tcos-cell-refused-command.hex", forged));
    Ok(out)
}

/// [`keystore`] as one published text: each PEM block preceded by a `# <file name>` line (text
/// outside PEM blocks is explanation, RFC 7468 §2), under a TEST KEYS ONLY banner. This is the
/// form the project tracks (`test-vectors/test-pki.pem`); `cargo run --example test_vectors --
/// --keystore DIR` lays the files out as a keystore folder.
///
/// # Errors
/// [`VectorError`] only on an internal fault.
pub fn test_pki_bundle() -> Result<String, VectorError> {
    let mut out = String::from(
        "# TEST KEYS ONLY. The gbcs test PKI behind test-vectors/, derived from the published\n\
         # seed \"gbcs test vectors\": anyone can make these keys; they authenticate nothing.\n\
         # Each block is one file of an RTDS-style keystore folder, named on the line above it.\n",
    );
    for (name, text) in keystore()? {
        out.push_str("\n# ");
        out.push_str(&name);
        out.push('\n');
        out.push_str(&text);
    }
    Ok(out)
}

/// The test PKI behind the vectors, as files named like the RTDS keystore
/// (`<entity-id>-<ds|ka|pp-ka>.<pem|key>`: certificates as PEM `CERTIFICATE`, private keys as
/// PKCS#8 PEM `PRIVATE KEY`) for every party and the meter that made a vector, and the CA
/// certificates (`root-ca.pem`, `issuing-ca.pem`, `device-ca.pem`). **Test keys only**:
/// generated from a published seed; anyone can derive them.
///
/// # Errors
/// [`VectorError`] only on an internal fault.
pub fn keystore() -> Result<Vec<(String, String)>, VectorError> {
    use alloc::format;
    use alloc::string::ToString;
    let pki = TestPki::generate(SEED)?;
    let cert = |der: &[u8]| -> Result<String, VectorError> {
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der)
            .map_err(|_| VectorError("PEM"))
    };
    let mut out = Vec::new();
    for (name, ca) in [
        ("root-ca.pem", &pki.root),
        ("issuing-ca.pem", &pki.issuing_ca),
        ("device-ca.pem", &pki.device_ca),
    ] {
        out.push((name.to_string(), cert(&ca.certificate)?));
    }
    let id = |e: EntityId| format!("{e}").to_lowercase();
    for party in [
        &pki.recovery,
        &pki.supplier_a,
        &pki.supplier_b,
        &pki.network_operator,
        &pki.acb,
        &pki.tcos,
        &pki.ecos,
        &pki.wan_provider,
    ] {
        let e = id(party.entity_id);
        out.push((format!("{e}-ds.pem"), cert(&party.ds.certificate)?));
        out.push((
            format!("{e}-ds.key"),
            party.ds.key.to_pkcs8_pem().to_string(),
        ));
        out.push((format!("{e}-ka.pem"), cert(&party.ka.certificate)?));
        out.push((
            format!("{e}-ka.key"),
            party.ka.key.to_pkcs8_pem().to_string(),
        ));
        if let Some(pp) = &party.prepayment_ka {
            out.push((format!("{e}-pp-ka.pem"), cert(&pp.certificate)?));
            out.push((format!("{e}-pp-ka.key"), pp.key.to_pkcs8_pem().to_string()));
        }
    }
    let device = pki.device(ids::device(1))?;
    let e = id(ids::device(1));
    out.push((format!("{e}-ds.pem"), cert(&device.ds.certificate)?));
    out.push((
        format!("{e}-ds.key"),
        device.ds.key.to_pkcs8_pem().to_string(),
    ));
    out.push((format!("{e}-ka.pem"), cert(&device.ka.certificate)?));
    out.push((
        format!("{e}-ka.key"),
        device.ka.key.to_pkcs8_pem().to_string(),
    ));
    Ok(out)
}
