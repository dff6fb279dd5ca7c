//! Criterion benches of the codec on the RTDS 6.23 supplierByTransCoS command (1,885 bytes),
//! beside the bare crypto primitives of every backend compiled in, in one run, so every
//! figure reads as a ratio (`<b>` is `rustcrypto` or `aws-lc`):
//!
//! - `primitives/<b>/ecdsa_sign`, `ecdsa_verify`, `ecdh`; `primitives/gmac_1.9KB` and
//!   `primitives/kdf_and_gmac_1.9KB`: the MAC exactly as the crate computes it on every
//!   backend (RustCrypto AES and GHASH, its key from the GBCS KDF, so the AES key schedule runs
//!   for every message), over the 1.9 KB APDU;
//! - `6.23_command/decode`, `6.23_command/encode_precommand` (no crypto);
//! - `6.23_command/<b>/decode_verify`: decode, verify the signature, ECDH, verify the MAC;
//! - `6.23_command/<b>/decode_verify_cached_z`: the same with Z from a warm
//!   [`SharedSecretCache`];
//! - `6.23_command/<b>/build_sign_mac`: encode, sign, ECDH, MAC;
//! - with the `duis` feature, `duis/schema_check_6.23_request`, `duis/read_6.23_request`
//!   (DCC's 6.23 request template: schema check, certificate checks) and
//!   `duis/response_xml_6.23` (DCC's 6.23 response to its MMC body);
//! - with the `pkcs11` feature and SoftHSM2 installed, `primitives/softhsm/ecdsa_sign` and
//!   `primitives/softhsm/ecdh`: the same keys imported into a SoftHSM token, reached through
//!   PKCS#11 (SoftHSM is software: the figures show the PKCS#11 path's cost, not an HSM's).
//!
//! Needs `../shared` (or `GBCS_REFERENCE_DATA`).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gbcs::crypto::keystore::{KeyRole, Keystore};
use gbcs::crypto::{
    gmac, Backend, CachedKeyAgreement, KeyAgreement, MacKey, SharedSecretCache, Signature,
    SignatureSigner, SignatureVerifier, AAD_PREFIX,
};
use gbcs::frame::{EntityId, SignatureTail};
use gbcs::message::{self, CommandHeader};

struct Fixture {
    command: Vec<u8>,
    keystore: Keystore,
}

fn fixture() -> Fixture {
    let shared = std::env::var_os("GBCS_REFERENCE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = shared.join(
        "rtds/RTDS-4.5.0/6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Fixture {
        command: gbcs::hex::decode(&text).expect("hex"),
        keystore: Keystore::open(shared.join("rtds/keystore")).expect("keystore"),
    }
}

const TCOS: EntityId = EntityId::from_u64(0x90B3_D51F_3000_0004);
const ACB: EntityId = EntityId::from_u64(0x90B3_D51F_3000_0002);
const METER: EntityId = EntityId::from_u64(0x00DB_1234_5678_90A0);

