//! Auto-stop: the incidents that stop a batch (EMEHRA 2.5.2).

use alloc::collections::{BTreeMap, VecDeque};
use core::fmt;

use crate::cos::device::DeviceModel;
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
        model: DeviceModel,
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
    model_faults: BTreeMap<DeviceModel, u32>,
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
    pub fn model_faults(&self) -> &BTreeMap<DeviceModel, u32> {
        &self.model_faults
    }

    /// Records an attempt's outcome (`retry`: not the device's first attempt); returns the
    /// incident when one is raised.
    pub fn record(
        &mut self,
        device: EntityId,
        model: &DeviceModel,
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
            let n = self.model_faults.entry(model.clone()).or_insert(0);
            *n += 1;
            if *n > self.policy.model_fault_limit {
                return Some(Incident::ModelFaults {
                    model: model.clone(),
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
