//! Bulk migration of meters from TCoS to ECoS (`ecos.md` §4): candidate selection, the
//! interpretation of device outcomes, retry with back-off, and auto-stop. Every number the
//! public rules leave open is a field of [`MigrationPolicy`].

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use core::fmt;

use crate::cos::classify::{cell_after, CosState};
use crate::cos::registry::Credential;
use crate::cos::route::DeviceType;
use crate::crypto::PublicKey;
use crate::frame::{CraFlag, EntityId, MessageCode};
use crate::payload::{CredentialsReplacementMode, ExecutionOutcome, Payload, StatusCode};

/// A SEC party ID (a supplier as the reports name it): 1 to 6 ASCII letters or digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecPartyId(String);

impl SecPartyId {
    /// A checked party ID.
    ///
    /// # Errors
    /// When `id` is empty, longer than 6, or not ASCII alphanumeric.
    pub fn new(id: &str) -> Result<Self, InvalidPartyId> {
        if (1..=6).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(String::from(id)))
        } else {
            Err(InvalidPartyId)
        }
    }

    /// The ID.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The ID as a string.
#[cfg(feature = "serde")]
impl serde::Serialize for SecPartyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A string, checked as [`SecPartyId::new`] checks it.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for SecPartyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::serde_util::deserialize_from_str(d)
    }
}

impl core::str::FromStr for SecPartyId {
    type Err = InvalidPartyId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Debug for SecPartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecPartyId({})", self.0)
    }
}

impl fmt::Display for SecPartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SEC party ID that is not 1–6 ASCII letters or digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidPartyId;

impl fmt::Display for InvalidPartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SEC party ID is 1 to 6 ASCII letters or digits")
    }
}

impl core::error::Error for InvalidPartyId {}

/// Where a device is in its migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MigrationStatus {
    /// Not tried yet.
    NotStarted,
    /// A transient failure; tried again after back-off.
    Retrying,
    /// A future-dated acceptance: waiting for the 0x00CB alert.
    AwaitingAlert,
    /// Migrated: the role-5 cell holds the ECoS credential.
    Migrated,
    /// A device fault: no more tries; whose responsibility it is.
    Faulted(Responsibility),
    /// Attempts exhausted, a wrong credential installed, or repeated invalid responses.
    NeedsInvestigation,
}

/// Who answers for a device fault (`ecos.md` §4.2; EMEHRA 6.1.2, 6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Responsibility {
    /// The responsible supplier.
    Supplier,
    /// DCC (communications hubs: CHF, GPF).
    Dcc,
}

/// One device as the migration sees it (an inventory record plus its history).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The device.
    pub entity_id: EntityId,
    /// Its type.
    pub device_type: DeviceType,
    /// Its model.
    pub model: String,
    /// Its firmware version.
    pub firmware: String,
    /// The responsible supplier.
    pub responsible_supplier: SecPartyId,
    /// For a Gas Proxy Function: the electricity supplier, who gets its reports.
    pub electricity_supplier: Option<SecPartyId>,
    /// What the role-5 cell holds.
    pub state: CosState,
    /// The TCoS credential known to be in the cell (from a device reading), if any.
    pub cell_credential: Option<Credential>,
    /// Last time the device communicated (Unix seconds).
    pub last_communication: i64,
    /// Why the device is ineligible, until the cause is cleared (ETMAD 3.10(b)).
    pub ineligible: Option<String>,
    /// The device's DS key (verifies its responses).
    pub ds_public_key: PublicKey,
    /// The device's KA key (the ACB MACs commands to it).
    pub ka_public_key: PublicKey,
    /// Attempts made (each counts, success or failure).
    pub attempts: u32,
    /// Responses that failed verification (not attempts).
    pub invalid_responses: u32,
    /// Not before this time (back-off).
    pub next_attempt_at: Option<i64>,
    /// Where the migration stands.
    pub status: MigrationStatus,
}

impl DeviceRecord {
    /// The supplier its reports go to: the electricity supplier for a GPF when known.
    #[must_use]
    pub fn reporting_supplier(&self) -> &SecPartyId {
        match (self.device_type, &self.electricity_supplier) {
            (DeviceType::Gpf, Some(e)) => e,
            _ => &self.responsible_supplier,
        }
    }
}

