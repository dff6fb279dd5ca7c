//! One migration step per device — build, sign and MAC the 0x0106 (one ECDH, one ECDSA sign)
//! and decode, verify and interpret the device's response (one ECDSA verify) — beside the bare
//! primitives in the same run, so the step reads as a ratio of its crypto. Then a batch of
//! steps on one core and on all cores, for devices per second. Responses are prepared by
//! simulated meters beforehand, so only the engine side is measured.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gbcs::cos::command::{CosSigner, MigrationCommand};
use gbcs::cos::migration::{interpret_response, IssuedCommand, Outcome};
use gbcs::cos::{CosParty, CosRegistry};
use gbcs::crypto::{KeyAgreement, SignatureSigner, SignatureVerifier};
use gbcs::payload::CertificateDer;
use gbcs::sim::pki::ids;
use gbcs::sim::{Reply, TestPki};

const CLOCK: i64 = 1_764_547_200;
const BATCH: usize = 64;

struct Device {
    entity: gbcs::frame::EntityId,
    ka: gbcs::crypto::PublicKey,
    ds: gbcs::crypto::PublicKey,
    response: Vec<u8>,
}

fn benches(c: &mut Criterion) {
    let pki = TestPki::generate(b"migration bench").expect("pki");
    let mut registry = CosRegistry::new();
    let tcos = registry
        .add_certificate(CosParty::Tcos, &pki.tcos.ds.certificate)
        .expect("TCoS");
    registry
        .add_certificate(CosParty::Ecos, &pki.ecos.ds.certificate)
        .expect("ECoS");
    let path = [CertificateDer(&pki.issuing_ca.certificate)];
    let command = MigrationCommand::new(
        &registry,
        CertificateDer(&pki.ecos.ds.certificate),
        &path,
        Some(0),
        true,
    )
    .expect("ECoS");
    let signer = CosSigner {
        credential: tcos,
        signer: &pki.tcos.ds.key,
    };
    let counter = 1000;

    // Devices with their prepared responses to the command with `counter`.
    let devices: Vec<Device> = (0..BATCH as u64)
        .map(|n| {
            let entity = ids::device(n);
            let mut meter = pki
                .meter(entity, &pki.supplier_a, &pki.tcos, CLOCK)
                .expect("meter");
            let creds = pki.device(entity).expect("device");
            let z = pki.acb.ka.key.agree(&creds.ka.key.public_key()).expect("z");
            let cmd = command
                .build(&registry, entity, tcos, &signer, counter, &z)
                .expect("build");
            let Reply::Response(response) = meter.process(&cmd) else {
                panic!("no response")
            };
            Device {
                entity,
                ka: creds.ka.key.public_key(),
                ds: creds.ds.key.public_key(),
                response,
            }
        })
        .collect();
    let issued = |d: &Device| IssuedCommand {
        device: d.entity,
        originator: tcos.entity_id,
        counter,
        ecos: command.ecos_credential(),
    };
    let step = |d: &Device| {
        let z = pki.acb.ka.key.agree(&d.ka).expect("z");
        let cmd = command
            .build(&registry, d.entity, tcos, &signer, counter, &z)
            .expect("build");
        let outcome = interpret_response(&d.response, &issued(d), &d.ds);
        assert_eq!(outcome, Outcome::Migrated);
        cmd.len()
    };
    let d0 = &devices[0];
    let probe = command
        .build(
            &registry,
            d0.entity,
            tcos,
            &signer,
            counter,
            &pki.acb.ka.key.agree(&d0.ka).expect("z"),
        )
        .expect("cmd");
    let signed = gbcs::parse(&probe)
        .expect("parse")
        .frame()
        .general_signing()
        .signed_bytes()
        .to_vec();
    let rsp = gbcs::parse(&d0.response).expect("parse");
    let rsp_signed = rsp.frame().general_signing().signed_bytes().to_vec();
    let gbcs::frame::SignatureTail::Signature(rsp_sig) = *rsp.tail() else {
        panic!()
    };

    let mut g = c.benchmark_group("primitives");
    g.bench_function("ecdsa_sign", |b| {
        b.iter(|| pki.tcos.ds.key.sign(black_box(&signed)).expect("ok"))
    });
    g.bench_function("ecdsa_verify", |b| {
        b.iter(|| {
            d0.ds
                .verify(black_box(&rsp_signed), &gbcs::crypto::Signature(rsp_sig))
                .expect("ok")
        })
    });
    g.bench_function("ecdh", |b| {
        b.iter(|| pki.acb.ka.key.agree(black_box(&d0.ka)).expect("ok"))
    });
    g.finish();

    let mut g = c.benchmark_group("migration");
    g.bench_function("step_per_device", |b| b.iter(|| step(black_box(d0))));
    g.bench_function("build_sign_mac_0106", |b| {
        b.iter(|| {
            let z = pki.acb.ka.key.agree(&d0.ka).expect("z");
            command
                .build(&registry, d0.entity, tcos, &signer, counter, &z)
                .expect("build")
        })
    });
    g.bench_function("decode_verify_interpret_response", |b| {
        b.iter(|| interpret_response(black_box(&d0.response), &issued(d0), &d0.ds))
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("batch_64_one_core", |b| {
        b.iter(|| devices.iter().map(step).sum::<usize>())
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    g.bench_function(format!("batch_64_{cores}_cores"), |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let handles: Vec<_> = devices
                    .chunks(BATCH.div_ceil(cores))
                    .map(|chunk| s.spawn(|| chunk.iter().map(step).sum::<usize>()))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("worker"))
                    .sum::<usize>()
            })
        })
    });
    g.finish();
}

criterion_group!(migration, benches);
criterion_main!(migration);