fn benches(c: &mut Criterion) {
    let f = fixture();
    let bytes = &f.command;
    let msg = gbcs::parse(bytes).expect("parse");
    let gs = *msg.frame().general_signing();
    let signed = gs.signed_bytes();
    let SignatureTail::Signature(sig) = *gs.tail() else {
        panic!("unsigned")
    };
    let sig = Signature(sig);
    let h = msg.header();
    let header = CommandHeader::of(h);
    let payload = *msg.payload();
    let apdu = gs.as_bytes().to_vec();

    let mut g = c.benchmark_group("6.23_command");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| gbcs::parse(black_box(bytes)).expect("ok"))
    });
    let mut buf = vec![0u8; bytes.len()];
    g.bench_function("encode_precommand", |b| {
        b.iter(|| {
            message::build_precommand_into(black_box(&header), black_box(&payload), &mut buf)
                .expect("ok")
        })
    });
    g.finish();

    for &backend in Backend::ALL {
        let name = backend.name();
        let tcos_pub = f
            .keystore
            .public_key(TCOS, KeyRole::DigitalSignature)
            .map(|k| k.with_backend(backend).expect("backend"))
            .expect("TCoS cert");
        let tcos_key = f
            .keystore
            .signing_key(TCOS)
            .map(|k| k.with_backend(backend).expect("backend"))
            .expect("TCoS key");
        let acb_ka = f
            .keystore
            .key_agreement_key(ACB, KeyRole::KeyAgreement)
            .map(|k| k.with_backend(backend).expect("backend"))
            .expect("ACB KA");
        let meter_ka = f
            .keystore
            .public_key(METER, KeyRole::KeyAgreement)
            .map(|k| k.with_backend(backend).expect("backend"))
            .expect("meter KA cert");
        let z = acb_ka.agree(&meter_ka).expect("z");

        let mut g = c.benchmark_group("primitives");
        g.bench_function(format!("{name}/ecdsa_sign"), |b| {
            b.iter(|| tcos_key.sign(black_box(signed)).expect("ok"))
        });
        g.bench_function(format!("{name}/ecdsa_verify"), |b| {
            b.iter(|| {
                tcos_pub
                    .verify(black_box(signed), black_box(&sig))
                    .expect("ok")
            })
        });
        g.bench_function(format!("{name}/ecdh"), |b| {
            b.iter(|| acb_ka.agree(black_box(&meter_ka)).expect("ok"))
        });
        // The MAC the crate computes, on every backend: the GBCS KDF gives each message its own
        // key, so the AES key schedule is part of every MAC (RustCrypto's AES and GHASH; the
        // aws-lc backend does the curve work only). Measured once, under `primitives/`.
        if matches!(backend, Backend::RustCrypto) {
            let key = MacKey::derive(&z, h);
            let iv = [0u8; 12];
            g.throughput(Throughput::Bytes(apdu.len() as u64));
            g.bench_function("gmac_1.9KB", |b| {
                b.iter(|| gmac(black_box(&key), &iv, &[&AAD_PREFIX, black_box(&apdu)]))
            });
            g.bench_function("kdf_and_gmac_1.9KB", |b| {
                b.iter(|| {
                    let key = MacKey::derive(black_box(&z), h);
                    gmac(&key, &iv, &[&AAD_PREFIX, black_box(&apdu)])
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group("6.23_command");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("{name}/decode_verify"), |b| {
            b.iter(|| {
                let m = gbcs::parse(black_box(bytes)).expect("parse");
                m.verify_signature(&tcos_pub).expect("signature");
                let z = acb_ka.agree(&meter_ka).expect("z");
                m.verify_mac(&z).expect("mac");
            })
        });
        let cache = SharedSecretCache::new(16);
        let cached = CachedKeyAgreement::for_key(&acb_ka, &cache);
        cached.agree(&meter_ka).expect("warm the cache");
        g.bench_function(format!("{name}/decode_verify_cached_z"), |b| {
            b.iter(|| {
                let m = gbcs::parse(black_box(bytes)).expect("parse");
                m.verify_signature(&tcos_pub).expect("signature");
                let z = cached.agree(&meter_ka).expect("z");
                m.verify_mac(&z).expect("mac");
            })
        });
        let mut out = vec![0u8; bytes.len() + 64];
        g.bench_function(format!("{name}/build_sign_mac"), |b| {
            b.iter(|| {
                let n = message::build_precommand_into(&header, &payload, &mut buf).expect("pre");
                let n =
                    message::sign_precommand_into(&buf[..n], &tcos_key, &mut out).expect("sign");
                let z = acb_ka.agree(&meter_ka).expect("z");
                message::add_mac(&out[..n], &z).expect("mac")
            })
        });
        g.finish();
    }
}

#[cfg(feature = "pkcs11")]
#[path = "../tests/support/softhsm.rs"]
mod softhsm;

/// The RTDS TCoS DS and ACB KA keys in a SoftHSM token, signing and agreeing through PKCS#11.
#[cfg(feature = "pkcs11")]
fn softhsm_benches(c: &mut Criterion) {
    use gbcs::crypto::pkcs11::{HsmKeyAgreementKey, HsmSigningKey};
    use p256::pkcs8::DecodePrivateKey as _;
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let f = fixture();
    let shared = std::env::var_os("GBCS_REFERENCE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let scalar = |file: &str| -> [u8; 32] {
        let pem = std::fs::read_to_string(shared.join("rtds/keystore").join(file)).expect("key");
        let (_, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).expect("PEM");
        p256::SecretKey::from_pkcs8_der(&der)
            .expect("P-256 key")
            .to_bytes()
            .into()
    };
    hsm.token("bench");
    hsm.import(
        "bench",
        "tcos-ds",
        4,
        &scalar("90b3d51f30000004-ds.key"),
        true,
        false,
    );
    hsm.import(
        "bench",
        "acb-ka",
        2,
        &scalar("90b3d51f30000002-ka.key"),
        false,
        true,
    );
    let signer = HsmSigningKey::open(&hsm.module, &hsm.uri("bench", "tcos-ds")).expect("key");
    let acb = HsmKeyAgreementKey::open(&hsm.module, &hsm.uri("bench", "acb-ka")).expect("key");
    let meter_ka = f
        .keystore
        .public_key(METER, KeyRole::KeyAgreement)
        .expect("meter KA cert");
    let msg = gbcs::parse(&f.command).expect("parse");
    let signed = msg.frame().general_signing().signed_bytes();
    let mut g = c.benchmark_group("primitives");
    g.bench_function("softhsm/ecdsa_sign", |b| {
        b.iter(|| signer.sign(black_box(signed)).expect("ok"))
    });
    g.bench_function("softhsm/ecdh", |b| {
        b.iter(|| acb.agree(black_box(&meter_ka)).expect("ok"))
    });
    g.finish();
}

#[cfg(not(feature = "pkcs11"))]
fn softhsm_benches(_: &mut Criterion) {}

/// The DUIS side of a 6.23, in the same run as the primitives: reading DCC's 6.23 request
/// template (schema check, then every certificate's DER, SMKI profile and cell), the schema
/// check alone, and DCC's 6.23 response to its MMC `ra:GBCSResponse` body.
#[cfg(feature = "duis")]
fn duis_benches(c: &mut Criterion) {
    let shared = std::env::var_os("GBCS_REFERENCE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let xml = std::fs::read_to_string(
        shared.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"),
    )
    .expect("DUIS 6.23 template");
    let response = gbcs::hex::decode(
        &std::fs::read_to_string(shared.join(
            "rtds/RTDS-4.5.0/6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX",
        ))
        .expect("RTDS 6.23 response"),
    )
    .expect("hex");
    let mut g = c.benchmark_group("duis");
    g.throughput(Throughput::Bytes(xml.len() as u64));
    g.bench_function("schema_check_6.23_request", |b| {
        b.iter(|| gbcs::duis::schema::validate(black_box(&xml)).expect("valid"))
    });
    // Read as the CLI reads it without --trust-anchor: the schema check, the certificates'
    // DER and profile, and each of the 3 replacement certificates' signatures verified under
    // the request's CA (3 ECDSA verifications on the default backend), at a fixed time.
    let trust = gbcs::duis::CertificateTrust::new(None, 1_796_635_800);
    g.bench_function("read_6.23_request", |b| {
        b.iter(|| gbcs::duis::Srv623Request::from_xml(black_box(&xml), &trust).expect("reads"))
    });
    g.throughput(Throughput::Bytes(response.len() as u64));
    g.bench_function("response_xml_6.23", |b| {
        b.iter(|| {
            let msg = gbcs::parse(black_box(&response)).expect("parse");
            gbcs::duis::gbcs_response_xml(&msg, None).expect("body")
        })
    });
    g.finish();
}

#[cfg(not(feature = "duis"))]
fn duis_benches(_: &mut Criterion) {}

criterion_group!(codec, benches, softhsm_benches, duis_benches);
criterion_main!(codec);
