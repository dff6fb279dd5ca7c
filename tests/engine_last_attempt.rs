//! A device whose attempts run out on a migration command that got no reply: its cell is read
//! before it is given up (a read is not an attempt), so a meter that did run the command is
//! counted migrated and one that did not stands failed — never reported failed unread.

#[path = "support/engine_common.rs"]
mod common;

use common::*;
use gbcs::cos::engine::{CommandKind, EngineConfig, Input};
use gbcs::cos::migration::MigrationStatus;
use gbcs::sim::fleet::SimulatedMigration;

/// A device whose first attempts are refused busy and whose last allowed attempt is lost —
/// after running on the meter (`ran`) or on the way to it — driven on the virtual clock for
/// up to 90 days or until it is migrated. Returns the engine's record and the commands sent.
fn last_attempt_unanswered(
    ran: bool,
) -> (
    gbcs::cos::migration::DeviceRecord,
    Vec<CommandKind>,
    SimulatedMigration,
) {
    let mut sim = healthy(1);
    let max = usize::try_from(sim.policy.max_attempts).expect("max");
    let id = sim.fleet.records[0].entity_id;
    sim.fleet
        .meters
        .with_device(id, |d| d.faults.busy = sim.policy.max_attempts - 1)
        .expect("meter");
    let mut m = Manual::new(&mut sim, EngineConfig::default());
    let mut kinds = Vec::new();
    sim.with_context(|ctx| {
        m.drain(ctx);
        let mut t = 0;
        while t < 90 * 86_400 && m.engine.records()[0].status != MigrationStatus::Migrated {
            for c in m.take() {
                kinds.push(c.kind);
                let migrations = kinds
                    .iter()
                    .filter(|k| **k == CommandKind::Migration)
                    .count();
                let last = c.kind == CommandKind::Migration && migrations == max;
                if last && !ran {
                    continue;
                }
                let reply = answer(&sim, &c, m.now);
                if !last {
                    m.input(
                        ctx,
                        Input::Reply {
                            device: c.device,
                            bytes: reply,
                        },
                    );
                }
            }
            t += 600;
            m.at(ctx, t);
            let r = &m.engine.records()[0];
            // Never standing as failed while its last command's fate is unread.
            assert!(
                r.status != MigrationStatus::NeedsInvestigation
                    || r.unconfirmed.is_some()
                    || kinds.last() == Some(&CommandKind::Read),
                "given up unread: {r:?}"
            );
        }
    })
    .expect("context");
    let record = m.engine.records()[0].clone();
    assert!(m.engine.is_finished());
    (record, kinds, sim)
}

#[test]
fn a_device_whose_last_attempt_ran_unanswered_is_read_and_counted_migrated_not_failed() {
    // Found by the crash harness: the last attempt allowed runs on the meter but its reply
    // is lost. The cell is read before the device is given up (a read is not an attempt):
    // the meter did migrate, so the device is migrated, never reported failed.
    let (r, kinds, sim) = last_attempt_unanswered(true);
    let max = sim.policy.max_attempts;
    assert_eq!(r.status, MigrationStatus::Migrated, "{kinds:?}");
    assert_eq!(r.attempts, max);
    assert_eq!(kinds.last(), Some(&CommandKind::Read), "{kinds:?}");
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == CommandKind::Migration)
            .count(),
        usize::try_from(max).expect("max"),
        "no command beyond the attempts allowed: {kinds:?}"
    );
}

#[test]
fn a_device_whose_last_attempt_never_reached_it_is_read_then_given_up() {
    let (r, kinds, sim) = last_attempt_unanswered(false);
    assert_eq!(r.status, MigrationStatus::NeedsInvestigation);
    assert_eq!(r.unconfirmed, None, "read: the command did not run");
    assert_eq!(r.attempts, sim.policy.max_attempts);
    assert_eq!(kinds.last(), Some(&CommandKind::Read), "{kinds:?}");
    assert_eq!(
        gbcs::cos::ledger::Standing::of(&r, &sim.policy),
        gbcs::cos::ledger::Standing::NeedsInvestigation
    );
}
