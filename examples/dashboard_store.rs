//! A store of a months-long migration of a large fleet, to see how the dashboard copes:
//! `cargo run --release --features dashboard,sqlite --example dashboard_store -- N PATH`
//! writes N devices (default 1,000,000) migrated over 180 days into the SQLite store at PATH
//! (refused if it exists), then times reading it back and making the dashboard.
//!
//! The fleet is synthetic, made with the library's own records (what the engine would have
//! written): three Responsible Supplier, 40 device models of which one faults on most
//! devices and stops the run on day 40, lost replies resolved by a later read, a share of
//! devices that never answer. Each device: its supplier, descriptor and TCoS reading at the
//! start; one to three commands sent and settled on its day; the attempts and, when it
//! migrated, an ECoS reading.

use std::time::Instant;

use gbcs::cos::engine::{Activity, Buckets, CommandKind, Record, Resolution, UnixTime};
use gbcs::cos::ledger::{
    AttemptEntry, AttemptResult, CellState, Descriptor, LedgerEntry, Observation,
};
use gbcs::cos::migration::{AutoStopPolicy, Incident};
use gbcs::cos::{DeviceType, EvidenceSource, ModelKey, SecPartyId};
use gbcs::dashboard::{render, Figures};
use gbcs::frame::EntityId;
use gbcs::store::SqliteLedger;

/// 2026-01-05T00:00:00Z.
const START: i64 = 1_767_571_200;
const DAY: i64 = 86_400;

