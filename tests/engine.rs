//! The engine core driven by hand, with explicit time: replies as they really arrive — late,
//! twice, out of order, for counters never sent, forged — each with its exact outcome and
//! counts; write-ahead (nothing leaves before its records are durable); the counters of each
//! party; and, over random fleets, caps and networks, the invariants that must hold at every
//! step.

#[path = "support/engine_common.rs"]
mod common;

use common::*;
use gbcs::cos::engine::{
    execute, CommandKind, CounterParty, EngineConfig, Event, Input, Record, StartingCounters,
    UnixTime,
};
use gbcs::cos::ledger::AttemptResult;
use gbcs::cos::migration::{InvalidReason, MigrationStatus};
use gbcs::crypto::Backend;
use gbcs::frame::EntityId;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use gbcs::sim::network::NetworkProfile;

#[test]
fn a_reply_after_its_deadline_is_verified_and_recorded_without_a_second_attempt() {
    let mut sim = healthy(1);
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    sim.with_context(|ctx| {
        m.drain(ctx);
        let [t] = m.take().try_into().expect("one command");
        assert_eq!(t.kind, CommandKind::Migration);
        let reply = answer(&sim, &t, m.now);
        // The deadline passes: no reply counts, and the cell is to be read before a retry.
        m.at(ctx, 31);
        let r = m.engine.records()[0].clone();
        assert_eq!((r.attempts, r.unconfirmed), (1, Some(t.counter)));
        assert_eq!(
            m.engine.ledger().entries()[0].result,
            AttemptResult::NoResponse
        );
        // The reply comes after all: verified, the attempt resolved completed, still one.
        m.input(
            ctx,
            Input::Reply {
                device: t.device,
                bytes: reply.clone(),
            },
        );
        let r = &m.engine.records()[0];
        assert_eq!(
            (r.status, r.attempts, r.unconfirmed),
            (MigrationStatus::Migrated, 1, None)
        );
        assert_eq!(m.engine.ledger().total_attempts(), 1);
        let a = &m.engine.ledger().entries()[0];
        assert_eq!(a.result, AttemptResult::NoResponse);
        assert_eq!(a.resolved.map(|r| r.1), Some(AttemptResult::Completed));
        assert_eq!(m.count(|e| matches!(e, Event::LateReply { .. })), 1);
        assert_eq!(m.engine.stats().late_replies, 1);
        assert_eq!(m.engine.stats().migrated, 1);
        // And nothing more goes to it: no read, no retry, ever.
        m.at(ctx, 30 * 86_400);
        assert!(m.take().is_empty());
        // The same late reply again is a duplicate.
        m.input(
            ctx,
            Input::Reply {
                device: t.device,
                bytes: reply,
            },
        );
        assert_eq!(m.count(|e| matches!(e, Event::DuplicateReply { .. })), 1);
        assert_eq!(m.engine.ledger().total_attempts(), 1);
    })
    .expect("context");
}

#[test]
fn a_duplicate_reply_is_ignored_and_counted() {
    let mut sim = healthy(2);
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    sim.with_context(|ctx| {
        m.drain(ctx);
        let sent = m.take();
        assert_eq!(sent.len(), 2);
        let reply = answer(&sim, &sent[0], m.now);
        for _ in 0..3 {
            m.input(
                ctx,
                Input::Reply {
                    device: sent[0].device,
                    bytes: reply.clone(),
                },
            );
        }
        assert_eq!(m.engine.stats().duplicate_replies, 2);
        assert_eq!(m.count(|e| matches!(e, Event::DuplicateReply { .. })), 2);
        assert_eq!(m.engine.ledger().total_attempts(), 1);
        assert_eq!(m.engine.records()[0].attempts, 1);
        assert_eq!(m.count(|e| matches!(e, Event::Outcome { .. })), 1);
    })
    .expect("context");
}

#[test]
fn replies_in_any_order_reach_their_own_devices() {
    let mut sim = healthy(6);
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    sim.with_context(|ctx| {
        m.drain(ctx);
        let sent = m.take();
        assert_eq!(sent.len(), 6);
        let replies: Vec<_> = sent
            .iter()
            .map(|t| (t.device, answer(&sim, t, m.now)))
            .collect();
        // Counters in the order the devices were taken, each a fresh one.
        let counters: Vec<u64> = sent.iter().map(|t| t.counter).collect();
        assert_eq!(counters, (100..106).collect::<Vec<_>>());
        let stray = replies[0].1.clone();
        for (device, bytes) in replies.into_iter().rev() {
            m.input(ctx, Input::Reply { device, bytes });
        }
        assert!(m
            .engine
            .records()
            .iter()
            .all(|r| r.status == MigrationStatus::Migrated && r.attempts == 1));
        assert_eq!(m.engine.ledger().total_attempts(), 6);
        // A reply handed over as another device's is not believed.
        m.input(
            ctx,
            Input::Reply {
                device: sent[1].device,
                bytes: stray,
            },
        );
        assert_eq!(
            m.count(|e| matches!(
                e,
                Event::SecurityEvent {
                    reason: InvalidReason::WrongParties,
                    ..
                }
            )),
            1
        );
    })
    .expect("context");
}

