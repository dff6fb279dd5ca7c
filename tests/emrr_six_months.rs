//! Six months of migration and reporting, day by day, over a simulated network with seconds
//! of latency, lost, late and duplicated replies (lost ones read back), a model listed
//! mid-run, firmware upgrades, ineligibility resolved and devices needing investigation
//! resolved. Every report falls due and is made on time from the live ledger. Asserted:
//!
//! - at every month end T, for every recipient: ECOSMIG-005 from the start of the migration
//!   to T has ECOSMIG-007's first two totals as at T, 006 from the start lists as many devices
//!   as its ECoS installed, 004 from the start as many as its Non-Migratable; 007 made on time
//!   carries those totals; the cumulative completed and failed totals never go down;
//! - "provided once": no device is in two ECOSMIG-001s to one recipient, nor in two 002s;
//! - reproducible: every report, made again from the final state, repeats the one made on
//!   time, creation time and sequence number aside.

#[path = "support/report_rules.rs"]
mod report_rules;
#[path = "support/run.rs"]
mod run;

use gbcs::cos::engine::{EngineConfig, Input};
use gbcs::cos::migration::MigrationStatus;
use gbcs::cos::report::{due, DeviceReportKind, Due, Ecosmig005, Made, Report, ReportFormat};
use gbcs::cos::SupplierCounts;
use gbcs::payload::GeneralizedTime;
use gbcs::sim::fleet::{FleetMix, Profile, SimulatedMigration};
use gbcs::sim::network::NetworkProfile;
use std::collections::BTreeMap;

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

/// The report with its creation time and sequence number set aside.
fn set_aside(m: &Made) -> Made {
    let mut m = m.clone();
    let epoch = GeneralizedTime::new(2000, 1, 1, 0, 0, 0).expect("t");
    match &mut m {
        Made::Devices(r) => (r.created, r.sequence_number) = (epoch, 0),
        Made::Reconciliation(r) => (r.created, r.sequence_number) = (epoch, 0),
        Made::Summary(r) => (r.created, r.sequence_number) = (epoch, 0),
    }
    m
}

