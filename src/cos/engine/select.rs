//! Taking devices: where each device stands (ready, waiting for a time, nowhere), starting
//! commands while the caps allow, and stopping, resuming and telling suppliers of a
//! high-priority incident.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::cos::migration::{select, Decision, Incident, SecPartyId, SkipReason};
use crate::frame::EntityId;

use super::types::{CommandKind, Event, Record, UnixTime, Work};
use super::{Busy, Engine, Job, JobId};

impl Engine {
    /// Puts device `i` where its selection decision says: ready now, waiting for a time, or
    /// nowhere (nothing to do). A busy device is left where it is.
    pub(super) fn reschedule(&mut self, i: usize) {
        if self.busy.contains_key(&i) {
            return;
        }
        let Some(r) = self.records.get(i) else {
            return;
        };
        let now = self.now.secs();
        match select(r, &self.policy, now) {
            Decision::Migrate(p) | Decision::Read(p) => {
                self.flow.ready.insert((p, r.entity_id));
            }
            Decision::Skip(SkipReason::BackingOff(t)) => {
                self.flow.timers.insert((UnixTime::from_secs(t), i));
            }
            Decision::Skip(SkipReason::AwaitingAlert) => {
                if let Some(t) = r.next_attempt_at {
                    self.flow.timers.insert((UnixTime::from_secs(t), i));
                }
            }
            Decision::Skip(_) => {}
        }
    }

    /// Starts commands while the caps allow.
    pub(super) fn pump(&mut self) {
        while self.may_start()
            && self.jobs.len() + self.out_transmits.len() < self.config.max_work.max(1)
            && self.in_flight() < self.config.max_in_flight.max(1)
            && self.flow.paced(&self.config, self.now)
        {
            let (i, kind) = if let Some(i) = self.flow.continuations.pop_front() {
                if self.busy.contains_key(&i) {
                    continue;
                }
                (i, CommandKind::Migration)
            } else if let Some((p, id)) = self.flow.ready.pop_first() {
                let Some(&i) = self.index.get(&id) else {
                    continue;
                };
                if self.busy.contains_key(&i) {
                    continue;
                }
                let Some(r) = self.records.get(i) else {
                    continue;
                };
                let kind = match select(r, &self.policy, self.now.secs()) {
                    Decision::Migrate(_) => CommandKind::Migration,
                    Decision::Read(_) => CommandKind::Read,
                    Decision::Skip(_) => {
                        self.reschedule(i);
                        continue;
                    }
                };
                if !self.flow.model_has_room(&self.config, &r.model) {
                    self.flow
                        .parked
                        .entry(r.model.clone())
                        .or_default()
                        .push_back((p, id));
                    continue;
                }
                (i, kind)
            } else {
                break;
            };
            self.start(i, kind);
        }
    }

    /// Starts device `i`'s `kind` command: a counter (its block reserved first when needed)
    /// and the job that builds it.
    fn start(&mut self, i: usize, kind: CommandKind) {
        let Some(r) = self.records.get(i) else {
            return;
        };
        let (device, device_ka, model) = (r.entity_id, r.ka_public_key.clone(), r.model.clone());
        let in_cell = r.cell_credential;
        let counter = match kind {
            CommandKind::Migration => &mut self.tcos,
            CommandKind::Read => &mut self.acb,
        };
        let party = counter.party;
        let (value, reserve) = counter.take(self.config.counter_block);
        if let Some(below) = reserve {
            self.record(Record::CounterBlock { party, below });
        }
        self.flow.started(&self.config, self.now);
        self.flow.model_busy(&model);
        self.busy.insert(
            i,
            Busy::Building {
                kind,
                counter: value,
            },
        );
        let job = self.job(Job::Build {
            device: i,
            kind,
            counter: value,
        });
        self.builds.push_back(Work::Build {
            job,
            device,
            kind,
            counter: value,
            in_cell,
            device_ka,
        });
    }

    /// The order migration command `counter` to device `i` was sent in.
    pub(super) fn order_of(&self, i: usize, counter: u64) -> u64 {
        self.sent
            .get(&(i, CommandKind::Migration, counter))
            .map_or(self.order_base.saturating_add(self.stats.sent), |s| s.order)
    }

    pub(super) fn job(&mut self, job: Job) -> JobId {
        self.next_job += 1;
        let id = JobId(self.next_job);
        self.jobs.insert(id, job);
        id
    }

    /// Device `i` is no longer busy.
    pub(super) fn release(&mut self, i: usize) {
        if let Some(b) = self.busy.remove(&i) {
            if let Busy::InFlight { deadline, .. } | Busy::Checking { deadline, .. } = b {
                self.deadlines.remove(&(deadline, i));
            }
            if let Some(model) = self.records.get(i).map(|r| r.model.clone()) {
                self.flow.model_free(&model);
            }
        }
    }

    /// Stops the run: no command starts until [`Input::Resume`].
    pub(super) fn stop(&mut self, incident: Incident) {
        if self.stopped.is_some() {
            return;
        }
        let at = self.now;
        self.record(Record::Incident {
            at,
            incident: incident.clone(),
        });
        self.event(Event::Incident(incident.clone()));
        self.stopped_window = self.auto_stop.devices_in(&incident);
        self.stopped = Some(incident);
    }

    /// Marks the stopping incident high priority: each supplier whose devices were in the
    /// window that raised it is told which (by their reporting supplier now).
    pub(super) fn mark_high_priority(&mut self) {
        let Some(incident) = self.stopped.clone() else {
            self.event(Event::NoIncident);
            return;
        };
        let mut by_supplier: BTreeMap<SecPartyId, Vec<EntityId>> = BTreeMap::new();
        for d in &self.stopped_window {
            let Some(r) = self.index.get(d).and_then(|&i| self.records.get(i)) else {
                continue;
            };
            by_supplier
                .entry(r.reporting_supplier().clone())
                .or_default()
                .push(*d);
        }
        let at = self.now;
        let notified: Vec<(SecPartyId, Vec<EntityId>)> = by_supplier.into_iter().collect();
        self.record(Record::HighPriority {
            at,
            incident: incident.clone(),
            notified: notified.clone(),
        });
        for (supplier, devices) in notified {
            self.event(Event::HighPriorityIncident {
                supplier,
                devices,
                incident: incident.clone(),
            });
        }
    }

    /// Clears the incident (auto-stop forgets the window that raised it) and the pause.
    pub(super) fn resume(&mut self) {
        if let Some(incident) = self.stopped.take() {
            self.auto_stop.resume(&incident);
        }
        self.stopped_window.clear();
        self.local_faults_in_a_row = 0;
        if self.paused {
            self.paused = false;
        }
        let at = self.now;
        self.record(Record::Paused { at, paused: false });
        // Devices skipped while stopped are looked at again.
        for i in 0..self.records.len() {
            if !self.busy.contains_key(&i) {
                self.reschedule(i);
            }
        }
    }
}
