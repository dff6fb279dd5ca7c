//! The dashboard's numbers, aggregated from the ledger in one pass over its attempts and
//! devices (never a pass per bucket): per bucket of time, migrations completed, failed
//! attempts and devices remaining with TCoS credentials, for the fleet and each Responsible
//! Supplier; per device model, attempts, faults and what the notices say of its devices; and
//! the EMRR reports made. Every cumulative figure at a bucket's end equals
//! [`Ledger::summary_as_at`] at that instant — what ECOSMIG-007 reports.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use crate::cos::engine::{Activity, Buckets};
use crate::cos::ledger::{
    AttemptEntry, AttemptResult, CellState, DeviceHistory, Ledger, NoticeCategory, Standing,
};
use crate::cos::migration::{AutoStopPolicy, SecPartyId};
use crate::cos::{ModelKey, SupplierCounts};
use crate::frame::EntityId;

/// Migrations, failures and what remains, per bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Migrations completed in the bucket (ECOSMIG-007's first count, as it grew).
    pub migrated: Vec<u64>,
    /// Failed migration attempts in the bucket.
    pub failed: Vec<u64>,
    /// Devices with known TCoS credentials at the bucket's end.
    pub remaining: Vec<u64>,
    /// Migrations completed before the window.
    pub migrated_before: u64,
    /// Failed attempts before the window.
    pub failed_before: u64,
}

impl Progress {
    fn new(n: usize) -> Self {
        Self {
            migrated: vec![0; n],
            failed: vec![0; n],
            remaining: vec![0; n],
            migrated_before: 0,
            failed_before: 0,
        }
    }
}

/// One device model (manufacturer, model and firmware) as the migration has found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRow {
    /// The manufacturer and model.
    pub model: ModelKey,
    /// The firmware.
    pub firmware: String,
    /// Its devices (as at the window's end).
    pub devices: u64,
    /// Attempts on its devices in the window: the sample the fault rate is of.
    pub attempts: u64,
    /// Of them, device faults.
    pub faults: u64,
    /// Its devices standing as Non-Migratable.
    pub listed: u64,
    /// Its devices' notices, by category.
    pub categories: BTreeMap<NoticeCategory, u64>,
}

impl ModelRow {
    /// Faults per thousand attempts (0 with no attempt).
    #[must_use]
    pub fn fault_per_mille(&self) -> u64 {
        self.faults
            .saturating_mul(1000)
            .checked_div(self.attempts)
            .unwrap_or(0)
    }

    /// Whether it needs a decision: its fault rate is over the auto-stop's per-model
    /// threshold on at least as many attempts as the rule judges, and not all of its devices
    /// are listed already.
    #[must_use]
    pub fn needs_decision(&self, rule: &AutoStopPolicy) -> bool {
        let min = u64::try_from(rule.model_min_samples).unwrap_or(u64::MAX);
        let limit = u64::try_from(rule.model_fault_per_mille).unwrap_or(u64::MAX);
        self.attempts >= min && self.fault_per_mille() > limit && self.listed < self.devices
    }

    /// What it asks of the operator, in words.
    #[must_use]
    pub fn verdict(&self, rule: &AutoStopPolicy) -> &'static str {
        let min = u64::try_from(rule.model_min_samples).unwrap_or(u64::MAX);
        if self.needs_decision(rule) {
            "over the threshold: decide whether to list it"
        } else if self.devices > 0 && self.listed == self.devices {
            "listed Non-Migratable"
        } else if self.attempts < min {
            "too few attempts to judge"
        } else {
            "below the threshold"
        }
    }
}

/// The latest of one EMRR report to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    /// The report (`ECOSMIG-007`, …).
    pub report: String,
    /// Its recipient.
    pub recipient: SecPartyId,
    /// The latest period made (first and last second).
    pub period: (i64, i64),
    /// How many periods were made.
    pub made: usize,
    /// The highest sequence number issued, if the report numbers its issues.
    pub sequence: Option<u32>,
}

