//! `gbcs migrate --engine NAME --state postgres://…`: one of several engines migrating one
//! fleet together. The engine takes leases on devices in batches (`--lease-batch`), runs them
//! from what the store holds (their progress, their commands sent and never settled, counters
//! above every block any engine reserved), gives them back done, and takes more until no
//! device is left; a batch held by an engine that died is taken once its lease runs out.

use clap::ArgMatches;
use gbcs::cos::engine::{Engine, EngineConfig, StartingCounters, UnixTime};
use gbcs::cos::migration::DeviceRecord;
use gbcs::crypto::KeyAgreement;
use gbcs::sim::fleet::SimulatedMigration;
use gbcs::sim::network::NetworkProfile;
use gbcs::store::pg::PgStore;
use gbcs::store::MigrationStore;
use std::collections::{BTreeMap, BTreeSet};

use crate::failure::{Failure, Result};
use crate::migrate_store::RunId;
use gbcs::store::RunKind;

/// Runs one batch's engine to its end over the run's transport, writing to the sink.
pub type RunBatch<'a> = dyn FnMut(
        &mut Engine,
        &mut dyn gbcs::driver::RecordSink,
    ) -> std::result::Result<gbcs::driver::RunReport, String>
    + 'a;

/// What a leased run needs from `migrate`: the run (its kind and marks), its devices and
/// policy, and how a batch is run (a simulated fleet's network or an inventory's transport).
pub struct Leased<'a> {
    pub run: RunId,
    pub inventory: Vec<DeviceRecord>,
    pub policy: gbcs::cos::migration::MigrationPolicy,
    pub config: EngineConfig,
    pub flags: StartingCounters,
    pub start: i64,
    pub run_batch: &'a mut RunBatch<'a>,
}

/// A simulated fleet's batch: over `sim`'s network (`exec` none) or a child per batch.
pub fn simulated_batch<'a>(
    sim: &'a SimulatedMigration,
    exec: Option<&'a str>,
    profile: NetworkProfile,
    signer: gbcs::cos::CosSigner<'a>,
    acb_key: &'a (dyn KeyAgreement + Sync),
) -> impl FnMut(
    &mut Engine,
    &mut dyn gbcs::driver::RecordSink,
) -> std::result::Result<gbcs::driver::RunReport, String>
       + 'a {
    let driver = crate::migrate_store::driver_config();
    move |engine, sink| match exec {
        // A child per batch: a run ends by closing its transport.
        Some(command) => sim.run_over(
            engine,
            &mut gbcs::driver::exec::ExecTransport::spawn_line(command)
                .map_err(|e| format!("--transport exec:{command}: {e}"))?,
            &driver,
            signer,
            acb_key,
            sink,
            &mut |_| {},
            &mut |_| {},
        ),
        None => sim.run_realtime_using(
            engine,
            profile,
            &driver,
            signer,
            acb_key,
            sink,
            &mut |_| {},
            &mut |_| {},
        ),
    }
}

