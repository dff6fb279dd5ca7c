//! What arrives: replies (in any order, late, twice, forged), alerts, CPU results, a send that
//! failed, inventory updates; and what a deadline does.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cos::classify::EvidenceSource;
use crate::cos::device::{FirmwareVersion, ModelKey};
use crate::cos::ledger::{LedgerEntry, Standing};
use crate::cos::migration::{Incident, InvalidReason, MigrationStatus, Outcome, TransientCause};
use crate::frame::{CraFlag, EntityId, MessageCode};
use crate::payload::Payload;

use super::types::{
    CommandKind, Event, InventoryChange, JobId, Reading, Record, Resolution, Transmit, Work,
    WorkResult,
};
use super::{Busy, Engine, Job, Sent};

impl Engine {
    pub(super) fn security(&mut self, device: EntityId, reason: InvalidReason) {
        self.stats.security_events += 1;
        self.event(Event::SecurityEvent { device, reason });
    }

    /// Bytes from `device`: matched to the command they answer by kind and counter, then
    /// checked by a CPU job. Nothing about them is believed before that check.
    pub(super) fn on_reply(&mut self, device: EntityId, bytes: Vec<u8>) {
        let Some(&i) = self.index.get(&device) else {
            self.security(device, InvalidReason::Unsolicited);
            return;
        };
        let (kind, counter) = {
            let Ok(m) = crate::parse(&bytes) else {
                self.security(device, InvalidReason::Malformed);
                return;
            };
            let h = m.header();
            if h.cra_flag == CraFlag::ALERT {
                self.on_alert(bytes);
                return;
            }
            let kind = match h.message_code() {
                MessageCode::CS02B_TRANS_COS_BY_TRANS_COS => CommandKind::Migration,
                MessageCode::CS02A => CommandKind::Read,
                _ => {
                    self.security(device, InvalidReason::WrongMessage);
                    return;
                }
            };
            if h.cra_flag != CraFlag::RESPONSE {
                self.security(device, InvalidReason::WrongMessage);
                return;
            }
            if h.originator != device {
                self.security(device, InvalidReason::WrongParties);
                return;
            }
            (kind, h.originator_counter)
        };
        let Some(sent) = self.sent.get_mut(&(i, kind, counter)) else {
            // A counter this engine never sent to this device.
            self.security(device, InvalidReason::Unsolicited);
            return;
        };
        if sent.replied || sent.checking {
            self.stats.duplicate_replies += 1;
            self.event(Event::DuplicateReply { device, counter });
            return;
        }
        sent.checking = true;
        let late = sent.resolved;
        if !late {
            // Checked, not yet believed: the deadline waits on the check.
            if let Some(Busy::InFlight {
                kind,
                counter,
                deadline,
            }) = self.busy.get(&i).copied()
            {
                self.deadlines.remove(&(deadline, i));
                self.busy.insert(
                    i,
                    Busy::Checking {
                        kind,
                        counter,
                        deadline,
                    },
                );
            }
        }
        let Some(r) = self.records.get(i) else {
            return;
        };
        let (device_ds, device_ka) = (r.ds_public_key.clone(), r.ka_public_key.clone());
        let job = self.job(Job::Check {
            device: i,
            kind,
            counter,
            late,
        });
        self.checks.push_back(Work::CheckReply {
            job,
            device,
            kind,
            counter,
            device_ds,
            device_ka,
            bytes,
        });
    }

