//! Helpers shared by the tests split out of `tests/sim_modes.rs`.
#![allow(dead_code)]

use gbcs::codec::Writer;
use gbcs::crypto::SigningKey;
use gbcs::frame::EntityId;
use gbcs::message::{self, CommandHeader};
use gbcs::payload::modes::{self};
use gbcs::payload::{
    AuthorisingRemotePartyControl, CertificateDer, CredentialsReplacementMode, Encode, KeyId,
    KeyUsage, RemotePartyRole, RemotePartySeqNumberChange, SeqOf, TrustAnchorCellIdentifier,
    TrustAnchorReplacement, UpdateSecurityCredentialsCommand,
};
use gbcs::sim::pki::ids;
use gbcs::sim::{Rejection, Reply, SimDevice, TestPki};
use std::sync::OnceLock;

pub const T0: i64 = 1_700_000_000;

pub const METER: EntityId = ids::device(1);

pub const TCOS_DS: TrustAnchorCellIdentifier = TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS;

pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| TestPki::generate(b"gbcs mode table tests").expect("pki"))
}

pub fn meter() -> SimDevice {
    let pki = pki();
    pki.meter(METER, &pki.supplier_a, &pki.tcos, T0)
        .expect("meter")
}

/// What a refusal must leave as it was: every cell and every role's counter.
pub fn state(m: &SimDevice) -> (Vec<(TrustAnchorCellIdentifier, EntityId, KeyId)>, Vec<u64>) {
    let cells = m
        .cells()
        .map(|(id, c)| (*id, c.entity_id, c.key_id))
        .collect();
    let counters = (0..=8u8).map(|r| m.counter(RemotePartyRole(r))).collect();
    (cells, counters)
}

/// A command put together past the builder (which would refuse it): DER payload, grouping
/// header, the signature of `signer` or `00`, and the ACB's MAC when `mac`.
pub fn forge(
    code: gbcs::frame::MessageCode,
    counter: u64,
    originator: EntityId,
    cmd: &UpdateSecurityCredentialsCommand<'_>,
    signer: Option<&SigningKey>,
    mac: impl Into<Mac>,
) -> Vec<u8> {
    let der = cmd.to_der().expect("DER");
    let header = CommandHeader {
        message_code: code,
        counter,
        originator,
        recipient: METER,
    };
    let gh = header.grouping_header(der.len());
    let mut pre = vec![0u8; gh.buffer_len()];
    gh.emit(&mut Writer::new(&mut pre)).expect("header");
    pre.extend_from_slice(&der);
    let apdu = match signer {
        Some(k) => message::sign_precommand(&pre, k).expect("sign"),
        None => {
            pre.push(0);
            pre
        }
    };
    match mac.into() {
        Mac::None => apdu,
        Mac::Acb => message::add_mac(&apdu, &pki().acb_secret(METER).expect("z")).expect("MAC"),
        Mac::With(z) => message::add_mac(&apdu, &z).expect("MAC"),
    }
}

/// Which MAC a forged command gets.
pub enum Mac {
    /// None.
    None,
    /// The ACB's with the meter.
    Acb,
    /// Keyed with this shared secret.
    With(gbcs::crypto::SharedSecret),
}

impl From<bool> for Mac {
    fn from(acb: bool) -> Self {
        if acb {
            Self::Acb
        } else {
            Self::None
        }
    }
}

impl From<Option<gbcs::crypto::SharedSecret>> for Mac {
    fn from(z: Option<gbcs::crypto::SharedSecret>) -> Self {
        z.map_or(Self::None, Self::With)
    }
}

pub fn control(
    mode: u8,
    cell: Option<TrustAnchorCellIdentifier>,
    counter: u64,
) -> AuthorisingRemotePartyControl<'static> {
    AuthorisingRemotePartyControl {
        mode: CredentialsReplacementMode(mode),
        plain_text_symmetric_key: None,
        apply_time_based_cpv_checks: None,
        authorising_cell: cell,
        authorising_seq_number: counter,
        new_floor_seq_number: None,
        new_specialist_floor_seq_numbers: None,
        other_seq_number_changes: None,
    }
}

/// Sends a forged command; asserts the meter refused it with `want` and changed nothing.
pub fn refused_unchanged(cmd_bytes: &[u8], want: Rejection) {
    let mut m = meter();
    let before = state(&m);
    assert_eq!(m.process(cmd_bytes), Reply::Rejected(want));
    assert_eq!(state(&m), before, "a refusal changes nothing");
}

pub fn cells() -> Vec<TrustAnchorCellIdentifier> {
    let mut out = vec![modes::ROOT];
    for role in [1u8, 2, 3, 4, 5, 6, 8] {
        for usage in [KeyUsage::DIGITAL_SIGNATURE, KeyUsage::KEY_AGREEMENT] {
            out.push(TrustAnchorCellIdentifier::new(RemotePartyRole(role), usage));
        }
    }
    out
}

/// A command of `mode` that satisfies its row, aimed at the first cell the meter holds that
/// the mode may replace, with every knob the matrix turns.
pub struct Knobs {
    pub cell: Option<TrustAnchorCellIdentifier>,
    pub target: TrustAnchorCellIdentifier,
    pub floor: bool,
    pub others: bool,
    pub signer: Option<&'static SigningKey>,
    pub mac: Option<gbcs::crypto::SharedSecret>,
    pub counter: u64,
    pub stored: u64,
}

pub fn send(mode: u8, k: &Knobs) -> (Reply, bool) {
    let pki = pki();
    let row = modes::rule(CredentialsReplacementMode(mode)).expect("row");
    let changes = [RemotePartySeqNumberChange {
        role: RemotePartyRole::SUPPLIER,
        floor_seq_number: 0,
        specialist_floor_seq_numbers: None,
    }];
    let replacements = [TrustAnchorReplacement {
        certificate: CertificateDer(&pki.ecos.ds.certificate),
        target_cell: k.target,
    }];
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let mut ctl = control(mode, k.cell, k.counter);
    ctl.plain_text_symmetric_key =
        (row.plain_text_key == modes::FieldRule::Required).then_some(&[7u8; 16][..]);
    ctl.new_floor_seq_number = k.floor.then_some(0);
    ctl.other_seq_number_changes = k.others.then(|| SeqOf::from_slice(&changes));
    let cmd = UpdateSecurityCredentialsCommand {
        control: ctl,
        replacements: SeqOf::from_slice(&replacements),
        certification_path: SeqOf::from_slice(&path),
        execution_date_time: None,
    };
    let bytes = forge(
        row.message_code,
        k.counter,
        pki.tcos.entity_id,
        &cmd,
        k.signer,
        k.mac.clone(),
    );
    let mut m = meter();
    // The counter the meter already holds for the authorising role (a used counter when
    // it is the command's own).
    if let Some(cell) = k.cell {
        m.set_counter(cell.role, k.stored);
    }
    let before = state(&m);
    let reply = m.process(&bytes);
    let unchanged = state(&m) == before;
    (reply, unchanged)
}

/// Every party's DS key the meter may be sent a command signed with.
pub fn signers() -> Vec<&'static SigningKey> {
    let pki = pki();
    vec![
        &pki.recovery.ds.key,
        &pki.supplier_a.ds.key,
        &pki.supplier_b.ds.key,
        &pki.network_operator.ds.key,
        &pki.tcos.ds.key,
        &pki.ecos.ds.key,
        &pki.wan_provider.ds.key,
        // The root's key: what authorises anyByContingency (mode 9).
        &pki.root.key,
    ]
}