/// Everything the page shows, for one window.
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    /// The window's buckets.
    pub buckets: Buckets,
    /// The window's last second: the instant the "as at" figures are taken.
    pub as_at: i64,
    /// The fleet.
    pub fleet: Progress,
    /// Each Responsible Supplier.
    pub suppliers: BTreeMap<SecPartyId, Progress>,
    /// ECOSMIG-007's counts as at the window's end, per supplier.
    pub counts: BTreeMap<SecPartyId, SupplierCounts>,
    /// The device models, those needing a decision first.
    pub models: Vec<ModelRow>,
    /// The rule the models are judged by.
    pub rule: AutoStopPolicy,
    /// What the run did: commands, in flight, and the timeline.
    pub activity: Activity,
    /// The latest EMRR report per type and recipient.
    pub reports: Vec<ReportRow>,
    /// Devices the ledger knows.
    pub devices: usize,
}

/// A step of a cumulative count: `+1`/`-1` at a time, or before the window.
fn step(p: &mut [u64], before: &mut u64, buckets: &Buckets, at: i64) {
    if at < buckets.start {
        *before += 1;
    } else if let Some(slot) = buckets.index(at).and_then(|i| p.get_mut(i)) {
        *slot += 1;
    }
}

fn count_attempt(p: &mut Progress, buckets: &Buckets, a: &AttemptEntry) {
    if a.result.is_completed() {
        step(&mut p.migrated, &mut p.migrated_before, buckets, a.at);
        return;
    }
    step(&mut p.failed, &mut p.failed_before, buckets, a.at);
    if let Some((t, r)) = a.resolved {
        if r.is_completed() {
            step(&mut p.migrated, &mut p.migrated_before, buckets, t);
        }
    }
}

/// The changes of a device's (supplier, holds TCoS) over time, in order.
fn tcos_changes(h: &DeviceHistory) -> Vec<(i64, Option<&SecPartyId>)> {
    let mut times: Vec<i64> = h
        .suppliers
        .iter()
        .map(|(t, _)| *t)
        .chain(h.states.iter().map(|o| o.at))
        .collect();
    times.sort_unstable();
    times.dedup();
    let mut out = Vec::new();
    let mut last: Option<&SecPartyId> = None;
    for t in times {
        let now = match h.state_as_at(t) {
            Some(CellState::Tcos) => h.supplier_as_at(t),
            _ => None,
        };
        if now != last {
            out.push((t, now));
            last = now;
        }
    }
    out
}

/// Adds one device's contribution to the remaining counts: +1 from when it holds TCoS
/// for a supplier, −1 from when it no longer does, as a level at each bucket's end.
fn count_remaining(
    deltas: &mut BTreeMap<SecPartyId, (i64, Vec<i64>)>,
    buckets: &Buckets,
    h: &DeviceHistory,
) {
    let mut held: Option<&SecPartyId> = None;
    for (t, now) in tcos_changes(h) {
        if t > buckets.end() {
            break;
        }
        let mut add = |s: &SecPartyId, d: i64| {
            let e = deltas
                .entry(s.clone())
                .or_insert_with(|| (0, vec![0; buckets.count]));
            if t < buckets.start {
                e.0 += d;
            } else if let Some(slot) = buckets.index(t).and_then(|i| e.1.get_mut(i)) {
                *slot += d;
            }
        };
        if let Some(s) = held {
            add(s, -1);
        }
        if let Some(s) = now {
            add(s, 1);
        }
        held = now;
    }
}

type Models = BTreeMap<(ModelKey, String), ModelRow>;

/// The row of the model `h` was at `at`, made if new.
fn model_row<'m>(models: &'m mut Models, h: &DeviceHistory, at: i64) -> Option<&'m mut ModelRow> {
    let (_, d) = h.descriptor_as_at(at)?;
    let key = (d.model.clone(), d.firmware.to_string());
    Some(models.entry(key).or_insert_with(|| ModelRow {
        model: d.model.clone(),
        firmware: d.firmware.to_string(),
        devices: 0,
        attempts: 0,
        faults: 0,
        listed: 0,
        categories: BTreeMap::new(),
    }))
}