    /// An alert: checked against the future-dated command its device is waiting on.
    pub(super) fn on_alert(&mut self, bytes: Vec<u8>) {
        let (device, answers) = match crate::parse(&bytes) {
            Ok(m) => {
                let answers = match m.payload() {
                    Payload::UpdateSecurityCredentialsAlert(a) => {
                        Some(a.execution_outcome.authorising_seq_number)
                    }
                    _ => None,
                };
                (m.header().originator, answers)
            }
            Err(_) => return,
        };
        let Some(&i) = self.index.get(&device) else {
            self.security(device, InvalidReason::Unsolicited);
            return;
        };
        let Some(&counter) = self.pending_alerts.get(&i) else {
            // An alert for a command no longer awaited (its alert was overdue and the cell
            // was read): not counted again.
            match answers {
                Some(c) if self.sent.contains_key(&(i, CommandKind::Migration, c)) => {
                    self.stats.duplicate_replies += 1;
                    self.event(Event::DuplicateReply { device, counter: c });
                }
                _ => self.security(device, InvalidReason::Unsolicited),
            }
            return;
        };
        let Some(r) = self.records.get(i) else {
            return;
        };
        let device_ds = r.ds_public_key.clone();
        let job = self.job(Job::Alert { device: i, counter });
        self.checks.push_back(Work::CheckAlert {
            job,
            device,
            counter,
            device_ds,
            bytes,
        });
    }

    pub(super) fn on_work_done(&mut self, job: JobId, result: WorkResult) {
        let Some(j) = self.jobs.remove(&job) else {
            return;
        };
        match j {
            Job::Build {
                device,
                kind,
                counter,
            } => self.built(device, kind, counter, result),
            Job::Check {
                device,
                kind,
                counter,
                late,
            } => {
                if let Some(s) = self.sent.get_mut(&(device, kind, counter)) {
                    s.checking = false;
                }
                match (kind, result) {
                    (CommandKind::Migration, WorkResult::Migration(o)) => {
                        self.migration_checked(device, counter, o, late);
                    }
                    (CommandKind::Read, WorkResult::Read(r)) => {
                        self.read_checked(device, counter, r, late);
                    }
                    // A result of another kind is no verified reply.
                    _ => self.invalid_reply(device, counter, InvalidReason::Malformed, late),
                }
            }
            Job::Alert { device, counter } => match result {
                WorkResult::Migration(o) => self.alert_checked(device, counter, o),
                _ => {
                    self.alert_checked(device, counter, Outcome::Invalid(InvalidReason::Malformed))
                }
            },
        }
    }

    /// A build finished: send the command (after its records), or say why not.
    fn built(&mut self, i: usize, kind: CommandKind, counter: u64, result: WorkResult) {
        let Some(device) = self.records.get(i).map(|r| r.entity_id) else {
            return;
        };
        match result {
            WorkResult::Built(bytes) => {
                self.local_faults_in_a_row = 0;
                let deadline = self.now.plus_millis(self.config.deadline_millis);
                self.busy.insert(
                    i,
                    Busy::InFlight {
                        kind,
                        counter,
                        deadline,
                    },
                );
                self.deadlines.insert((deadline, i));
                self.sent.insert(
                    (i, kind, counter),
                    Sent {
                        resolved: false,
                        replied: false,
                        checking: false,
                        order: self.order_base.saturating_add(self.stats.sent),
                    },
                );
                let at = self.now;
                let lsn = self.record(Record::Sent {
                    device,
                    kind,
                    counter,
                    at,
                    deadline,
                });
                self.out_transmits.push_back((
                    lsn,
                    Transmit {
                        device,
                        kind,
                        counter,
                        bytes,
                        deadline,
                    },
                ));
                self.stats.sent += 1;
                self.stats.peak_in_flight = self.stats.peak_in_flight.max(self.in_flight());
                if let Some(first) = self.first_sent.get_mut(i) {
                    first.get_or_insert(at);
                }
            }
            WorkResult::NotBuilt(error) => {
                self.release(i);
                if let Some(r) = self.records.get_mut(i) {
                    r.status = MigrationStatus::NeedsInvestigation;
                    r.next_attempt_at = None;
                }
                self.track(i, EvidenceSource::Inventory);
                self.event(Event::Refused { device, error });
            }
            WorkResult::Local(fault) => {
                // Not a device attempt: the device keeps its attempts and is tried again.
                self.release(i);
                self.stats.local_faults += 1;
                self.local_faults_in_a_row = self.local_faults_in_a_row.saturating_add(1);
                self.event(Event::LocalFault { device, fault });
                self.reschedule(i);
                let limit = self.policy.auto_stop.local_fault_limit;
                if self.local_faults_in_a_row >= limit {
                    self.stop(Incident::LocalFaults {
                        in_a_row: self.local_faults_in_a_row,
                        last: fault,
                    });
                }
            }
            // Not a build's result: the engine's own fault.
            WorkResult::Migration(_) | WorkResult::Read(_) => {
                self.release(i);
                self.reschedule(i);
            }
        }
    }

