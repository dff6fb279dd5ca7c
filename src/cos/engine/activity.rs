//! What a run did over time, from its records: commands sent, first commands, commands
//! settled and in flight per bucket of time, and the marks an operator looks for on a
//! timeline (auto-stops, local faults, listings, pauses). A store aggregates the same from
//! the records it keeps; [`Activity::of_records`] does it in memory, and the two agree.
//!
//! ```
//! use gbcs::cos::engine::{Activity, Buckets, CommandKind, Record, UnixTime};
//! use gbcs::frame::EntityId;
//!
//! let device = EntityId::from_u64(0x00DB_0000_0000_0001);
//! let sent = Record::Sent {
//!     device,
//!     kind: CommandKind::Migration,
//!     counter: 7,
//!     at: UnixTime::from_secs(1_000),
//!     deadline: UnixTime::from_secs(1_030),
//! };
//! let buckets = Buckets::covering(1_000, 1_059);
//! let a = Activity::of_records([&sent], buckets);
//! assert_eq!(a.first_commands.iter().sum::<u64>(), 1);
//! assert_eq!(a.in_flight.last(), Some(&1));
//! ```

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::{CommandKind, Record, Resolution, UnixTime};
use crate::cos::migration::Incident;
use crate::frame::EntityId;

/// A window of time cut into equal buckets: `count` of `width` seconds from `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buckets {
    /// The first bucket's first second (Unix seconds).
    pub start: i64,
    /// Each bucket's length in seconds.
    pub width: i64,
    /// How many.
    pub count: usize,
}

/// The bucket widths [`Buckets::covering`] chooses from, with their names.
const WIDTHS: [(i64, &str); 9] = [
    (1, "second"),
    (10, "10 seconds"),
    (60, "minute"),
    (600, "10 minutes"),
    (3_600, "hour"),
    (21_600, "6 hours"),
    (86_400, "day"),
    (604_800, "week"),
    (2_592_000, "30 days"),
];

impl Buckets {
    /// Most buckets a window is cut into while a shorter width would do.
    pub const MOST: usize = 48;

    /// Most buckets any window is cut into: a day each for a migration's year.
    pub const MOST_EVER: usize = 400;

    /// Buckets covering `from..=to` (Unix seconds): the shortest width of a second, ten
    /// seconds, a minute, ten minutes, an hour, six hours or a day giving at most
    /// [`Self::MOST`] buckets; a window longer than that many days is cut into days (a
    /// migration's months, a bucket a day), weeks or 30 days, up to [`Self::MOST_EVER`] of
    /// them; a longer window still (an absurd `--from`, say) into whole days enough to stay
    /// within that. Buckets of a day or longer start at midnight UTC.
    #[must_use]
    pub fn covering(from: i64, to: i64) -> Self {
        let to = to.max(from);
        let pick = |w: i64| {
            let start = if w >= 86_400 {
                from.div_euclid(86_400).saturating_mul(86_400)
            } else {
                from.div_euclid(w).saturating_mul(w)
            };
            let n = to.saturating_sub(start).div_euclid(w).saturating_add(1);
            (start, usize::try_from(n).unwrap_or(usize::MAX))
        };
        for (w, _) in WIDTHS {
            let (start, n) = pick(w);
            let limit = if w >= 86_400 {
                Self::MOST_EVER
            } else {
                Self::MOST
            };
            if n <= limit {
                return Self {
                    start,
                    width: w,
                    count: n,
                };
            }
        }
        // Whole days, as many a bucket as keeps the count within bounds.
        let days = to
            .saturating_sub(from)
            .div_euclid(86_400)
            .saturating_add(2)
            .div_euclid(i64::try_from(Self::MOST_EVER).unwrap_or(i64::MAX) - 1)
            .saturating_add(1);
        let (start, count) = pick(days.saturating_mul(86_400));
        Self {
            start,
            width: days.saturating_mul(86_400),
            count,
        }
    }

    /// The bucket holding `secs`, if any.
    #[must_use]
    pub fn index(&self, secs: i64) -> Option<usize> {
        if secs < self.start || self.width <= 0 {
            return None;
        }
        let i = usize::try_from((secs - self.start) / self.width).ok()?;
        (i < self.count).then_some(i)
    }

    /// The first second of bucket `i`.
    #[must_use]
    pub fn start_of(&self, i: usize) -> i64 {
        let i = i64::try_from(i).unwrap_or(i64::MAX);
        self.start.saturating_add(i.saturating_mul(self.width))
    }

