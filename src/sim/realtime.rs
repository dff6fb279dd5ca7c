//! The simulated network in real time, as a [`Transport`] for the tokio driver: each command's
//! fate is drawn as [`VirtualNetwork`](super::network::VirtualNetwork) draws it (the same
//! [`Sampler`]), then lived out with tokio timers — the meter gets the command half a round
//! trip after it leaves (its CPU work on tokio's blocking pool), the reply arrives a round trip
//! after, or late, or twice, or never. Meters run their future-dated commands when the
//! driver's clock passes their time ([`Transport::tick`]), and their alerts come back too.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::{Mutex, PoisonError};

use crate::cos::engine::{Arrival, Transmit, UnixTime};
use crate::driver::{InTransit, Inbox, Transport, TransportError};
use crate::frame::EntityId;
use crate::sim::network::{Meters, NetworkProfile, Sampler};

/// How many commands may wait at their meters for CPU before the network holds new ones
/// back. The simulated meters share the machine's cores with the engine; without this, an
/// engine that builds faster than the meters can answer would queue seconds of meter work, and
/// the queue — not the network — would make replies late. Real meters each have their own
/// processor; the bound keeps the simulation's delays the network's (a real head-end meets
/// such backpressure from DCC's adapters).
pub const BACKLOG: usize = 256;

/// The simulated network in real time.
#[derive(Debug)]
pub struct SimTransport {
    meters: Arc<Meters>,
    sampler: Sampler,
    /// Everything still to come.
    in_transit: Arc<AtomicUsize>,
    /// Replies still to come before their deadline (or meters still to answer).
    awaited: Arc<AtomicUsize>,
    /// The meters run at most this many commands at once (the cores: they share them with
    /// the engine's workers, as real meters would not).
    meter_slots: Arc<tokio::sync::Semaphore>,
    /// Commands that reached their meters and wait for a slot: past [`BACKLOG`], `send`
    /// holds the next command back.
    backlog: Arc<AtomicUsize>,
    /// Meters with a future-dated command, by when it runs (Unix seconds).
    due: Arc<Mutex<BTreeMap<(i64, EntityId), ()>>>,
    /// Each device's first command: its counter, and when the network resolves it (its reply
    /// delivered in time, or its deadline when the reply is lost, late or never made),
    /// engine milliseconds.
    first_resolution: Arc<Mutex<BTreeMap<EntityId, (u64, i64)>>>,
    alert_delay_ms: u64,
}

impl SimTransport {
    /// A network with `profile` to `meters`.
    #[must_use]
    pub fn new(meters: Arc<Meters>, profile: NetworkProfile) -> Self {
        Self {
            meters,
            sampler: Sampler::new(profile),
            in_transit: Arc::default(),
            awaited: Arc::default(),
            meter_slots: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
            backlog: Arc::default(),
            due: Arc::default(),
            first_resolution: Arc::default(),
            alert_delay_ms: profile.rtt_median_ms / 2,
        }
    }
}

fn ms(v: i64) -> Duration {
    Duration::from_millis(u64::try_from(v).unwrap_or(0))
}