    /// A reply that failed its check: a security event. The command stays in flight until a
    /// valid reply or its deadline (one that passed during the check counts now).
    fn invalid_reply(&mut self, i: usize, counter: u64, reason: InvalidReason, late: bool) {
        let Some(r) = self.records.get_mut(i) else {
            return;
        };
        let device = r.entity_id;
        r.invalid_responses = r.invalid_responses.saturating_add(1);
        let progress = r.progress();
        self.record(Record::Device { device, progress });
        self.security(device, reason);
        if late {
            return;
        }
        if let Some(Busy::Checking {
            kind,
            counter: c,
            deadline,
        }) = self.busy.get(&i).copied()
        {
            if c == counter {
                self.busy.insert(
                    i,
                    Busy::InFlight {
                        kind,
                        counter,
                        deadline,
                    },
                );
                self.deadlines.insert((deadline, i));
                if deadline <= self.now {
                    self.deadlines.remove(&(deadline, i));
                    self.expire(i);
                }
            }
        }
    }

    /// A command's reply was taken (`how`): the command is resolved.
    fn resolved(&mut self, i: usize, kind: CommandKind, counter: u64, how: Resolution) {
        if let Some(s) = self.sent.get_mut(&(i, kind, counter)) {
            s.resolved = true;
            if how != Resolution::NoReply {
                s.replied = true;
            }
        }
        let Some(device) = self.records.get(i).map(|r| r.entity_id) else {
            return;
        };
        let at = self.now;
        self.record(Record::Resolved {
            device,
            kind,
            counter,
            at,
            how,
        });
        if how != Resolution::LateReply {
            self.release(i);
            if let Some(first) = self.first_resolved.get_mut(i) {
                first.get_or_insert(at);
            }
        }
    }

    /// A verified reply to `counter` came after its deadline: recorded and counted, no
    /// attempt counted again.
    fn late_reply(&mut self, i: usize, kind: CommandKind, counter: u64) {
        self.resolved(i, kind, counter, Resolution::LateReply);
        self.stats.late_replies += 1;
        if let Some(device) = self.records.get(i).map(|r| r.entity_id) {
            self.event(Event::LateReply { device, counter });
        }
    }

    fn migration_checked(&mut self, i: usize, counter: u64, outcome: Outcome, late: bool) {
        if let Outcome::Invalid(reason) = outcome {
            self.invalid_reply(i, counter, reason, late);
            return;
        }
        if late {
            self.late_reply(i, CommandKind::Migration, counter);
            self.apply_late_migration(i, counter, outcome);
        } else {
            self.resolved(i, CommandKind::Migration, counter, Resolution::Replied);
            self.apply_migration(i, counter, outcome);
        }
    }

    fn read_checked(&mut self, i: usize, counter: u64, reading: Reading, late: bool) {
        if let Reading::Invalid(reason) = reading {
            self.invalid_reply(i, counter, reason, late);
            return;
        }
        if late {
            self.late_reply(i, CommandKind::Read, counter);
            // Evidence of the cell, taken for what it says; the device has moved on.
            self.apply_reading(i, reading, false);
        } else {
            self.resolved(i, CommandKind::Read, counter, Resolution::Replied);
            self.apply_reading(i, reading, true);
        }
    }

