//! Notices to Responsible Suppliers (`ecos.md` §4.4, seed ¶31d): which of a supplier's
//! devices were excluded from the migration or failed in it, why, and their last attempt.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{AttemptEntry, AttemptResult, Ledger, Standing};
use crate::cos::migration::{Responsibility, SecPartyId};
use crate::frame::EntityId;

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
    /// Since when (Unix seconds, UTC).
    pub since: i64,
}

pub(super) fn of(ledger: &Ledger, supplier: &SecPartyId) -> Vec<Notice> {
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
        if h.suppliers.last().map(|s| &s.1) != Some(supplier) {
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
        out.push(Notice {
            supplier: supplier.clone(),
            device: *device,
            kind,
            reason,
            last_outcome,
            since: *since,
        });
    }
    out
}
