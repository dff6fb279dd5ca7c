#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::sim::fleet::{FleetMix, SimulatedMigration};
use crate::sim::TestPki;

const NOW: i64 = 1_764_547_200;

/// RFC 3339 for the tests: Unix seconds written as `@SECONDS`, read back the same way (the
/// library takes the caller's time format; the CLI's is RFC 3339).
fn write_time(t: i64) -> String {
    format!("@{t}")
}

fn read_time(s: &str) -> Option<i64> {
    s.strip_prefix('@')?.parse().ok()
}

fn fleet(n: usize) -> SimulatedMigration {
    SimulatedMigration::new(b"inventory tests", 5, n, &FleetMix::default(), NOW).expect("fleet")
}

/// The fleet's records as inventory rows (no certificate files named).
fn rows_of(sim: &SimulatedMigration) -> Vec<InventoryRow> {
    sim.fleet
        .records
        .iter()
        .map(|r| InventoryRow::from_record(r, None, None, &write_time))
        .collect()
}

fn certificates_of(
    pki: &TestPki,
) -> impl FnMut(&InventoryRow, EntityId) -> Result<DeviceCertificates, String> + '_ {
    move |_, id| {
        let d = pki.device(id).map_err(|e| e.to_string())?;
        Ok(DeviceCertificates {
            ds: d.ds.certificate,
            ka: d.ka.certificate,
        })
    }
}

#[test]
fn rows_written_from_a_fleet_read_back_as_the_same_records() {
    let sim = fleet(60);
    let rows = rows_of(&sim);
    let back = records(&rows, &mut certificates_of(&sim.pki), 0, &read_time).expect("records");
    assert_eq!(back, sim.fleet.records);
}

#[cfg(feature = "csv")]
#[test]
fn a_csv_file_round_trips_and_its_optional_columns_may_be_left_out() {
    let sim = fleet(20);
    let rows: Vec<_> = sim
        .fleet
        .records
        .iter()
        .map(|r| InventoryRow::from_record(r, Some("ds.pem".into()), None, &write_time))
        .collect();
    let text = write_csv(&rows).expect("csv");
    assert_eq!(read_csv(text.as_bytes()).expect("read"), rows);
    let short = "device_id,device_type,manufacturer,model,firmware,responsible_supplier\n\
                 00DB7E5700000001, ESME ,ACME,E1,1.0.0,SUPA01\n";
    let read = read_csv(short.as_bytes()).expect("short");
    assert_eq!(read[0].device_type, "ESME");
    assert_eq!(read[0].credential_state, None);
}

#[cfg(feature = "csv")]
#[test]
fn a_csv_file_with_an_unknown_column_or_a_short_row_is_refused_at_its_record() {
    let unknown = "device_id,device_type,manufacturer,model,firmware,responsible_supplier,colour\n\
                   00DB7E5700000001,ESME,ACME,E1,1.0.0,SUPA01,blue\n";
    let e = read_csv(unknown.as_bytes()).expect_err("unknown column");
    assert!(e.message.contains("colour"), "{e}");
    let short = "device_id,device_type,manufacturer,model,firmware,responsible_supplier\n\
                 00DB7E5700000001,ESME,ACME,E1,1.0.0,SUPA01\n00DB7E5700000002,ESME,ACME\n";
    let e = read_csv(short.as_bytes()).expect_err("short row");
    assert_eq!(e.record, 2, "{e}");
}

fn one_row(sim: &SimulatedMigration) -> InventoryRow {
    InventoryRow::from_record(&sim.fleet.records[0], None, None, &write_time)
}

fn refusal(row: &InventoryRow, pki: &TestPki) -> InventoryError {
    records([row], &mut certificates_of(pki), NOW, &read_time).expect_err("refused")
}

