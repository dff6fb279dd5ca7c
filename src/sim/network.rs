//! A simulated network between the engine and simulated meters: each command's round trip is
//! drawn from a log-normal distribution given by its median and 99th percentile, and its reply
//! may be lost, late (after the command's deadline) or duplicated, each at a rate; replies
//! come in whatever order their round trips give. Seeded: the same seed and the same commands
//! give the same fates. The meters execute every command that reaches them, as meters do: a
//! lost *reply* is a command that ran.
//!
//! [`VirtualNetwork`] runs on a virtual clock (the test harness's); the tokio driver's
//! simulated transport (`driver::SimTransport`) draws the same fates in real time.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use std::sync::Mutex;

use crate::cos::engine::{Arrival, Transmit, UnixTime};
use crate::frame::EntityId;
use crate::sim::device::{Reply, SimDevice};
use crate::sim::fleet::SplitMix64;

/// The network's behaviour, every rate a fraction of commands (0 to 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkProfile {
    /// The median round trip, milliseconds.
    pub rtt_median_ms: u64,
    /// The 99th-percentile round trip, milliseconds (at least the median).
    pub rtt_p99_ms: u64,
    /// Replies lost (the meter still executed the command).
    pub loss: f64,
    /// Replies that arrive after their command's deadline.
    pub late: f64,
    /// Replies delivered twice.
    pub duplicate: f64,
    /// The seed of every draw.
    pub seed: u64,
}

impl Default for NetworkProfile {
    /// No delay, nothing lost, late or duplicated.
    fn default() -> Self {
        Self {
            rtt_median_ms: 0,
            rtt_p99_ms: 0,
            loss: 0.0,
            late: 0.0,
            duplicate: 0.0,
            seed: 1,
        }
    }
}

/// What happens to one command's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fate {
    /// When the meter gets the command, milliseconds after it is sent (half the round trip).
    pub to_meter_ms: i64,
    /// When its reply arrives, milliseconds after it is sent; `None`: lost.
    pub reply_ms: Option<i64>,
    /// When a second copy arrives, if duplicated.
    pub duplicate_ms: Option<i64>,
}

/// The 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874_040_841;

/// Draws fates for a profile.
#[derive(Clone, Debug)]
pub struct Sampler {
    profile: NetworkProfile,
    rng: SplitMix64,
    /// ln(median) and σ of the log-normal round trip; `None` for no delay.
    lognormal: Option<(f64, f64)>,
}

impl Sampler {
    /// A sampler for `profile`, seeded with its seed.
    #[must_use]
    pub fn new(profile: NetworkProfile) -> Self {
        let lognormal = (profile.rtt_median_ms > 0).then(|| {
            let median = profile.rtt_median_ms as f64;
            let p99 = (profile.rtt_p99_ms.max(profile.rtt_median_ms)) as f64;
            (median.ln(), (p99.ln() - median.ln()) / Z99)
        });
        Self {
            profile,
            rng: SplitMix64::new(profile.seed),
            lognormal,
        }
    }

    /// A uniform draw in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A round trip, milliseconds.
    fn rtt(&mut self) -> i64 {
        let Some((mu, sigma)) = self.lognormal else {
            return 0;
        };
        // Box–Muller: a standard normal from two uniforms.
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        let z = (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos();
        let ms = (mu + sigma * z).exp();
        if ms.is_finite() {
            // Clamped to a day first: the conversion cannot truncate.
            #[allow(clippy::cast_possible_truncation)]
            let ms = ms.round().clamp(0.0, 86_400_000.0) as i64;
            ms
        } else {
            0
        }
    }

    /// The fate of a command whose reply is waited for `deadline_ms`.
    pub fn fate(&mut self, deadline_ms: i64) -> Fate {
        let rtt = self.rtt();
        let to_meter_ms = rtt / 2;
        let p = self.profile;
        let roll = self.uniform();
        let reply_ms = if roll < p.loss {
            None
        } else if roll < p.loss + p.late {
            // After the deadline: by up to as long again.
            // A uniform fraction of the deadline: within [0, deadline), no truncation.
            #[allow(clippy::cast_possible_truncation)]
            let extra = 1 + (self.uniform() * deadline_ms.clamp(1, 86_400_000) as f64) as i64;
            Some(deadline_ms.max(rtt) + extra)
        } else {
            Some(rtt)
        };
        let duplicate_ms = match reply_ms {
            Some(at) if self.uniform() < p.duplicate => Some(at + self.rtt().max(1)),
            _ => None,
        };
        Fate {
            to_meter_ms,
            reply_ms,
            duplicate_ms,
        }
    }
}

/// The simulated meters of a fleet, each behind its own lock (so several threads can run
/// several meters at once).
#[derive(Debug)]
pub struct Meters {
    pub(crate) devices: Vec<Mutex<SimDevice>>,
    /// The fleet number of the first (a window of a fleet starts past 0).
    first: usize,
}

impl Meters {
    /// Meters from devices numbered as the fleet numbers them (`ids::device(n)` at `n`).
    #[must_use]
    pub fn new(devices: Vec<SimDevice>) -> Self {
        Self::numbered_from(0, devices)
    }

