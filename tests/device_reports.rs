//! ECOSMIG-001, 002, 004 and 006, the per-device reports: their exact text both ways from a
//! small scripted ledger, what each refuses to write or read, refusals that use no sequence
//! number, and — over a simulated migration — each device reported once per outcome, 004 and
//! 006 from the start to any instant listing exactly what ECOSMIG-007 counts, and every
//! report made again repeating its rows.

#[path = "support/report_rules.rs"]
mod report_rules;
#[path = "support/run.rs"]
mod run;

use gbcs::cos::engine::EngineConfig;
use gbcs::cos::ledger::{
    CellState, Descriptor, LedgerEntry, NoticeCategory, Observation, Standing,
};
use gbcs::cos::migration::{Outcome, Responsibility, TransientCause};
use gbcs::cos::report::{
    DeviceReport, DeviceReportKind, Failure, ReportError, ReportFormat, ReportRefused,
};
use gbcs::cos::{DeviceType, EvidenceSource, Ledger, ModelKey, SecPartyId};
use gbcs::frame::EntityId;
use gbcs::payload::{GeneralizedTime, StatusCode};
use gbcs::sim::fleet::{FleetMix, SimulatedMigration};
use std::collections::BTreeMap;

/// 2026-12-31T22:00:00Z.
const CLOCK: i64 = 1_798_754_400;

