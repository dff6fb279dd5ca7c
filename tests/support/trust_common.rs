//! Helpers shared by the tests split out of `tests/trust.rs`.
#![allow(dead_code)]

use gbcs::crypto::PublicKey;
use gbcs::frame::EntityId;
use gbcs::sim::TestPki;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn gbcs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args(args)
        .output()
        .expect("run gbcs")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gbcs-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

pub fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).expect("PEM")
}

/// A public key as SPKI PEM (the P-256 SubjectPublicKeyInfo prefix, then the point).
pub fn spki_pem(key: &PublicKey) -> String {
    let mut der =
        gbcs::hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").expect("hex");
    der.extend_from_slice(key.as_uncompressed());
    pem("PUBLIC KEY", &der)
}

pub fn keystore_name(id: EntityId, suffix: &str) -> String {
    format!("{}-{suffix}", id.to_string().to_lowercase())
}

/// The 6.23 template, its DigitalSigningCertificate (DER), and the template with `der` in
/// its place.
pub fn template_623(shared: &Path) -> String {
    std::fs::read_to_string(
        shared.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"),
    )
    .expect("6.23 template")
}

pub fn element_der(xml: &str, element: &str) -> Vec<u8> {
    let open = format!("<sr:{element}>");
    let start = xml.find(&open).expect("element") + open.len();
    let end = start + xml[start..].find('<').expect("end");
    gbcs::duis::decode_base64(&xml[start..end]).expect("base64")
}

pub fn with_element(xml: &str, element: &str, der: &[u8]) -> String {
    use base64ct::Encoding as _;
    let open = format!("<sr:{element}>");
    let start = xml.find(&open).expect("element") + open.len();
    let end = start + xml[start..].find('<').expect("end");
    format!(
        "{}{}{}",
        &xml[..start],
        base64ct::Base64::encode_string(der),
        &xml[end..]
    )
}

/// The offset of the second `17 0D` (UTCTime) in a certificate: its notAfter.
pub fn not_after_offset(der: &[u8]) -> usize {
    let times: Vec<usize> = der
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == &[0x17, 0x0D])
        .map(|(i, _)| i)
        .collect();
    times[1]
}

/// One ESME holding TCoS, its keys from a test PKI.
pub fn shared_record() -> gbcs::cos::DeviceRecord {
    let pki = TestPki::generate(b"one record").expect("PKI");
    let id = gbcs::sim::pki::ids::device(7);
    let (ds, ka) = pki.device_keys(id).expect("keys");
    gbcs::cos::DeviceRecord {
        entity_id: id,
        device_type: gbcs::cos::DeviceType::Esme,
        model: gbcs::cos::ModelKey::new("ACME", "M-1"),
        firmware: "1.0.0".into(),
        responsible_supplier: gbcs::cos::SecPartyId::new("SUPA01").expect("id"),
        electricity_supplier: None,
        meter_asset_provider: None,
        gas_meter_commissioned: false,
        state: gbcs::cos::CosState::Tcos,
        cell_credential: None,
        last_communication: 0,
        ineligible: None,
        ds_public_key: ds.public_key(),
        ka_public_key: ka.public_key(),
        attempts: 0,
        invalid_responses: 0,
        next_attempt_at: None,
        unconfirmed: None,
        unanswered_reads: 0,
        status: gbcs::cos::MigrationStatus::NotStarted,
        faulted_firmware: None,
    }
}

/// `gbcs build --dcc rtds --duis DUIS --counter COUNTER`, then `extra`.
pub fn build_rtds(duis: &Path, counter: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "build",
        "--dcc",
        "rtds",
        "--duis",
        path(duis),
        "--counter",
        counter,
    ];
    args.extend_from_slice(extra);
    gbcs(&args)
}