    /// Meters from devices numbered from `first` (`ids::device(first + k)` at `k`): a
    /// window of a fleet.
    #[must_use]
    pub fn numbered_from(first: usize, devices: Vec<SimDevice>) -> Self {
        Self {
            devices: devices.into_iter().map(Mutex::new).collect(),
            first,
        }
    }

    fn index(&self, device: EntityId) -> Option<usize> {
        // Fleet devices are numbered: ids::device(n) at index n - first.
        let n = usize::try_from(device.to_u64() & 0xFFFF_FFFF).ok()?;
        let k = n.checked_sub(self.first)?;
        (k < self.devices.len()).then_some(k)
    }

    /// Runs `f` on the meter `device`.
    pub fn with_device<R>(
        &self,
        device: EntityId,
        f: impl FnOnce(&mut SimDevice) -> R,
    ) -> Option<R> {
        let i = self.index(device)?;
        let mut guard = self.devices.get(i)?.lock().ok()?;
        (guard.entity_id() == device).then(|| f(&mut guard))
    }

    /// The meter `device` gets `command` at `now` (Unix seconds): its clock moves on (a
    /// future-dated command whose time has come runs, and its alert is returned), then it
    /// processes the command. Returns its reply, if it answers, and any alerts.
    pub fn deliver(
        &self,
        device: EntityId,
        command: &[u8],
        now: i64,
    ) -> (Option<Vec<u8>>, Vec<Vec<u8>>) {
        self.with_device(device, |d| {
            let alerts = d.advance_to(now);
            let reply = match d.process(command) {
                Reply::Response(r) => Some(r),
                Reply::Rejected(_) | Reply::Silent => None,
            };
            (reply, alerts)
        })
        .unwrap_or((None, Vec::new()))
    }

    /// Moves meter `device`'s clock to `now`: the alert of a future-dated command whose time
    /// has come.
    pub fn advance(&self, device: EntityId, now: i64) -> Vec<Vec<u8>> {
        self.with_device(device, |d| d.advance_to(now))
            .unwrap_or_default()
    }

    /// When meter `device`'s future-dated command runs, if it has one.
    #[must_use]
    pub fn pending_at(&self, device: EntityId) -> Option<i64> {
        self.with_device(device, |d| d.pending_at()).flatten()
    }
}

/// Something scheduled on the virtual network.
#[derive(Clone, Debug)]
enum Scheduled {
    /// A command reaches its meter; its reply goes out as `fate` says.
    AtMeter {
        device: EntityId,
        bytes: Vec<u8>,
        sent: UnixTime,
        fate: Fate,
    },
    /// Something reaches the engine.
    Arrives(Arrival),
    /// A meter's future-dated command is due.
    MeterDue(EntityId),
}

/// The network on a virtual clock: commands in, arrivals out, each at its drawn time.
#[derive(Debug)]
pub struct VirtualNetwork {
    sampler: Sampler,
    queue: BTreeMap<(UnixTime, u64), Scheduled>,
    seq: u64,
    /// The alerts' one-way delay, milliseconds (half a median round trip).
    alert_delay_ms: i64,
    /// Every alert the meters sent, in order.
    alerts: Vec<Vec<u8>>,
    /// Devices whose alerts are lost on the way (they are still in [`Self::sent_alerts`]).
    pub lost_alerts: alloc::collections::BTreeSet<EntityId>,
    /// Meters whose clocks the network never moves: a future-dated command stays pending.
    pub frozen: alloc::collections::BTreeSet<EntityId>,
}

impl VirtualNetwork {
    /// A network with `profile`.
    #[must_use]
    pub fn new(profile: NetworkProfile) -> Self {
        Self {
            sampler: Sampler::new(profile),
            queue: BTreeMap::new(),
            seq: 0,
            alert_delay_ms: i64::try_from(profile.rtt_median_ms / 2).unwrap_or(0),
            alerts: Vec::new(),
            lost_alerts: alloc::collections::BTreeSet::new(),
            frozen: alloc::collections::BTreeSet::new(),
        }
    }

    /// Every alert the meters sent so far, in order.
    #[must_use]
    pub fn sent_alerts(&self) -> &[Vec<u8>] {
        &self.alerts
    }

