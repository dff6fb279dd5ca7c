//! The bulk migration engine (`std`): runs a migration over a fleet in batches, spreading each
//! batch over every core, reporting progress through a callback. Deterministic: candidates
//! are taken in a fixed order, counters are assigned before the batch is sent, and outcomes
//! are applied in that order, whatever the threads do.
//!
//! Per attempt: ECDH with the device's KA key, build + sign + MAC the 0x0106, exchange it
//! through a [`Transport`], verify and interpret the reply. An ECDH or a signature that fails
//! on the engine's side (an HSM that does not answer) is a [`LocalFault`], not a device
//! attempt: the device keeps its attempts and is tried again in the next batch, the fault is
//! reported as [`Event::LocalFault`], and [`AutoStopPolicy::local_fault_limit`] faults in a
//! row stop the run. After each batch the outcomes go
//! into the device records, the [`Ledger`] and [`AutoStop`]; an incident stops the run
//! before the next batch, and [`BulkMigration::resume`] clears it.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;

use crate::cos::classify::{from_credential_details, Classification, CosState, EvidenceSource};
use crate::cos::command::{credential_query, BuildError, CosSigner, MigrationCommand};
use crate::cos::device::FirmwareVersion;
use crate::cos::ledger::Ledger;
#[cfg(doc)]
use crate::cos::migration::AutoStopPolicy;
use crate::cos::migration::{
    apply, interpret_alert, interpret_response, select, AutoStop, Decision, DeviceRecord, Incident,
    InvalidReason, IssuedCommand, LocalFault, MigrationPolicy, MigrationStatus, Outcome,
    TransientCause,
};
use crate::cos::registry::CosRegistry;
use crate::crypto::CryptoError;
use crate::crypto::{KeyAgreement, SharedSecret};
use crate::frame::{CraFlag, EntityId, MessageCode};
use crate::message::GbcsError;

/// Carries commands to devices and brings back their replies.
pub trait Transport: Sync {
    /// Sends `command` to `device`; `None` when no reply came (time-out, no response).
    fn exchange(&self, device: EntityId, command: &[u8]) -> Option<Vec<u8>>;
}

/// What the engine signs and MACs with.
#[derive(Clone, Copy)]
pub struct MigrationContext<'a> {
    /// The TCoS and ECoS credentials.
    pub registry: &'a CosRegistry,
    /// The TCoS signer.
    pub tcos: CosSigner<'a>,
    /// The migration command (ECoS certificate checked).
    pub command: MigrationCommand<'a>,
    /// The ACB's key agreement (MACs every command).
    pub acb: &'a (dyn KeyAgreement + Sync),
    /// The ACB's entity ID: the originator of the CS02a reads of a device's role-5 cell.
    pub acb_id: EntityId,
}

/// Batch size, threads and pacing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Devices per batch.
    pub batch_size: usize,
    /// Worker threads (1 = the calling thread only).
    pub workers: usize,
    /// Simulated or real seconds between batches.
    pub batch_interval_secs: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            workers: thread::available_parallelism().map_or(1, |n| n.get()),
            batch_interval_secs: 600,
        }
    }
}

/// Where a run stands, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Batches run.
    pub batches: usize,
    /// Attempts in the last batch.
    pub batch_attempts: usize,
    /// Attempts so far.
    pub attempts: u64,
    /// Devices migrated so far.
    pub migrated: usize,
    /// Devices in the fleet.
    pub devices: usize,
    /// The clock (Unix seconds).
    pub clock: i64,
    /// Local faults so far (not device attempts).
    pub local_faults: u64,
}

/// Something the embedding service must hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A response failed verification or did not match: a security event.
    SecurityEvent {
        /// The device.
        device: EntityId,
        /// Why.
        reason: InvalidReason,
    },
    /// A command was not built (refused loudly).
    Refused {
        /// The device.
        device: EntityId,
        /// Why.
        error: BuildError,
    },
    /// The engine's own key agreement or signer failed; no command was sent.
    LocalFault {
        /// The device it was for.
        device: EntityId,
        /// What failed.
        fault: LocalFault,
    },
    /// The run stopped.
    Incident(Incident),
}

