//! A simulated fleet taken a window at a time: the meters, records and shared secrets of one
//! window of devices in memory, never the fleet's (a run of a million meters in a bounded
//! footprint).

use super::{FleetMix, SimulatedFleet, SimulatedMigration};
use crate::crypto::SharedSecretCache;
use crate::sim::pki::IssueError;

impl SimulatedMigration {
    /// Replaces the fleet by devices `range` of the fleet that `seed` and `mix` draw (each
    /// device as it is in the whole fleet), their inventory taken at `clock`; the ACB's cache
    /// of shared secrets starts afresh, sized for the window. The meters of the window before
    /// are dropped: a window is taken only once the one before it is done.
    ///
    /// ```
    /// use gbcs::sim::fleet::{FleetMix, SimulatedMigration};
    ///
    /// let mix = FleetMix::default();
    /// let whole = SimulatedMigration::new(b"doc", 7, 6, &mix, 1_764_547_200)?;
    /// let mut sim = SimulatedMigration::new(b"doc", 7, 0, &mix, 1_764_547_200)?;
    /// sim.load_window(7, 4..6, &mix, 1_764_547_200)?;
    /// assert_eq!(sim.fleet.records.len(), 2);
    /// assert_eq!(sim.fleet.records[1], whole.fleet.records[5]);
    /// assert_eq!(sim.fleet.profiles[..], whole.fleet.profiles[4..]);
    /// # Ok::<(), gbcs::sim::pki::IssueError>(())
    /// ```
    ///
    /// # Errors
    /// [`IssueError`] when a party certificate does not parse.
    pub fn load_window(
        &mut self,
        seed: u64,
        range: core::ops::Range<usize>,
        mix: &FleetMix,
        clock: i64,
    ) -> Result<(), IssueError> {
        let n = range.len();
        self.fleet =
            SimulatedFleet::generate_range(&self.pki, &self.parties, seed, range, mix, clock)?;
        self.secrets = SharedSecretCache::new(n.max(1));
        Ok(())
    }
}