/// Exponential back-off for transient failures.
///
/// The default waits 1 h, 6 h, 36 h, then 7 days (216 h, capped) after the first four failed
/// attempts: with the default 5 attempts the last one comes about 8.8 days after the first, so
/// a communications hub that is unreachable for days is still reached within the attempt limit
/// (our choice of steps; [`RetryPolicy::reaches_cap_within`] checks a policy's cap is reachable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RetryPolicy {
    /// The first wait, seconds (default 1 h).
    pub base_secs: i64,
    /// The factor per further attempt (default 6).
    pub factor: i64,
    /// The longest wait, seconds (default 7 days).
    pub cap_secs: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_secs: 3600,
            factor: 6,
            cap_secs: 7 * 86_400,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based).
    #[must_use]
    pub fn delay(&self, attempts: u32) -> i64 {
        let mut d = self.base_secs;
        for _ in 1..attempts {
            d = d.saturating_mul(self.factor);
            if d >= self.cap_secs {
                return self.cap_secs;
            }
        }
        d.min(self.cap_secs)
    }

    /// Whether the longest wait is reached before the last of `max_attempts` attempts (the
    /// waits come after attempts 1 to `max_attempts − 1`).
    #[must_use]
    pub fn reaches_cap_within(&self, max_attempts: u32) -> bool {
        max_attempts >= 2 && self.delay(max_attempts - 1) >= self.cap_secs
    }
}

/// When to stop a batch and raise an incident (EMEHRA 2.5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct AutoStopPolicy {
    /// Outcomes in the sliding window (default 500).
    pub window: usize,
    /// Outcomes needed before the ratio is judged (default 100).
    pub min_samples: usize,
    /// Stop when failures exceed this many per thousand of the window (default 200, 20 %).
    pub failure_per_mille: usize,
    /// Stop when device faults of one model exceed this count (default 50).
    pub model_fault_limit: u32,
    /// Whether retries count in the window. Retries are of devices already known to fail,
    /// so by default only first attempts do: a wave of failures among fresh devices is the
    /// systemic signal (our decision).
    pub count_retries: bool,
    /// Stop after this many local faults in a row (an ECDH or a signature that failed on the
    /// engine's side — an HSM that does not answer — with no command sent in between; default
    /// 10). Local faults are not device attempts.
    pub local_fault_limit: u32,
}

impl Default for AutoStopPolicy {
    fn default() -> Self {
        Self {
            window: 500,
            min_samples: 100,
            failure_per_mille: 200,
            model_fault_limit: 50,
            count_retries: false,
            local_fault_limit: 10,
        }
    }
}

/// The migration's configurable decisions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct MigrationPolicy {
    /// Models on the Non-Migratable list, each with the manufacturer's fixing firmware if
    /// there is one (ETMAD 3.10(a)).
    pub non_migratable: BTreeMap<String, Option<String>>,
    /// Device types in scope (default ESME, GSME, GPF; CHF configurable).
    pub in_scope: BTreeSet<DeviceType>,
    /// Attempts before a device needs investigation (default 5).
    pub max_attempts: u32,
    /// Back-off for transient failures.
    pub retry: RetryPolicy,
    /// NP005: a device silent for longer than this is tried at lower priority (default 30
    /// days). Every device still gets at least one attempt.
    pub stale_after_secs: i64,
    /// Auto-stop.
    pub auto_stop: AutoStopPolicy,
    /// `[4]` in the migration command: the role-5 floor for the ECoS party (default 0).
    pub ecos_floor: Option<u64>,
}

impl Default for MigrationPolicy {
    fn default() -> Self {
        Self {
            non_migratable: BTreeMap::new(),
            in_scope: [DeviceType::Esme, DeviceType::Gsme, DeviceType::Gpf]
                .into_iter()
                .collect(),
            max_attempts: 5,
            retry: RetryPolicy::default(),
            stale_after_secs: 30 * 86_400,
            auto_stop: AutoStopPolicy::default(),
            ecos_floor: Some(0),
        }
    }
}

impl MigrationPolicy {
    /// Whether `record`'s model is non-migratable (on the list, fixing firmware not installed).
    #[must_use]
    pub fn is_non_migratable(&self, record: &DeviceRecord) -> bool {
        match self.non_migratable.get(&record.model) {
            None => false,
            Some(Some(fix)) => *fix != record.firmware,
            Some(None) => true,
        }
    }
}

/// Priority of a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Communicated recently.
    Normal,
    /// Not communicated within the NP005 period: lower priority, still tried.
    Low,
}