#[test]
fn six_months_of_reports_agree_never_go_down_and_repeat_when_made_again() {
    let mut sim =
        SimulatedMigration::new(b"six months", 7, 1_500, &FleetMix::default(), START + 3_600)
            .expect("fleet");
    let network = NetworkProfile {
        rtt_median_ms: 2_000,
        rtt_p99_ms: 20_000,
        loss: 0.01,
        late: 0.005,
        duplicate: 0.005,
        seed: 7,
    };
    // Taken before the harness takes the records.
    let profiles = sim.fleet.profiles.clone();
    let ids: Vec<_> = sim.fleet.records.iter().map(|r| r.entity_id).collect();
    let mut run = run::Run::over(&mut sim, EngineConfig::default(), 1, network);
    let of = |p: fn(&Profile) -> bool| -> Vec<_> {
        ids.iter()
            .zip(&profiles)
            .filter(|(_, q)| p(q))
            .map(|(d, _)| *d)
            .collect()
    };
    let mut made: Vec<(Due, Made)> = Vec::new();
    let mut months: Vec<(i64, BTreeMap<String, SupplierCounts>)> = Vec::new();
    let format = ReportFormat::default();
    for day in 0..182 {
        let t = START + day * DAY + 6 * 3_600;
        run.run_until(&sim, t);
        run.advance_clock(&sim, t);
        match day {
            // A model listed while some of its devices still back off.
            3 => {
                let model = run
                    .records()
                    .iter()
                    .find(|r| r.status == MigrationStatus::Retrying)
                    .map(|r| r.model.clone());
                if let Some(model) = model {
                    run.input(
                        &sim,
                        Input::ListModel {
                            model,
                            fixed_from: None,
                        },
                    );
                }
            }
            // Firmware upgrades for the devices that fault until upgraded.
            40 => {
                for d in of(|p| *p == Profile::FaultUntilUpgraded) {
                    let input = sim.upgrade_firmware(d, "2.0");
                    run.input(&sim, input);
                }
            }
            // Half the ineligible devices resolved by their supplier.
            70 => {
                for d in of(|p| *p == Profile::Ineligible).iter().step_by(2) {
                    run.input(
                        &sim,
                        Input::Clear {
                            device: *d,
                            by: "supplier".into(),
                        },
                    );
                }
            }
            // The silent meters visited and fixed: resolved by the operator.
            100 => {
                for d in of(|p| *p == Profile::NeverAnswers) {
                    sim.fleet
                        .meters
                        .with_device(d, |m| m.faults.silent = 0)
                        .expect("meter");
                    run.input(
                        &sim,
                        Input::Clear {
                            device: d,
                            by: "field visit".into(),
                        },
                    );
                }
            }
            _ => {}
        }
        // Every report due by now, made on time from the live ledger.
        for d in due(run.ledger(), t) {
            let (m, _) = d
                .report
                .make(run.ledger_mut(), d.recipient.clone(), d.period, None, t)
                .expect("made on time");
            let text = m.to_text(&format).expect("text");
            report_rules::validate(&text).unwrap_or_else(|e| panic!("{}: {e}", d.report));
            if d.report == Report::Summary {
                months.push((d.period.1.unix_seconds(), BTreeMap::new()));
            }
            made.push((d, m));
        }
    }
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
    let ledger = run.ledger().clone();
    assert!(
        ledger.entries().iter().any(|a| a.resolved.is_some()),
        "a lost reply read back"
    );
    assert!(
        ids.iter()
            .any(|d| ledger.device(*d).is_some_and(|h| !h.clearances.is_empty())),
        "resolutions recorded"
    );

    // Month ends: the equalities, and totals that never go down.
    let start = GeneralizedTime::from_unix_seconds(START).expect("start");
    let mut previous: BTreeMap<String, SupplierCounts> = BTreeMap::new();
    let mut checked = 0;
    let month_ends: Vec<i64> = {
        let mut v: Vec<i64> = months.iter().map(|m| m.0).collect();
        v.dedup();
        v
    };
    assert_eq!(month_ends.len(), 6, "{month_ends:?}");
    for end_t in month_ends {
        let end = GeneralizedTime::from_unix_seconds(end_t).expect("end");
        for r in ledger.recipients() {
            let c = ledger.counts_as_at(&r, end_t);
            let mut scratch = ledger.clone();
            let (r005, _) = Ecosmig005::for_period(
                &mut scratch,
                r.clone(),
                start,
                end,
                end,
                None,
                START + 400 * DAY,
            )
            .expect("005");
            assert_eq!(
                (r005.migrations_completed, r005.failed_attempts),
                (c.migrations_completed, c.failed_attempts),
                "{r} {end:?}"
            );
            for (kind, want) in [
                (DeviceReportKind::EcosInstalled, c.ecos_installed),
                (DeviceReportKind::NonMigratable, c.non_migratable),
            ] {
                let (m, _) = Report::Devices(kind)
                    .make(
                        &mut scratch,
                        r.clone(),
                        (start, end),
                        None,
                        START + 400 * DAY,
                    )
                    .expect("from the start");
                let Made::Devices(m) = m else {
                    panic!("a device report")
                };
                assert_eq!(m.rows.len() as u64, want, "{kind:?} {r} {end:?}");
            }
            // ECOSMIG-007 made on time for this month carries the same totals.
            let on_time = made
                .iter()
                .find_map(|(d, m)| match m {
                    Made::Summary(s) if d.recipient == r && d.period.1 == end => Some(s.counts),
                    _ => None,
                })
                .expect("007 made on time");
            assert_eq!(on_time, c, "{r} {end:?}");
            let p = previous.entry(r.to_string()).or_default();
            assert!(c.migrations_completed >= p.migrations_completed, "{r}");
            assert!(c.failed_attempts >= p.failed_attempts, "{r}");
            *p = c;
            checked += 1;
        }
    }
    assert!(checked >= 6 * 3, "{checked}");

    // Provided once.
    for kind in [DeviceReportKind::Migrated, DeviceReportKind::Failed] {
        let mut seen: BTreeMap<_, usize> = BTreeMap::new();
        for (_, m) in &made {
            if let Made::Devices(r) = m {
                if r.kind == kind {
                    // Once per recipient: a device's supplier and its asset provider each
                    // hear of it once.
                    for row in &r.rows {
                        *seen.entry((r.recipient.clone(), row.device)).or_default() += 1;
                    }
                }
            }
        }
        assert!(!seen.is_empty(), "{kind:?}");
        assert!(seen.values().all(|n| *n == 1), "{kind:?}: a device twice");
    }

    // Every report made again from the final state repeats the one made on time.
    let mut again = ledger.clone();
    let end = START + 200 * DAY;
    let mut by_report: BTreeMap<&str, usize> = BTreeMap::new();
    for (d, m) in &made {
        let (remade, _) = d
            .report
            .make(&mut again, d.recipient.clone(), d.period, None, end)
            .expect("made again");
        assert_eq!(
            set_aside(&remade),
            set_aside(m),
            "{} {}",
            d.report,
            d.recipient
        );
        *by_report.entry(d.report.id()).or_default() += 1;
    }
    eprintln!("reports made on time and again: {by_report:?}");
    assert_eq!(by_report.len(), 6);
}
