//! The engine side of a bulk migration, per backend (`<b>` is `rustcrypto` or `aws-lc`):
//!
//! - `migration/<b>/step_per_device`: one device's first contact — ECDH through a cold
//!   shared-secret cache, build + sign + MAC the 0x0106, then decode, verify and interpret the
//!   device's response (one ECDSA verify). Read it against `primitives/<b>/ecdsa_sign +
//!   ecdh + ecdsa_verify` of the `codec` bench in the same `cargo bench` run.
//! - `migration/<b>/build_sign_mac_0106` and `migration/<b>/decode_verify_interpret_response`:
//!   its two halves.
//! - `migration/core/device_no_crypto`: the engine core's own cost per device — selection, a
//!   counter, the build job, the `Sent` record, the transmit, the reply matched and checked,
//!   the outcome applied, counted, judged by auto-stop and recorded — with every CPU job
//!   answered by a canned result, so no curve work at all.
//! - `migration/<b>/driver_64_all_cores`: the real tokio driver running 64 devices end to end
//!   (the engine core, its records, the CPU pool on every core doing the real crypto), the
//!   meters' replies replayed at once; beside it `migration/<b>/bare_64_all_cores`, the same 64
//!   steps split evenly over plain threads with no engine: the machine's own ceiling.
//!
//! Network-bound throughput is measured apart, in real time: `benches/network.rs`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gbcs::cos::command::MigrationCommand;
use gbcs::cos::engine::{
    Arrival, CommandKind, Engine, EngineConfig, Input, MigrationContext, StartingCounters,
    Transmit, UnixTime, Work, WorkResult,
};
use gbcs::cos::migration::{interpret_response, IssuedCommand, MigrationStatus, Outcome};
use gbcs::crypto::{Backend, CachedKeyAgreement, KeyAgreement, SharedSecretCache};
use gbcs::driver::{DriverConfig, Inbox, NoStore, Transport, TransportError};
use gbcs::frame::EntityId;
use gbcs::payload::CertificateDer;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};

const CLOCK: i64 = 1_764_547_200;
const BATCH: usize = 64;
const COUNTER: u64 = 1000;

/// Replays recorded replies at once: the meters' own work is not measured.
struct Replay(HashMap<EntityId, Vec<u8>>);

impl Transport for Replay {
    async fn send(
        &mut self,
        _now: UnixTime,
        command: Transmit,
        inbox: &Inbox,
    ) -> Result<(), TransportError> {
        if let Some(bytes) = self.0.get(&command.device) {
            inbox.put(Arrival::Reply {
                device: command.device,
                bytes: bytes.clone(),
            });
        }
        Ok(())
    }

    fn in_transit(&self) -> Option<gbcs::driver::InTransit> {
        Some(gbcs::driver::InTransit::default())
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
    let sim =
        SimulatedMigration::with_backend(b"migration bench", 1, BATCH, &healthy, CLOCK, backend)
            .expect("fleet");
    let records = sim.fleet.records.clone();
    let path = [CertificateDer(&sim.pki.issuing_ca.certificate)];
    let warm = SharedSecretCache::new(BATCH);
    let acb = CachedKeyAgreement::for_key(&sim.pki.acb.ka.key, &warm);
    // The engine holds its context for the whole run; only the cache is new per device.
    let held = context(&sim, &path, &acb);

    // Each meter's reply to the command the engine sends it first (device i gets counter
    // COUNTER + i: devices start in order).
    let mut replies = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let z = acb.agree(&r.ka_public_key).expect("z");
        let counter = COUNTER + i as u64;
        let cmd = held
            .command
            .build(
                held.registry,
                r.entity_id,
                held.tcos.credential,
                &held.tcos,
                counter,
                &z,
            )
            .expect("build");
        let (reply, _) = sim.fleet.meters.deliver(r.entity_id, &cmd, CLOCK);
        replies.insert(r.entity_id, reply.expect("a healthy meter answers"));
    }

