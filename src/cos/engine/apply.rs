//! What an outcome or a reading does to a device, the ledger and auto-stop (`ecos.md` §4.2):
//! the rules of `cos::migration`, applied at the engine's clock, each change recorded.

use crate::cos::classify::{CosState, EvidenceSource};
use crate::cos::ledger::{AttemptResult, LedgerEntry};
use crate::cos::migration::{
    apply, select, Decision, Incident, MigrationStatus, Outcome, Responsibility, TransientCause,
};
use crate::frame::EntityId;

use super::types::{Event, Reading};
use super::Engine;

impl Engine {
    /// Counts the attempt `counter` on device `i` in the ledger (once) and records the entry.
    fn count(&mut self, i: usize, counter: u64, outcome: &Outcome) {
        let Some(r) = self.records.get(i) else {
            return;
        };
        let (supplier, device) = (r.reporting_supplier().clone(), r.entity_id);
        match self
            .ledger
            .record(&supplier, device, counter, outcome, self.now.secs())
        {
            Ok(true) => {
                if let Some(entry) = self.ledger.attempt_entry(device, counter).cloned() {
                    self.record(super::Record::Ledger(LedgerEntry::Attempt(entry)));
                }
            }
            Ok(false) => {}
            Err(dup) => self.event(Event::DuplicateAttempt {
                device: dup.device,
                counter: dup.counter,
            }),
        }
    }

    /// Resolves the failed attempt `counter` on device `i` as completed from now (a reading or
    /// a late reply showed the command ran): still one attempt.
    fn resolve_completed(&mut self, i: usize, counter: u64) {
        let Some(device) = self.records.get(i).map(|r| r.entity_id) else {
            return;
        };
        let at = self.now.secs();
        if self.ledger.resolve_completed(device, counter, at) {
            self.record(super::Record::Ledger(LedgerEntry::Resolved {
                device,
                counter,
                at,
                result: AttemptResult::Completed,
            }));
        }
    }

    /// Device `i` is now migrated (counted once in the stats).
    fn set_migrated(&mut self, i: usize) {
        if let Some(r) = self.records.get_mut(i) {
            if r.status != MigrationStatus::Migrated {
                self.stats.migrated += 1;
            }
            r.set_migrated();
        }
    }

    /// The outcome of migration command `counter` on device `i` (a verified reply, or none by
    /// the deadline): counted, judged by auto-stop, applied to the record.
    pub(super) fn apply_migration(&mut self, i: usize, counter: u64, outcome: Outcome) {
        let Some(r) = self.records.get(i) else {
            return;
        };
        let (device, model, retry) = (r.entity_id, r.model.clone(), r.attempts > 0);
        let was_migrated = r.status == MigrationStatus::Migrated;
        if outcome == Outcome::Pending {
            self.pending_alerts.insert(i, counter);
        }
        self.count(i, counter, &outcome);
        let order = self.order_of(i, counter);
        // A command the engine's own crash left unanswered counts as the attempt it was and
        // is read back, but says nothing of the devices or the network: auto-stop is not
        // fed it, so a restart cannot stop the run by itself.
        let incident = if self.restarting {
            None
        } else {
            self.auto_stop
                .record_in_order(device, &model, &outcome, retry, order)
        };
        let now = self.now.secs();
        if let Some(r) = self.records.get_mut(i) {
            if was_migrated {
                // Migrated meanwhile (a late reply or reading of an earlier command showed
                // it): this command's attempt counts, the device stays migrated.
                if outcome.counts_as_attempt() {
                    r.attempts += 1;
                }
            } else {
                apply(r, &outcome, &self.policy, now);
                match outcome {
                    // It may have run: the cell is read before the retry.
                    Outcome::Transient(TransientCause::NoResponse) => {
                        r.unconfirmed = Some(counter);
                    }
                    Outcome::Invalid(_) => {}
                    _ => r.unconfirmed = None,
                }
                if r.status == MigrationStatus::Migrated {
                    self.stats.migrated += 1;
                }
            }
        }
        self.outcome_applied(i, device, counter, outcome, incident);
    }