/// A migration over a fleet.
#[derive(Debug)]
pub struct BulkMigration {
    /// The device records.
    pub records: Vec<DeviceRecord>,
    /// The ledger.
    pub ledger: Ledger,
    /// The policy.
    pub policy: MigrationPolicy,
    /// Events raised so far.
    pub events: Vec<Event>,
    auto_stop: AutoStop,
    pending: BTreeMap<EntityId, IssuedCommand>,
    clock: i64,
    next_counter: u64,
    next_read_counter: u64,
    stopped: Option<Incident>,
    batches: usize,
    local_faults: u64,
    local_faults_in_a_row: u32,
}

enum Attempt {
    Sent(u64, Outcome),
    NotSent(BuildError),
    Local(LocalFault),
}

/// A read of a device's role-5 cell (CS02a) before a migration command.
enum Reading {
    /// A trusted answer (MAC verified, parties and counter matched).
    Cell(Classification),
    /// No answer.
    NoAnswer,
    /// An answer not trusted: a security event.
    Invalid(InvalidReason),
}

/// What one job did: a read (if it was a [`Decision::Read`]), and the migration command
/// (unless the read showed it must not go, or nothing was sent).
struct JobResult {
    reading: Option<Reading>,
    attempt: Option<Attempt>,
}

/// What auto-stop needs to know of one result.
enum Verdict {
    /// A command went out to record `index` and this came back.
    Sent { index: usize, outcome: Outcome },
    /// The engine's own keys failed: no command went out.
    Local(LocalFault),
    /// Refused before sending (or no such record): nothing to judge.
    NotSent,
}

impl Verdict {
    fn of(index: usize, result: &Attempt) -> Self {
        match result {
            Attempt::Sent(_, outcome) => Self::Sent {
                index,
                outcome: *outcome,
            },
            Attempt::Local(fault) => Self::Local(*fault),
            Attempt::NotSent(_) => Self::NotSent,
        }
    }
}

/// Auto-stop during a batch: results are judged in job order as they become available. The
/// records do not change during a batch, so a verdict names its record by index.
struct Judge<'r> {
    records: &'r [DeviceRecord],
    auto_stop: AutoStop,
    limit: u32,
    in_a_row: u32,
    next: usize,
    waiting: BTreeMap<usize, Verdict>,
    incident: Option<(usize, Incident)>,
}

impl Judge<'_> {
    /// Takes result `k`; judges every result now in order.
    fn hear(&mut self, k: usize, verdict: Verdict) {
        self.waiting.insert(k, verdict);
        while let Some(v) = self.waiting.remove(&self.next) {
            let at = self.next;
            self.next += 1;
            if self.incident.is_some() {
                continue;
            }
            let found = match v {
                Verdict::Sent { index, outcome } => {
                    self.in_a_row = 0;
                    self.records.get(index).and_then(|r| {
                        self.auto_stop
                            .record(r.entity_id, &r.model, &outcome, r.attempts > 0)
                    })
                }
                Verdict::Local(fault) => {
                    self.in_a_row = self.in_a_row.saturating_add(1);
                    (self.in_a_row >= self.limit).then_some(Incident::LocalFaults {
                        in_a_row: self.in_a_row,
                        last: fault,
                    })
                }
                Verdict::NotSent => None,
            };
            if let Some(incident) = found {
                self.incident = Some((at, incident));
            }
        }
    }
}

/// Reads `r`'s role-5 cell: the CS02a from the ACB, MAC'd with `z`; the reply trusted only
/// when its MAC verifies and it answers this read.
fn read_cell(
    ctx: &MigrationContext<'_>,
    transport: &dyn Transport,
    r: &DeviceRecord,
    acb_counter: u64,
    z: &SharedSecret,
) -> Reading {
    let Ok(query) = credential_query(ctx.acb_id, r.entity_id, acb_counter, z) else {
        return Reading::Invalid(InvalidReason::Malformed);
    };
    let Some(reply) = transport.exchange(r.entity_id, &query) else {
        return Reading::NoAnswer;
    };
    let Ok(m) = crate::parse(&reply) else {
        return Reading::Invalid(InvalidReason::Malformed);
    };
    let h = m.header();
    if h.cra_flag != CraFlag::RESPONSE || h.message_code() != MessageCode::CS02A {
        return Reading::Invalid(InvalidReason::WrongMessage);
    }
    if m.verify_mac(z).is_err() {
        return Reading::Invalid(InvalidReason::BadMac);
    }
    if h.originator != r.entity_id || h.recipient != ctx.acb_id {
        return Reading::Invalid(InvalidReason::WrongParties);
    }
    if h.originator_counter != acb_counter {
        return Reading::Invalid(InvalidReason::WrongCounter);
    }
    match from_credential_details(ctx.registry, &m) {
        Ok(c) => Reading::Cell(c),
        Err(_) => Reading::Invalid(InvalidReason::WrongMessage),
    }
}

