//! The migration's configurable decisions: retry back-off, auto-stop thresholds, the
//! Non-Migratable list and the devices in scope.

use alloc::collections::{BTreeMap, BTreeSet};

use crate::cos::device::{FirmwareVersion, IneligibleReason, ModelKey};
use crate::cos::migration::DeviceRecord;
use crate::cos::route::DeviceType;

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
    /// Per model: the attempts of that model in its own sliding window (default 500).
    pub model_window: usize,
    /// Per model: attempts needed before its fault rate is judged (default 100).
    pub model_min_samples: usize,
    /// Per model: stop when device faults exceed this many per thousand of the model's window
    /// (default 200, 20 %). A rate, so the rule judges a model alike in a fleet of 1,000
    /// and of 1,000,000: a model whose devices fault 1.5 % of the time never stops the run,
    /// a model that faults on every device stops it after `model_min_samples` attempts.
    pub model_fault_per_mille: usize,
    /// Per model: also stop when its device faults reach this count, whatever the rate
    /// (default `None`: no absolute cap).
    pub model_fault_cap: Option<u32>,
    /// Judge first attempts only (default `false`: every attempt is judged). When every
    /// attempt is, a device fault counts on a retry like on a first attempt, and a retry's
    /// success counts as a success; a *transient* failure on a retry (a hub still unreachable,
    /// still busy) is the known condition continuing, not new evidence of a systemic
    /// problem: it fills the failure window but is not counted as a failure. Otherwise the
    /// end of every run, when the attempts left are retries of unreachable hubs backing off,
    /// would cross any threshold however healthy the fleet (our decision).
    pub first_attempts_only: bool,
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
            model_window: 500,
            model_min_samples: 100,
            model_fault_per_mille: 200,
            model_fault_cap: None,
            first_attempts_only: false,
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
    pub non_migratable: BTreeMap<ModelKey, Option<FirmwareVersion>>,
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
    /// How long after a future-dated acceptance the engine waits for its alert before it
    /// reads the device's role-5 cell instead (default 2 days).
    pub alert_timeout_secs: i64,
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
            alert_timeout_secs: 2 * 86_400,
        }
    }
}

impl MigrationPolicy {
    /// Whether `record` is excluded as non-migratable (ETMAD 3.10(a)): its manufacturer and
    /// model on the list, that model's fixing firmware (or a later one) not installed. A Gas
    /// Proxy Function of a listed model is too — no commands while listed — though DCC keeps
    /// the obligation to resolve it (revised ETMAD 3.10 "save for … the Gas Proxy Function
    /// Device Model", `ecos.md` §4.1): its notices go to DCC's list.
    #[must_use]
    pub fn is_non_migratable(&self, record: &DeviceRecord) -> bool {
        match self.non_migratable.get(&record.model) {
            None => false,
            Some(Some(fix)) => !record.firmware.is_at_least(fix),
            Some(None) => true,
        }
    }

    /// Why `record` is excluded as ineligible (ETMAD 3.10(b)), until the cause is cleared. A
    /// Gas Proxy Function never is (the seed's exception, as for 3.10(a)).
    #[must_use]
    pub fn ineligibility<'r>(&self, record: &'r DeviceRecord) -> Option<&'r IneligibleReason> {
        if record.device_type == DeviceType::Gpf {
            return None;
        }
        record.ineligible.as_ref()
    }
}
