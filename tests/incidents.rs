//! An auto-stop incident marked high priority (DCC's response ¶31c): the suppliers whose
//! devices were in the window that raised it are told which, each its own; marking when the
//! run is not stopped changes nothing and says so.

#[path = "support/migration_common.rs"]
mod common;
#[path = "support/run.rs"]
mod run;

use common::*;
use gbcs::cos::engine::{Event, Input, Record};
use gbcs::cos::migration::Incident;
use gbcs::cos::SecPartyId;
use gbcs::frame::EntityId;
use run::Run;
use std::collections::{BTreeMap, BTreeSet};

fn notices(run: &Run) -> BTreeMap<SecPartyId, Vec<EntityId>> {
    run.events()
        .iter()
        .filter_map(|e| match e {
            Event::HighPriorityIncident {
                supplier, devices, ..
            } => Some((supplier.clone(), devices.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_high_priority_incident_tells_each_supplier_its_devices_in_the_stopping_window() {
    let (mut sim, config) = bad_model_run();
    let mut run = Run::new(&mut sim, config, 1);
    // Not stopped yet: nothing to mark.
    run.input(&sim, Input::MarkHighPriority);
    assert!(run.events().iter().any(|e| matches!(e, Event::NoIncident)));
    run.run(&sim);
    let Some(Incident::ModelFaults {
        model, attempts, ..
    }) = run.stopped().cloned()
    else {
        panic!(
            "expected a model's faults to stop the run: {:?}",
            run.stopped()
        );
    };
    run.input(&sim, Input::MarkHighPriority);
    let told = notices(&run);
    assert!(!told.is_empty());
    let all: BTreeSet<EntityId> = told.values().flatten().copied().collect();
    // The model's window: each device of that model, each once, with its own supplier.
    assert_eq!(all.len() as u32, attempts, "{told:?}");
    let records: BTreeMap<EntityId, _> = run.records().iter().map(|r| (r.entity_id, r)).collect();
    for (supplier, devices) in &told {
        for d in devices {
            let r = records[d];
            assert_eq!(r.model, model, "{d}");
            assert_eq!(r.reporting_supplier(), supplier, "{d}");
            assert!(r.attempts > 0, "{d} was tried");
        }
    }
    // The record a store keeps says the same.
    assert!(run.h.records.iter().any(|(_, r)| matches!(
        r,
        Record::HighPriority { notified, .. }
            if notified.iter().map(|(_, d)| d.len()).sum::<usize>() == all.len()
    )));
    // Resumed: nothing stops the run, so nothing to mark.
    run.input(&sim, Input::Resume);
    let before = run.events().len();
    run.input(&sim, Input::MarkHighPriority);
    assert!(run.events()[before..]
        .iter()
        .any(|e| matches!(e, Event::NoIncident)));
    let events = run
        .events()
        .iter()
        .filter(|e| matches!(e, Event::HighPriorityIncident { .. }))
        .count();
    assert_eq!(events, told.len(), "no one told twice");
}