    /// A verified reply to migration command `counter` that came after its deadline, when it
    /// had already counted as no reply: what it says is taken, no second attempt is counted,
    /// and a device is never migrated twice.
    pub(super) fn apply_late_migration(&mut self, i: usize, counter: u64, outcome: Outcome) {
        let Some(device) = self.records.get(i).map(|r| r.entity_id) else {
            return;
        };
        let mut incident = None;
        match outcome {
            Outcome::Migrated => {
                self.resolve_completed(i, counter);
                self.set_migrated(i);
            }
            Outcome::Pending => {
                // Accepted, future-dated: its alert will come; the attempt is resolved then.
                self.pending_alerts.insert(i, counter);
                let wait = self.policy.alert_timeout_secs;
                let now = self.now.secs();
                if let Some(r) = self.records.get_mut(i) {
                    if r.status != MigrationStatus::Migrated {
                        r.status = MigrationStatus::AwaitingAlert;
                        r.next_attempt_at = Some(now.saturating_add(wait));
                    }
                }
            }
            Outcome::Transient(_) | Outcome::Invalid(_) => {}
            Outcome::DeviceFault(_) => {
                if let Some(r) = self.records.get_mut(i) {
                    if r.status != MigrationStatus::Migrated {
                        r.status =
                            MigrationStatus::Faulted(if r.device_type.is_communications_hub() {
                                Responsibility::Dcc
                            } else {
                                Responsibility::Supplier
                            });
                        r.faulted_firmware = Some(r.firmware.clone());
                        r.next_attempt_at = None;
                    }
                }
            }
            Outcome::WrongCredential(installed) => {
                if let Some(r) = self.records.get_mut(i) {
                    r.state = CosState::Unknown(crate::cos::classify::UnknownReason::Unrecognised);
                    r.status = MigrationStatus::NeedsInvestigation;
                }
                incident = Some(Incident::WrongCredential { device, installed });
            }
        }
        // The command's fate is known: no read is needed for it.
        if let Some(r) = self.records.get_mut(i) {
            if r.unconfirmed == Some(counter) {
                r.unconfirmed = None;
            }
        }
        self.track(i, EvidenceSource::UpdateOutcome);
        self.reschedule(i);
        if let Some(incident) = incident {
            self.stop(incident);
        }
    }

    /// A future-dated command's alert, verified: the attempt counted (once) like a response.
    pub(super) fn alert_checked(&mut self, i: usize, counter: u64, outcome: Outcome) {
        let Some(r) = self.records.get(i) else {
            return;
        };
        let (device, model, retry) = (r.entity_id, r.model.clone(), r.attempts > 0);
        let was_migrated = r.status == MigrationStatus::Migrated;
        if self.pending_alerts.get(&i) != Some(&counter) {
            self.stats.duplicate_replies += 1;
            self.event(Event::DuplicateReply { device, counter });
            return;
        }
        if let Outcome::Invalid(reason) = outcome {
            self.security(device, reason);
            return;
        }
        self.pending_alerts.remove(&i);
        let counted = self.ledger.attempt_entry(device, counter).is_some();
        if counted {
            // Its acceptance came late and counted as no reply: resolved now, not recounted.
            if outcome == Outcome::Migrated {
                self.resolve_completed(i, counter);
            }
        } else {
            self.count(i, counter, &outcome);
        }
        let order = self.order_of(i, counter);
        let incident = self
            .auto_stop
            .record_in_order(device, &model, &outcome, retry, order);
        let now = self.now.secs();
        if let Some(r) = self.records.get_mut(i) {
            if counted {
                // Not a second attempt: the record's attempt count stands.
                let attempts = r.attempts;
                apply(r, &outcome, &self.policy, now);
                r.attempts = attempts;
            } else {
                apply(r, &outcome, &self.policy, now);
            }
            r.unconfirmed = None;
            if !was_migrated && r.status == MigrationStatus::Migrated {
                self.stats.migrated += 1;
            }
        }
        self.outcome_applied(i, device, counter, outcome, incident);
    }