/// Runs this engine's share of the fleet until no device is left to any engine.
pub fn run(m: &ArgMatches, url: &str, engine_name: &str, run: Leased<'_>) -> Result<String> {
    let fail = |e: gbcs::store::StoreError| crate::report_cmds::store_failure(url, &e);
    let mut store = PgStore::connect(url).map_err(fail)?;
    let n = run.inventory.len();
    let id = &run.run;
    let other = match id.kind {
        RunKind::Simulated => RunKind::Inventory,
        RunKind::Inventory => RunKind::Simulated,
    };
    if store.run_mark(other).map_err(fail)?.is_some() {
        return Err(Failure::usage(format!(
            "--state {url} holds a run of another kind, not the {}: nothing is overwritten or mixed",
            id.name
        )));
    }
    match store.run_mark(id.kind).map_err(fail)? {
        Some(r) if r.meters == id.a && r.seed == id.b => {}
        Some(r) => {
            return Err(Failure::usage(format!(
                "--state {url} holds the {}, not this one: nothing is overwritten or mixed",
                RunId::new(id.kind, r.meters, r.seed).name
            )))
        }
        None => store.set_run_mark(id.kind, id.a, id.b).map_err(fail)?,
    }
    let ids: Vec<_> = run.inventory.iter().map(|r| r.entity_id).collect();
    store.seed_leases(&ids).map_err(fail)?;
    let batch = m
        .get_one::<usize>("lease-batch")
        .copied()
        .unwrap_or(1_000)
        .max(1);
    let ttl_ms =
        i64::try_from(m.get_one::<u64>("lease-ttl").copied().unwrap_or(30_000)).unwrap_or(i64::MAX);
    let (mut batches, mut handled, mut sent, mut taken_over) = (0u64, 0usize, 0u64, 0usize);
    // This engine's auto-stop judgement goes on from batch to batch.
    let mut monitor: Option<gbcs::cos::migration::AutoStop> = None;
    loop {
        let r = store.resumption_of(&[]).map_err(fail)?;
        if let Some(reason) = r.stopped {
            return Err(Failure::Stopped {
                out: format!("engine {engine_name}: {batches} batches, {handled} devices\n"),
                reason: format!("the run stands stopped by: {reason}"),
            });
        }
        let held: BTreeSet<_> = store
            .acquire(engine_name, batch, ttl_ms)
            .map_err(fail)?
            .into_iter()
            .collect();
        if held.is_empty() {
            let (open, others) = store.lease_state(engine_name).map_err(fail)?;
            if open == 0 {
                break;
            }
            // Other engines hold what is left: wait for them to finish it, or for their
            // leases to run out.
            let _ = others;
            std::thread::sleep(std::time::Duration::from_millis(200));
            continue;
        }
        // Counters above every block any engine reserved, read after the leases are ours;
        // the batch's devices' progress and history only, not the fleet's.
        let held_ids: Vec<_> = held.iter().copied().collect();
        let r = store.resumption_of(&held_ids).map_err(fail)?;
        let progress: BTreeMap<_, _> = r.progress.into_iter().collect();
        let records: Vec<DeviceRecord> = run
            .inventory
            .iter()
            .filter(|d| held.contains(&d.entity_id))
            .cloned()
            .map(|mut d| {
                if let Some(p) = progress.get(&d.entity_id) {
                    d.restore(p.clone());
                }
                d
            })
            .collect();
        let unresolved: Vec<_> = r
            .unresolved
            .into_iter()
            .filter(|u| held.contains(&u.device))
            .collect();
        taken_over += unresolved.len();
        let last = store
            .events_span()
            .map_err(fail)?
            .map_or(run.start, |s| s.1);
        let mut engine = Engine::restart(
            records,
            store.ledger_of(&held_ids).map_err(fail)?,
            &unresolved,
            run.policy.clone(),
            run.config,
            StartingCounters {
                tcos: r.counters.tcos.max(run.flags.tcos),
                acb: r.counters.acb.max(run.flags.acb),
            },
            UnixTime::from_secs(last.max(run.start).saturating_add(1)),
        );
        if let Some(m) = monitor.take() {
            engine.carry_auto_stop(m);
        }
        let report = (run.run_batch)(&mut engine, store.as_sink()).map_err(Failure::key)?;
        monitor = Some(engine.auto_stop().clone());
        sent += report.stats.sent;
        if report.interrupted {
            return Err(Failure::Stopped {
                out: format!("engine {engine_name}: {batches} batches, {handled} devices\n"),
                reason: "interrupted: the commands in flight were waited for; this engine's leases run out for others to take".into(),
            });
        }
        if let Some(i) = engine.stopped() {
            return Err(Failure::Stopped {
                out: format!("engine {engine_name}: {batches} batches, {handled} devices\n"),
                reason: i.to_string(),
            });
        }
        store.release_done().map_err(fail)?;
        batches += 1;
        handled += held.len();
    }
    let r = store.resumption().map_err(fail)?;
    let migrated = r
        .progress
        .iter()
        .filter(|(_, p)| p.status == gbcs::cos::migration::MigrationStatus::Migrated)
        .count();
    store.set_run_complete(run.run.kind).map_err(fail)?;
    Ok(format!(
        "engine {engine_name}: {batches} batches, {handled} devices, {sent} commands sent, {taken_over} commands of another life taken as lost replies\ncomplete: {n} devices, {migrated} migrated (every engine's), {} not migrated\n",
        n.saturating_sub(migrated)
    ))
}