#[test]
fn every_wrong_field_is_refused_and_named() {
    let sim = fleet(1);
    type Change = fn(&mut InventoryRow);
    let cases: [(&str, Change); 10] = [
        ("device_id", |r| r.device_id = "00DB7E57".into()),
        ("device_type", |r| r.device_type = "ELEC".into()),
        ("manufacturer", |r| r.manufacturer = "  ".into()),
        ("firmware", |r| r.firmware = String::new()),
        ("responsible_supplier", |r| {
            r.responsible_supplier = "not a party id".into()
        }),
        ("gas_meter_commissioned", |r| {
            r.gas_meter_commissioned = Some("yes".into())
        }),
        ("credential_state", |r| {
            r.credential_state = Some("TCoS-ish".into())
        }),
        ("cell_credential", |r| {
            r.cell_credential = Some("7E57000000000004".into())
        }),
        ("last_communication", |r| {
            r.last_communication = Some("yesterday".into())
        }),
        ("meter_asset_provider", |r| {
            r.meter_asset_provider = Some("???".into())
        }),
    ];
    for (name, change) in cases {
        let mut row = one_row(&sim);
        change(&mut row);
        let e = refusal(&row, &sim.pki);
        assert_eq!((e.record, e.field), (1, name), "{e}");
    }
}

#[test]
fn a_cell_credential_without_a_known_state_is_refused() {
    let sim = fleet(1);
    let mut row = one_row(&sim);
    row.credential_state = Some("unknown".into());
    row.cell_credential = Some("7E57000000000004:4000000000000001".into());
    assert_eq!(refusal(&row, &sim.pki).field, "cell_credential");
}

#[test]
fn another_devices_certificate_or_the_wrong_key_usage_is_refused() {
    let sim = fleet(2);
    let row = one_row(&sim);
    let other = sim
        .pki
        .device(sim.fleet.records[1].entity_id)
        .expect("other");
    let mine = sim
        .pki
        .device(sim.fleet.records[0].entity_id)
        .expect("mine");
    let try_with = |ds: &[u8], ka: &[u8]| {
        let certs = DeviceCertificates {
            ds: ds.to_vec(),
            ka: ka.to_vec(),
        };
        row.to_record(&certs, NOW, &read_time).expect_err("refused")
    };
    let (f, m) = try_with(&other.ds.certificate, &mine.ka.certificate);
    assert_eq!(f, "ds_certificate");
    assert!(m.contains("not"), "{m}");
    let (f, m) = try_with(&mine.ka.certificate, &mine.ka.certificate);
    assert_eq!(f, "ds_certificate");
    assert!(m.contains("key usage"), "{m}");
    let (f, _) = try_with(&mine.ds.certificate, &mine.ds.certificate);
    assert_eq!(f, "ka_certificate");
    let (f, _) = try_with(&sim.pki.tcos.ds.certificate, &mine.ka.certificate);
    assert_eq!(f, "ds_certificate");
    // Every truncation of a good certificate is refused, none accepted.
    for n in 0..mine.ds.certificate.len() {
        let (f, _) = try_with(&mine.ds.certificate[..n], &mine.ka.certificate);
        assert_eq!(f, "ds_certificate", "prefix of {n} bytes");
    }
}

#[test]
fn a_device_listed_twice_is_refused_at_its_second_row() {
    let sim = fleet(3);
    let mut rows = rows_of(&sim);
    let mut again = rows[0].clone();
    again.device_id = again.device_id.to_lowercase();
    rows.push(again);
    let e = records(&rows, &mut certificates_of(&sim.pki), NOW, &read_time).expect_err("twice");
    assert_eq!((e.record, e.field), (4, "device_id"));
}

#[test]
fn a_missing_certificate_is_the_callers_words_at_its_record() {
    let sim = fleet(2);
    let rows = rows_of(&sim);
    let mut calls = 0;
    let mut certs = |row: &InventoryRow, id| {
        calls += 1;
        if calls == 2 {
            return Err(format!("no certificate for {}", row.device_id));
        }
        certificates_of(&sim.pki)(row, id)
    };
    let e = records(&rows, &mut certs, NOW, &read_time).expect_err("missing");
    assert_eq!((e.record, e.field), (2, "certificates"));
    assert!(e.message.contains(&rows[1].device_id));
}

#[test]
fn absent_optional_fields_take_their_defaults() {
    let sim = fleet(1);
    let mut row = one_row(&sim);
    row.credential_state = None;
    row.cell_credential = None;
    row.last_communication = None;
    row.gas_meter_commissioned = None;
    row.device_id = "00-db-7e-57-00-00-00-00".into();
    let r = &records([&row], &mut certificates_of(&sim.pki), NOW, &read_time).expect("record")[0];
    assert_eq!(r.state, CosState::Unknown(UnknownReason::NoEvidence));
    assert_eq!(r.last_communication, NOW);
    assert!(!r.gas_meter_commissioned);
    assert_eq!(r.entity_id, sim.fleet.records[0].entity_id);
}