#[test]
fn a_reply_for_a_counter_never_sent_or_a_device_not_in_the_fleet_is_a_security_event() {
    let mut sim = healthy(1);
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    sim.with_context(|ctx| {
        m.drain(ctx);
        let [t] = m.take().try_into().expect("one command");
        // A genuine reply of the meter, to a command with a counter the engine never sent.
        let z = ctx
            .acb
            .agree(&m.engine.records()[0].ka_public_key)
            .expect("z");
        let other = ctx
            .command
            .build(
                ctx.registry,
                t.device,
                ctx.tcos.credential,
                &ctx.tcos,
                9_999,
                &z,
            )
            .expect("build");
        // Answered by a copy of the meter, so the real meter has seen nothing of it.
        let mut copy = sim
            .fleet
            .meters
            .with_device(t.device, |d| d.clone())
            .expect("meter");
        let gbcs::sim::Reply::Response(unsolicited) = copy.process(&other) else {
            panic!("the copy answers")
        };
        m.input(
            ctx,
            Input::Reply {
                device: t.device,
                bytes: unsolicited,
            },
        );
        assert_eq!(
            m.count(|e| matches!(
                e,
                Event::SecurityEvent {
                    reason: InvalidReason::Unsolicited,
                    ..
                }
            )),
            1
        );
        assert_eq!(m.engine.ledger().total_attempts(), 0);
        // From a device the fleet does not have.
        m.input(
            ctx,
            Input::Reply {
                device: EntityId::from_u64(0x0102_0304_0506_0708),
                bytes: vec![1, 2],
            },
        );
        assert_eq!(m.engine.stats().security_events, 2);
        // Not a GBCS message at all.
        m.input(
            ctx,
            Input::Reply {
                device: t.device,
                bytes: vec![0xDD, 0x00],
            },
        );
        assert_eq!(
            m.count(|e| matches!(
                e,
                Event::SecurityEvent {
                    reason: InvalidReason::Malformed,
                    ..
                }
            )),
            1
        );
        // The real command is still in flight, and its reply still counts.
        let reply = answer(&sim, &t, m.now);
        m.input(
            ctx,
            Input::Reply {
                device: t.device,
                bytes: reply,
            },
        );
        assert_eq!(m.engine.records()[0].status, MigrationStatus::Migrated);
    })
    .expect("context");
}

#[test]
fn a_forged_reply_is_a_security_event_and_the_genuine_one_still_counts() {
    let mut sim = healthy(1);
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    sim.with_context(|ctx| {
        m.drain(ctx);
        let [t] = m.take().try_into().expect("one command");
        let genuine = answer(&sim, &t, m.now);
        let mut forged = genuine.clone();
        let last = forged.len() - 1;
        forged[last] ^= 0x01; // the device signature's last byte
        m.input(
            ctx,
            Input::Reply {
                device: t.device,
                bytes: forged,
            },
        );
        assert_eq!(
            m.count(|e| matches!(
                e,
                Event::SecurityEvent {
                    reason: InvalidReason::BadSignature,
                    ..
                }
            )),
            1
        );
        let r = &m.engine.records()[0];
        assert_eq!(
            (r.status, r.attempts, r.invalid_responses),
            (MigrationStatus::NotStarted, 0, 1)
        );
        assert_eq!(
            m.engine.stats().in_flight,
            1,
            "still waiting for a valid reply"
        );
        m.input(
            ctx,
            Input::Reply {
                device: t.device,
                bytes: genuine,
            },
        );
        let r = &m.engine.records()[0];
        assert_eq!((r.status, r.attempts), (MigrationStatus::Migrated, 1));
        assert_eq!(m.engine.ledger().total_attempts(), 1);
    })
    .expect("context");
}

