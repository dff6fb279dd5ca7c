//! Resuming a run from what a store kept: the devices' progress, the ledger, the counters
//! reserved, and the commands that were sent and never settled.
//!
//! A command sent and never settled may have run on its meter: the process stopped between
//! its `Sent` record and its reply. On resume it is a command whose reply was lost — the
//! existing rule applies (a migration command's device has its role-5 cell read before any
//! retry), and it counts as the attempt it was. It is not fed to auto-stop: its reply was
//! lost to the engine's own crash, which says nothing of the devices or the network (a kill
//! with a full window of commands in flight would otherwise stop the run by itself).

use alloc::vec::Vec;

use crate::cos::ledger::Ledger;
use crate::cos::migration::{DeviceRecord, MigrationPolicy};
use crate::frame::EntityId;

use super::types::{CommandKind, EngineConfig, StartingCounters, UnixTime};
use super::{Busy, Engine, Sent};

/// A command a store recorded as sent and never settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// The device.
    pub device: EntityId,
    /// Which command.
    pub kind: CommandKind,
    /// Its counter.
    pub counter: u64,
    /// When it was sent.
    pub at: UnixTime,
}

impl Engine {
    /// Resumes a run at `now` from what a store kept: `records` with their progress put back
    /// ([`DeviceRecord::restore`]), the `ledger` replayed from its entries, and the commands
    /// sent and never settled (`unresolved`: each is settled at once as a lost reply, the
    /// device read before any retry). `counters` must be at or above every counter block the
    /// run reserved: a meter accepts only counters above the last it saw.
    ///
    /// The ledger is brought up to date from the inventory as [`Engine::new`] does, so
    /// records come first: poll them.
    ///
    /// ```
    /// use gbcs::cos::engine::{Engine, EngineConfig, StartingCounters, UnixTime};
    /// use gbcs::cos::ledger::Ledger;
    /// use gbcs::cos::migration::MigrationPolicy;
    ///
    /// let engine = Engine::restart(
    ///     Vec::new(),
    ///     Ledger::new(),
    ///     &[],
    ///     MigrationPolicy::default(),
    ///     EngineConfig::default(),
    ///     StartingCounters { tcos: 4097, acb: 4097 },
    ///     UnixTime::from_secs(1_764_550_000),
    /// );
    /// assert_eq!(engine.next_counters().tcos, 4097);
    /// assert!(engine.is_finished());
    /// ```
    #[must_use]
    pub fn restart(
        records: Vec<DeviceRecord>,
        ledger: Ledger,
        unresolved: &[Unresolved],
        policy: MigrationPolicy,
        config: EngineConfig,
        counters: StartingCounters,
        now: UnixTime,
    ) -> Self {
        let mut engine = Self::blank(records, policy, config, counters, now, ledger);
        let mut lost = Vec::new();
        for u in unresolved.iter().rev() {
            let Some(&i) = engine.index.get(&u.device) else {
                continue;
            };
            if engine.busy.contains_key(&i) {
                // Two unsettled commands to one device (a store that lost a settlement): only
                // the last can still be awaited; the earlier is settled now, as unanswered,
                // so the store holds it in flight no longer.
                let (device, kind, counter, at) = (u.device, u.kind, u.counter, engine.now);
                engine.record(super::Record::Resolved {
                    device,
                    kind,
                    counter,
                    at,
                    how: super::Resolution::NoReply,
                });
                continue;
            }
            engine.busy.insert(
                i,
                Busy::InFlight {
                    kind: u.kind,
                    counter: u.counter,
                    deadline: engine.now,
                },
            );
            engine.deadlines.insert((engine.now, i));
            engine.sent.insert(
                (i, u.kind, u.counter),
                Sent {
                    resolved: false,
                    replied: false,
                    checking: false,
                    order: 0,
                },
            );
            if let Some(model) = engine.records.get(i).map(|r| r.model.clone()) {
                engine.flow.model_busy(&model);
            }
            if let Some(first) = engine.first_sent.get_mut(i) {
                *first = Some(u.at);
            }
            lost.push(i);
        }
        engine.start_tracking();
        // Each lost reply applied as at its deadline (now); the stats count what it migrates.
        engine.restarting = true;
        for i in lost {
            engine.deadlines.remove(&(engine.now, i));
            engine.expire(i);
        }
        engine.restarting = false;
        engine.pump();
        engine
    }
}
