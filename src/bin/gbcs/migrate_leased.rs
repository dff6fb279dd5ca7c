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

/// What a leased run needs from `migrate`.
pub struct Leased<'a> {
    pub sim: &'a SimulatedMigration,
    pub inventory: Vec<DeviceRecord>,
    pub config: EngineConfig,
    pub profile: NetworkProfile,
    pub flags: StartingCounters,
    pub signer: gbcs::cos::CosSigner<'a>,
    pub acb_key: &'a (dyn KeyAgreement + Sync),
    pub start: i64,
}

/// Runs this engine's share of the fleet until no device is left to any engine.
pub fn run(m: &ArgMatches, url: &str, engine_name: &str, run: Leased<'_>) -> Result<String> {
    let fail = |e: gbcs::store::StoreError| crate::report_cmds::store_failure(url, &e);
    let mut store = PgStore::connect(url).map_err(fail)?;
    let n = run.inventory.len();
    let meters = u64::try_from(n).unwrap_or(u64::MAX);
    let seed = m.get_one::<u64>("seed").copied().unwrap_or(1);
    match store.run_mark(gbcs::store::RunKind::Simulated).map_err(fail)? {
        Some(r) if r.meters == meters && r.seed == seed => {}
        Some(r) => {
            return Err(Failure::usage(format!(
                "--state {url} holds the run of --simulate {} --seed {}, not this one: nothing is overwritten or mixed",
                r.meters, r.seed
            )))
        }
        None => store.set_run_mark(gbcs::store::RunKind::Simulated, meters, seed).map_err(fail)?,
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
    let driver = gbcs::driver::DriverConfig {
        stop_on_ctrl_c: true,
        ..gbcs::driver::DriverConfig::default()
    };
    let transport = m
        .get_one::<String>("transport")
        .map(String::as_str)
        .unwrap_or("sim");
    let exec = match transport.strip_prefix("exec:") {
        Some(command) => Some(command),
        None if transport == "sim" => None,
        None => {
            return Err(Failure::usage(format!(
                "--transport {transport}: give sim or exec:COMMAND"
            )))
        }
    };
    let (mut batches, mut handled, mut sent, mut taken_over) = (0u64, 0usize, 0u64, 0usize);
    loop {
        let r = store.resumption().map_err(fail)?;
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
        // Counters above every block any engine reserved, read after the leases are ours.
        let r = store.resumption().map_err(fail)?;
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
            store.ledger().map_err(fail)?,
            &unresolved,
            run.sim.policy.clone(),
            run.config,
            StartingCounters {
                tcos: r.counters.tcos.max(run.flags.tcos),
                acb: r.counters.acb.max(run.flags.acb),
            },
            UnixTime::from_secs(last.max(run.start).saturating_add(1)),
        );
        // A child per batch: a run ends by closing its transport.
        let report = match exec {
            Some(command) => run.sim.run_over(
                &mut engine,
                &mut gbcs::driver::exec::ExecTransport::spawn_line(command)
                    .map_err(|e| Failure::usage(format!("--transport {transport}: {e}")))?,
                &driver,
                run.signer,
                run.acb_key,
                store.as_sink(),
                &mut |_| {},
                &mut |_| {},
            ),
            None => run.sim.run_realtime_using(
                &mut engine,
                run.profile,
                &driver,
                run.signer,
                run.acb_key,
                store.as_sink(),
                &mut |_| {},
                &mut |_| {},
            ),
        }
        .map_err(Failure::key)?;
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
    store
        .set_run_complete(gbcs::store::RunKind::Simulated)
        .map_err(fail)?;
    Ok(format!(
        "engine {engine_name}: {batches} batches, {handled} devices, {sent} commands sent, {taken_over} commands of another life taken as lost replies\ncomplete: {n} devices, {migrated} migrated (every engine's), {} not migrated\n",
        n.saturating_sub(migrated)
    ))
}
