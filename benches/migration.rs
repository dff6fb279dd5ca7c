//! The engine side of a bulk migration, per backend (`<b>` is `rustcrypto` or `aws-lc`):
//!
//! - `migration/<b>/step_per_device`: one device's first contact — ECDH through a cold
//!   shared-secret cache, build + sign + MAC the 0x0106, then decode, verify and interpret the
//!   device's response (one ECDSA verify). Read it against `primitives/<b>/ecdsa_sign +
//!   ecdh + ecdsa_verify` of the `codec` bench in the same `cargo bench` run.
//! - `migration/<b>/build_sign_mac_0106` and `migration/<b>/decode_verify_interpret_response`:
//!   its two halves.
//! - `migration/<b>/batch_64_one_core` and `migration/<b>/batch_64_all_cores`: the real
//!   [`BulkMigration`] engine running one batch of 64 devices (selection, counters, the
//!   attempts, ledger, auto-stop), with a cold cache, on one worker and on every core.
//! - `migration/<b>/bare_64_one_core` and `migration/<b>/bare_64_all_cores`: the machine's
//!   ceiling for that ratio — the same 64 steps split evenly over plain threads, no engine.
//!
//! The meters' responses are recorded from simulated meters beforehand and replayed, so only
//! the engine's work is measured.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gbcs::cos::command::MigrationCommand;
use gbcs::cos::engine::{BulkMigration, EngineConfig, MigrationContext, Transport};
use gbcs::cos::migration::{interpret_response, IssuedCommand, MigrationStatus, Outcome};
use gbcs::crypto::{Backend, CachedKeyAgreement, KeyAgreement, SharedSecretCache};
use gbcs::frame::EntityId;
use gbcs::payload::CertificateDer;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};

const CLOCK: i64 = 1_764_547_200;
const BATCH: usize = 64;
const COUNTER: u64 = 1000;

/// Passes commands to the simulated meters and keeps their replies.
struct Recorder<'a> {
    inner: &'a dyn Transport,
    replies: Mutex<HashMap<EntityId, Vec<u8>>>,
}

impl Transport for Recorder<'_> {
    fn exchange(&self, device: EntityId, command: &[u8]) -> Option<Vec<u8>> {
        let reply = self.inner.exchange(device, command)?;
        self.replies
            .lock()
            .expect("recorder")
            .insert(device, reply.clone());
        Some(reply)
    }
}

/// Replays recorded replies: the meters' own work is not measured.
struct Replay(HashMap<EntityId, Vec<u8>>);

impl Transport for Replay {
    fn exchange(&self, device: EntityId, _command: &[u8]) -> Option<Vec<u8>> {
        self.0.get(&device).cloned()
    }
}

fn context<'a>(
    sim: &'a SimulatedMigration,
    path: &'a [CertificateDer<'a>],
    acb: &'a (dyn KeyAgreement + Sync),
) -> MigrationContext<'a> {
    let command = MigrationCommand::new(
        &sim.registry,
        CertificateDer(&sim.pki.ecos.ds.certificate),
        path,
        sim.policy.ecos_floor,
        true,
    )
    .expect("ECoS certificate");
    MigrationContext {
        registry: &sim.registry,
        tcos: sim.pki.tcos.signer(),
        command,
        acb,
        acb_id: sim.pki.acb.entity_id,
    }
}

