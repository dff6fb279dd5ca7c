//! The ledger as a sequence of entries: every change the migration engine makes to it, as a
//! record a store can keep before anything acts on it, and [`Ledger::apply`] to rebuild the
//! ledger from them. Applying the entries a ledger was built with gives that ledger back.

use super::{AttemptEntry, AttemptResult, Descriptor, Ledger, Observation, Standing};
use crate::cos::migration::SecPartyId;
use crate::frame::EntityId;

/// One change to the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum LedgerEntry {
    /// An attempt counted.
    Attempt(AttemptEntry),
    /// A failed attempt (a lost reply) resolved by a later reading.
    Resolved {
        /// The device.
        device: EntityId,
        /// The attempt's counter.
        counter: u64,
        /// When it was learned (Unix seconds).
        at: i64,
        /// What stands from then on.
        result: AttemptResult,
    },
    /// A reading of a device's role-5 cell (or an inventory hint).
    Observed {
        /// The device.
        device: EntityId,
        /// The reading.
        observation: Observation,
    },
    /// The supplier a device's reports go to, from `at`.
    Supplier {
        /// The device.
        device: EntityId,
        /// From when (Unix seconds).
        at: i64,
        /// The supplier.
        supplier: SecPartyId,
    },
    /// A device's standing, from `at`.
    Standing {
        /// The device.
        device: EntityId,
        /// From when (Unix seconds).
        at: i64,
        /// The standing.
        standing: Standing,
    },
    /// What the inventory says a device is, from `at`.
    Descriptor {
        /// The device.
        device: EntityId,
        /// From when (Unix seconds).
        at: i64,
        /// Its type, model and firmware.
        descriptor: Descriptor,
    },
    /// A device's failure or ineligibility resolved, by whom.
    Cleared {
        /// The device.
        device: EntityId,
        /// When (Unix seconds).
        at: i64,
        /// Who resolved it.
        by: alloc::string::String,
    },
    /// A report made for a period.
    Made {
        /// The report identifier.
        report: alloc::string::String,
        /// The recipient.
        recipient: SecPartyId,
        /// The period's first second (Unix seconds).
        start: i64,
        /// Its last second.
        end: i64,
    },
    /// A report sequence number issued to a recipient.
    Sequence {
        /// The report identifier (`ECOSMIG-007`, …).
        report: alloc::string::String,
        /// The recipient.
        recipient: SecPartyId,
        /// The number.
        number: u32,
    },
}

impl LedgerEntry {
    /// The device the entry is about, if any (report periods and sequence numbers are about
    /// none): what a store filters on to rebuild the ledger of some devices only.
    #[must_use]
    pub const fn device(&self) -> Option<EntityId> {
        match self {
            Self::Attempt(a) => Some(a.device),
            Self::Resolved { device, .. }
            | Self::Observed { device, .. }
            | Self::Supplier { device, .. }
            | Self::Standing { device, .. }
            | Self::Descriptor { device, .. }
            | Self::Cleared { device, .. } => Some(*device),
            Self::Made { .. } | Self::Sequence { .. } => None,
        }
    }
}

/// What [`Ledger::track`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tracked {
    /// A reading was taken.
    pub observed: bool,
    /// The reporting supplier changed.
    pub supplier: bool,
    /// The standing changed.
    pub standing: bool,
    /// What the device is (its type, model or firmware) changed.
    pub descriptor: bool,
}

impl Ledger {
    /// The entries that record what [`Ledger::track`] of `device` at `at` changed (`tracked`):
    /// the latest reading, supplier, standing and descriptor, each where it changed.
    #[must_use]
    pub fn entries_of(&self, device: EntityId, tracked: Tracked) -> alloc::vec::Vec<LedgerEntry> {
        let mut out = alloc::vec::Vec::new();
        let Some(h) = self.devices.get(&device) else {
            return out;
        };
        if tracked.observed {
            if let Some(o) = h.states.last() {
                out.push(LedgerEntry::Observed {
                    device,
                    observation: *o,
                });
            }
        }
        if tracked.supplier {
            if let Some((at, s)) = h.suppliers.last() {
                out.push(LedgerEntry::Supplier {
                    device,
                    at: *at,
                    supplier: s.clone(),
                });
            }
        }
        if tracked.standing {
            if let Some((at, s)) = h.standings.last() {
                out.push(LedgerEntry::Standing {
                    device,
                    at: *at,
                    standing: s.clone(),
                });
            }
        }
        if tracked.descriptor {
            if let Some((at, d)) = h.descriptors.last() {
                out.push(LedgerEntry::Descriptor {
                    device,
                    at: *at,
                    descriptor: d.clone(),
                });
            }
        }
        out
    }