#[test]
fn nothing_leaves_before_the_records_it_depends_on_are_durable() {
    let mut sim = healthy(3);
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    sim.with_context(|ctx| {
        m.auto_durable = false;
        m.drain(ctx);
        assert!(m.out.is_empty(), "sent before durable");
        assert!(m.events.is_empty());
        // The counter block and each Sent record come before any command.
        let block = m
            .records
            .iter()
            .position(|r| {
                matches!(
                    r,
                    Record::CounterBlock {
                        party: CounterParty::Tcos,
                        ..
                    }
                )
            })
            .expect("a counter block");
        let first_sent = m
            .records
            .iter()
            .position(|r| matches!(r, Record::Sent { .. }))
            .expect("Sent records");
        assert!(block < first_sent);
        // Durable up to the first Sent record: exactly the first command may go.
        m.durable = u64::try_from(
            m.records
                .iter()
                .position(|r| matches!(r, Record::Sent { .. }))
                .expect("sent")
                + 1,
        )
        .expect("lsn");
        m.drain(ctx);
        assert_eq!(m.out.len(), 1);
        m.durable = u64::MAX;
        m.drain(ctx);
        assert_eq!(m.out.len(), 3);
    })
    .expect("context");
}

#[test]
fn a_transport_that_holds_commands_back_slows_building_instead_of_piling_up_commands() {
    let mut sim = healthy(20);
    let config = EngineConfig {
        max_work: 4,
        ..EngineConfig::default()
    };
    let mut m = Manual::new(&mut sim, config);
    sim.with_context(|ctx| {
        // Work runs and records are durable, but no command is taken: the transport holds
        // them back.
        let run_work = |m: &mut Manual| loop {
            while let Some((lsn, _)) = m.engine.poll_record() {
                m.engine.handle_durable(lsn);
            }
            let Some(w) = m.engine.poll_work() else {
                break;
            };
            let result = execute(ctx, &w);
            m.engine.handle(
                m.now,
                Input::WorkDone {
                    job: w.job(),
                    result,
                },
            );
        };
        run_work(&mut m);
        m.engine.handle_timeout(m.now);
        run_work(&mut m);
        assert_eq!(
            m.engine.stats().in_flight,
            4,
            "built ahead of the transport"
        );
        // One command taken: the next one starts at once.
        let first = m.engine.poll_transmit().expect("a command");
        run_work(&mut m);
        assert_eq!(m.engine.stats().in_flight, 5);
        // Taken as they come, every device gets its command, never more than four waiting.
        m.drain(ctx);
        assert_eq!(m.out.len() + 1, 20);
        assert!(!m.out.iter().any(|t| t.device == first.device));
    })
    .expect("context");
    assert_eq!(m.engine.stats().sent, 20);
}

