//! Notices to Responsible Suppliers (`ecos.md` §4.4, seed ¶31d): which of a supplier's
//! devices were excluded from the migration or failed in it, why, and their last attempt.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{AttemptEntry, AttemptResult, Ledger, Standing};
use crate::cos::migration::{Responsibility, SecPartyId};
use crate::cos::route::DeviceType;
use crate::frame::EntityId;
use crate::payload::StatusCode;

/// What a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum NoticeKind {
    /// Excluded: a non-migratable model.
    NonMigratable,
    /// Excluded: flagged ineligible.
    Ineligible,
    /// Failed: a device fault.
    Faulted,
    /// Failed: needs investigation (attempts exhausted, wrong credential, invalid replies).
    NeedsInvestigation,
}

impl NoticeKind {
    /// The name written in the notices file.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NonMigratable => "non-migratable",
            Self::Ineligible => "ineligible",
            Self::Faulted => "faulted",
            Self::NeedsInvestigation => "needs-investigation",
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The category of a notice, beside its GBCS status: what kind of failure or exclusion it
/// is, and so who acts on it (our decision; DCC's response asks for reasons, not these
/// words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum NoticeCategory {
    /// The device did not answer, or stayed busy, until the attempts ran out.
    CommunicationsFailure,
    /// The device refused the command with a fault the Responsible Supplier resolves.
    DeviceRefused,
    /// The device answered with what could not be trusted: a wrong credential in the cell,
    /// or replies that failed verification.
    InvalidResponse,
    /// Not tried: a Non-Migratable model or an ineligible device.
    Excluded,
    /// A communications hub fault: DCC resolves it (EMEHRA 6.1.2, 6.2).
    DccToResolve,
}

impl NoticeCategory {
    /// The category of a device of `device_type` (when known) standing at `standing` whose
    /// last attempt came to `last`; `None` for an open device (nothing to tell).
    #[must_use]
    pub fn of(
        standing: &Standing,
        last: Option<AttemptResult>,
        device_type: Option<DeviceType>,
    ) -> Option<Self> {
        Some(match standing {
            Standing::Open => return None,
            // Revised ETMAD 3.10: DCC keeps the obligation for the GPF model.
            Standing::NonMigratable if device_type == Some(DeviceType::Gpf) => Self::DccToResolve,
            Standing::NonMigratable | Standing::Ineligible(_) => Self::Excluded,
            Standing::Faulted(Responsibility::Dcc) => Self::DccToResolve,
            Standing::Faulted(Responsibility::Supplier) => Self::DeviceRefused,
            Standing::NeedsInvestigation => match last {
                Some(AttemptResult::Busy | AttemptResult::NoResponse) => {
                    Self::CommunicationsFailure
                }
                Some(AttemptResult::DeviceFault(_)) => Self::DeviceRefused,
                Some(AttemptResult::WrongCredential | AttemptResult::Completed) | None => {
                    Self::InvalidResponse
                }
            },
        })
    }

    /// Its name in notices and reports (at most 22 characters).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::CommunicationsFailure => "communications failure",
            Self::DeviceRefused => "device refused",
            Self::InvalidResponse => "invalid response",
            Self::Excluded => "excluded",
            Self::DccToResolve => "DCC to resolve",
        }
    }

    /// The category named `name` ([`Self::name`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::CommunicationsFailure,
            Self::DeviceRefused,
            Self::InvalidResponse,
            Self::Excluded,
            Self::DccToResolve,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }
}

impl fmt::Display for NoticeCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One device a Responsible Supplier is told about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Notice {
    /// The supplier told.
    pub supplier: SecPartyId,
    /// The device.
    pub device: EntityId,
    /// Excluded or failed, and how.
    pub kind: NoticeKind,
    /// Why, in words.
    pub reason: String,
    /// Its last attempt's result (as it stands now), if it was ever tried.
    pub last_outcome: Option<AttemptResult>,
    /// What kind of failure or exclusion it is.
    pub category: NoticeCategory,
    /// The GBCS status code the device answered with, when its last attempt was a fault.
    pub status: Option<StatusCode>,
    /// Since when (Unix seconds, UTC).
    pub since: i64,
}

/// The notices of `ledger` to `to`: a supplier's (every category but DCC to resolve, for the
/// devices reporting to it now), or DCC's list (`None`: every device DCC resolves).
pub(super) fn of(ledger: &Ledger, to: Option<&SecPartyId>) -> Vec<Notice> {
    // Each device's last attempt, found in one pass.
    let mut last: BTreeMap<EntityId, &AttemptEntry> = BTreeMap::new();
    for a in ledger.entries() {
        let e = last.entry(a.device).or_insert(a);
        if (a.at, a.counter) > (e.at, e.counter) {
            *e = a;
        }
    }
    let mut out = Vec::new();
    for (device, h) in ledger.histories() {
        let Some((_, supplier)) = h.suppliers.last() else {
            continue;
        };
        if to.is_some_and(|t| t != supplier) {
            continue;
        }
        let Some((since, standing)) = h.standings.last() else {
            continue;
        };
        let (kind, reason) = match standing {
            Standing::Open => continue,
            Standing::NonMigratable => (
                NoticeKind::NonMigratable,
                String::from("model on the Non-Migratable list without its fixing firmware"),
            ),
            Standing::Ineligible(r) => (NoticeKind::Ineligible, String::from(r.as_str())),
            Standing::Faulted(Responsibility::Supplier) => (
                NoticeKind::Faulted,
                String::from("device fault: responsible supplier to resolve"),
            ),
            Standing::Faulted(Responsibility::Dcc) => (
                NoticeKind::Faulted,
                String::from("device fault: DCC to resolve (communications hub)"),
            ),
            Standing::NeedsInvestigation => (
                NoticeKind::NeedsInvestigation,
                String::from("no further attempts: attempts exhausted or reply not trusted"),
            ),
        };
        let last_outcome = last.get(device).and_then(|a| a.result_as_at(i64::MAX));
        let device_type = h.descriptors.last().map(|(_, d)| d.device_type);
        let Some(category) = NoticeCategory::of(standing, last_outcome, device_type) else {
            continue;
        };
        if (category == NoticeCategory::DccToResolve) != to.is_none() {
            continue;
        }
        let reason = if category == NoticeCategory::DccToResolve
            && matches!(standing, Standing::NonMigratable)
        {
            String::from("gas proxy function of a Non-Migratable model: DCC to resolve")
        } else {
            reason
        };
        let status = match last_outcome {
            Some(AttemptResult::DeviceFault(s)) => Some(StatusCode(s)),
            _ => None,
        };
        out.push(Notice {
            supplier: supplier.clone(),
            device: *device,
            kind,
            reason,
            last_outcome,
            category,
            status,
            since: *since,
        });
    }
    out
}