    /// The last second of bucket `i`.
    #[must_use]
    pub fn end_of(&self, i: usize) -> i64 {
        self.start_of(i).saturating_add(self.width - 1)
    }

    /// The last second of the last bucket.
    #[must_use]
    pub fn end(&self) -> i64 {
        self.end_of(self.count.saturating_sub(1))
    }

    /// The width in words: `day`, `hour`, `10 seconds`, …
    #[must_use]
    pub fn unit(&self) -> &'static str {
        WIDTHS
            .iter()
            .find(|(w, _)| *w == self.width)
            .map_or("bucket", |(_, n)| n)
    }
}

/// What a mark on the timeline is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarkKind {
    /// An auto-stop: the failure ratio or a model's faults.
    AutoStop,
    /// An auto-stop: a wrong credential installed (a security incident).
    WrongCredential,
    /// An auto-stop: the engine's own keys failed (local faults, not device attempts).
    LocalFaults,
    /// A model was listed as Non-Migratable.
    Listed,
    /// The stopping incident was marked high priority.
    HighPriority,
    /// The run was paused.
    Paused,
    /// The run was resumed.
    Resumed,
}

impl MarkKind {
    /// Its name on the timeline.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AutoStop => "auto-stop",
            Self::WrongCredential => "wrong credential",
            Self::LocalFaults => "local faults",
            Self::Listed => "listed",
            Self::HighPriority => "high priority",
            Self::Paused => "paused",
            Self::Resumed => "resumed",
        }
    }

    /// The kind of an incident.
    #[must_use]
    pub const fn of(incident: &Incident) -> Self {
        match incident {
            Incident::FailureRatio { .. } | Incident::ModelFaults { .. } => Self::AutoStop,
            Incident::WrongCredential { .. } => Self::WrongCredential,
            Incident::LocalFaults { .. } => Self::LocalFaults,
        }
    }
}

/// One mark on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at: UnixTime,
    /// What.
    pub kind: MarkKind,
    /// In words.
    pub text: String,
}

impl Mark {
    /// The mark a record makes, if any.
    #[must_use]
    pub fn of(record: &Record) -> Option<Self> {
        let (at, kind, text) = match record {
            Record::Incident { at, incident } => {
                (*at, MarkKind::of(incident), incident.to_string())
            }
            Record::Listed {
                at,
                model,
                fixed_from,
            } => (
                *at,
                MarkKind::Listed,
                match fixed_from {
                    Some(f) => alloc::format!("{model} listed as Non-Migratable (fixed from {f})"),
                    None => alloc::format!("{model} listed as Non-Migratable"),
                },
            ),
            Record::HighPriority { at, notified, .. } => (
                *at,
                MarkKind::HighPriority,
                alloc::format!(
                    "incident marked high priority: {} suppliers told",
                    notified.len()
                ),
            ),
            Record::Paused { at, paused } => {
                let kind = if *paused {
                    MarkKind::Paused
                } else {
                    MarkKind::Resumed
                };
                (*at, kind, String::from(kind.name()))
            }
            _ => return None,
        };
        Some(Self { at, kind, text })
    }
}

/// What a run did in each bucket of a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// The window.
    pub buckets: Buckets,
    /// Devices whose first migration command left in the bucket.
    pub first_commands: Vec<u64>,
    /// Commands sent in the bucket (migrations and reads).
    pub sent: Vec<u64>,
    /// Commands settled in the bucket: replied to, or their deadline passed.
    pub settled: Vec<u64>,
    /// Commands in flight at the bucket's end (sent and not settled, since the run began).
    pub in_flight: Vec<u64>,
    /// The marks in the window, in time order.
    pub marks: Vec<Mark>,
    /// Whether any command record was seen at all (a ledger file holds none).
    pub recorded: bool,
}

impl Activity {
    /// An activity of `buckets` with nothing in it.
    #[must_use]
    pub fn empty(buckets: Buckets) -> Self {
        Self {
            buckets,
            first_commands: vec![0; buckets.count],
            sent: vec![0; buckets.count],
            settled: vec![0; buckets.count],
            in_flight: vec![0; buckets.count],
            marks: Vec::new(),
            recorded: false,
        }
    }