#[test]
fn each_party_has_its_own_counters_reserved_in_blocks_before_use() {
    let mut sim = healthy(4);
    for r in &mut sim.fleet.records {
        // Unknown: each is read (the ACB's counter) before it is migrated (the TCoS's).
        r.state = gbcs::cos::CosState::Unknown(gbcs::cos::classify::UnknownReason::NoEvidence);
        r.cell_credential = None;
    }
    let mut m = Manual::new(
        &mut sim,
        EngineConfig {
            counter_block: 3,
            ..EngineConfig::default()
        },
    );
    sim.with_context(|ctx| {
        m.drain(ctx);
        let reads = m.take();
        assert!(reads.iter().all(|t| t.kind == CommandKind::Read));
        assert_eq!(
            reads.iter().map(|t| t.counter).collect::<Vec<_>>(),
            [5000, 5001, 5002, 5003]
        );
        for t in &reads {
            let reply = answer(&sim, t, m.now);
            m.input(
                ctx,
                Input::Reply {
                    device: t.device,
                    bytes: reply,
                },
            );
        }
        let migrations = m.take();
        assert!(migrations.iter().all(|t| t.kind == CommandKind::Migration));
        assert_eq!(
            migrations.iter().map(|t| t.counter).collect::<Vec<_>>(),
            [100, 101, 102, 103]
        );
        // Blocks of 3: reserved before use, each above the last.
        let blocks: Vec<(CounterParty, u64)> = m
            .records
            .iter()
            .filter_map(|r| match r {
                Record::CounterBlock { party, below } => Some((*party, *below)),
                _ => None,
            })
            .collect();
        assert_eq!(
            blocks,
            [
                (CounterParty::Acb, 5003),
                (CounterParty::Acb, 5006),
                (CounterParty::Tcos, 103),
                (CounterParty::Tcos, 106)
            ]
        );
    })
    .expect("context");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Random fleets, caps and networks (latency, loss, late replies, duplicates — so replies
    /// in random orders): the caps hold at every step, counters only go up per party, a device
    /// never has two commands in flight, no attempt is counted twice, every device ends where
    /// the rules put it, and the ledger's attempts are the records'.
    #[test]
    fn caps_and_invariants_hold_at_every_step(
        devices in 10usize..50,
        seed in 0u64..1000,
        max_in_flight in 1usize..12,
        per_model in proptest::option::of(1usize..4),
        rate in proptest::option::of(1u32..40),
        rtt in 0u64..3000,
        loss in 0.0f64..0.2,
        late in 0.0f64..0.1,
        duplicate in 0.0f64..0.2,
    ) {
        let mut sim = SimulatedMigration::with_backend(
            b"engine properties",
            seed,
            devices,
            &FleetMix::default(),
            CLOCK,
            Backend::RustCrypto,
        )
        .expect("fleet");
        let config = EngineConfig {
            max_in_flight,
            max_in_flight_per_model: per_model,
            max_rate: rate,
            deadline_millis: 5_000,
            max_work: 3,
            counter_block: 7,
        };
        let profile = NetworkProfile {
            rtt_median_ms: rtt,
            rtt_p99_ms: rtt * 4,
            loss,
            late,
            duplicate,
            seed,
        };
        let mut h = sim.harness(config, StartingCounters { tcos: 1, acb: 1 }, profile);
        h.check = Some(check_caps);
        sim.with_context(|ctx| {
            h.run_bounded(ctx, &sim.fleet.meters, UnixTime(i64::MAX), 2_000_000);
        })
        .expect("context");
        let records: Vec<Record> = h.records.iter().map(|(_, r)| r.clone()).collect();
        check_run(&records, &h.sent, &config);
        proptest::prop_assert!(h.engine.is_finished());
        let counted: u64 = h.engine.records().iter().map(|r| u64::from(r.attempts)).sum();
        proptest::prop_assert!(counted <= h.engine.ledger().total_attempts() + devices as u64);
        for (r, p) in h.engine.records().iter().zip(&sim.fleet.profiles) {
            if matches!(p, Profile::Healthy) && h.engine.stopped().is_none() && loss + late < 0.15 {
                // A healthy meter that is reached migrates (or is still being worked on if
                // every command to it was lost up to the attempt limit).
                proptest::prop_assert!(
                    matches!(r.status, MigrationStatus::Migrated | MigrationStatus::NeedsInvestigation),
                    "{p:?}: {:?}",
                    r.status
                );
            }
        }
    }
}

#[test]
fn a_late_reading_taken_before_the_migration_does_not_undo_it() {
    // Found by the crash harness: a migration command with no reply, the read of the cell
    // that follows also unanswered by its deadline, the migration sent again and done — then
    // the read's reply (TCoS, taken before) arrives. The record must stay ECoS, as the meter.
    let mut sim = healthy(1);
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    sim.with_context(|ctx| {
        m.drain(ctx);
        let [lost] = m.take().try_into().expect("one command");
        assert_eq!(lost.kind, CommandKind::Migration);
        // Lost on the way: the meter never gets it. After the back-off, the read.
        let mut read = None;
        for t in (31..).step_by(30).take(2_000) {
            m.at(ctx, t);
            if let Some(x) = m.take().into_iter().next() {
                read = Some(x);
                break;
            }
        }
        let read = read.expect("the read before any retry");
        assert_eq!(read.kind, CommandKind::Read);
        let stale = answer(&sim, &read, m.now);
        // Its reply is held past its deadline; the migration is sent again and done.
        let mut again = None;
        let from = m.now.secs() - CLOCK + 31;
        for t in (from..).step_by(30).take(2_000) {
            m.at(ctx, t);
            if let Some(x) = m.take().into_iter().next() {
                again = Some(x);
                break;
            }
        }
        let again = again.expect("the migration again");
        assert_eq!(again.kind, CommandKind::Migration);
        let reply = answer(&sim, &again, m.now);
        m.input(
            ctx,
            Input::Reply {
                device: again.device,
                bytes: reply,
            },
        );
        assert_eq!(m.engine.records()[0].status, MigrationStatus::Migrated);
        // The read's reply, at last.
        m.input(
            ctx,
            Input::Reply {
                device: read.device,
                bytes: stale,
            },
        );
        assert_eq!(m.engine.stats().late_replies, 1);
        let r = &m.engine.records()[0];
        assert_eq!(
            (r.status, r.state),
            (MigrationStatus::Migrated, gbcs::cos::CosState::Ecos)
        );
    })
    .expect("context");
}
