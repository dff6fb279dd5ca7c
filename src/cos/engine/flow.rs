//! Flow control: which devices may be tried now (the ready set, in selection order), which
//! wait for a time (back-off, an alert's time-out), the caps the operator sets — commands in
//! flight, per model, per second — and the counters each party's commands carry.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::cos::device::ModelKey;
use crate::cos::migration::Priority;
use crate::frame::EntityId;

use super::types::{CounterParty, EngineConfig, UnixTime};

/// A party's counters: `next` is the next to use; those below `below` are reserved (a
/// [`super::Record::CounterBlock`] was written for them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Counter {
    pub(super) party: CounterParty,
    pub(super) next: u64,
    pub(super) below: u64,
}

impl Counter {
    pub(super) const fn starting(party: CounterParty, next: u64) -> Self {
        Self {
            party,
            next,
            below: next,
        }
    }

    /// The next counter, and the new block bound when a block must be reserved first.
    pub(super) fn take(&mut self, block: u64) -> (u64, Option<u64>) {
        let mut reserve = None;
        if self.next >= self.below {
            self.below = self.next.saturating_add(block.max(1));
            reserve = Some(self.below);
        }
        let c = self.next;
        self.next = self.next.saturating_add(1);
        (c, reserve)
    }
}

/// The candidates and the waits.
#[derive(Debug, Default)]
pub(super) struct Flow {
    /// Devices that may be tried now, in selection order.
    pub(super) ready: BTreeSet<(Priority, EntityId)>,
    /// Devices to migrate at once, their read having shown TCoS.
    pub(super) continuations: VecDeque<usize>,
    /// Devices to look at again at a time.
    pub(super) timers: BTreeSet<(UnixTime, usize)>,
    /// Devices of a model at its in-flight cap, waiting for a slot.
    pub(super) parked: BTreeMap<ModelKey, VecDeque<(Priority, EntityId)>>,
    /// Devices busy per model.
    pub(super) per_model: BTreeMap<ModelKey, usize>,
    /// Pacing: the earliest time (microseconds) the next command may start.
    pub(super) next_start_us: i128,
}

impl Flow {
    /// Whether the rate cap lets a command start at `now`.
    pub(super) fn paced(&self, config: &EngineConfig, now: UnixTime) -> bool {
        config
            .max_rate
            .is_none_or(|_| i128::from(now.0) * 1000 >= self.next_start_us)
    }

    /// A command starts at `now`: the next may start one interval later.
    pub(super) fn started(&mut self, config: &EngineConfig, now: UnixTime) {
        if let Some(rate) = config.max_rate {
            let interval = 1_000_000 / i128::from(rate.max(1));
            let now_us = i128::from(now.0) * 1000;
            self.next_start_us = self.next_start_us.max(now_us) + interval;
        }
    }

    /// When the rate cap next lets a command start, if it holds one back.
    pub(super) fn pacing_wake(&self, config: &EngineConfig) -> Option<UnixTime> {
        config.max_rate?;
        let ms = self.next_start_us.div_euclid(1000)
            + i128::from(self.next_start_us.rem_euclid(1000) != 0);
        i64::try_from(ms).ok().map(UnixTime)
    }

    /// Whether a device of `model` may start under the per-model cap.
    pub(super) fn model_has_room(&self, config: &EngineConfig, model: &ModelKey) -> bool {
        config
            .max_in_flight_per_model
            .is_none_or(|cap| self.per_model.get(model).copied().unwrap_or(0) < cap)
    }

    /// A device of `model` became busy.
    pub(super) fn model_busy(&mut self, model: &ModelKey) {
        *self.per_model.entry(model.clone()).or_default() += 1;
    }

    /// A device of `model` is no longer busy: one parked device of the model goes back to the
    /// ready set.
    pub(super) fn model_free(&mut self, model: &ModelKey) {
        if let Some(n) = self.per_model.get_mut(model) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_model.remove(model);
            }
        }
        if let Some(q) = self.parked.get_mut(model) {
            if let Some(next) = q.pop_front() {
                self.ready.insert(next);
            }
            if q.is_empty() {
                self.parked.remove(model);
            }
        }
    }

    /// Whether any device waits to be tried (now or once its model has room).
    pub(super) fn has_candidates(&self) -> bool {
        !self.ready.is_empty() || !self.continuations.is_empty()
    }
}