fn t(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> GeneralizedTime {
    GeneralizedTime::new(y, mo, d, h, mi, s).expect("valid")
}

fn supplier() -> SecPartyId {
    SecPartyId::new("SUPA01").expect("id")
}

fn d(n: u64) -> EntityId {
    EntityId::from_u64(0x00DB_1234_5678_0000 + n)
}

/// On Tuesday 2026-12-08: device 1 migrated at 10:00; device 2's reply was lost at 10:00 and
/// read back as having run at 15:00; device 3 faulted (status 127) at 11:00; device 4 of a
/// Non-Migratable model from 09:00; device 5 a GPF that held ECoS from the inventory at 08:00.
fn scripted() -> Ledger {
    let mut l = Ledger::new();
    let s = supplier();
    let at = |h: u8| t(2026, 12, 8, h, 0, 0).unix_seconds();
    for (n, ty, model) in [
        (1, DeviceType::Esme, "E-1"),
        (2, DeviceType::Esme, "E-1"),
        (3, DeviceType::Gsme, "G-7"),
        (4, DeviceType::Esme, "OLD-9"),
        (5, DeviceType::Gpf, "HUB-2"),
    ] {
        l.apply(&LedgerEntry::Supplier {
            device: d(n),
            at: at(8),
            supplier: s.clone(),
        });
        l.apply(&LedgerEntry::Descriptor {
            device: d(n),
            at: at(8),
            descriptor: Descriptor {
                device_type: ty,
                model: ModelKey::new("ACME", model),
                firmware: "1.0".into(),
                meter_asset_provider: None,
            },
        });
        let state = if n == 5 {
            CellState::Ecos
        } else {
            CellState::Tcos
        };
        l.observe(d(n), at(8), state, EvidenceSource::Inventory);
    }
    l.record(&s, d(1), 1, &Outcome::Migrated, at(10))
        .expect("1");
    l.observe(d(1), at(10), CellState::Ecos, EvidenceSource::UpdateOutcome);
    let lost = Outcome::Transient(TransientCause::NoResponse);
    l.record(&s, d(2), 2, &lost, at(10)).expect("2");
    assert!(l.resolve_completed(d(2), 2, at(15)));
    l.observe(
        d(2),
        at(15),
        CellState::Ecos,
        EvidenceSource::CredentialDetailsResponse,
    );
    let fault = Outcome::DeviceFault(StatusCode(127));
    l.record(&s, d(3), 3, &fault, at(11)).expect("3");
    l.apply(&LedgerEntry::Standing {
        device: d(3),
        at: at(11),
        standing: Standing::Faulted(Responsibility::Supplier),
    });
    l.apply(&LedgerEntry::Standing {
        device: d(4),
        at: at(9),
        standing: Standing::NonMigratable,
    });
    l
}

const HEAD: &str = "SUPA01,1,";
const DAY: &str = "20261209T060000,20261208T000000,20261208T235959,DCC Controlled\n";

fn golden(kind: DeviceReportKind) -> String {
    let (title, period, rows) = match kind {
        DeviceReportKind::Migrated => (
            "ECoS Migration: Devices Successfully Migrated",
            DAY,
            "10,00-DB-12-34-56-78-00-01,ESME,ACME,E-1,1.0,20261208T100000\n\
             10,00-DB-12-34-56-78-00-02,ESME,ACME,E-1,1.0,20261208T150000\n\
             99,2,DCC Controlled\n",
        ),
        DeviceReportKind::Failed => (
            "ECoS Migration: Devices Failed",
            DAY,
            "10,00-DB-12-34-56-78-00-03,GSME,ACME,G-7,1.0,20261208T110000,device refused,127\n\
             99,1,DCC Controlled\n",
        ),
        DeviceReportKind::NonMigratable => (
            "ECoS Migration: Devices of a Non-Migratable Model",
            DAY,
            "10,00-DB-12-34-56-78-00-04,ESME,ACME,OLD-9,1.0,20261208T090000\n\
             99,1,DCC Controlled\n",
        ),
        DeviceReportKind::EcosInstalled => (
            "ECoS Migration: ECoS Installed Devices",
            "20270101T060000,20261201T000000,20261231T235959,DCC Controlled\n",
            "10,00-DB-12-34-56-78-00-05,GPF,ACME,HUB-2,1.0,20261208T080000,Installed\n\
             10,00-DB-12-34-56-78-00-01,ESME,ACME,E-1,1.0,20261208T100000,Installed\n\
             10,00-DB-12-34-56-78-00-02,ESME,ACME,E-1,1.0,20261208T150000,Installed\n\
             99,3,DCC Controlled\n",
        ),
    };
    format!("00,{},{HEAD}{title},{period}{rows}", kind.id())
}

fn created(kind: DeviceReportKind) -> GeneralizedTime {
    match kind {
        DeviceReportKind::EcosInstalled => t(2027, 1, 1, 6, 0, 0),
        _ => t(2026, 12, 9, 6, 0, 0),
    }
}

#[test]
fn each_per_device_report_is_made_in_its_exact_layout_and_parses_back() {
    let f = ReportFormat::default();
    for kind in DeviceReportKind::ALL {
        let mut ledger = scripted();
        let c = created(kind);
        let (r, issued) =
            DeviceReport::scheduled(&mut ledger, kind, supplier(), c, None, c.unix_seconds())
                .expect("report");
        assert_eq!(issued.number, 1, "{kind:?}");
        let text = r.to_text(&f).expect("text");
        assert_eq!(text, golden(kind), "{kind:?}");
        assert_eq!(DeviceReport::parse(&text, &f), Ok(r.clone()), "{kind:?}");
        // CR LF line ends and all-records rows counts read back too.
        let other = ReportFormat {
            line_end: "\r\n",
            rows_count: gbcs::cos::report::RowsCount::AllRecords,
            ..f
        };
        let crlf = r.to_text(&other).expect("text");
        assert!(crlf.contains(&format!("\r\n99,{},", r.rows.len() + 2)));
        assert_eq!(DeviceReport::parse(&crlf, &other), Ok(r), "{kind:?}");
        // Each report numbers its own sequence.
        assert_eq!(ledger.next_sequence(kind.id(), &supplier()), 2);
        assert_eq!(ledger.next_sequence("ECOSMIG-007", &supplier()), 1);
    }
}

#[test]
fn the_next_day_lists_nothing_and_is_still_made() {
    let mut ledger = scripted();
    let c = t(2026, 12, 10, 6, 0, 0);
    for kind in [
        DeviceReportKind::Migrated,
        DeviceReportKind::Failed,
        DeviceReportKind::NonMigratable,
    ] {
        let (r, _) =
            DeviceReport::scheduled(&mut ledger, kind, supplier(), c, None, c.unix_seconds())
                .expect("report");
        assert!(r.rows.is_empty(), "{kind:?}");
        let text = r.to_text(&ReportFormat::default()).expect("text");
        assert!(
            text.ends_with("DCC Controlled\n99,0,DCC Controlled\n"),
            "{text}"
        );
        assert_eq!(DeviceReport::parse(&text, &ReportFormat::default()), Ok(r));
    }
}

#[test]
fn values_that_do_not_fit_are_errors_never_truncated() {
    let mut ledger = scripted();
    let kind = DeviceReportKind::Failed;
    let c = created(kind);
    let (r, _) = DeviceReport::scheduled(&mut ledger, kind, supplier(), c, None, c.unix_seconds())
        .expect("report");
    let f = ReportFormat::default();
    let with = |edit: &dyn Fn(&mut DeviceReport)| {
        let mut r = r.clone();
        edit(&mut r);
        r.to_text(&f)
    };
    type Edit<'a> = &'a dyn Fn(&mut DeviceReport);
    let cases: [(Edit, ReportError); 6] = [
        (
            &|r| r.rows[0].descriptor.model = ModelKey::new("A".repeat(31).as_str(), "M"),
            ReportError::DoesNotFit {
                field: "manufacturer",
            },
        ),
        (
            &|r| r.rows[0].descriptor.firmware = "123456789".into(),
            ReportError::DoesNotFit {
                field: "firmware version",
            },
        ),
        (
            &|r| r.rows[0].descriptor.model = ModelKey::new("ACME", "A,B"),
            ReportError::InvalidCharacter {
                field: "device model",
            },
        ),
        (
            &|r| r.rows[0].descriptor.firmware = "".into(),
            ReportError::Empty {
                field: "firmware version",
            },
        ),
        (
            &|r| r.rows[0].failure = None,
            ReportError::Empty {
                field: "failure category",
            },
        ),
        (
            &|r| r.kind = DeviceReportKind::Migrated,
            ReportError::NotCarried {
                field: "failure category",
            },
        ),
    ];
    for (edit, want) in cases {
        assert_eq!(with(edit), Err(want.clone()), "{want:?}");
    }
    // A failure is carried with or without a GBCS status.
    let text = with(&|r| {
        r.rows[0].failure = Some(Failure {
            category: NoticeCategory::CommunicationsFailure,
            status: None,
        });
    })
    .expect("text");
    assert!(text.contains(",communications failure,\n"), "{text}");
    assert!(DeviceReport::parse(&text, &f).is_ok());
}

#[test]
fn malformed_reports_are_refused_at_their_line_and_column() {
    let f = ReportFormat::default();
    let migrated = golden(DeviceReportKind::Migrated);
    let failed = golden(DeviceReportKind::Failed);
    let installed = golden(DeviceReportKind::EcosInstalled);
    let cases = [
        (
            migrated.replace("ECOSMIG-001", "ECOSMIG-003"),
            1,
            "report identifier",
        ),
        (
            migrated.replace("00-DB-12-34-56-78-00-01", "00DB123456780001"),
            2,
            "device ID",
        ),
        (
            migrated.replace("00-DB-12-34-56-78-00-02", "00-DB-12-34-56-78-00-0G"),
            3,
            "device ID",
        ),
        (migrated.replace(",ESME,", ",esme,"), 2, "device type"),
        (
            migrated.replace(",1.0,", ",123456789,"),
            2,
            "firmware version",
        ),
        (migrated.replace(",ACME,", ",,"), 2, "manufacturer"),
        (
            migrated.replace("T100000\n", "T250000\n"),
            2,
            "migrated date-time",
        ),
        (
            migrated.replace("T100000\n", "T100000,x\n"),
            2,
            "end of the detail record",
        ),
        (migrated.replace("99,2,", "99,1,"), 4, "rows count"),
        (
            failed.replace(",device refused,", ",refused,"),
            2,
            "failure category",
        ),
        (failed.replace(",127\n", ",256\n"), 2, "GBCS status"),
        (failed.replace(",127\n", "\n"), 2, "separator"),
        (
            installed.replace(",Installed\n99", ",Removed\n99"),
            4,
            "ECoS status",
        ),
        (installed.replace(",Installed\n99", "\n99"), 4, "separator"),
    ];
    for (text, line, field) in cases {
        match DeviceReport::parse(&text, &f) {
            Err(ReportError::Malformed {
                line: l,
                field: fld,
                ..
            }) => assert_eq!((l, fld), (line, field), "{text}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Truncated anywhere but its final line end: never a report.
    for cut in 0..migrated.len() - 1 {
        let Some(head) = migrated.get(..cut) else {
            continue;
        };
        assert!(DeviceReport::parse(head, &f).is_err(), "cut at {cut}");
    }
}

#[test]
fn refusals_use_no_sequence_number() {
    let s = supplier();
    let kind = DeviceReportKind::Migrated;
    let c = created(kind);
    let (start, end) = kind.period(c);
    let now = c.unix_seconds();
    // A device whose type, model and firmware the ledger does not hold cannot be named.
    let mut bare = Ledger::new();
    bare.record(&s, d(9), 1, &Outcome::Migrated, start.unix_seconds() + 60)
        .expect("attempt");
    assert_eq!(
        DeviceReport::for_period(&mut bare, kind, s.clone(), start, end, c, None, now),
        Err(ReportRefused::NoDescriptor(d(9)))
    );
    assert_eq!(bare.next_sequence(kind.id(), &s), 1);
    let mut ledger = scripted();
    let stranger = SecPartyId::new("NOBODY").expect("id");
    let refused = [
        DeviceReport::for_period(&mut ledger, kind, s.clone(), end, start, c, None, now),
        DeviceReport::for_period(&mut ledger, kind, s.clone(), start, end, c, None, 0),
        DeviceReport::for_period(&mut ledger, kind, stranger, start, end, c, None, now),
        DeviceReport::for_period(&mut ledger, kind, s.clone(), start, end, c, Some(0), now),
    ];
    assert!(refused.iter().all(Result::is_err));
    assert_eq!(ledger.next_sequence(kind.id(), &s), 1);
}

/// The daily reports over the whole run, per supplier: each device reported once per
/// outcome, and made again from the final state, each report repeats its rows.
#[test]
fn over_a_migration_each_device_is_reported_once_and_004_006_match_007() {
    let mut sim = SimulatedMigration::new(b"device-reports", 5, 2_000, &FleetMix::default(), CLOCK)
        .expect("fleet");
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    run.run(&sim);
    let ledger = run.ledger().clone();
    let last = ledger
        .entries()
        .iter()
        .map(|a| a.resolved.map_or(a.at, |r| r.0.max(a.at)))
        .max()
        .expect("attempts");
    let suppliers: Vec<SecPartyId> = ledger.summary_as_at(i64::MAX).into_keys().collect();
    let start = GeneralizedTime::from_unix_seconds(CLOCK - 3600).expect("start");
    let mut seen: BTreeMap<(DeviceReportKind, EntityId), u32> = BTreeMap::new();
    let mut reports = 0;
    let mut listed: BTreeMap<DeviceReportKind, usize> = BTreeMap::new();
    for s in &suppliers {
        let mut scratch = ledger.clone();
        let mut day = CLOCK;
        while day <= last + 86_400 {
            let c = GeneralizedTime::from_unix_seconds(
                day.div_euclid(86_400) * 86_400 + 86_400 + 21_600,
            )
            .expect("created");
            for kind in [DeviceReportKind::Migrated, DeviceReportKind::Failed] {
                let (r, _) =
                    DeviceReport::scheduled(&mut scratch, kind, s.clone(), c, None, i64::MAX)
                        .expect("daily");
                for row in &r.rows {
                    *seen.entry((kind, row.device)).or_default() += 1;
                }
                // Made again from the same state: the same rows, the next number.
                let (again, _) =
                    DeviceReport::scheduled(&mut scratch, kind, s.clone(), c, None, i64::MAX)
                        .expect("again");
                assert_eq!(again.rows, r.rows);
                assert_eq!(again.sequence_number, r.sequence_number + 1);
                reports += 1;
            }
            // From the start of the migration to this day's end: 004 and 006 list what
            // ECOSMIG-007 counts.
            let end = GeneralizedTime::from_unix_seconds(c.unix_seconds() - 21_601).expect("end");
            let counts = ledger.counts_as_at(s, end.unix_seconds());
            for (kind, want) in [
                (DeviceReportKind::NonMigratable, counts.non_migratable),
                (DeviceReportKind::EcosInstalled, counts.ecos_installed),
            ] {
                let (r, _) = DeviceReport::for_period(
                    &mut scratch,
                    kind,
                    s.clone(),
                    start,
                    end,
                    c,
                    None,
                    i64::MAX,
                )
                .expect("to date");
                assert_eq!(r.rows.len() as u64, want, "{kind:?} {s} to {end:?}");
                *listed.entry(kind).or_default() += r.rows.len();
            }
            day += 86_400;
        }
    }
    assert!(reports > 20);
    assert!(
        listed.values().all(|n| *n > 0) && listed.len() == 2,
        "{listed:?}"
    );
    let once = |kind| seen.iter().filter(|((k, _), _)| *k == kind).count();
    assert!(once(DeviceReportKind::Migrated) > 100, "devices migrated");
    assert!(once(DeviceReportKind::Failed) > 0, "devices failed");
    assert!(
        seen.values().all(|n| *n == 1),
        "a device reported twice for one outcome: {:?}",
        seen.iter().find(|(_, n)| **n > 1)
    );
    // Every device the ledger knows migrated appears in exactly one 001.
    let migrated = ledger
        .entries()
        .iter()
        .filter(|a| a.result.is_completed() || a.resolved.is_some_and(|r| r.1.is_completed()))
        .map(|a| a.device)
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(migrated.len(), once(DeviceReportKind::Migrated));
}

#[test]
fn a_device_observed_back_on_tcos_leaves_006_and_a_later_install_starts_again() {
    let mut ledger = scripted();
    let at = |d: u8, h: u8| t(2026, 12, d, h, 0, 0).unix_seconds();
    ledger.apply(&LedgerEntry::Observed {
        device: d(1),
        observation: Observation {
            at: at(20, 9),
            state: CellState::Tcos,
            source: EvidenceSource::CredentialDetailsResponse,
        },
    });
    ledger.apply(&LedgerEntry::Observed {
        device: d(1),
        observation: Observation {
            at: at(22, 9),
            state: CellState::Ecos,
            source: EvidenceSource::UpdateOutcome,
        },
    });
    let kind = DeviceReportKind::EcosInstalled;
    let (start, _) = kind.period(created(kind));
    let row_at = |end: GeneralizedTime, ledger: &mut Ledger| {
        let (r, _) =
            DeviceReport::for_period(ledger, kind, supplier(), start, end, end, None, i64::MAX)
                .expect("report");
        r.rows.iter().find(|r| r.device == d(1)).map(|r| r.at)
    };
    assert_eq!(
        row_at(t(2026, 12, 19, 0, 0, 0), &mut ledger),
        Some(t(2026, 12, 8, 10, 0, 0))
    );
    assert_eq!(row_at(t(2026, 12, 21, 0, 0, 0), &mut ledger), None);
    assert_eq!(
        row_at(t(2026, 12, 31, 0, 0, 0), &mut ledger),
        Some(t(2026, 12, 22, 9, 0, 0))
    );
    let counts = ledger.counts_as_at(&supplier(), t(2026, 12, 21, 0, 0, 0).unix_seconds());
    assert_eq!(counts.ecos_installed, 2);
}

#[test]
fn the_field_rules_validator_passes_each_golden_and_catches_each_broken_rule() {
    for kind in DeviceReportKind::ALL {
        report_rules::validate(&golden(kind)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
    let migrated = golden(DeviceReportKind::Migrated);
    let failed = golden(DeviceReportKind::Failed);
    let broken = [
        migrated.replace(",ACME,E-1,", &format!(",{},E-1,", "A".repeat(31))),
        migrated.replace("00-DB-12-34-56-78-00-01", "00-db-12-34-56-78-00-01"),
        migrated.replace("99,2,", "99,3,"),
        migrated.replace(",1.0,", ",1.0.0.0.0,"),
        migrated.replace("T100000\n", "T240000\n"),
        migrated.replace(",ESME,", ",METER,"),
        migrated.replace("DCC Controlled\n10", "DCC Restricted\n10"),
        failed.replace(",device refused,", ",refused,"),
        failed.replace(",127\n", ",300\n"),
        golden(DeviceReportKind::EcosInstalled).replace(",Installed\n99", ",Installed!\n99"),
        migrated.replace('\n', "\r\n"),
    ];
    for text in &broken {
        assert!(report_rules::validate(text).is_err(), "{text}");
    }
}

#[test]
fn meter_asset_providers_get_the_per_device_reports_of_their_devices_only() {
    let mut sim =
        SimulatedMigration::new(b"asset providers", 5, 1_000, &FleetMix::default(), CLOCK)
            .expect("fleet");
    let owners: BTreeMap<EntityId, Option<SecPartyId>> = sim
        .fleet
        .records
        .iter()
        .map(|r| (r.entity_id, r.meter_asset_provider.clone()))
        .collect();
    let mut run = run::Run::new(&mut sim, EngineConfig::default(), 1);
    run.run(&sim);
    let mut ledger = run.ledger().clone();
    let providers = ledger.asset_providers();
    assert_eq!(providers.len(), 2, "{providers:?}");
    let start = GeneralizedTime::from_unix_seconds(CLOCK - 3600).expect("start");
    let end = GeneralizedTime::from_unix_seconds(CLOCK + 120 * 86_400).expect("end");
    let now = end.unix_seconds() + 1;
    for map in &providers {
        let (installed, _) = DeviceReport::for_period(
            &mut ledger,
            DeviceReportKind::EcosInstalled,
            map.clone(),
            start,
            end,
            end,
            None,
            now,
        )
        .expect("006 to a MAP");
        let want = owners
            .iter()
            .filter(|(d, m)| {
                m.as_ref() == Some(map)
                    && ledger
                        .device(**d)
                        .and_then(|h| h.state_as_at(end.unix_seconds()))
                        == Some(CellState::Ecos)
            })
            .count();
        assert!(want > 0);
        assert_eq!(installed.rows.len(), want, "{map}");
        assert!(installed
            .rows
            .iter()
            .all(|r| owners[&r.device].as_ref() == Some(map)));
        // Not a supplier: the supplier-level reports are refused, and use no number.
        assert_eq!(
            gbcs::cos::report::Ecosmig005::for_period(
                &mut ledger,
                map.clone(),
                start,
                end,
                end,
                None,
                now
            ),
            Err(ReportRefused::UnknownRecipient(map.clone()))
        );
        assert_eq!(ledger.next_sequence("ECOSMIG-005", map), 1);
    }
    // The schedule gives them 001, 002, 004 and 006 only.
    let due = gbcs::cos::report::due(&ledger, now);
    let to_maps: std::collections::BTreeSet<&str> = due
        .iter()
        .filter(|d| providers.contains(&d.recipient))
        .map(|d| d.report.id())
        .collect();
    assert_eq!(
        to_maps.into_iter().collect::<Vec<_>>(),
        ["ECOSMIG-001", "ECOSMIG-002", "ECOSMIG-004", "ECOSMIG-006"]
    );
}
