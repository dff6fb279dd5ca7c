//! Builders of the CS02b commands the simulator tests send (0x0107 supplierByTransCoS,
//! 0x0106 transCoSByTransCoS) from the test PKI.
#![allow(dead_code)]

use gbcs::cos::Execution;
use gbcs::frame::{EntityId, MessageCode};
use gbcs::message::{self, CommandHeader};
use gbcs::payload::{
    AuthorisingRemotePartyControl, CertificateDer, CredentialsReplacementMode, GeneralizedTime,
    Payload, RemotePartyRole, RemotePartySeqNumberChange, SeqOf, TimeBasedCpvChecks,
    TrustAnchorCellIdentifier, TrustAnchorReplacement, UpdateSecurityCredentialsCommand,
};
use gbcs::sim::{Party, TestPki};

pub const T0: i64 = 1_700_000_000; // 2023-11-14

pub struct Options {
    pub execution: Option<GeneralizedTime>,
    pub disapply_time_checks: bool,
    pub own_floor: Option<u64>,
    pub mac: bool,
    pub certificate_override: Option<Vec<u8>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            execution: None,
            disapply_time_checks: false,
            own_floor: None,
            mac: true,
            certificate_override: None,
        }
    }
}

fn control<'a>(
    mode: CredentialsReplacementMode,
    counter: u64,
    opts: &Options,
    others: Option<SeqOf<'a, RemotePartySeqNumberChange<'a>>>,
) -> AuthorisingRemotePartyControl<'a> {
    AuthorisingRemotePartyControl {
        mode,
        plain_text_symmetric_key: None,
        apply_time_based_cpv_checks: opts
            .disapply_time_checks
            .then_some(TimeBasedCpvChecks::DISAPPLY),
        authorising_cell: Some(TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS),
        authorising_seq_number: counter,
        new_floor_seq_number: opts.own_floor,
        new_specialist_floor_seq_numbers: None,
        other_seq_number_changes: others,
    }
}

fn send(
    pki: &TestPki,
    signer: &Party,
    device: EntityId,
    counter: u64,
    cmd: UpdateSecurityCredentialsCommand<'_>,
    mac: bool,
) -> Vec<u8> {
    let header = CommandHeader {
        message_code: cmd.message_code().expect("mode"),
        counter,
        originator: signer.entity_id,
        recipient: device,
    };
    let z = pki.acb_secret(device).expect("z");
    message::build_command(
        &header,
        &Payload::UpdateSecurityCredentialsCommand(cmd),
        Some(&signer.ds.key),
        mac.then_some(&z),
    )
    .expect("build")
}

/// 0x0107: `signer` (the party in the meter's {5, DS} cell) puts `new_supplier` into the
/// supplier cells.
pub fn supplier_by_trans_cos(
    pki: &TestPki,
    signer: &Party,
    new_supplier: &Party,
    device: EntityId,
    counter: u64,
    opts: &Options,
) -> Vec<u8> {
    assert!(opts.own_floor.is_none(), "a 0x0107 carries no [4]");
    // The library's SRV 6.23 payload, sent with whatever signer and MAC the test asks for
    // (the library builder would refuse the wrong ones).
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let execution = match opts.execution {
        None => Execution::Immediate,
        Some(t) if t.is_cancellation() => Execution::Cancel,
        Some(t) => Execution::At(t),
    };
    let mut request = new_supplier.change_of_supplier_to(device, &path, execution);
    request.apply_time_based_cpv_checks = !opts.disapply_time_checks;
    if let Some(ds) = &opts.certificate_override {
        request.supplier_ds = CertificateDer(ds);
    }
    let command = request.payload(counter).expect("0x0107 payload");
    send(pki, signer, device, counter, command.view(), opts.mac)
}

/// 0x0106: `signer` (the party in {5, DS}) puts `incoming`'s DS certificate into {5, DS}.
pub fn trans_cos_by_trans_cos(
    pki: &TestPki,
    signer: &Party,
    incoming: &Party,
    device: EntityId,
    counter: u64,
    opts: &Options,
) -> Vec<u8> {
    let cert = opts
        .certificate_override
        .as_deref()
        .unwrap_or(&incoming.ds.certificate);
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(cert),
        target_cell: TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS,
    }];
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let cmd = UpdateSecurityCredentialsCommand {
        control: control(
            CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS,
            counter,
            opts,
            None,
        ),
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&path),
        execution_date_time: opts.execution,
    };
    send(pki, signer, device, counter, cmd, opts.mac)
}

/// A CS02a from the ACB asking for `roles`, MAC'd, no signature.
pub fn acb_query(
    pki: &TestPki,
    device: EntityId,
    counter: u64,
    roles: &[RemotePartyRole],
) -> Vec<u8> {
    let header = CommandHeader {
        message_code: MessageCode::CS02A,
        counter,
        originator: pki.acb.entity_id,
        recipient: device,
    };
    let payload = Payload::CredentialDetailsCommand(gbcs::payload::CredentialDetailsCommand {
        authorising_cell: TrustAnchorCellIdentifier::ACB_KA,
        roles: SeqOf::from_slice(roles),
    });
    let z = pki.acb_secret(device).expect("z");
    message::build_command(&header, &payload, None, Some(&z)).expect("build")
}