impl Transport for SimTransport {
    async fn send(
        &mut self,
        now: UnixTime,
        command: Transmit,
        inbox: &Inbox,
    ) -> Result<(), TransportError> {
        // Backpressure: while the meters are behind, the next command waits.
        while self.backlog.load(Ordering::SeqCst) > BACKLOG {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let fate = self
            .sampler
            .fate(command.deadline.millis().saturating_sub(now.millis()));
        let (meters, inbox, due) = (
            Arc::clone(&self.meters),
            inbox.clone(),
            Arc::clone(&self.due),
        );
        let in_transit = Arc::clone(&self.in_transit);
        let awaited = Arc::clone(&self.awaited);
        let slots = Arc::clone(&self.meter_slots);
        let backlog = Arc::clone(&self.backlog);
        let deadline_ms = command.deadline.millis().saturating_sub(now.millis());
        // Whether its reply comes in time: until it has, the engine waits on it.
        let on_time = fate.reply_ms.is_some_and(|r| r <= deadline_ms);
        let resolves_at = now
            .millis()
            .saturating_add(fate.reply_ms.filter(|_| on_time).unwrap_or(deadline_ms));
        let first = Arc::clone(&self.first_resolution);
        first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(command.device)
            .or_insert((command.counter, resolves_at));
        let at_deadline = now.millis().saturating_add(deadline_ms);
        let command_counter = command.counter;
        in_transit.fetch_add(1, Ordering::SeqCst);
        // A reply that cannot come in time (lost or late, as drawn) is not waited for.
        if on_time {
            awaited.fetch_add(1, Ordering::SeqCst);
        }
        tokio::spawn(async move {
            tokio::time::sleep(ms(fate.to_meter_ms)).await;
            let device = command.device;
            let at_meter = now.plus_millis(fate.to_meter_ms).secs();
            backlog.fetch_add(1, Ordering::SeqCst);
            let permit = slots.acquire_owned().await;
            backlog.fetch_sub(1, Ordering::SeqCst);
            let ran = tokio::task::spawn_blocking(move || {
                let (reply, alerts) = meters.deliver(device, &command.bytes, at_meter);
                (reply, alerts, meters.pending_at(device))
            })
            .await;
            drop(permit);
            let answered = ran.as_ref().is_ok_and(|r| r.0.is_some());
            if on_time && !answered {
                // The meter did not answer: no reply will come.
                awaited.fetch_sub(1, Ordering::SeqCst);
                if let Some(e) = first
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_mut(&device)
                    .filter(|e| e.0 == command_counter)
                {
                    e.1 = at_deadline;
                }
            }
            if let Ok((reply, alerts, pending)) = ran {
                if let Some(t) = pending {
                    due.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert((t, device), ());
                }
                for bytes in alerts {
                    inbox.put(Arrival::Alert { bytes });
                }
                if let (Some(bytes), Some(reply_ms)) = (reply, fate.reply_ms) {
                    tokio::time::sleep(ms(reply_ms - fate.to_meter_ms)).await;
                    inbox.put(Arrival::Reply {
                        device,
                        bytes: bytes.clone(),
                    });
                    if on_time {
                        awaited.fetch_sub(1, Ordering::SeqCst);
                    }
                    if let Some(dup) = fate.duplicate_ms {
                        tokio::time::sleep(ms(dup - reply_ms)).await;
                        inbox.put(Arrival::Reply { device, bytes });
                    }
                }
            }
            in_transit.fetch_sub(1, Ordering::SeqCst);
        });
        Ok(())
    }

    fn tick(&mut self, now: UnixTime, inbox: &Inbox) {
        let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ready = Vec::new();
        while let Some((&(t, device), ())) = due.first_key_value() {
            if t > now.secs() {
                break;
            }
            due.remove(&(t, device));
            ready.push(device);
        }
        drop(due);
        if ready.is_empty() {
            return;
        }
        let (meters, inbox) = (Arc::clone(&self.meters), inbox.clone());
        let in_transit = Arc::clone(&self.in_transit);
        let delay = self.alert_delay_ms;
        in_transit.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let secs = now.secs();
            let alerts = tokio::task::spawn_blocking(move || {
                ready
                    .into_iter()
                    .flat_map(|d| meters.advance(d, secs))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            tokio::time::sleep(Duration::from_millis(delay)).await;
            for bytes in alerts {
                inbox.put(Arrival::Alert { bytes });
            }
            in_transit.fetch_sub(1, Ordering::SeqCst);
        });
    }

    fn network_bound_resolved_per_second(&self) -> Option<f64> {
        let first = self
            .first_resolution
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Some(crate::driver::rate_to_90_percent(
            first.values().map(|e| e.1).collect(),
        ))
    }

    fn in_transit(&self) -> Option<InTransit> {
        Some(InTransit {
            awaited: self.awaited.load(Ordering::SeqCst),
            total: self.in_transit.load(Ordering::SeqCst),
        })
    }
}

impl crate::sim::fleet::SimulatedMigration {
    /// Runs `engine` over this simulation's meters in real time through a simulated network
    /// with `profile`, on the tokio driver, signing and MACing with `tcos` and `acb` (this
    /// simulation's own keys, or an HSM's: [`Self::with_context_using`]), writing the
    /// engine's records to `store` (committed before the engine acts on them;
    /// [`crate::driver::NoStore`] keeps nothing).
    ///
    /// # Errors
    /// A message when the ECoS certificate is refused or the driver cannot run; a store that
    /// cannot take a record stops the run.
    #[allow(clippy::too_many_arguments)]
    pub fn run_realtime_using(
        &self,
        engine: &mut crate::cos::engine::Engine,
        profile: NetworkProfile,
        config: &crate::driver::DriverConfig,
        tcos: crate::cos::CosSigner<'_>,
        acb: &(dyn crate::crypto::KeyAgreement + Sync),
        store: &mut dyn crate::driver::RecordSink,
        on_event: &mut dyn FnMut(&crate::cos::engine::Event),
        progress: &mut dyn FnMut(&crate::cos::engine::Stats),
    ) -> Result<crate::driver::RunReport, alloc::string::String> {
        let mut transport = SimTransport::new(Arc::clone(&self.fleet.meters), profile);
        self.run_over(
            engine,
            &mut transport,
            config,
            tcos,
            acb,
            store,
            on_event,
            progress,
        )
    }