    /// What a read of device `i`'s role-5 cell does (`ecos.md` §4.2), at the engine's clock.
    /// ECoS in the cell: the device is migrated — a lost reply's attempt is resolved as
    /// completed (still one attempt), an overdue future-dated command's attempt is counted
    /// completed now. TCoS: the cell's credential is taken, an overdue command's attempt
    /// counts as failed, and — when `go_on` and the device is then a candidate — the
    /// migration command follows at once. Unknown: the device needs investigation. No trusted
    /// answer: not an attempt; a device whose state is unknown backs off and, after as many
    /// unanswered reads as attempts allowed, needs investigation; one known to hold TCoS (a
    /// lost reply, an overdue alert) is sent the migration command, whose own reply tells.
    pub(super) fn apply_reading(&mut self, i: usize, reading: Reading, go_on: bool) {
        let now = self.now.secs();
        let Some(r) = self.records.get(i) else {
            return;
        };
        // Whether the migration command follows, judged on the record before the reading.
        let go = go_on
            && match &reading {
                Reading::Cell(c) if c.state == CosState::Tcos => {
                    let mut then = r.clone();
                    then.state = CosState::Tcos;
                    then.status = MigrationStatus::Retrying;
                    then.unconfirmed = None;
                    then.next_attempt_at = None;
                    matches!(select(&then, &self.policy, now), Decision::Migrate(_))
                }
                Reading::Cell(_) => false,
                // A device whose attempts ran out is only read, never sent the command again.
                Reading::NoAnswer | Reading::Invalid(_) => {
                    r.state == CosState::Tcos && r.status != MigrationStatus::NeedsInvestigation
                }
            };
        let overdue = if r.status == MigrationStatus::AwaitingAlert {
            self.pending_alerts.remove(&i)
        } else {
            None
        };
        let device = r.entity_id;
        // A late reading (`go_on` false) was taken before what the engine has learned since:
        // one that does not show ECoS on a device since migrated says nothing of its cell now.
        let stale = !go_on && r.status == MigrationStatus::Migrated;
        match reading {
            Reading::Cell(c) if stale && c.state != CosState::Ecos => {}
            Reading::Cell(c) => {
                if let Some(r) = self.records.get_mut(i) {
                    r.unanswered_reads = 0;
                }
                match c.state {
                    CosState::Ecos => {
                        let lost = self.records.get_mut(i).and_then(|r| r.unconfirmed.take());
                        if let Some(lost) = lost {
                            self.resolve_completed(i, lost);
                        }
                        if let Some(counter) = overdue {
                            self.count(i, counter, &Outcome::Migrated);
                            if let Some(r) = self.records.get_mut(i) {
                                r.attempts += 1;
                            }
                        }
                        self.set_migrated(i);
                    }
                    CosState::Tcos => {
                        if let Some(r) = self.records.get_mut(i) {
                            r.state = CosState::Tcos;
                            if let Some(credential) = c.evidence.credential {
                                r.cell_credential = Some(credential);
                            }
                            r.unconfirmed = None;
                        }
                        if let Some(counter) = overdue {
                            let lost = Outcome::Transient(TransientCause::NoResponse);
                            self.count(i, counter, &lost);
                            if let Some(r) = self.records.get_mut(i) {
                                apply(r, &lost, &self.policy, now);
                            }
                        }
                    }
                    CosState::Unknown(_) => {
                        if let Some(r) = self.records.get_mut(i) {
                            r.state = c.state;
                            r.status = MigrationStatus::NeedsInvestigation;
                            r.next_attempt_at = None;
                        }
                    }
                }
            }
            Reading::NoAnswer | Reading::Invalid(_) => {
                if let Reading::Invalid(reason) = reading {
                    self.security(device, reason);
                }
                let max = self.policy.max_attempts;
                let retry = self.policy.retry;
                if let Some(r) = self.records.get_mut(i) {
                    r.unanswered_reads = r.unanswered_reads.saturating_add(1);
                    if !r.state.is_known() {
                        if r.unanswered_reads >= max {
                            r.status = MigrationStatus::NeedsInvestigation;
                            r.next_attempt_at = None;
                        } else {
                            r.next_attempt_at =
                                Some(now.saturating_add(retry.delay(r.unanswered_reads)));
                        }
                    }
                }
            }
        }
        self.track(i, EvidenceSource::CredentialDetailsResponse);
        if go && self.may_start() {
            self.flow.continuations.push_back(i);
        } else {
            self.reschedule(i);
        }
    }

    /// What follows every applied outcome: the evidence, the event, the device's next turn,
    /// and the incident's stop.
    fn outcome_applied(
        &mut self,
        i: usize,
        device: EntityId,
        counter: u64,
        outcome: Outcome,
        incident: Option<Incident>,
    ) {
        self.track(i, EvidenceSource::UpdateOutcome);
        self.event(Event::Outcome {
            device,
            counter,
            outcome,
        });
        self.reschedule(i);
        if let Some(incident) = incident {
            self.stop(incident);
        }
    }
}
