//! Auto-stop: the incidents that stop a batch (EMEHRA 2.5.2).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::fmt;

use crate::cos::device::ModelKey;
use crate::cos::migration::{AutoStopPolicy, Outcome};
use crate::cos::registry::Credential;
use crate::frame::EntityId;

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
        model: ModelKey,
        /// Its device faults in its window.
        faults: u32,
        /// Its attempts in its window.
        attempts: u32,
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
            Self::ModelFaults {
                model,
                faults,
                attempts,
            } => write!(
                f,
                "{faults} device faults in the last {attempts} attempts on model {model}"
            ),
            Self::WrongCredential { device, installed } => {
                write!(f, "{device} now holds {installed}, not the ECoS credential")
            }
            Self::LocalFaults { in_a_row, last } => {
                write!(f, "{in_a_row} local faults in a row (last: {last})")
            }
        }
    }
}

/// The attempts of one model in its window: fault or not, and on which device, newest last.
#[derive(Clone, Debug, Default)]
struct ModelWindow {
    attempts: VecDeque<(bool, EntityId)>,
    faults: u32,
}

/// The auto-stop monitor.
///
/// Two sliding windows judge the run: all attempts (the failure ratio), and each model's own
/// attempts (its device-fault rate), each only once it holds its minimum sample. A
/// [`resume`](Self::resume) after an incident clears the window that raised it, so the
/// judgement starts afresh on new attempts; the other windows keep their history.
#[derive(Clone, Debug, Default)]
pub struct AutoStop {
    policy: AutoStopPolicy,
    /// The run's window: whether each outcome failed, and its device, by the order its
    /// command was sent.
    window: BTreeMap<u64, (bool, EntityId)>,
    failures: usize,
    /// The order the next [`AutoStop::record`] gives its outcome.
    next_order: u64,
    models: BTreeMap<ModelKey, ModelWindow>,
}

impl AutoStop {
    /// A monitor with `policy`.
    #[must_use]
    pub fn new(policy: AutoStopPolicy) -> Self {
        Self {
            policy,
            window: BTreeMap::new(),
            failures: 0,
            next_order: 0,
            models: BTreeMap::new(),
        }
    }

    /// The place the next outcome takes in the run's order: an engine that carries this
    /// monitor on ([`crate::cos::engine::Engine::carry_auto_stop`]) numbers its commands from
    /// here, so its outcomes come after those already judged.
    #[must_use]
    pub const fn next_order(&self) -> u64 {
        self.next_order
    }

    /// Device faults in each model's window.
    pub fn model_faults(&self) -> impl Iterator<Item = (&ModelKey, u32)> {
        self.models.iter().map(|(m, w)| (m, w.faults))
    }

    /// The devices in the window that raised `incident`, each once, in the window's order:
    /// the run's window for a failure ratio, the model's for its faults, the device for a
    /// wrong credential; none for local faults (no command left).
    #[must_use]
    pub fn devices_in(&self, incident: &Incident) -> Vec<EntityId> {
        let all: Vec<EntityId> = match incident {
            Incident::FailureRatio { .. } => self.window.values().map(|(_, d)| *d).collect(),
            Incident::ModelFaults { model, .. } => self
                .models
                .get(model)
                .map(|w| w.attempts.iter().map(|(_, d)| *d).collect())
                .unwrap_or_default(),
            Incident::WrongCredential { device, .. } => alloc::vec![*device],
            Incident::LocalFaults { .. } => Vec::new(),
        };
        let mut seen = alloc::collections::BTreeSet::new();
        all.into_iter().filter(|d| seen.insert(*d)).collect()
    }

    /// Forgets the window that raised `incident` (the failure window, or that model's).
    pub fn resume(&mut self, incident: &Incident) {
        match incident {
            Incident::FailureRatio { .. } => {
                self.window.clear();
                self.failures = 0;
            }
            Incident::ModelFaults { model, .. } => {
                self.models.remove(model);
            }
            Incident::WrongCredential { .. } | Incident::LocalFaults { .. } => {}
        }
    }

    /// Records an attempt's outcome (`retry`: not the device's first attempt), in the order
    /// outcomes are recorded; returns the incident when one is raised.
    pub fn record(
        &mut self,
        device: EntityId,
        model: &ModelKey,
        outcome: &Outcome,
        retry: bool,
    ) -> Option<Incident> {
        let order = self.next_order;
        self.record_in_order(device, model, outcome, retry, order)
    }

    /// As [`Self::record`], with the outcome placed in the run's window by `order`: the order
    /// its command was *sent*. The window holds the latest outcomes by that order, so replies
    /// that did not come — known only at their deadline, all together after a burst of
    /// sends — are judged with the commands sent beside them, not as a burst of their own
    /// (which would stop every unpaced run at its tail, however healthy the fleet). A failure
    /// of every command still fills the window with failures, and stops the run.
    pub fn record_in_order(
        &mut self,
        device: EntityId,
        model: &ModelKey,
        outcome: &Outcome,
        retry: bool,
        order: u64,
    ) -> Option<Incident> {
        self.next_order = self.next_order.max(order.saturating_add(1));
        if let Outcome::WrongCredential(installed) = outcome {
            return Some(Incident::WrongCredential {
                device,
                installed: *installed,
            });
        }
        if !outcome.counts_as_attempt() || (retry && self.policy.first_attempts_only) {
            return None;
        }
        let fault = matches!(outcome, Outcome::DeviceFault(_));
        let w = self.models.entry(model.clone()).or_default();
        w.attempts.push_back((fault, device));
        w.faults += u32::from(fault);
        while w.attempts.len() > self.policy.model_window.max(1) {
            if w.attempts.pop_front().is_some_and(|(f, _)| f) {
                w.faults = w.faults.saturating_sub(1);
            }
        }
        let n = w.attempts.len();
        let faults = usize::try_from(w.faults).unwrap_or(usize::MAX);
        let over_rate = n >= self.policy.model_min_samples
            && faults.saturating_mul(1000) > self.policy.model_fault_per_mille.saturating_mul(n);
        let over_cap = self
            .policy
            .model_fault_cap
            .is_some_and(|cap| w.faults >= cap);
        if fault && (over_rate || over_cap) {
            return Some(Incident::ModelFaults {
                model: model.clone(),
                faults: w.faults,
                attempts: u32::try_from(n).unwrap_or(u32::MAX),
            });
        }
        // A retry that fails transiently again is the known condition continuing: judged,
        // not counted as a failure (see `AutoStopPolicy::first_attempts_only`).
        let failed = outcome.is_failure() && !(retry && matches!(outcome, Outcome::Transient(_)));
        if let Some((was, _)) = self.window.insert(order, (failed, device)) {
            self.failures -= usize::from(was);
        }
        self.failures += usize::from(failed);
        while self.window.len() > self.policy.window {
            if let Some((_, (true, _))) = self.window.pop_first() {
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
