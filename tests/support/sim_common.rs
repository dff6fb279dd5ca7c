//! Helpers shared by the tests split out of `tests/sim.rs`.
#![allow(dead_code)]

use super::cos;
use cos::T0;
use gbcs::frame::EntityId;
use gbcs::payload::{
    KeyUsage, Payload, RemotePartyRole, StatusCode, TrustAnchorCellIdentifier,
    UpdateSecurityCredentialsResponse,
};
use gbcs::sim::pki::ids;
use gbcs::sim::{Reply, SimDevice, TestPki};

pub fn pki() -> TestPki {
    TestPki::generate(b"gbcs simulator tests").expect("pki")
}

pub const METER: EntityId = ids::device(1);

pub const SUPPLIER_DS: TrustAnchorCellIdentifier =
    TrustAnchorCellIdentifier::new(RemotePartyRole::SUPPLIER, KeyUsage::DIGITAL_SIGNATURE);

pub fn tcos_meter(pki: &TestPki) -> SimDevice {
    pki.meter(METER, &pki.supplier_a, &pki.tcos, T0)
        .expect("meter")
}

pub fn response(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

/// Parses and verifies a device response; returns its statuses.
pub fn statuses(device: &SimDevice, bytes: &[u8]) -> Vec<StatusCode> {
    let m = gbcs::parse(bytes).expect("response parses");
    m.verify_signature(&device.ds_public_key())
        .expect("device signature");
    match m.payload() {
        Payload::UpdateSecurityCredentialsResponse(UpdateSecurityCredentialsResponse {
            execution_outcome: Some(o),
        }) => o.replacement_outcomes.iter().map(|r| r.status).collect(),
        other => panic!("not an immediate CS02b response: {other:?}"),
    }
}

/// Processes `cmd` and returns the verified response's statuses.
pub fn run(meter: &mut SimDevice, cmd: &[u8]) -> Vec<StatusCode> {
    let rsp = response(meter.process(cmd));
    statuses(meter, &rsp)
}
