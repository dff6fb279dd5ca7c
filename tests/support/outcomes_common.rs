//! Helpers shared by the tests split out of `tests/outcomes.rs`.
#![allow(dead_code)]

use gbcs::cos::migration::{DeviceRecord, MigrationStatus};
use gbcs::cos::route::DeviceType;
use gbcs::cos::{CosState, SecPartyId};
use gbcs::sim::pki::ids;
use gbcs::sim::TestPki;

pub const CLOCK: i64 = 1_700_000_000;

pub fn record(pki: &TestPki) -> DeviceRecord {
    let (ds, ka) = pki.device_keys(ids::device(1)).expect("keys");
    DeviceRecord {
        entity_id: ids::device(1),
        device_type: DeviceType::Esme,
        model: mk("M1"),
        firmware: "1.0".into(),
        responsible_supplier: SecPartyId::new("SUPA01").expect("id"),
        electricity_supplier: None,
        meter_asset_provider: None,
        state: CosState::Tcos,
        cell_credential: Some(pki.tcos.credential()),
        last_communication: CLOCK - 60,
        ineligible: None,
        ds_public_key: ds.public_key(),
        ka_public_key: ka.public_key(),
        attempts: 0,
        invalid_responses: 0,
        next_attempt_at: None,
        unconfirmed: None,
        unanswered_reads: 0,
        faulted_firmware: None,
        gas_meter_commissioned: false,
        status: MigrationStatus::NotStarted,
    }
}

/// A model of the one manufacturer these tests use.
pub fn mk(model: &str) -> gbcs::cos::ModelKey {
    gbcs::cos::ModelKey::new("ACME", model)
}