fn level(before: i64, deltas: &[i64]) -> Vec<u64> {
    let mut l = before;
    deltas
        .iter()
        .map(|d| {
            l += d;
            u64::try_from(l).unwrap_or(0)
        })
        .collect()
}

impl Figures {
    /// The figures of `ledger` over `buckets` (as at their end), with `activity` from the
    /// store (or [`Activity::empty`] when it keeps no commands), models judged by `rule`.
    #[must_use]
    pub fn of(ledger: &Ledger, buckets: Buckets, activity: Activity, rule: AutoStopPolicy) -> Self {
        let as_at = buckets.end();
        let n = buckets.count;
        let mut fleet = Progress::new(n);
        let mut suppliers: BTreeMap<SecPartyId, Progress> = BTreeMap::new();
        let mut models: Models = BTreeMap::new();
        let mut last: BTreeMap<EntityId, (i64, AttemptResult)> = BTreeMap::new();
        for a in ledger.entries() {
            count_attempt(&mut fleet, &buckets, a);
            let p = suppliers
                .entry(a.supplier.clone())
                .or_insert_with(|| Progress::new(n));
            count_attempt(p, &buckets, a);
            let Some(result) = a.result_as_at(as_at) else {
                continue;
            };
            let newer = last.get(&a.device).is_none_or(|(t, _)| *t <= a.at);
            if newer {
                last.insert(a.device, (a.at, result));
            }
            if a.at < buckets.start {
                continue;
            }
            let Some(h) = ledger.device(a.device) else {
                continue;
            };
            if let Some(m) = model_row(&mut models, h, a.at) {
                m.attempts += 1;
                m.faults += u64::from(matches!(result, AttemptResult::DeviceFault(_)));
            }
        }
        let mut remaining: BTreeMap<SecPartyId, (i64, Vec<i64>)> = BTreeMap::new();
        for (id, h) in ledger.histories() {
            count_remaining(&mut remaining, &buckets, h);
            let Some(m) = model_row(&mut models, h, as_at) else {
                continue;
            };
            m.devices += 1;
            let standing = h.standing_as_at(as_at).map(|(_, s)| s);
            if matches!(standing, Some(Standing::NonMigratable)) {
                m.listed += 1;
            }
            let device_type = h.descriptor_as_at(as_at).map(|(_, d)| d.device_type);
            let category = standing
                .and_then(|s| NoticeCategory::of(s, last.get(id).map(|(_, r)| *r), device_type));
            if let Some(c) = category {
                *m.categories.entry(c).or_default() += 1;
            }
        }
        let mut fleet_remaining = vec![0i64; n];
        let mut fleet_before = 0i64;
        for (s, (before, deltas)) in &remaining {
            fleet_before += before;
            for (f, d) in fleet_remaining.iter_mut().zip(deltas) {
                *f += d;
            }
            suppliers
                .entry(s.clone())
                .or_insert_with(|| Progress::new(n))
                .remaining = level(*before, deltas);
        }
        fleet.remaining = level(fleet_before, &fleet_remaining);
        let counts = ledger.summary_as_at(as_at);
        for s in counts.keys() {
            suppliers
                .entry(s.clone())
                .or_insert_with(|| Progress::new(n));
        }
        let mut models: Vec<ModelRow> = models.into_values().collect();
        models.sort_by(|a, b| {
            b.needs_decision(&rule)
                .cmp(&a.needs_decision(&rule))
                .then(b.fault_per_mille().cmp(&a.fault_per_mille()))
                .then(b.attempts.cmp(&a.attempts))
                .then(a.model.cmp(&b.model))
                .then(a.firmware.cmp(&b.firmware))
        });
        let reports = ledger
            .reports_made()
            .filter_map(|(report, recipient, periods)| {
                let period = *periods.last()?;
                Some(ReportRow {
                    report: String::from(report),
                    recipient: recipient.clone(),
                    period,
                    made: periods.len(),
                    sequence: ledger.issued_sequences(report, recipient).last().copied(),
                })
            })
            .collect();
        Self {
            buckets,
            as_at,
            fleet,
            suppliers,
            counts,
            models,
            rule,
            activity,
            reports,
            devices: ledger.histories().count(),
        }
    }
}