/// Why a device is not a candidate now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Already ECoS (counts as ECoS installed).
    AlreadyEcos,
    /// The state is unknown: query the device first (`ecos.md` §6).
    StateUnknown,
    /// A model on the Non-Migratable list without its fixing firmware.
    NonMigratable,
    /// Flagged ineligible, cause not cleared.
    Ineligible(String),
    /// Device type out of scope.
    OutOfScope(DeviceType),
    /// Attempts exhausted, or otherwise needing investigation.
    NeedsInvestigation,
    /// Waiting for back-off until this time.
    BackingOff(i64),
    /// Waiting for a future-dated command's alert.
    AwaitingAlert,
    /// Faulted: no more tries.
    Faulted(Responsibility),
    /// Migrated.
    Migrated,
}

/// The decision for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send the migration command.
    Migrate(Priority),
    /// Do not, and why.
    Skip(SkipReason),
}

/// The candidate-selection decision for `record` at `now` (`ecos.md` §4.1).
#[must_use]
pub fn select(record: &DeviceRecord, policy: &MigrationPolicy, now: i64) -> Decision {
    use Decision::Skip;
    match record.status {
        MigrationStatus::Migrated => return Skip(SkipReason::Migrated),
        MigrationStatus::Faulted(r) => return Skip(SkipReason::Faulted(r)),
        MigrationStatus::NeedsInvestigation => return Skip(SkipReason::NeedsInvestigation),
        MigrationStatus::AwaitingAlert => return Skip(SkipReason::AwaitingAlert),
        MigrationStatus::NotStarted | MigrationStatus::Retrying => {}
    }
    match record.state {
        CosState::Ecos => return Skip(SkipReason::AlreadyEcos),
        CosState::Unknown(_) => return Skip(SkipReason::StateUnknown),
        CosState::Tcos => {}
    }
    if policy.is_non_migratable(record) {
        return Skip(SkipReason::NonMigratable);
    }
    if let Some(cause) = &record.ineligible {
        return Skip(SkipReason::Ineligible(cause.clone()));
    }
    if !policy.in_scope.contains(&record.device_type) {
        return Skip(SkipReason::OutOfScope(record.device_type));
    }
    if record.attempts >= policy.max_attempts {
        return Skip(SkipReason::NeedsInvestigation);
    }
    if let Some(t) = record.next_attempt_at.filter(|t| *t > now) {
        return Skip(SkipReason::BackingOff(t));
    }
    if now.saturating_sub(record.last_communication) > policy.stale_after_secs {
        Decision::Migrate(Priority::Low)
    } else {
        Decision::Migrate(Priority::Normal)
    }
}

/// What was sent, to check what comes back against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuedCommand {
    /// The device.
    pub device: EntityId,
    /// The originator (the TCoS party that signed).
    pub originator: EntityId,
    /// The command's counter.
    pub counter: u64,
    /// The ECoS credential the command installs.
    pub ecos: Credential,
}

/// Why a response was not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidReason {
    /// Not a GBCS message.
    Malformed,
    /// Not a response to a 0x0106 (or not an 0x00CB alert).
    WrongMessage,
    /// The device signature does not verify.
    BadSignature,
    /// From another device, or to another party.
    WrongParties,
    /// Its counter (or outcome sequence number) is not the command's.
    WrongCounter,
    /// The outcome does not name cell {5, DS}.
    NoCosCell,
}

/// Why an attempt failed transiently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransientCause {
    /// resourcesBusy (30).
    Busy,
    /// No response, a time-out, or a communications failure.
    NoResponse,
}

/// What an attempt came to (`ecos.md` §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Migrated: success, and the replacing key is the ECoS key.
    Migrated,
    /// A future-dated acceptance: pending until the 0x00CB alert.
    Pending,
    /// Retry later.
    Transient(TransientCause),
    /// A device fault: stop retrying this device.
    DeviceFault(StatusCode),
    /// Success, but the credential now in the cell is not the ECoS one: a security incident.
    WrongCredential(Credential),
    /// The response failed verification or does not match: not an outcome, a security
    /// event; retried.
    Invalid(InvalidReason),
}

impl Outcome {
    /// Whether the outcome counts as an attempt (`ecos.md` §4.2: each attempt counts;
    /// invalid responses and pending acceptances do not yet).
    #[must_use]
    pub const fn counts_as_attempt(&self) -> bool {
        !matches!(self, Self::Pending | Self::Invalid(_))
    }