    /// A command's deadline passed with no valid reply: no reply counts.
    pub(super) fn expire(&mut self, i: usize) {
        let Some(Busy::InFlight {
            kind,
            counter,
            deadline,
        }) = self.busy.get(&i).copied()
        else {
            return;
        };
        if deadline > self.now {
            return;
        }
        self.resolved(i, kind, counter, Resolution::NoReply);
        match kind {
            CommandKind::Migration => {
                self.apply_migration(i, counter, Outcome::Transient(TransientCause::NoResponse))
            }
            CommandKind::Read => self.apply_reading(i, Reading::NoAnswer, true),
        }
    }

    pub(super) fn on_send_failed(&mut self, device: EntityId, counter: u64) {
        let Some(&i) = self.index.get(&device) else {
            return;
        };
        if let Some(Busy::InFlight {
            kind,
            counter: c,
            deadline,
        }) = self.busy.get(&i).copied()
        {
            if c == counter {
                // No reply will come: its deadline is now.
                self.deadlines.remove(&(deadline, i));
                let now = self.now;
                self.busy.insert(
                    i,
                    Busy::InFlight {
                        kind,
                        counter,
                        deadline: now,
                    },
                );
                self.expire(i);
            }
        }
    }

    pub(super) fn on_inventory(&mut self, device: EntityId, change: InventoryChange) {
        let Some(&i) = self.index.get(&device) else {
            self.event(Event::UnknownDevice { device });
            return;
        };
        let Some(r) = self.records.get_mut(i) else {
            return;
        };
        match change {
            InventoryChange::Firmware(f) => {
                // A new firmware brings back a device that needed investigation as well as
                // one that faulted (seed ¶31a: captured through subsequent attempts).
                if f != r.firmware && Standing::of(r, &self.policy) == Standing::NeedsInvestigation
                {
                    r.reopen();
                }
                r.firmware = f;
            }
            InventoryChange::GasMeterCommissioned(c) => r.gas_meter_commissioned = c,
            InventoryChange::Ineligible(reason) => r.ineligible = reason,
        }
        self.track(i, EvidenceSource::Inventory);
        self.reschedule(i);
    }

    /// A model is listed as Non-Migratable: every device of it that this excludes gets its
    /// standing recorded now.
    pub(super) fn on_list_model(&mut self, model: ModelKey, fixed_from: Option<FirmwareVersion>) {
        self.policy
            .non_migratable
            .insert(model.clone(), fixed_from.clone());
        let at = self.now;
        self.record(Record::Listed {
            at,
            model: model.clone(),
            fixed_from,
        });
        let affected: Vec<usize> = self
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.model == model)
            .map(|(i, _)| i)
            .collect();
        for i in affected {
            self.track(i, EvidenceSource::Inventory);
            self.reschedule(i);
        }
    }

    /// A failed or ineligible device's cause is resolved by `by`.
    pub(super) fn on_clear(&mut self, device: EntityId, by: String) {
        let Some(&i) = self.index.get(&device) else {
            self.event(Event::UnknownDevice { device });
            return;
        };
        let Some(r) = self.records.get_mut(i) else {
            return;
        };
        match Standing::of(r, &self.policy) {
            Standing::Faulted(_) | Standing::NeedsInvestigation | Standing::Ineligible(_) => {}
            Standing::Open | Standing::NonMigratable => {
                self.event(Event::NothingToClear { device });
                return;
            }
        }
        r.ineligible = None;
        r.reopen();
        let at = self.now.secs();
        if self.ledger.clear(device, at, by.clone()) {
            self.record(Record::Ledger(LedgerEntry::Cleared {
                device,
                at,
                by: by.clone(),
            }));
        }
        self.track(i, EvidenceSource::Inventory);
        self.reschedule(i);
        self.event(Event::Cleared { device, by });
    }
}
