//! Which devices each per-device report lists, taken from the ledger as at the period's
//! instants: nothing here depends on when the report is made.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::{DeviceReportKind, DeviceRow, Failure};
use crate::cos::ledger::{
    AttemptEntry, AttemptResult, CellState, Descriptor, DeviceHistory, Ledger, NoticeCategory,
    Standing,
};
use crate::cos::migration::SecPartyId;
use crate::cos::report::ReportRefused;
use crate::frame::EntityId;
use crate::payload::{GeneralizedTime, StatusCode};

/// Whether `recipient` is the device's Meter Asset Provider as at `at`.
fn provides(h: &DeviceHistory, at: i64, recipient: &SecPartyId) -> bool {
    h.descriptor_as_at(at)
        .is_some_and(|(_, d)| d.meter_asset_provider.as_ref() == Some(recipient))
}

/// Whether a report to `recipient` carries the device as at `at`: it is the device's
/// reporting supplier or its Meter Asset Provider then.
fn addressed(h: &DeviceHistory, at: i64, recipient: &SecPartyId) -> bool {
    h.supplier_as_at(at) == Some(recipient) || provides(h, at, recipient)
}

/// The rows of report `kind` to `recipient` for the period `start..=end` (Unix seconds): the
/// devices it reports for as their supplier or as their Meter Asset Provider.
pub(super) fn rows(
    ledger: &Ledger,
    kind: DeviceReportKind,
    recipient: &SecPartyId,
    start: i64,
    end: i64,
) -> Result<Vec<DeviceRow>, ReportRefused> {
    let in_period = |t: i64| (start..=end).contains(&t);
    // (time, device, the instant its descriptor is taken at, failure)
    let mut found: Vec<(i64, EntityId, i64, Option<Failure>)> = Vec::new();
    match kind {
        DeviceReportKind::Migrated => {
            for (device, (at, supplier)) in first_completed(ledger) {
                let provided = ledger
                    .device(device)
                    .is_some_and(|h| provides(h, at, recipient));
                if in_period(at) && (supplier == recipient || provided) {
                    found.push((at, device, at, None));
                }
            }
        }
        DeviceReportKind::Failed => {
            let mut failed = BTreeMap::new();
            for (device, h) in ledger.histories() {
                let Some((at, standing)) = h.standings.iter().find(|(_, s)| is_failure(s)) else {
                    continue;
                };
                if in_period(*at) && addressed(h, *at, recipient) {
                    failed.insert(*device, (*at, standing));
                }
            }
            let last = last_attempts(ledger, &failed);
            for (device, (at, standing)) in failed {
                let last = last.get(&device).and_then(|a| a.result_as_at(at));
                let device_type = ledger
                    .device(device)
                    .and_then(|h| h.descriptor_as_at(at))
                    .map(|(_, d)| d.device_type);
                let Some(category) = NoticeCategory::of(standing, last, device_type) else {
                    continue;
                };
                let status = match last {
                    Some(AttemptResult::DeviceFault(s)) => Some(StatusCode(s)),
                    _ => None,
                };
                found.push((at, device, at, Some(Failure { category, status })));
            }
        }
        DeviceReportKind::NonMigratable => {
            for (device, h) in ledger.histories() {
                if !addressed(h, end, recipient) {
                    continue;
                }
                if let Some((since, Standing::NonMigratable)) = h.standing_as_at(end) {
                    if in_period(*since) {
                        found.push((*since, *device, end, None));
                    }
                }
            }
        }
        DeviceReportKind::EcosInstalled => {
            for (device, h) in ledger.histories() {
                if !addressed(h, end, recipient) {
                    continue;
                }
                if let Some(since) = installed_since(h, end) {
                    if in_period(since) {
                        found.push((since, *device, end, None));
                    }
                }
            }
        }
    }
    found.sort_by_key(|r| (r.0, r.1));
    let mut rows = Vec::with_capacity(found.len());
    for (at, device, described_at, failure) in found {
        let descriptor = ledger
            .device(device)
            .and_then(|h| h.descriptor_as_at(described_at))
            .map(|(_, d)| Descriptor {
                meter_asset_provider: None,
                ..d.clone()
            })
            .ok_or(ReportRefused::NoDescriptor(device))?;
        // Within the period, whose ends are date-times: never out of range.
        let at = GeneralizedTime::from_unix_seconds(at).ok_or(ReportRefused::Clock(at))?;
        rows.push(DeviceRow {
            device,
            descriptor,
            at,
            failure,
        });
    }
    Ok(rows)
}

/// A standing that ends a device's migration as a failure (no more automatic tries).
const fn is_failure(s: &Standing) -> bool {
    matches!(s, Standing::Faulted(_) | Standing::NeedsInvestigation)
}

/// When each device's migration was first known to have completed, and to which supplier
/// that attempt was reported.
fn first_completed(ledger: &Ledger) -> BTreeMap<EntityId, (i64, &SecPartyId)> {
    let mut out: BTreeMap<EntityId, (i64, &SecPartyId)> = BTreeMap::new();
    for a in ledger.entries() {
        let learned = if a.result.is_completed() {
            Some(a.at)
        } else {
            a.resolved.filter(|(_, r)| r.is_completed()).map(|(t, _)| t)
        };
        let Some(t) = learned else {
            continue;
        };
        let e = out.entry(a.device).or_insert((t, &a.supplier));
        if t < e.0 {
            *e = (t, &a.supplier);
        }
    }
    out
}

/// Each listed device's last attempt made by its time.
fn last_attempts<'l>(
    ledger: &'l Ledger,
    devices: &BTreeMap<EntityId, (i64, &Standing)>,
) -> BTreeMap<EntityId, &'l AttemptEntry> {
    let wanted: BTreeSet<&EntityId> = devices.keys().collect();
    let mut out: BTreeMap<EntityId, &AttemptEntry> = BTreeMap::new();
    for a in ledger.entries() {
        if !wanted.contains(&a.device) {
            continue;
        }
        let Some((by, _)) = devices.get(&a.device) else {
            continue;
        };
        if a.at > *by {
            continue;
        }
        let e = out.entry(a.device).or_insert(a);
        if (a.at, a.counter) > (e.at, e.counter) {
            *e = a;
        }
    }
    out
}

/// When the device's role-5 cell last came to hold ECoS credentials, if it holds them at
/// `end`.
fn installed_since(h: &DeviceHistory, end: i64) -> Option<i64> {
    let mut since = None;
    for o in h.states.iter().take_while(|o| o.at <= end) {
        match (o.state, since) {
            (CellState::Ecos, None) => since = Some(o.at),
            (CellState::Ecos, Some(_)) => {}
            (CellState::Tcos | CellState::Unknown, _) => since = None,
        }
    }
    since
}
