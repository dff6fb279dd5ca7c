//! DCC's RTDS keystore as a device keystore for an inventory: every device whose DS and KA
//! certificates are there makes a device record with their keys, and a row that names one
//! device's certificate for another, or swaps DS and KA, is refused.

#[path = "support/shared.rs"]
mod shared;
#[path = "support/skip.rs"]
mod skip;

use gbcs::cos::inventory::{records, DeviceCertificates, InventoryRow};
use gbcs::crypto::keystore::KeyRole;
use gbcs::frame::EntityId;
use gbcs::smki::{CertificateKind, SmkiCertificate};

fn row(id: &str) -> InventoryRow {
    InventoryRow {
        device_id: id.to_owned(),
        device_type: "ESME".into(),
        manufacturer: "RTDS".into(),
        model: "TEST".into(),
        firmware: "4.5.0".into(),
        responsible_supplier: "SUPA01".into(),
        ..InventoryRow::default()
    }
}

/// The entity IDs of the keystore's device DS certificates that have a KA certificate beside.
fn devices(dir: &std::path::Path) -> Vec<EntityId> {
    let pems = shared::keystore_pems(dir);
    let mut out = Vec::new();
    for (name, _, der) in &pems {
        let Some(stem) = name.strip_suffix("-ds.pem") else {
            continue;
        };
        let Ok(cert) = SmkiCertificate::from_der(der) else {
            continue;
        };
        let CertificateKind::Device { entity_id } = cert.kind() else {
            continue;
        };
        if pems.iter().any(|(n, _, _)| *n == format!("{stem}-ka.pem")) {
            out.push(entity_id);
        }
    }
    out
}

#[test]
fn every_rtds_device_with_both_certificates_makes_a_record_with_their_keys() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let ids = devices(&dir);
    assert!(
        !ids.is_empty(),
        "the RTDS keystore holds device certificates"
    );
    let rows: Vec<_> = ids.iter().map(|id| row(&id.to_string())).collect();
    let mut find = |_: &InventoryRow, id: EntityId| -> Result<DeviceCertificates, String> {
        Ok(DeviceCertificates {
            ds: ks
                .certificate_der(id, KeyRole::DigitalSignature)
                .map_err(|e| e.to_string())?,
            ka: ks
                .certificate_der(id, KeyRole::KeyAgreement)
                .map_err(|e| e.to_string())?,
        })
    };
    let got = records(&rows, &mut find, 0, &|_| None).expect("every device loads");
    assert_eq!(got.len(), ids.len());
    for r in &got {
        let ds = ks
            .public_key(r.entity_id, KeyRole::DigitalSignature)
            .expect("ds");
        let ka = ks
            .public_key(r.entity_id, KeyRole::KeyAgreement)
            .expect("ka");
        assert_eq!(r.ds_public_key, ds, "{}", r.entity_id);
        assert_eq!(r.ka_public_key, ka, "{}", r.entity_id);
    }
}

#[test]
fn an_rtds_certificate_of_another_device_or_role_is_refused() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let ks = shared::keystore(&dir);
    let ids = devices(&dir);
    for pair in ids.windows(2) {
        let [a, b] = [pair[0], pair[1]];
        let cert = |id, role| ks.certificate_der(id, role).expect("certificate");
        let swapped = DeviceCertificates {
            ds: cert(a, KeyRole::KeyAgreement),
            ka: cert(a, KeyRole::DigitalSignature),
        };
        let (field, _) = row(&a.to_string())
            .to_record(&swapped, 0, &|_| None)
            .expect_err("swapped");
        assert_eq!(field, "ds_certificate", "{a}");
        let other = DeviceCertificates {
            ds: cert(a, KeyRole::DigitalSignature),
            ka: cert(b, KeyRole::KeyAgreement),
        };
        let (field, message) = row(&a.to_string())
            .to_record(&other, 0, &|_| None)
            .expect_err("another device's");
        assert_eq!(field, "ka_certificate", "{a}");
        assert!(message.contains(&b.to_string()), "{message}");
    }
}