fn bench_backend(c: &mut Criterion, backend: Backend) {
    let name = backend.name();
    let healthy = FleetMix(vec![(Profile::Healthy, 1000)]);
    let mut sim =
        SimulatedMigration::with_backend(b"migration bench", 1, BATCH, &healthy, CLOCK, backend)
            .expect("fleet");
    let records = sim.fleet.records.clone();
    let mut run = sim.start(COUNTER);
    let path = [CertificateDer(&sim.pki.issuing_ca.certificate)];

    // Record each meter's reply to the command the engine sends it first.
    let recorder = Recorder {
        inner: &sim.fleet.transport,
        replies: Mutex::new(HashMap::new()),
    };
    let warm = SharedSecretCache::new(BATCH);
    let acb = CachedKeyAgreement::for_key(&sim.pki.acb.ka.key, &warm);
    let one = EngineConfig {
        batch_size: BATCH,
        workers: 1,
        batch_interval_secs: 600,
    };
    assert_eq!(
        run.run_batch(&context(&sim, &path, &acb), &recorder, &one),
        BATCH
    );
    assert!(run
        .records
        .iter()
        .all(|r| r.status == MigrationStatus::Migrated));
    let replay = Replay(recorder.replies.into_inner().expect("replies"));

    let d0 = records.first().expect("device");
    let response = replay.0.get(&d0.entity_id).expect("reply");
    let issued = IssuedCommand {
        device: d0.entity_id,
        originator: sim.pki.tcos.entity_id,
        counter: COUNTER,
        ecos: context(&sim, &path, &acb).command.ecos_credential(),
    };

    // The engine holds its context for the whole run; only the cache is new per device.
    let held = context(&sim, &path, &acb);
    // What a step does once it has Z: build, sign and MAC the 0x0106, then judge the reply.
    let build_and_judge = |z: &gbcs::crypto::SharedSecret| {
        let cmd = held
            .command
            .build(
                held.registry,
                d0.entity_id,
                held.tcos.credential,
                &held.tcos,
                COUNTER,
                z,
            )
            .expect("build");
        let outcome = interpret_response(black_box(response), &issued, &d0.ds_public_key);
        assert_eq!(outcome, Outcome::Migrated);
        cmd.len()
    };
    let mut g = c.benchmark_group("migration");
    g.bench_function(format!("{name}/step_per_device"), |b| {
        b.iter(|| {
            // A device's first contact: nothing cached.
            let cold = SharedSecretCache::new(1);
            let acb = CachedKeyAgreement::for_key(&sim.pki.acb.ka.key, &cold);
            let ctx = MigrationContext { acb: &acb, ..held };
            build_and_judge(&ctx.acb.agree(&d0.ka_public_key).expect("z"))
        })
    });
    g.bench_function(format!("{name}/build_sign_mac_0106"), |b| {
        let ctx = held;
        b.iter(|| {
            let z = sim
                .pki
                .acb
                .ka
                .key
                .agree(black_box(&d0.ka_public_key))
                .expect("z");
            ctx.command
                .build(
                    ctx.registry,
                    d0.entity_id,
                    ctx.tcos.credential,
                    &ctx.tcos,
                    COUNTER,
                    &z,
                )
                .expect("build")
        })
    });
    g.bench_function(format!("{name}/decode_verify_interpret_response"), |b| {
        b.iter(|| interpret_response(black_box(response), &issued, &d0.ds_public_key))
    });

    g.throughput(Throughput::Elements(BATCH as u64));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The machine's own ceiling: 64 steps split evenly over plain threads, with no engine
    // (no selection, no shared queue, no judge, no ledger). The engine's batch ratio is read
    // against this one.
    let step = || {
        let z = sim
            .pki
            .acb
            .ka
            .key
            .agree(black_box(&d0.ka_public_key))
            .expect("z");
        build_and_judge(&z)
    };
    for (id, threads) in [("bare_64_one_core", 1), ("bare_64_all_cores", cores)] {
        g.bench_function(format!("{name}/{id}"), |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    let per = BATCH.div_ceil(threads);
                    let helpers: Vec<_> = (1..threads)
                        .map(|_| s.spawn(move || (0..per).map(|_| step()).sum::<usize>()))
                        .collect();
                    let mine: usize = (0..BATCH - per * (threads - 1)).map(|_| step()).sum();
                    mine + helpers
                        .into_iter()
                        .map(|h| h.join().expect("thread"))
                        .sum::<usize>()
                })
            })
        });
    }
    for (id, workers) in [("batch_64_one_core", 1), ("batch_64_all_cores", cores)] {
        let config = EngineConfig {
            batch_size: BATCH,
            workers,
            batch_interval_secs: 600,
        };
        g.bench_function(format!("{name}/{id}"), |b| {
            b.iter_batched(
                || {
                    (
                        BulkMigration::new(records.clone(), sim.policy.clone(), CLOCK, COUNTER),
                        SharedSecretCache::new(BATCH),
                    )
                },
                |(mut engine, cold)| {
                    let acb = CachedKeyAgreement::for_key(&sim.pki.acb.ka.key, &cold);
                    let ctx = MigrationContext { acb: &acb, ..held };
                    let made = engine.run_batch(&ctx, &replay, &config);
                    assert_eq!(made, BATCH);
                    engine
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    for &backend in Backend::ALL {
        bench_backend(c, backend);
    }
}

criterion_group!(migration, benches);
criterion_main!(migration);