/// One job: the read first when asked for (`read` = the ACB's counter for it), then, unless
/// the read says not to, the migration command.
///
/// After a trusted read the command goes only if the cell holds TCoS and the device is then
/// a candidate, and names the credential read. Without a trusted answer it goes to a device
/// known to hold TCoS (a lost reply, an overdue alert: the retry's own reply tells what
/// happened) and not to one whose state is unknown.
fn run_job(
    ctx: &MigrationContext<'_>,
    transport: &dyn Transport,
    policy: &MigrationPolicy,
    now: i64,
    r: &DeviceRecord,
    counter: u64,
    read: Option<u64>,
) -> JobResult {
    let z = match ctx.acb.agree(&r.ka_public_key) {
        Ok(z) => z,
        Err(e) => {
            return JobResult {
                reading: None,
                attempt: Some(Attempt::Local(LocalFault::KeyAgreement(e))),
            }
        }
    };
    let mut in_cell = r.cell_credential.unwrap_or(ctx.tcos.credential);
    let mut reading = None;
    if let Some(acb_counter) = read {
        let got = read_cell(ctx, transport, r, acb_counter, &z);
        let go = match &got {
            Reading::Cell(c) if c.state == CosState::Tcos => {
                if let Some(credential) = c.evidence.credential {
                    in_cell = credential;
                }
                let mut then = r.clone();
                then.state = CosState::Tcos;
                then.status = MigrationStatus::Retrying;
                then.unconfirmed = None;
                then.next_attempt_at = None;
                matches!(select(&then, policy, now), Decision::Migrate(_))
            }
            Reading::Cell(_) => false,
            Reading::NoAnswer | Reading::Invalid(_) => r.state == CosState::Tcos,
        };
        reading = Some(got);
        if !go {
            return JobResult {
                reading,
                attempt: None,
            };
        }
    }
    let command =
        match ctx
            .command
            .build(ctx.registry, r.entity_id, in_cell, &ctx.tcos, counter, &z)
        {
            Ok(c) => c,
            Err(BuildError::Message(GbcsError::Crypto(
                e @ (CryptoError::Backend | CryptoError::InvalidKey(_)),
            ))) => {
                return JobResult {
                    reading,
                    attempt: Some(Attempt::Local(LocalFault::Signing(e))),
                }
            }
            Err(e) => {
                return JobResult {
                    reading,
                    attempt: Some(Attempt::NotSent(e)),
                }
            }
        };
    let issued = IssuedCommand {
        device: r.entity_id,
        originator: ctx.tcos.credential.entity_id,
        counter,
        ecos: ctx.command.ecos_credential(),
    };
    let outcome = match transport.exchange(r.entity_id, &command) {
        None => Outcome::Transient(TransientCause::NoResponse),
        Some(reply) => interpret_response(&reply, &issued, &r.ds_public_key),
    };
    JobResult {
        reading,
        attempt: Some(Attempt::Sent(counter, outcome)),
    }
}

impl BulkMigration {
    /// A migration of `records` under `policy`, starting at `clock` with TCoS counter
    /// `first_counter` (above every counter the TCoS party has used).
    #[must_use]
    pub fn new(
        records: Vec<DeviceRecord>,
        policy: MigrationPolicy,
        clock: i64,
        first_counter: u64,
    ) -> Self {
        let auto_stop = AutoStop::new(policy.auto_stop);
        // The ledger starts from the inventory: each device's supplier, state and standing
        // as at the start of the run.
        let mut ledger = Ledger::new();
        for r in &records {
            ledger.track(r, &policy, clock, EvidenceSource::Inventory);
        }
        Self {
            records,
            ledger,
            policy,
            events: Vec::new(),
            auto_stop,
            pending: BTreeMap::new(),
            clock,
            next_counter: first_counter,
            next_read_counter: first_counter,
            stopped: None,
            batches: 0,
            local_faults: 0,
            local_faults_in_a_row: 0,
        }
    }

