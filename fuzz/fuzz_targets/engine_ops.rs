//! The engine core under arbitrary sequences of operations (as quinn-proto's `streams`
//! target): time jumps, replies of arbitrary bytes from any device, CPU results of every kind
//! for any outstanding job, alerts, inventory updates, models listed, devices cleared,
//! incidents marked high priority, pause and resume, durability that comes
//! late or not at all. Nothing may panic, and the caps and the one-command-per-device rule
//! hold after every operation.
#![no_main]

use std::sync::OnceLock;

use gbcs::cos::classify::{Classification, CosState, Evidence, EvidenceSource};
use gbcs::cos::engine::{
    Engine, EngineConfig, Input, InventoryChange, Reading, StartingCounters, UnixTime, Work,
    WorkResult,
};
use gbcs::cos::migration::{DeviceRecord, InvalidReason, LocalFault, Outcome, TransientCause};
use gbcs::payload::StatusCode;
use gbcs::sim::fleet::{FleetMix, SimulatedMigration};
use libfuzzer_sys::fuzz_target;

const CLOCK: i64 = 1_764_547_200;

/// Twelve devices of the default mix, made once.
fn records() -> &'static (Vec<DeviceRecord>, gbcs::cos::migration::MigrationPolicy) {
    static R: OnceLock<(Vec<DeviceRecord>, gbcs::cos::migration::MigrationPolicy)> =
        OnceLock::new();
    R.get_or_init(|| {
        let sim = SimulatedMigration::with_backend(
            b"engine fuzz",
            5,
            12,
            &FleetMix::default(),
            CLOCK,
            gbcs::crypto::Backend::RustCrypto,
        )
        .expect("fleet");
        (sim.fleet.records.clone(), sim.policy.clone())
    })
}

fn result(byte: u8, work: &Work, device: gbcs::frame::EntityId) -> WorkResult {
    let outcome = match byte % 8 {
        0 => Outcome::Migrated,
        1 => Outcome::Pending,
        2 => Outcome::Transient(TransientCause::Busy),
        3 => Outcome::DeviceFault(StatusCode::OTHER),
        4 => Outcome::Invalid(InvalidReason::BadSignature),
        5 => Outcome::Transient(TransientCause::NoResponse),
        6 => Outcome::WrongCredential(gbcs::cos::registry::Credential {
            entity_id: device,
            key_id: gbcs::payload::KeyId([byte; 8]),
        }),
        _ => Outcome::Invalid(InvalidReason::WrongCounter),
    };
    match work {
        Work::Build { .. } => match byte % 4 {
            0 => WorkResult::Local(LocalFault::Signing(gbcs::crypto::CryptoError::Backend)),
            _ => WorkResult::Built(vec![byte; 4]),
        },
        Work::CheckReply { kind, .. } if *kind == gbcs::cos::engine::CommandKind::Read => {
            let state = match byte % 3 {
                0 => CosState::Tcos,
                1 => CosState::Ecos,
                _ => CosState::Unknown(gbcs::cos::classify::UnknownReason::Unrecognised),
            };
            WorkResult::Read(match byte % 5 {
                4 => Reading::Invalid(InvalidReason::BadMac),
                _ => Reading::Cell(Classification {
                    state,
                    matched: None,
                    evidence: Evidence {
                        source: EvidenceSource::CredentialDetailsResponse,
                        device,
                        counter: None,
                        credential: None,
                        status: None,
                    },
                }),
            })
        }
        _ => WorkResult::Migration(outcome),
    }
}

fuzz_target!(|data: &[u8]| {
    let (records, policy) = records();
    let mut engine = Engine::new(
        records.clone(),
        policy.clone(),
        EngineConfig {
            max_in_flight: 4,
            max_in_flight_per_model: Some(2),
            max_rate: Some(50),
            deadline_millis: 2_000,
            max_work: 3,
            counter_block: 5,
        },
        StartingCounters { tcos: 1, acb: 1 },
        UnixTime::from_secs(CLOCK),
    );
    let mut now = UnixTime::from_secs(CLOCK);
    let mut work: Vec<Work> = Vec::new();
    let mut sent: Vec<gbcs::cos::engine::Transmit> = Vec::new();
    let mut durable = 0u64;
    let mut ops = data.chunks(3);
    while let Some(op) = ops.next() {
        let [kind, a, b] = [op.first(), op.get(1), op.get(2)].map(|x| x.copied().unwrap_or(0));
        let device = records[usize::from(a) % records.len()].entity_id;
        match kind % 10 {
            0 => {
                now = now.plus_millis(i64::from(a) * 37 + i64::from(b) * 9_000);
                engine.handle_timeout(now);
            }
            1 if !work.is_empty() => {
                let w = work.remove(usize::from(a) % work.len());
                let r = result(b, &w, device);
                engine.handle(now, Input::WorkDone { job: w.job(), result: r });
            }
            2 => {
                // A reply: a real command's bytes echoed, or noise.
                let bytes = match sent.get(usize::from(b) % sent.len().max(1)) {
                    Some(t) if a % 2 == 0 => t.bytes.clone(),
                    _ => ops.next().map(<[u8]>::to_vec).unwrap_or_default(),
                };
                engine.handle(now, Input::Reply { device, bytes });
            }
            3 => engine.handle(now, Input::Alert { bytes: vec![a, b] }),
            4 => engine.handle(
                now,
                Input::Inventory {
                    device,
                    change: InventoryChange::Firmware(format!("{a}.{b}").as_str().into()),
                },
            ),
            5 => engine.handle(now, if a % 2 == 0 { Input::Pause } else { Input::Resume }),
            6 => {
                if let Some(t) = sent.get(usize::from(a) % sent.len().max(1)) {
                    engine.handle(now, Input::SendFailed { device: t.device, counter: t.counter });
                }
            }
            7 => durable = durable.saturating_add(u64::from(a)),
            // Selection changes and incidents: a model listed, a device cleared, its
            // ineligibility set or cleared, the stopping incident marked high priority.
            8 => {
                let model = records[usize::from(b) % records.len()].model.clone();
                let input = match a % 5 {
                    0 => Input::ListModel {
                        model,
                        fixed_from: (b % 2 == 0).then(|| "9.0".into()),
                    },
                    1 => Input::Clear {
                        device,
                        by: format!("operator {b}"),
                    },
                    2 => Input::Inventory {
                        device,
                        change: InventoryChange::Ineligible(
                            (b % 2 == 0).then(|| "site access".into()),
                        ),
                    },
                    3 => Input::MarkHighPriority,
                    _ => Input::Inventory {
                        device,
                        change: InventoryChange::GasMeterCommissioned(b % 2 == 0),
                    },
                };
                engine.handle(now, input);
            }
            _ => {}
        }
        while let Some((lsn, _)) = engine.poll_record() {
            if kind % 2 == 0 {
                durable = durable.max(lsn);
            }
        }
        engine.handle_durable(durable);
        while let Some(w) = engine.poll_work() {
            work.push(w);
        }
        while let Some(t) = engine.poll_transmit() {
            sent.push(t);
        }
        while engine.poll_event().is_some() {}
        let _ = engine.poll_timeout();
        let stats = engine.stats();
        assert!(stats.in_flight <= 4);
        assert!(engine.busy_per_model().all(|(_, n)| n <= 2));
    }
});
