//! Ledger files as the CLI reads them (continued from `trust.rs`): a file that would shift the
//! counts — a device twice, a device without a supplier, an attempt on an unknown device, an
//! attempt twice — is refused at its file, line and column; report sequence numbers are kept
//! per report and recipient, and a file of the earlier form reads as ECOSMIG-007's.

#[path = "support/trust_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;

use common::*;
use std::path::Path;

#[test]
fn a_ledger_file_that_would_shift_the_counts_is_refused_at_its_line() {
    let supplier = gbcs::cos::SecPartyId::new("SUPA01").expect("id");
    let mut ledger = gbcs::cos::Ledger::new();
    let record = shared_record();
    let policy = gbcs::cos::MigrationPolicy::default();
    ledger.track(&record, &policy, 100, gbcs::cos::EvidenceSource::Inventory);
    ledger
        .record(
            &supplier,
            record.entity_id,
            1,
            &gbcs::cos::Outcome::Migrated,
            200,
        )
        .expect("attempt");
    let good = serde_json::to_string_pretty(&ledger).expect("json");
    let file = tmp("ledger-good.json");
    std::fs::write(&file, &good).expect("write");
    let notices = |f: &Path| {
        gbcs(&[
            "report",
            "notices",
            "--ledger",
            path(f),
            "--supplier",
            "SUPA01",
        ])
    };
    assert_eq!(
        notices(&file).status.code(),
        Some(0),
        "{}",
        stderr(&notices(&file))
    );
    let device = record.entity_id.to_string();
    // The device listed twice.
    let devices_start = good.find("\"devices\": {").expect("devices") + "\"devices\": {".len();
    let entry_end = good[devices_start..].find("\n    }").expect("entry") + devices_start + 6;
    let entry = &good[devices_start..entry_end];
    let twice = format!(
        "{}{entry},{}",
        &good[..devices_start],
        &good[devices_start..]
    );
    // An attempt on a device the file does not hold.
    let stranger = good.replacen(
        &format!("\"device\": \"{device}\""),
        "\"device\": \"00DB000000000099\"",
        1,
    );
    // A device without a reporting supplier.
    let no_supplier = {
        let start = good.find("\"suppliers\": [").expect("suppliers");
        // The list's own closing bracket (its entries are lists too).
        let mut depth = 0;
        let end = start
            + good[start..]
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        _ => return false,
                    }
                    depth == 0
                })
                .expect("end")
                .0
            + 1;
        format!("{}\"suppliers\": []{}", &good[..start], &good[end..])
    };
    for (name, text, says) in [
        ("twice", twice, "listed twice"),
        (
            "stranger",
            stranger,
            "names a device the ledger does not hold",
        ),
        ("no-supplier", no_supplier, "has no reporting supplier"),
    ] {
        let f = tmp(&format!("ledger-{name}.json"));
        std::fs::write(&f, &text).expect("write");
        let out = notices(&f);
        assert_eq!(out.status.code(), Some(4), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(says), "{name}: {err}");
        // file:line:column: the line is that of the fault, not 0.
        let shown = format!("{}:", f.display());
        let line: u64 = err
            .split(&shown)
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        assert!(line > 1, "{name}: {err}");
    }
}

#[test]
fn sequence_numbers_are_kept_per_report_and_an_earlier_file_reads_as_ecosmig_007s() {
    let supplier = gbcs::cos::SecPartyId::new("SUPA01").expect("id");
    let mut ledger = gbcs::cos::Ledger::new();
    let record = shared_record();
    let policy = gbcs::cos::MigrationPolicy::default();
    ledger.track(&record, &policy, 100, gbcs::cos::EvidenceSource::Inventory);
    // Each report numbers its own: 007's numbers do not move 005's.
    for _ in 0..3 {
        ledger
            .issue_sequence("ECOSMIG-007", &supplier, None)
            .expect("issued");
    }
    assert_eq!(ledger.next_sequence("ECOSMIG-005", &supplier), 1);
    assert_eq!(ledger.next_sequence("ECOSMIG-007", &supplier), 4);
    // Reusing or going back is refused and records nothing; skipping ahead is an override.
    for stale in [1, 3] {
        let e = ledger
            .issue_sequence("ECOSMIG-007", &supplier, Some(stale))
            .expect_err("stale");
        assert_eq!((e.given, e.next), (stale, 4));
    }
    let skip = ledger
        .issue_sequence("ECOSMIG-007", &supplier, Some(6))
        .expect("ahead");
    assert!(skip.overridden());
    assert_eq!(ledger.missing_sequences("ECOSMIG-007", &supplier), [4, 5]);
    // Written per report; read back the same.
    let json = serde_json::to_string(&ledger).expect("json");
    assert!(json.contains("\"report_sequences\":{\"ECOSMIG-007\":{\"SUPA01\":[1,2,3,6]}}"));
    let back: gbcs::cos::Ledger = serde_json::from_str(&json).expect("read");
    assert_eq!(back, ledger);
    // A file of the earlier form: its numbers were ECOSMIG-007's.
    let earlier = json.replace(
        "\"report_sequences\":{\"ECOSMIG-007\":{\"SUPA01\":[1,2,3,6]}}",
        "\"sequences\":{\"SUPA01\":[1,2,3,6]}",
    );
    let read: gbcs::cos::Ledger = serde_json::from_str(&earlier).expect("earlier form");
    assert_eq!(read, ledger);
    // Both forms in one file: refused, not merged.
    let both = json.replace(
        "\"report_sequences\"",
        "\"sequences\":{},\"report_sequences\"",
    );
    let e = serde_json::from_str::<gbcs::cos::Ledger>(&both).expect_err("both");
    assert!(e.to_string().contains("given twice"), "{e}");
}

#[test]
fn a_ledger_file_whose_device_history_runs_backwards_is_refused() {
    let supplier = gbcs::cos::SecPartyId::new("SUPA01").expect("id");
    let other = gbcs::cos::SecPartyId::new("SUPB02").expect("id");
    let policy = gbcs::cos::MigrationPolicy::default();
    let mut record = shared_record();
    record.responsible_supplier = supplier;
    let mut ledger = gbcs::cos::Ledger::new();
    ledger.track(&record, &policy, 100, gbcs::cos::EvidenceSource::Inventory);
    record.responsible_supplier = other;
    record.firmware = gbcs::cos::FirmwareVersion::from("9.9");
    ledger.track(&record, &policy, 200, gbcs::cos::EvidenceSource::Inventory);
    let good = serde_json::to_string(&ledger).expect("json");
    assert_eq!(
        serde_json::from_str::<gbcs::cos::Ledger>(&good).expect("reads back"),
        ledger
    );
    // Swap the two times of each two-entry list: every list now runs newest first.
    let swapped = good
        .replace("[100,", "[TMP,")
        .replace("[200,", "[100,")
        .replace("[TMP,", "[200,");
    assert_ne!(swapped, good, "the file names both times");
    let err = serde_json::from_str::<gbcs::cos::Ledger>(&swapped)
        .expect_err("a history out of time order");
    assert!(err.to_string().contains("out of time order"), "{err}");
}
