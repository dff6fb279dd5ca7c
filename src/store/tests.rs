//! The SQLite store's own tests.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
use super::*;
use crate::cos::ledger::{CellState, Descriptor};
use crate::cos::migration::{Outcome, SecPartyId, TransientCause};
use crate::cos::{DeviceType, EvidenceSource, ModelKey};
use crate::frame::EntityId;
use std::format;

fn path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gbcs-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn sample() -> Ledger {
    let mut l = Ledger::new();
    let s = SecPartyId::new("SUPA01").expect("id");
    let d = EntityId::from_u64(0x00DB_0000_0000_0001);
    l.apply(&LedgerEntry::Supplier {
        device: d,
        at: 10,
        supplier: s.clone(),
    });
    l.apply(&LedgerEntry::Descriptor {
        device: d,
        at: 10,
        descriptor: Descriptor {
            device_type: DeviceType::Esme,
            model: ModelKey::new("ACME", "E-1"),
            firmware: "1.0".into(),
            meter_asset_provider: Some(SecPartyId::new("MAPA01").expect("id")),
        },
    });
    l.observe(d, 10, CellState::Tcos, EvidenceSource::Inventory);
    let lost = Outcome::Transient(TransientCause::NoResponse);
    l.record(&s, d, 1, &lost, 20).expect("attempt");
    assert!(l.resolve_completed(d, 1, 30));
    l.clear(d, 40, "operator".into());
    l.issue_sequence("ECOSMIG-007", &s, None).expect("seq");
    l.record_made("ECOSMIG-007", &s, 0, 99);
    l
}

#[test]
fn a_ledger_written_as_entries_reads_back_the_same() {
    let p = path("roundtrip.sqlite");
    let ledger = sample();
    let mut store = SqliteLedger::open(&p).expect("open");
    assert!(store.is_empty().expect("len"));
    store.append(&ledger.to_entries()).expect("append");
    drop(store);
    let back = SqliteLedger::open(&p)
        .expect("reopen")
        .ledger()
        .expect("ledger");
    assert_eq!(back, ledger);
}

#[test]
fn a_store_of_a_newer_schema_or_with_a_bad_row_is_refused() {
    let p = path("newer.sqlite");
    drop(SqliteLedger::open(&p).expect("open"));
    let raw = Connection::open(&p).expect("raw");
    raw.execute(
        "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
        [],
    )
    .expect("bump");
    drop(raw);
    match SqliteLedger::open(&p) {
        Err(StoreError::NewerSchema { found: 99, .. }) => {}
        other => panic!("{other:?}"),
    }
    let p = path("bad.sqlite");
    let mut store = SqliteLedger::open(&p).expect("open");
    store.append(&sample().to_entries()).expect("append");
    let n = i64::try_from(store.len().expect("len")).expect("n");
    store
        .conn
        .execute(
            "INSERT INTO ledger_entries (entry) VALUES ('{\"attempt\": 7}')",
            [],
        )
        .expect("insert");
    match store.ledger() {
        Err(StoreError::BadRow { seq, .. }) => assert_eq!(seq, n + 1),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        sqlite_path("postgres://db/gbcs"),
        Err(StoreError::Url(_))
    ));
    assert_eq!(
        sqlite_path("sqlite:///tmp/a.db").expect("path"),
        "/tmp/a.db"
    );
    assert_eq!(sqlite_path("sqlite:a.db").expect("path"), "a.db");
}

#[test]
fn a_store_of_schema_1_is_brought_to_2_keeping_its_ledger() {
    let p = path("v1.sqlite");
    {
        // A store as schema 1 wrote it: the ledger's entries, no events.
        let raw = Connection::open(&p).expect("raw");
        raw.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE ledger_entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
             INSERT INTO meta (key, value) VALUES ('schema_version', 1);",
        )
        .expect("v1");
        for e in sample().to_entries() {
            raw.execute(
                "INSERT INTO ledger_entries (entry) VALUES (?1)",
                params![serde_json::to_string(&e).expect("json")],
            )
            .expect("row");
        }
    }
    let store = SqliteLedger::open(&p).expect("open");
    assert_eq!(store.ledger().expect("ledger"), sample());
    assert_eq!(store.events_span().expect("span"), None);
    // The device index is filled from the entries: each device's ledger reads back alone.
    let devices: alloc::collections::BTreeSet<_> = sample()
        .to_entries()
        .iter()
        .filter_map(LedgerEntry::device)
        .collect();
    assert!(!devices.is_empty());
    for d in devices {
        let theirs: Vec<_> = sample()
            .to_entries()
            .into_iter()
            .filter(|e| e.device() == Some(d))
            .collect();
        assert_eq!(
            store.ledger_of(&[d]).expect("ledger of").to_entries(),
            theirs
        );
    }
    let v: i64 = store
        .conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .expect("version");
    assert_eq!(v, SCHEMA_VERSION);
}

#[test]
fn a_missing_store_is_not_created_by_a_reader_and_an_unknown_event_is_refused() {
    let p = path("absent.sqlite");
    assert!(matches!(
        SqliteLedger::open_existing(&p),
        Err(StoreError::Missing(_))
    ));
    assert!(!p.exists());
    let mut store = SqliteLedger::open(&p).expect("open");
    let at = crate::cos::engine::UnixTime::from_secs(100);
    store
        .append_records(&[Record::Paused { at, paused: true }])
        .expect("append");
    let b = Buckets::covering(100, 100);
    assert_eq!(store.activity(b).expect("activity").marks.len(), 1);
    store
        .conn
        .execute(
            "INSERT INTO events (at, kind) VALUES (100000, 'teleported')",
            [],
        )
        .expect("insert");
    match store.activity(b) {
        Err(StoreError::BadRow { message, .. }) => assert!(message.contains("teleported")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_windows_mark_only_goes_up_and_an_index_naming_a_missing_entry_is_refused() {
    let p = path("window-mark.sqlite");
    let mut store = SqliteLedger::open(&p).expect("open");
    assert_eq!(store.done_below().expect("mark"), 0);
    store.set_done_below(600).expect("mark");
    store.set_done_below(150).expect("a lower mark");
    assert_eq!(store.done_below().expect("mark"), 600);
    assert!(
        store.set_done_below(u64::MAX).is_err(),
        "beyond what SQLite keeps"
    );
    assert_eq!(store.done_below().expect("mark"), 600);

    store.append(&sample().to_entries()).expect("append");
    let d = sample()
        .to_entries()
        .iter()
        .find_map(LedgerEntry::device)
        .expect("a device entry");
    assert!(!store
        .ledger_of(&[d])
        .expect("ledger of")
        .to_entries()
        .is_empty());
    // A device nothing names reads back as no history.
    let stranger = EntityId([0xFE; 8]);
    assert!(store
        .ledger_of(&[stranger])
        .expect("ledger of")
        .to_entries()
        .is_empty());
    // An entry the index names, gone: refused, never read as a shorter history.
    store
        .conn
        .execute(
            "DELETE FROM ledger_entries WHERE seq = (SELECT MIN(seq) FROM ledger_devices WHERE device = ?1)",
            [i64::from_be_bytes(d.0)],
        )
        .expect("delete");
    match store.ledger_of(&[d]) {
        Err(StoreError::BadRow { message, .. }) => {
            assert!(message.contains("missing"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