    let d0 = records.first().expect("device");
    let response = replies.get(&d0.entity_id).expect("reply").clone();
    let issued = IssuedCommand {
        device: d0.entity_id,
        originator: sim.pki.tcos.entity_id,
        counter: COUNTER,
        ecos: held.command.ecos_credential(),
    };
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
        let outcome = interpret_response(black_box(&response), &issued, &d0.ds_public_key);
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
        b.iter(|| interpret_response(black_box(&response), &issued, &d0.ds_public_key))
    });

    g.throughput(Throughput::Elements(BATCH as u64));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The machine's own ceiling: 64 steps split evenly over plain threads, with no engine.
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
    g.bench_function(format!("{name}/bare_64_all_cores"), |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let per = BATCH.div_ceil(cores);
                let helpers: Vec<_> = (1..cores)
                    .map(|_| s.spawn(move || (0..per).map(|_| step()).sum::<usize>()))
                    .collect();
                let mine: usize = (0..BATCH - per * (cores - 1)).map(|_| step()).sum();
                mine + helpers
                    .into_iter()
                    .map(|h| h.join().expect("thread"))
                    .sum::<usize>()
            })
        })
    });
    // The tokio driver with its pool on every core, the engine core deciding, replies
    // replayed: 64 devices migrated per iteration, a cold cache each time.
    g.bench_function(format!("{name}/driver_64_all_cores"), |b| {
        b.iter_batched(
            || {
                (
                    Engine::new(
                        records.clone(),
                        sim.policy.clone(),
                        EngineConfig::default(),
                        StartingCounters {
                            tcos: COUNTER,
                            acb: COUNTER,
                        },
                        UnixTime::from_secs(CLOCK),
                    ),
                    SharedSecretCache::new(BATCH),
                    Replay(replies.clone()),
                )
            },
            |(mut engine, cold, mut replay)| {
                let acb = CachedKeyAgreement::for_key(&sim.pki.acb.ka.key, &cold);
                let ctx = MigrationContext { acb: &acb, ..held };
                let report = gbcs::driver::run(
                    &mut engine,
                    &ctx,
                    &mut replay,
                    &mut NoStore,
                    &DriverConfig::default(),
                    &mut |_| {},
                    &mut |_| {},
                )
                .expect("driver");
                assert_eq!(report.stats.migrated, BATCH);
                engine
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The engine core alone, per device: every CPU job answered with a canned result.
fn bench_core(c: &mut Criterion) {
    let healthy = FleetMix(vec![(Profile::Healthy, 1000)]);
    let sim = SimulatedMigration::with_backend(
        b"migration bench",
        1,
        1000,
        &healthy,
        CLOCK,
        Backend::RustCrypto,
    )
    .expect("fleet");
    let records = sim.fleet.records.clone();
    // The meters' real replies (device i answers counter 1 + i): the core parses each to
    // match it to its command before the canned check.
    let path = [CertificateDer(&sim.pki.issuing_ca.certificate)];
    let held = context(&sim, &path, &sim.pki.acb.ka.key);
    let replies: HashMap<EntityId, Vec<u8>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let z = sim.pki.acb.ka.key.agree(&r.ka_public_key).expect("z");
            let cmd = held
                .command
                .build(
                    held.registry,
                    r.entity_id,
                    held.tcos.credential,
                    &held.tcos,
                    1 + i as u64,
                    &z,
                )
                .expect("build");
            let (reply, _) = sim.fleet.meters.deliver(r.entity_id, &cmd, CLOCK);
            (r.entity_id, reply.expect("a healthy meter answers"))
        })
        .collect();
    let mut g = c.benchmark_group("migration");
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("core/device_no_crypto", |b| {
        b.iter_batched(
            || {
                Engine::new(
                    records.clone(),
                    sim.policy.clone(),
                    EngineConfig::default(),
                    StartingCounters { tcos: 1, acb: 1 },
                    UnixTime::from_secs(CLOCK),
                )
            },
            |mut engine| {
                let now = UnixTime::from_secs(CLOCK);
                let mut done = 0;
                loop {
                    while engine.poll_record().is_some() {}
                    engine.handle_durable(u64::MAX);
                    let mut progressed = false;
                    while let Some(w) = engine.poll_work() {
                        progressed = true;
                        let result = match &w {
                            Work::Build { .. } => WorkResult::Built(vec![0xDD; 8]),
                            Work::CheckReply { .. } => WorkResult::Migration(Outcome::Migrated),
                            Work::CheckAlert { .. } => WorkResult::Migration(Outcome::Migrated),
                        };
                        engine.handle(
                            now,
                            Input::WorkDone {
                                job: w.job(),
                                result,
                            },
                        );
                    }
                    while let Some(t) = engine.poll_transmit() {
                        progressed = true;
                        assert_eq!(t.kind, CommandKind::Migration);
                        let bytes = replies.get(&t.device).cloned().expect("reply");
                        engine.handle(
                            now,
                            Input::Reply {
                                device: t.device,
                                bytes,
                            },
                        );
                    }
                    while engine.poll_event().is_some() {}
                    done += 1;
                    if !progressed || done > 100_000 {
                        break;
                    }
                }
                assert!(engine
                    .records()
                    .iter()
                    .all(|r| r.status == MigrationStatus::Migrated));
                engine
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_core(c);
    for &backend in Backend::ALL {
        bench_backend(c, backend);
    }
}

criterion_group!(migration, benches);
criterion_main!(migration);