    /// The activity of `records` (a run's, in order) over `buckets`.
    #[must_use]
    pub fn of_records<'a>(records: impl IntoIterator<Item = &'a Record>, buckets: Buckets) -> Self {
        let mut a = Self::empty(buckets);
        let mut first: BTreeMap<EntityId, i64> = BTreeMap::new();
        let mut before: i64 = 0;
        let mut delta = vec![0i64; buckets.count];
        for r in records {
            match r {
                Record::Sent {
                    device, kind, at, ..
                } => {
                    a.recorded = true;
                    let secs = at.secs();
                    if *kind == CommandKind::Migration {
                        let t = first.entry(*device).or_insert(secs);
                        *t = (*t).min(secs);
                    }
                    a.count(secs, 1, &mut before, &mut delta, true);
                }
                Record::Resolved { how, at, .. } if *how != Resolution::LateReply => {
                    a.count(at.secs(), -1, &mut before, &mut delta, false);
                }
                _ => {
                    if let Some(m) = Mark::of(r) {
                        if buckets.index(m.at.secs()).is_some() {
                            a.marks.push(m);
                        }
                    }
                }
            }
        }
        for t in first.values() {
            if let Some(slot) = buckets.index(*t).and_then(|i| a.first_commands.get_mut(i)) {
                *slot += 1;
            }
        }
        a.marks.sort_by_key(|m| m.at);
        a.finish_in_flight(before, &delta);
        a
    }

    fn count(&mut self, secs: i64, step: i64, before: &mut i64, delta: &mut [i64], sent: bool) {
        if secs < self.buckets.start {
            *before += step;
            return;
        }
        if let Some(i) = self.buckets.index(secs) {
            if let Some(d) = delta.get_mut(i) {
                *d += step;
            }
            let list = if sent {
                &mut self.sent
            } else {
                &mut self.settled
            };
            if let Some(slot) = list.get_mut(i) {
                *slot += 1;
            }
        }
    }

    /// Fills [`Self::in_flight`] from the commands in flight before the window and each
    /// bucket's sent minus settled.
    pub fn finish_in_flight(&mut self, before: i64, delta: &[i64]) {
        let mut level = before;
        for (slot, d) in self.in_flight.iter_mut().zip(delta) {
            level += d;
            *slot = u64::try_from(level).unwrap_or(0);
        }
    }

    /// First commands per second in each bucket.
    #[must_use]
    pub fn first_commands_per_second(&self) -> Vec<f64> {
        let w = u32::try_from(self.buckets.width).map_or(f64::MAX, f64::from);
        self.first_commands
            .iter()
            .map(|n| u32::try_from(*n).map_or(f64::MAX, f64::from) / w)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_cut_into_the_shortest_buckets_that_fit() {
        let day = 86_400;
        let cases = [
            (10, 1, "second"),
            (600, 60, "minute"),
            (day, 3_600, "hour"),
            (7 * day, 21_600, "6 hours"),
            (180 * day, day, "day"),
            (3 * 365 * day, 604_800, "week"),
        ];
        for (span, width, unit) in cases {
            let from = 1_767_571_200 + 1_234;
            let b = Buckets::covering(from, from + span - 1);
            assert_eq!((b.width, b.unit()), (width, unit), "{span}");
            assert!(b.start <= from && b.end() >= from + span - 1, "{b:?}");
            assert_eq!(b.index(b.start), Some(0));
            assert_eq!(b.index(b.end()), Some(b.count - 1));
            assert_eq!(b.index(b.end() + 1), None);
            assert_eq!(b.index(b.start - 1), None);
        }
        // Days start at midnight UTC.
        let b = Buckets::covering(1_767_571_200 + 5_000, 1_767_571_200 + 100 * 86_400);
        assert_eq!(b.start % 86_400, 0);
        // A window that ends before it starts is one instant; absurd ends do not overflow.
        assert_eq!(Buckets::covering(10, 5).count, 1);
        // An absurd window (ten thousand years) is still a page of bars, not a million.
        for (from, to) in [
            (-62_167_219_200, 253_402_300_799),
            (i64::MIN / 4, i64::MAX / 4),
            (0, 400 * 2_592_000),
        ] {
            let wide = Buckets::covering(from, to);
            assert!(
                (1..=Buckets::MOST_EVER).contains(&wide.count),
                "{from}..{to}: {wide:?}"
            );
            assert!(wide.start <= from && wide.end() >= to, "{wide:?}");
        }
    }
}