    /// Entries that rebuild this ledger when applied in order to an empty one: each device's
    /// history, every attempt, every sequence number issued and every report made.
    #[must_use]
    pub fn to_entries(&self) -> alloc::vec::Vec<LedgerEntry> {
        let mut out = alloc::vec::Vec::new();
        for (device, h) in &self.devices {
            let device = *device;
            out.extend(h.suppliers.iter().map(|(at, s)| LedgerEntry::Supplier {
                device,
                at: *at,
                supplier: s.clone(),
            }));
            out.extend(h.states.iter().map(|o| LedgerEntry::Observed {
                device,
                observation: *o,
            }));
            out.extend(h.standings.iter().map(|(at, s)| LedgerEntry::Standing {
                device,
                at: *at,
                standing: s.clone(),
            }));
            out.extend(h.descriptors.iter().map(|(at, d)| LedgerEntry::Descriptor {
                device,
                at: *at,
                descriptor: d.clone(),
            }));
            out.extend(h.clearances.iter().map(|(at, by)| LedgerEntry::Cleared {
                device,
                at: *at,
                by: by.clone(),
            }));
        }
        out.extend(self.attempts.iter().cloned().map(LedgerEntry::Attempt));
        for (report, by) in &self.sequences {
            for (recipient, numbers) in by {
                out.extend(numbers.iter().map(|n| LedgerEntry::Sequence {
                    report: report.clone(),
                    recipient: recipient.clone(),
                    number: *n,
                }));
            }
        }
        for (report, by) in &self.made {
            for (recipient, periods) in by {
                out.extend(periods.iter().map(|(start, end)| LedgerEntry::Made {
                    report: report.clone(),
                    recipient: recipient.clone(),
                    start: *start,
                    end: *end,
                }));
            }
        }
        out
    }

    /// The entry of the attempt `counter` on `device`, when the ledger has it.
    #[must_use]
    pub fn attempt_entry(&self, device: EntityId, counter: u64) -> Option<&AttemptEntry> {
        self.index
            .get(&(device, counter))
            .and_then(|&i| self.attempts.get(i))
    }

    /// Applies one entry, as the ledger that wrote it did. Returns whether it changed anything
    /// (an entry applied twice changes nothing the second time).
    pub fn apply(&mut self, entry: &LedgerEntry) -> bool {
        match entry {
            LedgerEntry::Attempt(a) => {
                if self.index.contains_key(&(a.device, a.counter)) {
                    return false;
                }
                self.index
                    .insert((a.device, a.counter), self.attempts.len());
                self.attempts.push(a.clone());
                true
            }
            LedgerEntry::Resolved {
                device,
                counter,
                at,
                result,
            } => {
                let Some(a) = self
                    .index
                    .get(&(*device, *counter))
                    .and_then(|&i| self.attempts.get_mut(i))
                else {
                    return false;
                };
                if a.resolved.is_some() {
                    return false;
                }
                a.resolved = Some((*at, *result));
                true
            }
            LedgerEntry::Observed {
                device,
                observation,
            } => {
                let h = self.devices.entry(*device).or_default();
                if h.states.last() == Some(observation) {
                    return false;
                }
                super::history::push_tight(&mut h.states, *observation);
                true
            }
            LedgerEntry::Supplier {
                device,
                at,
                supplier,
            } => super::push_changed(
                &mut self.devices.entry(*device).or_default().suppliers,
                *at,
                supplier.clone(),
            ),
            LedgerEntry::Standing {
                device,
                at,
                standing,
            } => super::push_changed(
                &mut self.devices.entry(*device).or_default().standings,
                *at,
                standing.clone(),
            ),
            LedgerEntry::Descriptor {
                device,
                at,
                descriptor,
            } => super::push_changed(
                &mut self.devices.entry(*device).or_default().descriptors,
                *at,
                descriptor.clone(),
            ),
            LedgerEntry::Cleared { device, at, by } => self.clear(*device, *at, by.clone()),
            LedgerEntry::Made {
                report,
                recipient,
                start,
                end,
            } => self.record_made(report, recipient, *start, *end),
            LedgerEntry::Sequence {
                report,
                recipient,
                number,
            } => self
                .sequences
                .entry(report.clone())
                .or_default()
                .entry(recipient.clone())
                .or_default()
                .insert(*number),
        }
    }
}