    /// Whether the attempt failed.
    #[must_use]
    pub const fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Transient(_) | Self::DeviceFault(_) | Self::WrongCredential(_)
        )
    }
}

fn from_outcome(outcome: &ExecutionOutcome<'_>, issued: &IssuedCommand) -> Outcome {
    if outcome.authorising_seq_number != issued.counter
        || outcome.mode != CredentialsReplacementMode::TRANS_COS_BY_TRANS_COS
    {
        return Outcome::Invalid(InvalidReason::WrongCounter);
    }
    match cell_after(outcome) {
        None => Outcome::Invalid(InvalidReason::NoCosCell),
        Some((credential, status)) if status.is_success() => {
            if credential == issued.ecos {
                Outcome::Migrated
            } else {
                Outcome::WrongCredential(credential)
            }
        }
        Some((_, StatusCode::RESOURCES_BUSY)) => Outcome::Transient(TransientCause::Busy),
        Some((_, status)) => Outcome::DeviceFault(status),
    }
}

/// Interprets a device's reply to a migration command, after checking it: device signature,
/// parties, counter, and an outcome naming {5, DS}.
#[must_use]
pub fn interpret_response(bytes: &[u8], issued: &IssuedCommand, device_key: &PublicKey) -> Outcome {
    let Ok(m) = crate::parse(bytes) else {
        return Outcome::Invalid(InvalidReason::Malformed);
    };
    let h = m.header();
    if h.cra_flag != CraFlag::RESPONSE
        || h.message_code() != MessageCode::CS02B_TRANS_COS_BY_TRANS_COS
    {
        return Outcome::Invalid(InvalidReason::WrongMessage);
    }
    if m.verify_signature(device_key).is_err() {
        return Outcome::Invalid(InvalidReason::BadSignature);
    }
    if h.originator != issued.device || h.recipient != issued.originator {
        return Outcome::Invalid(InvalidReason::WrongParties);
    }
    if h.originator_counter != issued.counter {
        return Outcome::Invalid(InvalidReason::WrongCounter);
    }
    match m.payload() {
        Payload::UpdateSecurityCredentialsResponse(r) => match &r.execution_outcome {
            None => Outcome::Pending,
            Some(o) => from_outcome(o, issued),
        },
        _ => Outcome::Invalid(InvalidReason::WrongMessage),
    }
}

/// Interprets the 0x00CB alert that ends a future-dated migration command.
#[must_use]
pub fn interpret_alert(bytes: &[u8], issued: &IssuedCommand, device_key: &PublicKey) -> Outcome {
    let Ok(m) = crate::parse(bytes) else {
        return Outcome::Invalid(InvalidReason::Malformed);
    };
    let h = m.header();
    if h.cra_flag != CraFlag::ALERT {
        return Outcome::Invalid(InvalidReason::WrongMessage);
    }
    if m.verify_signature(device_key).is_err() {
        return Outcome::Invalid(InvalidReason::BadSignature);
    }
    if h.originator != issued.device || h.recipient != issued.originator {
        return Outcome::Invalid(InvalidReason::WrongParties);
    }
    match m.payload() {
        Payload::UpdateSecurityCredentialsAlert(a) => from_outcome(&a.execution_outcome, issued),
        _ => Outcome::Invalid(InvalidReason::WrongMessage),
    }
}

/// An incident that stops the migration until the caller resumes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incident {
    /// Too many failures in the window.
    FailureRatio {
        /// Failures in the window.
        failures: usize,
        /// Outcomes in the window.
        window: usize,
    },
    /// Too many device faults of one model (a non-migratable candidate).
    ModelFaults {
        /// The model.
        model: String,
        /// Its device faults.
        faults: u32,
    },
    /// A wrong credential was installed: a security incident.
    WrongCredential {
        /// The device.
        device: EntityId,
        /// What it now holds.
        installed: Credential,
    },
    /// The engine's own keys failed this many times in a row (an HSM down, say).
    LocalFaults {
        /// Local faults in a row.
        in_a_row: u32,
        /// The last of them.
        last: LocalFault,
    },
}

/// A failure on the engine's side: the command never left, so it is not a device attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalFault {
    /// The ACB × device key agreement failed.
    KeyAgreement(crate::crypto::CryptoError),
    /// Signing the command failed.
    Signing(crate::crypto::CryptoError),
}