    fn alert(&mut self, at: UnixTime, device: EntityId, bytes: Vec<u8>) {
        self.alerts.push(bytes.clone());
        if self.lost_alerts.contains(&device) {
            return;
        }
        self.schedule(
            at.plus_millis(self.alert_delay_ms),
            Scheduled::Arrives(Arrival::Alert { bytes }),
        );
    }

    fn schedule(&mut self, at: UnixTime, s: Scheduled) {
        self.seq += 1;
        self.queue.insert((at, self.seq), s);
    }

    /// `t` leaves at `now`, its reply awaited until its deadline.
    pub fn send(&mut self, now: UnixTime, t: Transmit) {
        let fate = self
            .sampler
            .fate(t.deadline.millis().saturating_sub(now.millis()));
        self.schedule(
            now.plus_millis(fate.to_meter_ms),
            Scheduled::AtMeter {
                device: t.device,
                bytes: t.bytes,
                sent: now,
                fate,
            },
        );
    }

    /// When the next thing happens on the network.
    #[must_use]
    pub fn next_time(&self) -> Option<UnixTime> {
        self.queue.first_key_value().map(|((t, _), _)| *t)
    }

    /// Whether nothing is on its way.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Everything due by `now`, meters run as commands reach them; what reaches the engine,
    /// in order.
    pub fn pop_due(&mut self, now: UnixTime, meters: &Meters) -> Vec<Arrival> {
        let mut out = Vec::new();
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, _), s) = entry.remove_entry();
            match s {
                Scheduled::AtMeter {
                    device,
                    bytes,
                    sent,
                    fate,
                } => {
                    let clock = if self.frozen.contains(&device) {
                        i64::MIN
                    } else {
                        at.secs()
                    };
                    let (reply, alerts) = meters.deliver(device, &bytes, clock);
                    for a in alerts {
                        self.alert(at, device, a);
                    }
                    if let Some(t) = meters.pending_at(device).filter(|_| clock != i64::MIN) {
                        self.schedule(UnixTime::from_secs(t).max(at), Scheduled::MeterDue(device));
                    }
                    if let (Some(reply), Some(ms)) = (reply, fate.reply_ms) {
                        if let Some(dup) = fate.duplicate_ms {
                            self.schedule(
                                sent.plus_millis(dup),
                                Scheduled::Arrives(Arrival::Reply {
                                    device,
                                    bytes: reply.clone(),
                                }),
                            );
                        }
                        self.schedule(
                            sent.plus_millis(ms),
                            Scheduled::Arrives(Arrival::Reply {
                                device,
                                bytes: reply,
                            }),
                        );
                    }
                }
                Scheduled::Arrives(a) => out.push(a),
                Scheduled::MeterDue(device) => {
                    for a in meters.advance(device, at.secs()) {
                        self.alert(at, device, a);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
mod tests {
    use super::{NetworkProfile, Sampler};
    use alloc::vec::Vec;

    #[test]
    fn round_trips_and_rates_follow_the_profile_and_the_seed() {
        let profile = NetworkProfile {
            rtt_median_ms: 1000,
            rtt_p99_ms: 10_000,
            loss: 0.01,
            late: 0.005,
            duplicate: 0.005,
            seed: 3,
        };
        let n = 200_000;
        let mut s = Sampler::new(profile);
        let (mut rtts, mut lost, mut late, mut dup) = (Vec::new(), 0, 0, 0);
        for _ in 0..n {
            let f = s.fate(30_000);
            match f.reply_ms {
                None => lost += 1,
                Some(ms) if ms > 30_000 && f.to_meter_ms * 2 <= 30_000 => late += 1,
                Some(ms) => rtts.push(ms),
            }
            dup += usize::from(f.duplicate_ms.is_some());
        }
        rtts.sort_unstable();
        let at = |q: f64| rtts[((rtts.len() as f64) * q) as usize] as f64;
        assert!((at(0.5) - 1000.0).abs() < 30.0, "median {}", at(0.5));
        assert!((at(0.99) - 10_000.0).abs() < 600.0, "p99 {}", at(0.99));
        let rate = |k: usize| k as f64 / f64::from(n);
        assert!((rate(lost) - 0.01).abs() < 0.001, "loss {}", rate(lost));
        assert!((rate(late) - 0.005).abs() < 0.001, "late {}", rate(late));
        assert!(
            (rate(dup) - 0.005).abs() < 0.001,
            "duplicates {}",
            rate(dup)
        );
        // The same seed, the same fates; another seed, others.
        let draw = |seed| {
            let mut s = Sampler::new(NetworkProfile { seed, ..profile });
            (0..100).map(|_| s.fate(30_000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        // No delay at all when the median is zero.
        let mut zero = Sampler::new(NetworkProfile::default());
        assert!((0..1000).all(|_| zero.fate(30_000).reply_ms == Some(0)));
    }
}
