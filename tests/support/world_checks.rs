//! The checks of a run's store against its meters' own log (`sim-meters --world`), shared by
//! the crash harness and the two-engine test.
#![allow(dead_code)]

use gbcs::sim::pki::ids;
use gbcs::store::world::{Delivered, MeterWorld};
use std::collections::{BTreeMap, BTreeSet};

/// The commands the store `state` holds as sent: (device bits, counter, command).
pub fn sent_in_store(state: &str) -> BTreeSet<(i64, i64, String)> {
    const Q: &str = "SELECT device, counter, command FROM events WHERE kind = 'sent'";
    if state.starts_with("postgres") {
        let mut c = postgres::Client::connect(state, postgres::NoTls).expect("state");
        return c
            .query(Q, &[])
            .expect("rows")
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    }
    let path = gbcs::store::sqlite_path(state).expect("path");
    let conn = rusqlite::Connection::open(path).expect("state");
    let mut stmt = conn.prepare(Q).expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("sent")
}

/// Checks the store `state` of a finished run of `n` meters against the meters' `world`:
/// no replay refused, counters only up per device and sender, no cell replaced twice, every
/// command taken is in the store, the store and the meters agree on every cell, nothing
/// left in flight. Returns the log and the devices migrated.
pub fn check_store_against_meters(
    world: &MeterWorld,
    state: &str,
    n: u64,
) -> (Vec<Delivered>, usize) {
    // The meters' log.
    let log = world.deliveries().expect("log");
    assert!(!log.is_empty());
    let replays: Vec<_> = log.iter().filter(|d| d.is_replay()).collect();
    assert!(replays.is_empty(), "refused as replays: {replays:?}");
    let mut last_counter: BTreeMap<_, u64> = BTreeMap::new();
    let mut replaced: BTreeMap<_, u32> = BTreeMap::new();
    for d in &log {
        let (Some(from), Some(counter)) = (d.originator, d.counter) else {
            panic!("a command that does not parse reached a meter: {d:?}");
        };
        if let Some(before) = last_counter.insert((d.device, from), counter) {
            assert!(counter > before, "{d:?} after counter {before}");
        }
        if d.role5.0 != d.role5.1 {
            *replaced.entry(d.device).or_default() += 1;
        }
    }
    assert!(
        replaced.values().all(|&k| k == 1),
        "a cell replaced twice: {:?}",
        replaced.iter().find(|(_, &k)| k > 1)
    );

    // Every command a meter took is in the store as sent.
    let sent = sent_in_store(state);
    for d in &log {
        let kind = match d.code {
            Some(0x0106) => "migration",
            Some(0x0008) => "read",
            other => panic!("a command the engine never sends: {other:?}"),
        };
        let key = (
            i64::from_be_bytes(d.device.0),
            i64::try_from(d.counter.unwrap_or_default()).expect("counter"),
            kind.to_owned(),
        );
        assert!(sent.contains(&key), "{d:?} is not in the store");
    }

    // The store and the meters agree on every cell; nothing is left in flight.
    let store = gbcs::store::open_url(state).expect("store");
    let r = store.resumption().expect("resumption");
    assert!(r.unresolved.is_empty(), "{:?}", r.unresolved.first());
    assert_eq!(r.progress.len(), usize::try_from(n).expect("n"));
    let (mut migrated, mut unconfirmed_ecos) = (0, 0);
    for (device, progress) in &r.progress {
        let cell = world.memory(*device).expect("memory").map(|m| {
            m.cells
                .iter()
                .find(|(id, _)| {
                    *id == gbcs::payload::TrustAnchorCellIdentifier::TRANSITIONAL_COS_DS
                })
                .map(|(_, c)| c.entity_id)
        });
        let store_says_ecos = progress.state == gbcs::cos::CosState::Ecos;
        match cell {
            // The device's last migration command got no reply and every read of its cell
            // since went unanswered, as often as attempts allow: the store does not claim to
            // know whether it ran, and the meter may hold either. (Any read answered settles
            // it: a device is never given up with its last command's fate unread.)
            Some(role5) if progress.unconfirmed.is_some() => {
                assert!(
                    progress.unanswered_reads >= gbcs::sim::fleet::fleet_policy().max_attempts,
                    "{device}: given up with its last command unread: {progress:?}"
                );
                assert_ne!(
                    progress.status,
                    gbcs::cos::migration::MigrationStatus::Migrated,
                    "{device}"
                );
                unconfirmed_ecos += usize::from(role5 == Some(ids::ECOS));
            }
            Some(role5) => assert_eq!(
                role5 == Some(ids::ECOS),
                store_says_ecos,
                "{device}: {progress:?}"
            ),
            // A meter no command reached is as its seed made it: the store has not moved it.
            None => assert_ne!(
                progress.status,
                gbcs::cos::migration::MigrationStatus::Migrated,
                "{device}"
            ),
        }
        migrated += usize::from(progress.status == gbcs::cos::migration::MigrationStatus::Migrated);
    }
    assert_eq!(
        replaced.len(),
        migrated + unconfirmed_ecos,
        "cells replaced vs devices migrated (and unconfirmed ones the meter shows migrated)"
    );
    if unconfirmed_ecos > 0 {
        eprintln!(
            "{unconfirmed_ecos} devices gave up (needs investigation) on a command that did run: not read back after their last attempt"
        );
    }
    (log, migrated)
}