impl fmt::Display for LocalFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyAgreement(e) => write!(f, "key agreement failed: {e}"),
            Self::Signing(e) => write!(f, "signing failed: {e}"),
        }
    }
}

impl fmt::Display for Incident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FailureRatio { failures, window } => {
                write!(f, "{failures} failures in the last {window} outcomes")
            }
            Self::ModelFaults { model, faults } => {
                write!(f, "{faults} device faults on model {model}")
            }
            Self::WrongCredential { device, installed } => {
                write!(f, "{device} now holds {installed}, not the ECoS credential")
            }
            Self::LocalFaults { in_a_row, last } => {
                write!(f, "{in_a_row} local faults in a row (last: {last})")
            }
        }
    }
}

/// The auto-stop monitor.
#[derive(Clone, Debug, Default)]
pub struct AutoStop {
    policy: AutoStopPolicy,
    window: VecDeque<bool>,
    failures: usize,
    model_faults: BTreeMap<String, u32>,
}

impl AutoStop {
    /// A monitor with `policy`.
    #[must_use]
    pub fn new(policy: AutoStopPolicy) -> Self {
        Self {
            policy,
            window: VecDeque::new(),
            failures: 0,
            model_faults: BTreeMap::new(),
        }
    }

    /// Device faults seen per model.
    #[must_use]
    pub fn model_faults(&self) -> &BTreeMap<String, u32> {
        &self.model_faults
    }

    /// Records an attempt's outcome (`retry`: not the device's first attempt); returns the
    /// incident when one is raised.
    pub fn record(
        &mut self,
        device: EntityId,
        model: &str,
        outcome: &Outcome,
        retry: bool,
    ) -> Option<Incident> {
        if let Outcome::WrongCredential(installed) = outcome {
            return Some(Incident::WrongCredential {
                device,
                installed: *installed,
            });
        }
        if !outcome.counts_as_attempt() {
            return None;
        }
        if let Outcome::DeviceFault(_) = outcome {
            let n = self.model_faults.entry(String::from(model)).or_insert(0);
            *n += 1;
            if *n > self.policy.model_fault_limit {
                return Some(Incident::ModelFaults {
                    model: String::from(model),
                    faults: *n,
                });
            }
        }
        if retry && !self.policy.count_retries {
            return None;
        }
        let failed = outcome.is_failure();
        self.window.push_back(failed);
        self.failures += usize::from(failed);
        while self.window.len() > self.policy.window {
            if self.window.pop_front() == Some(true) {
                self.failures -= 1;
            }
        }
        let n = self.window.len();
        (n >= self.policy.min_samples && self.failures * 1000 > self.policy.failure_per_mille * n)
            .then_some(Incident::FailureRatio {
                failures: self.failures,
                window: n,
            })
    }
}

/// Applies an attempt's outcome to its device record (status, attempts, back-off).
pub fn apply(record: &mut DeviceRecord, outcome: &Outcome, policy: &MigrationPolicy, now: i64) {
    match outcome {
        Outcome::Migrated => {
            record.attempts += 1;
            record.state = CosState::Ecos;
            record.status = MigrationStatus::Migrated;
            record.next_attempt_at = None;
        }
        Outcome::Pending => record.status = MigrationStatus::AwaitingAlert,
        Outcome::Transient(_) => {
            record.attempts += 1;
            if record.attempts >= policy.max_attempts {
                record.status = MigrationStatus::NeedsInvestigation;
                record.next_attempt_at = None;
            } else {
                record.status = MigrationStatus::Retrying;
                record.next_attempt_at =
                    Some(now.saturating_add(policy.retry.delay(record.attempts)));
            }
        }
        Outcome::DeviceFault(_) => {
            record.attempts += 1;
            let who = if record.device_type.is_communications_hub() {
                Responsibility::Dcc
            } else {
                Responsibility::Supplier
            };
            record.status = MigrationStatus::Faulted(who);
        }
        Outcome::WrongCredential(_) => {
            record.attempts += 1;
            record.state = CosState::Unknown(crate::cos::classify::UnknownReason::Unrecognised);
            record.status = MigrationStatus::NeedsInvestigation;
        }
        Outcome::Invalid(_) => {
            record.invalid_responses += 1;
            if record.invalid_responses >= policy.max_attempts {
                record.status = MigrationStatus::NeedsInvestigation;
            } else {
                record.status = MigrationStatus::Retrying;
                record.next_attempt_at = Some(now.saturating_add(policy.retry.base_secs));
            }
        }
    }
}
