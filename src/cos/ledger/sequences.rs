//! Report sequence numbers, per recipient: monotonic, so a missing report can be noticed.

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

impl Ledger {
    /// The sequence number the next report to `recipient` gets: one more than the highest
    /// issued (1 for the first).
    #[must_use]
    pub fn next_sequence(&self, recipient: &SecPartyId) -> u32 {
        self.sequences
            .get(recipient)
            .and_then(|s| s.last())
            .map_or(1, |n| n.saturating_add(1))
    }

    /// Records that a report to `recipient` is issued, with `explicit` as its number when
    /// given (an override, reported as such in the result), else [`Ledger::next_sequence`].
    pub fn issue_sequence(
        &mut self,
        recipient: &SecPartyId,
        explicit: Option<u32>,
    ) -> IssuedSequence {
        let expected = self.next_sequence(recipient);
        let number = explicit.unwrap_or(expected);
        self.sequences
            .entry(recipient.clone())
            .or_default()
            .insert(number);
        IssuedSequence { number, expected }
    }

    /// The sequence numbers issued to `recipient`, lowest first.
    #[must_use]
    pub fn issued_sequences(&self, recipient: &SecPartyId) -> Vec<u32> {
        self.sequences
            .get(recipient)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The numbers below the highest issued to `recipient` that were never issued: reports
    /// that went missing.
    #[must_use]
    pub fn missing_sequences(&self, recipient: &SecPartyId) -> Vec<u32> {
        let Some(s) = self.sequences.get(recipient) else {
            return Vec::new();
        };
        let top = s.last().copied().unwrap_or(0);
        (1..top).filter(|n| !s.contains(n)).collect()
    }
}