    /// As [`Self::run_realtime_using`], through `transport` instead of the in-process
    /// simulated network (an [`crate::driver::exec::ExecTransport`] whose child holds the
    /// meters, say): this simulation gives the engine its parties and keys only.
    ///
    /// # Errors
    /// As [`Self::run_realtime_using`].
    #[allow(clippy::too_many_arguments)]
    pub fn run_over<T: Transport>(
        &self,
        engine: &mut crate::cos::engine::Engine,
        transport: &mut T,
        config: &crate::driver::DriverConfig,
        tcos: crate::cos::CosSigner<'_>,
        acb: &(dyn crate::crypto::KeyAgreement + Sync),
        store: &mut dyn crate::driver::RecordSink,
        on_event: &mut dyn FnMut(&crate::cos::engine::Event),
        progress: &mut dyn FnMut(&crate::cos::engine::Stats),
    ) -> Result<crate::driver::RunReport, alloc::string::String> {
        self.with_context_using(tcos, acb, |ctx| {
            crate::driver::run(engine, ctx, transport, store, config, on_event, progress)
        })
        .map_err(|e| alloc::format!("{e}"))?
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cos::engine::CommandKind;
    use crate::sim::fleet::{FleetMix, SimulatedMigration};

    /// Sends one command (bytes no meter accepts) to each of ten devices, one a second, the
    /// `k`-th with a deadline `30 + 2k` seconds after it, on `profile`; a second command to the
    /// first device last. Returns the network's bound once every meter has run.
    fn bound_after_ten_sends(profile: NetworkProfile) -> Option<f64> {
        let sim = SimulatedMigration::new(b"bound", 1, 10, &FleetMix::default(), 1_764_547_200)
            .expect("fleet");
        let mut t = SimTransport::new(Arc::clone(&sim.fleet.meters), profile);
        let (inbox, _arrivals) = Inbox::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let devices = sim.fleet.records.iter().map(|r| r.entity_id);
        let mut sends: Vec<(i64, EntityId)> = (0..)
            .zip(devices)
            .map(|(k, d)| (1_000_000 + 1000 * k, d))
            .collect();
        if let Some(&(_, first)) = sends.first() {
            sends.push((1_020_000, first));
        }
        for (k, (at, device)) in (0..).zip(sends) {
            let now = UnixTime(at);
            let command = Transmit {
                device,
                kind: CommandKind::Read,
                counter: 1 + k,
                bytes: Vec::new(),
                deadline: now.plus_millis(30_000 + 2000 * i64::try_from(k).unwrap_or(0)),
            };
            rt.block_on(t.send(now, command, &inbox)).expect("sent");
        }
        rt.block_on(async {
            while t.in_transit.load(Ordering::SeqCst) > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        t.network_bound_resolved_per_second()
    }

    fn profile(loss: f64) -> NetworkProfile {
        NetworkProfile {
            rtt_median_ms: 0,
            rtt_p99_ms: 0,
            loss,
            late: 0.0,
            duplicate: 0.0,
            seed: 1,
        }
    }

    #[test]
    fn the_network_bound_counts_lost_and_unanswered_commands_at_their_deadlines() {
        // Lost replies: resolved at the deadlines, 3 s apart (a send a second, deadlines 2 s
        // further apart each): 9 of the 10 first commands in 24 s. The eleventh command, to
        // the first device again, is not a first command.
        assert_eq!(bound_after_ten_sends(profile(1.0)), Some(9.0 / 24.0));
        // Replies that would come at once, but the meters answer nothing (they refuse the
        // bytes): also resolved at the deadlines.
        assert_eq!(bound_after_ten_sends(profile(0.0)), Some(9.0 / 24.0));
    }

    #[test]
    fn the_ninety_percent_rate_takes_the_first_to_the_ninetieth_percent() {
        use crate::driver::rate_to_90_percent;
        // 20 times a second apart, out of order: 18 of them in 17 s.
        let times: Vec<i64> = (0..20).rev().map(|k| 5_000 + 1000 * k).collect();
        assert_eq!(rate_to_90_percent(times), 18.0 / 17.0);
        assert_eq!(rate_to_90_percent(Vec::new()), 0.0);
        // All at one instant: counted over a millisecond, not divided by zero.
        assert_eq!(rate_to_90_percent(alloc::vec![7; 10]), 9000.0);
    }
}