/// A small deterministic generator (SplitMix64), so every run writes the same store.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let path = args
        .next()
        .unwrap_or_else(|| String::from("dashboard-1m.sqlite"));
    if std::path::Path::new(&path).exists() {
        return Err(format!("{path} exists: nothing is overwritten").into());
    }
    let suppliers = ["SUPA01", "SUPB02", "SUPC03"].map(SecPartyId::new);
    let suppliers: Vec<SecPartyId> = suppliers.into_iter().collect::<Result<_, _>>()?;
    let models: Vec<ModelKey> = (0..40)
        .map(|i| ModelKey::new(["ACME", "BRITMTR", "CYMRU"][i % 3], format!("MODEL-{i:02}")))
        .collect();
    let broken = 17usize;
    let stop_day = 40;
    let mut store = SqliteLedger::open(&path)?;
    let mut mix = Mix(2026);
    let t0 = Instant::now();
    let mut batch: Vec<Record> = Vec::with_capacity(200_000);
    let mut rows = 0u64;
    for i in 0..n {
        let device = EntityId::from_u64(0x00DB_0000_0000_0000 | i);
        let supplier = suppliers[usize::try_from(mix.below(3))?].clone();
        let m = usize::try_from(mix.below(40))?;
        let at0 = START - DAY;
        batch.push(Record::Ledger(LedgerEntry::Supplier {
            device,
            at: at0,
            supplier: supplier.clone(),
        }));
        batch.push(Record::Ledger(LedgerEntry::Descriptor {
            device,
            at: at0,
            descriptor: Descriptor {
                device_type: DeviceType::Esme,
                model: models[m].clone(),
                firmware: "1.0.0".into(),
                meter_asset_provider: None,
            },
        }));
        batch.push(Record::Ledger(LedgerEntry::Observed {
            device,
            observation: Observation {
                at: at0,
                state: CellState::Tcos,
                source: EvidenceSource::Inventory,
            },
        }));
        // The broken model's devices wait for the stop; after day 40 the run goes on without it.
        let day = if m == broken {
            mix.below(stop_day)
        } else {
            mix.below(180)
        };
        let mut at = START + i64::try_from(day)? * DAY + i64::try_from(mix.below(DAY as u64))?;
        let roll = mix.below(1000);
        let tries = if m == broken || roll < 30 {
            1
        } else if roll < 90 {
            2
        } else {
            1
        };
        for k in 0..tries {
            let counter = 1 + k;
            let last = k + 1 == tries;
            let result = if m == broken && mix.below(10) < 7 {
                AttemptResult::DeviceFault(0x02)
            } else if roll < 30 {
                AttemptResult::NoResponse
            } else if !last {
                AttemptResult::Busy
            } else if roll < 40 {
                AttemptResult::NoResponse
            } else {
                AttemptResult::Completed
            };
            let sent = UnixTime::from_secs(at);
            let rtt = 1 + i64::try_from(mix.below(8))?;
            let settled = UnixTime::from_secs(
                at + if result == AttemptResult::NoResponse {
                    30
                } else {
                    rtt
                },
            );
            batch.push(Record::Sent {
                device,
                kind: CommandKind::Migration,
                counter,
                at: sent,
                deadline: UnixTime::from_secs(at + 30),
            });
            batch.push(Record::Resolved {
                device,
                kind: CommandKind::Migration,
                counter,
                at: settled,
                how: if result == AttemptResult::NoResponse {
                    Resolution::NoReply
                } else {
                    Resolution::Replied
                },
            });
            // A lost reply after a successful command (1 in 100): a read shows ECoS later.
            let resolved = (result == AttemptResult::NoResponse && roll >= 30)
                .then_some((settled.secs() + 60, AttemptResult::Completed));
            batch.push(Record::Ledger(LedgerEntry::Attempt(AttemptEntry {
                supplier: supplier.clone(),
                device,
                counter,
                at: settled.secs(),
                result,
                resolved,
            })));
            if result.is_completed() || resolved.is_some() {
                let when = resolved.map_or(settled.secs(), |(t, _)| t);
                batch.push(Record::Ledger(LedgerEntry::Observed {
                    device,
                    observation: Observation {
                        at: when,
                        state: CellState::Ecos,
                        source: EvidenceSource::UpdateOutcome,
                    },
                }));
            }
            at += 3_600;
        }
        if batch.len() >= 150_000 {
            rows += u64::try_from(batch.len())?;
            store.append_records(&batch)?;
            batch.clear();
        }
    }
    batch.push(Record::Incident {
        at: UnixTime::from_secs(START + i64::try_from(stop_day)? * DAY),
        incident: Incident::ModelFaults {
            model: models[broken].clone(),
            faults: 350,
            attempts: 500,
        },
    });
    batch.push(Record::Paused {
        at: UnixTime::from_secs(START + i64::try_from(stop_day)? * DAY + 7_200),
        paused: false,
    });
    rows += u64::try_from(batch.len())?;
    store.append_records(&batch)?;
    drop(store);
    let write = t0.elapsed();
    let size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{path}{s}")).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "wrote {n} devices, {rows} records in {:.1} s ({:.0} records/s); store {:.0} MB",
        write.as_secs_f64(),
        rows as f64 / write.as_secs_f64(),
        size as f64 / 1e6
    );

    let t1 = Instant::now();
    let store = SqliteLedger::open_existing(&path)?;
    let ledger = store.ledger()?;
    let read = t1.elapsed();
    let t2 = Instant::now();
    let (lo, hi) = store.events_span()?.ok_or("no events")?;
    let from = ledger.first_instant().unwrap_or(lo).min(lo);
    let to = ledger.last_instant().unwrap_or(hi).max(hi);
    let buckets = Buckets::covering(from, to);
    let activity: Activity = store.activity(buckets)?;
    let sql = t2.elapsed();
    let t3 = Instant::now();
    let figures = Figures::of(&ledger, buckets, activity, AutoStopPolicy::default());
    let aggregate = t3.elapsed();
    let t4 = Instant::now();
    let html = render(&figures, &path, to + 1)?;
    let rendered = t4.elapsed();
    std::fs::write(format!("{path}.html"), &html)?;
    println!(
        "dashboard: ledger replayed in {:.1} s, activity (SQL) {:.1} s, figures {:.1} s, page {:.3} s; {} bars a chart (one per {}), {} bytes",
        read.as_secs_f64(),
        sql.as_secs_f64(),
        aggregate.as_secs_f64(),
        rendered.as_secs_f64(),
        buckets.count,
        buckets.unit(),
        html.len()
    );
    Ok(())
}
