//! Report sequence numbers, per report and recipient (each report identifier, such as
//! `ECOSMIG-007`, numbers its own reports to each recipient): monotonic, so a missing report
//! can be noticed.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use super::Ledger;
use crate::cos::migration::SecPartyId;

/// A report sequence number given explicitly that the ledger did not expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuedSequence {
    /// The number issued.
    pub number: u32,
    /// The number the ledger would have issued.
    pub expected: u32,
}

impl IssuedSequence {
    /// Whether an explicit number overrode the ledger's.
    #[must_use]
    pub const fn overridden(&self) -> bool {
        self.number != self.expected
    }
}

/// A sequence number given explicitly that would reuse one already issued, or go back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleSequence {
    /// The number given.
    pub given: u32,
    /// The lowest number that may be issued (one above the highest issued).
    pub next: u32,
}

impl core::fmt::Display for StaleSequence {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "sequence number {} is not above those already issued (the next is {})",
            self.given, self.next
        )
    }
}

impl core::error::Error for StaleSequence {}

impl Ledger {
    fn numbers(&self, report: &str, recipient: &SecPartyId) -> Option<&BTreeSet<u32>> {
        self.sequences.get(report).and_then(|r| r.get(recipient))
    }

    /// The sequence number the next `report` to `recipient` gets: one more than the highest
    /// issued (1 for the first).
    #[must_use]
    pub fn next_sequence(&self, report: &str, recipient: &SecPartyId) -> u32 {
        self.numbers(report, recipient)
            .and_then(|s| s.last())
            .map_or(1, |n| n.saturating_add(1))
    }

    /// Records that a `report` to `recipient` is issued, with `explicit` as its number when
    /// given (an override, reported as such in the result; it may skip numbers ahead), else
    /// [`Ledger::next_sequence`].
    ///
    /// # Errors
    /// [`StaleSequence`] when `explicit` is not above every number of that report already
    /// issued to `recipient` (it would reuse one or go back); nothing is recorded then.
    pub fn issue_sequence(
        &mut self,
        report: &str,
        recipient: &SecPartyId,
        explicit: Option<u32>,
    ) -> Result<IssuedSequence, StaleSequence> {
        let expected = self.next_sequence(report, recipient);
        let number = explicit.unwrap_or(expected);
        if number < expected {
            return Err(StaleSequence {
                given: number,
                next: expected,
            });
        }
        self.sequences
            .entry(String::from(report))
            .or_default()
            .entry(recipient.clone())
            .or_default()
            .insert(number);
        Ok(IssuedSequence { number, expected })
    }

    /// The numbers of `report` issued to `recipient`, lowest first.
    #[must_use]
    pub fn issued_sequences(&self, report: &str, recipient: &SecPartyId) -> Vec<u32> {
        self.numbers(report, recipient)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The numbers of `report` below the highest issued to `recipient` that were never
    /// issued: reports that went missing.
    #[must_use]
    pub fn missing_sequences(&self, report: &str, recipient: &SecPartyId) -> Vec<u32> {
        let Some(s) = self.numbers(report, recipient) else {
            return Vec::new();
        };
        let top = s.last().copied().unwrap_or(0);
        (1..top).filter(|n| !s.contains(n)).collect()
    }

    /// Records that `report` to `recipient` was made for the period `start..=end` (Unix
    /// seconds). Returns whether it is new.
    pub fn record_made(
        &mut self,
        report: &str,
        recipient: &SecPartyId,
        start: i64,
        end: i64,
    ) -> bool {
        self.made
            .entry(String::from(report))
            .or_default()
            .entry(recipient.clone())
            .or_default()
            .insert((start, end))
    }

    /// Every report made: identifier, recipient and its periods (start, end; Unix seconds),
    /// in order of identifier and recipient, each recipient's periods in time order.
    pub fn reports_made(&self) -> impl Iterator<Item = (&str, &SecPartyId, &BTreeSet<(i64, i64)>)> {
        self.made.iter().flat_map(|(report, by)| {
            by.iter()
                .map(move |(recipient, periods)| (report.as_str(), recipient, periods))
        })
    }

    /// Whether `report` to `recipient` was made for the period `start..=end`.
    #[must_use]
    pub fn was_made(&self, report: &str, recipient: &SecPartyId, start: i64, end: i64) -> bool {
        self.made
            .get(report)
            .and_then(|r| r.get(recipient))
            .is_some_and(|p| p.contains(&(start, end)))
    }

    /// Every recipient the ledger knows: each device's reporting suppliers over time and
    /// each attempt's supplier.
    #[must_use]
    pub fn recipients(&self) -> BTreeSet<SecPartyId> {
        let mut out: BTreeSet<SecPartyId> = self
            .devices
            .values()
            .flat_map(|h| h.suppliers.iter().map(|(_, s)| s.clone()))
            .collect();
        out.extend(self.attempts.iter().map(|a| a.supplier.clone()));
        out
    }

    /// Every Meter Asset Provider a device's descriptor has named: recipients of the
    /// per-device reports of their devices.
    #[must_use]
    pub fn asset_providers(&self) -> BTreeSet<SecPartyId> {
        self.devices
            .values()
            .flat_map(|h| {
                h.descriptors
                    .iter()
                    .filter_map(|(_, d)| d.meter_asset_provider.clone())
            })
            .collect()
    }

    /// Whether a device's descriptor has ever named `party` its Meter Asset Provider.
    #[must_use]
    pub fn knows_asset_provider(&self, party: &SecPartyId) -> bool {
        self.devices.values().any(|h| {
            h.descriptors
                .iter()
                .any(|(_, d)| d.meter_asset_provider.as_ref() == Some(party))
        })
    }

    /// The earliest instant the ledger records (an attempt, a reading, a supplier, a standing
    /// or a descriptor): where the migration started. `None` for an empty ledger.
    #[must_use]
    pub fn first_instant(&self) -> Option<i64> {
        let devices = self.devices.values().flat_map(|h| {
            let first = |t: Option<i64>| t.into_iter();
            first(h.suppliers.first().map(|e| e.0))
                .chain(first(h.states.first().map(|o| o.at)))
                .chain(first(h.standings.first().map(|e| e.0)))
                .chain(first(h.descriptors.first().map(|e| e.0)))
        });
        devices.chain(self.attempts.iter().map(|a| a.at)).min()
    }

    /// The latest instant the ledger records (an attempt or its resolution, a reading, a
    /// supplier, a standing, a descriptor or a clearance). `None` for an empty ledger.
    #[must_use]
    pub fn last_instant(&self) -> Option<i64> {
        let devices = self.devices.values().flat_map(|h| {
            let last = |t: Option<i64>| t.into_iter();
            last(h.suppliers.last().map(|e| e.0))
                .chain(last(h.states.last().map(|o| o.at)))
                .chain(last(h.standings.last().map(|e| e.0)))
                .chain(last(h.descriptors.last().map(|e| e.0)))
                .chain(last(h.clearances.last().map(|e| e.0)))
        });
        let attempts = self
            .attempts
            .iter()
            .map(|a| a.resolved.map_or(a.at, |(t, _)| t.max(a.at)));
        devices.chain(attempts).max()
    }
}