    /// Local faults so far: ECDHs or signatures that failed on the engine's side (not device
    /// attempts).
    #[must_use]
    pub const fn local_faults(&self) -> u64 {
        self.local_faults
    }

    /// The clock.
    #[must_use]
    pub const fn clock(&self) -> i64 {
        self.clock
    }

    /// The incident that stopped the run, if any.
    #[must_use]
    pub const fn stopped(&self) -> Option<&Incident> {
        self.stopped.as_ref()
    }

    /// Clears the incident so the run can go on. Auto-stop forgets the window that raised
    /// it (see [`AutoStop::resume`]): a model that stopped the run is judged afresh on its
    /// next attempts, not stopped again by its old faults.
    pub fn resume(&mut self) {
        if let Some(incident) = self.stopped.take() {
            self.auto_stop.resume(&incident);
        }
    }

    fn progress(&self, batch_attempts: usize) -> Progress {
        Progress {
            batches: self.batches,
            batch_attempts,
            attempts: self.ledger.total_attempts(),
            migrated: self
                .records
                .iter()
                .filter(|r| r.status == MigrationStatus::Migrated)
                .count(),
            devices: self.records.len(),
            clock: self.clock,
            local_faults: self.local_faults,
        }
    }

    /// The devices that may be tried now, in order: normal priority first, then NP005-stale,
    /// each by entity ID.
    #[must_use]
    pub fn candidates(&self) -> Vec<usize> {
        let mut c: Vec<(crate::cos::migration::Priority, EntityId, usize)> = self
            .records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match select(r, &self.policy, self.clock) {
                Decision::Migrate(p) | Decision::Read(p) => Some((p, r.entity_id, i)),
                Decision::Skip(_) => None,
            })
            .collect();
        c.sort();
        c.into_iter().map(|(_, _, i)| i).collect()
    }

    /// Runs one batch; returns the number of attempts made.
    pub fn run_batch(
        &mut self,
        ctx: &MigrationContext<'_>,
        transport: &dyn Transport,
        config: &EngineConfig,
    ) -> usize {
        let candidates = self.candidates();
        self.send_batch(ctx, transport, config, candidates)
    }

    /// Sends the migration command to the first `batch_size` of `candidates` and applies the
    /// outcomes.
    fn send_batch(
        &mut self,
        ctx: &MigrationContext<'_>,
        transport: &dyn Transport,
        config: &EngineConfig,
        candidates: Vec<usize>,
    ) -> usize {
        if self.stopped.is_some() {
            return 0;
        }
        // Counters are assigned before anything is sent: the TCoS party's for each migration
        // command, the ACB's for each read.
        let mut jobs: Vec<(usize, u64, Option<u64>)> = Vec::new();
        for i in candidates.into_iter().take(config.batch_size.max(1)) {
            let read = self
                .records
                .get(i)
                .is_some_and(|r| matches!(select(r, &self.policy, self.clock), Decision::Read(_)));
            let read = read.then(|| {
                self.next_read_counter += 1;
                self.next_read_counter - 1
            });
            jobs.push((i, self.next_counter, read));
            self.next_counter += 1;
        }
        let (policy, now) = (&self.policy, self.clock);
        let records = &self.records;
        // Auto-stop judges each result in job order as soon as the results before it are in,
        // and a stop it decides is seen by the workers before they take another job: no
        // further command leaves (those already in flight, at most one per other worker,
        // are still recorded, since they did leave).
        let judge = Mutex::new(Judge {
            records,
            auto_stop: core::mem::take(&mut self.auto_stop),
            limit: self.policy.auto_stop.local_fault_limit,
            in_a_row: self.local_faults_in_a_row,
            next: 0,
            waiting: BTreeMap::new(),
            incident: None,
        });
        let heard = Condvar::new();
        let workers = config.workers.clamp(1, jobs.len().max(1));
        // Workers take the next job from a shared index (so a worker slowed by anything else
        // on the machine takes fewer), the calling thread being one of them, but never run
        // more than `workers` jobs ahead of the judged ones: when a stop is decided, at most
        // one command per other worker is already out. Each result carries its job's position
        // and record index, so it can never attach to another device, and results are
        // applied in job order whatever the threads did.
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(i, c, read)) = jobs.get(k) else {
                    break;
                };
                let mut j = judge.lock().unwrap_or_else(PoisonError::into_inner);
                while j.incident.is_none() && j.next + workers <= k {
                    j = heard.wait(j).unwrap_or_else(PoisonError::into_inner);
                }
                if j.incident.is_some() {
                    break;
                }
                drop(j);
                let (result, verdict) = match records.get(i) {
                    Some(r) => {
                        let result = run_job(ctx, transport, policy, now, r, c, read);
                        let verdict = result
                            .attempt
                            .as_ref()
                            .map_or(Verdict::NotSent, |a| Verdict::of(i, a));
                        (Some(result), verdict)
                    }
                    None => (None, Verdict::NotSent),
                };
                judge
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .hear(k, verdict);
                heard.notify_all();
                if let Some(result) = result {
                    done.push((k, i, result));
                }
            }
            done
        };
        let mut results: Vec<(usize, usize, JobResult)> = if workers == 1 {
            work()
        } else {
            thread::scope(|s| {
                let helpers: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
                let mut all = work();
                // `attempt` does not panic; if a worker ever did, re-raise it rather than lose
                // the attempts it made.
                for h in helpers {
                    all.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
                }
                all
            })
        };
        let judge = judge.into_inner().unwrap_or_else(PoisonError::into_inner);
        self.auto_stop = judge.auto_stop;
        self.local_faults_in_a_row = judge.in_a_row;
        let incident = judge.incident;
        results.sort_unstable_by_key(|(k, _, _)| *k);
        let mut made = 0;
        for (k, i, job) in results {
            if let Some(reading) = job.reading {
                self.apply_reading(i, reading);
            }
            let Some(r) = self.records.get_mut(i) else {
                continue;
            };
            let Some(result) = job.attempt else {
                continue;
            };
            match result {
                Attempt::Local(fault) => {
                    // Not a device attempt: the device keeps its attempts and stays a
                    // candidate; only the engine's fault count moves.
                    self.local_faults += 1;
                    self.events.push(Event::LocalFault {
                        device: r.entity_id,
                        fault,
                    });
                }
                Attempt::NotSent(error) => {
                    r.status = MigrationStatus::NeedsInvestigation;
                    self.ledger
                        .track(r, &self.policy, self.clock, EvidenceSource::Inventory);
                    self.events.push(Event::Refused {
                        device: r.entity_id,
                        error,
                    });
                }
                Attempt::Sent(counter, outcome) => {
                    made += 1;
                    if outcome == Outcome::Pending {
                        let issued = IssuedCommand {
                            device: r.entity_id,
                            originator: ctx.tcos.credential.entity_id,
                            counter,
                            ecos: ctx.command.ecos_credential(),
                        };
                        self.pending.insert(r.entity_id, issued);
                    }
                    let supplier = r.reporting_supplier().clone();
                    // Each (device, counter) is new: the engine never reuses a counter.
                    let _ =
                        self.ledger
                            .record(&supplier, r.entity_id, counter, &outcome, self.clock);
                    if let Outcome::Invalid(reason) = outcome {
                        self.events.push(Event::SecurityEvent {
                            device: r.entity_id,
                            reason,
                        });
                    }
                    apply(r, &outcome, &self.policy, self.clock);
                    match outcome {
                        // It may have run: the cell is read before the retry.
                        Outcome::Transient(TransientCause::NoResponse) => {
                            r.unconfirmed = Some(counter);
                        }
                        Outcome::Invalid(_) => {}
                        _ => r.unconfirmed = None,
                    }
                    self.ledger
                        .track(r, &self.policy, self.clock, EvidenceSource::UpdateOutcome);
                }
            }
            if let Some((at, found)) = &incident {
                if *at == k && self.stopped.is_none() {
                    self.events.push(Event::Incident(found.clone()));
                    self.stopped = Some(found.clone());
                }
            }
        }
        self.batches += 1;
        made
    }

    /// What a read of record `i`'s role-5 cell does (`ecos.md` §4.2): the answer is recorded
    /// as evidence at the engine's clock. ECoS in the cell: the device is migrated — a lost
    /// reply's attempt is resolved as completed (still one attempt), an overdue future-dated
    /// command's attempt is counted completed now. TCoS: the cell's credential is taken, an
    /// overdue command's attempt counts as failed, and the retry follows. Unknown: the device
    /// needs investigation. No trusted answer: not an attempt; a device whose state is unknown
    /// backs off and, after as many unanswered reads as attempts allowed, needs investigation.
    fn apply_reading(&mut self, i: usize, reading: Reading) {
        let (clock, policy) = (self.clock, &self.policy);
        let Some(r) = self.records.get_mut(i) else {
            return;
        };
        let device = r.entity_id;
        let supplier = r.reporting_supplier().clone();
        match reading {
            Reading::Cell(c) => {
                r.unanswered_reads = 0;
                let overdue = if r.status == MigrationStatus::AwaitingAlert {
                    self.pending.remove(&device)
                } else {
                    None
                };
                match c.state {
                    CosState::Ecos => {
                        if let Some(lost) = r.unconfirmed.take() {
                            self.ledger.resolve_completed(device, lost, clock);
                        }
                        if let Some(issued) = overdue {
                            let _ = self.ledger.record(
                                &supplier,
                                device,
                                issued.counter,
                                &Outcome::Migrated,
                                clock,
                            );
                            r.attempts += 1;
                        }
                        r.set_migrated();
                    }
                    CosState::Tcos => {
                        r.state = CosState::Tcos;
                        if let Some(credential) = c.evidence.credential {
                            r.cell_credential = Some(credential);
                        }
                        r.unconfirmed = None;
                        if let Some(issued) = overdue {
                            let lost = Outcome::Transient(TransientCause::NoResponse);
                            let _ =
                                self.ledger
                                    .record(&supplier, device, issued.counter, &lost, clock);
                            apply(r, &lost, policy, clock);
                        }
                    }
                    CosState::Unknown(_) => {
                        r.state = c.state;
                        r.status = MigrationStatus::NeedsInvestigation;
                        r.next_attempt_at = None;
                    }
                }
            }
            Reading::NoAnswer | Reading::Invalid(_) => {
                if let Reading::Invalid(reason) = reading {
                    self.events.push(Event::SecurityEvent { device, reason });
                }
                r.unanswered_reads = r.unanswered_reads.saturating_add(1);
                if !r.state.is_known() {
                    if r.unanswered_reads >= policy.max_attempts {
                        r.status = MigrationStatus::NeedsInvestigation;
                        r.next_attempt_at = None;
                    } else {
                        r.next_attempt_at =
                            Some(clock.saturating_add(policy.retry.delay(r.unanswered_reads)));
                    }
                }
            }
        }
        self.ledger
            .track(r, policy, clock, EvidenceSource::CredentialDetailsResponse);
    }

    /// Devices that accepted a future-dated command and whose alert has not come.
    #[must_use]
    pub fn awaiting_alerts(&self) -> usize {
        self.pending.len()
    }

    /// Takes the 0x00CB alert that ends a future-dated migration command: verified against the
    /// device's key and the command it answers, then counted (once) like a response. Returns
    /// the outcome, or `None` when no command from this device is awaiting an alert.
    pub fn on_alert(&mut self, alert: &[u8]) -> Option<Outcome> {
        let device = crate::parse(alert).ok()?.header().originator;
        let issued = *self.pending.get(&device)?;
        let r = self.records.iter_mut().find(|r| r.entity_id == device)?;
        let outcome = interpret_alert(alert, &issued, &r.ds_public_key);
        if let Outcome::Invalid(reason) = outcome {
            self.events.push(Event::SecurityEvent { device, reason });
            return Some(outcome);
        }
        self.pending.remove(&device);
        let supplier = r.reporting_supplier().clone();
        // The acceptance was not counted; the alert's outcome is the attempt's, counted now.
        let _ = self
            .ledger
            .record(&supplier, device, issued.counter, &outcome, self.clock);
        let incident = self
            .auto_stop
            .record(device, &r.model, &outcome, r.attempts > 0);
        apply(r, &outcome, &self.policy, self.clock);
        self.ledger
            .track(r, &self.policy, self.clock, EvidenceSource::UpdateOutcome);
        if let (Some(incident), None) = (incident, &self.stopped) {
            self.events.push(Event::Incident(incident.clone()));
            self.stopped = Some(incident);
        }
        Some(outcome)
    }

    /// An inventory update: `device` now runs `firmware`. A device that faulted on another
    /// firmware is eligible again (seed ¶31a) and taken up by a later batch; its standing in
    /// the ledger changes at the engine's clock. Returns whether the device is in the fleet.
    /// (Finds the record by a scan of the fleet: for occasional updates, not per message.)
    pub fn update_firmware(&mut self, device: EntityId, firmware: FirmwareVersion) -> bool {
        self.update_inventory(device, |r| r.firmware = firmware)
    }

    /// An inventory update: a gas meter is (or is no longer) commissioned on the hub of the
    /// Gas Proxy Function `device`, which moves its reports and notices between the gas and
    /// the electricity supplier from the engine's clock on. Returns whether the device is in
    /// the fleet.
    pub fn set_gas_meter_commissioned(&mut self, device: EntityId, commissioned: bool) -> bool {
        self.update_inventory(device, |r| r.gas_meter_commissioned = commissioned)
    }

    /// Applies an inventory update to `device`'s record and brings its ledger history up to
    /// date at the engine's clock; `false` when the device is not in the fleet.
    fn update_inventory(&mut self, device: EntityId, f: impl FnOnce(&mut DeviceRecord)) -> bool {
        let Some(r) = self.records.iter_mut().find(|r| r.entity_id == device) else {
            return false;
        };
        f(r);
        self.ledger
            .track(r, &self.policy, self.clock, EvidenceSource::Inventory);
        true
    }

    /// Moves the engine's clock forward to `t` (never back): for a caller that drives time,
    /// say between runs while future-dated commands are awaiting their alerts.
    pub fn advance_clock(&mut self, t: i64) {
        self.clock = self.clock.max(t);
    }

    /// Runs batches until no device is left to try (waiting out back-offs on the clock) or an
    /// incident stops the run. Calls `progress` after each batch. It does not wait for the
    /// alerts of future-dated commands: those overdue are read in a later batch, once the
    /// clock has passed their time-out.
    pub fn run(
        &mut self,
        ctx: &MigrationContext<'_>,
        transport: &dyn Transport,
        config: &EngineConfig,
        progress: impl FnMut(&Progress),
    ) -> Progress {
        self.run_until(ctx, transport, config, i64::MAX, progress)
    }

    /// As [`Self::run`], but starts no batch after `until` (Unix seconds): a run that stops
    /// at midnight, say.
    pub fn run_until(
        &mut self,
        ctx: &MigrationContext<'_>,
        transport: &dyn Transport,
        config: &EngineConfig,
        until: i64,
        mut progress: impl FnMut(&Progress),
    ) -> Progress {
        while self.stopped.is_none() && self.clock <= until {
            let candidates = self.candidates();
            if candidates.is_empty() {
                let next = self
                    .records
                    .iter()
                    // Back-offs of retries and of unanswered reads (not alert time-outs).
                    .filter(|r| {
                        matches!(
                            r.status,
                            MigrationStatus::Retrying | MigrationStatus::NotStarted
                        )
                    })
                    .filter_map(|r| r.next_attempt_at)
                    .filter(|t| *t > self.clock)
                    .min();
                match next {
                    Some(t) => {
                        self.clock = t;
                        continue;
                    }
                    None => break,
                }
            }
            let n = self.send_batch(ctx, transport, config, candidates);
            self.clock += config.batch_interval_secs;
            progress(&self.progress(n));
        }
        self.progress(0)
    }
}
