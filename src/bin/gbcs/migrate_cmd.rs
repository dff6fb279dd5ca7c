//! `gbcs migrate` of a simulated fleet (a run, written to a store as it goes and resumed
//! from it).

use gbcs::crypto::KeyAgreement;

use crate::failure::{Failure, Result};
use crate::keys;
use crate::messages::{module, signing_key};
use crate::migrate_store::{open_run_store, RunId, RunStore};
use clap::ArgMatches;
use gbcs::store::RunKind;

/// When a simulated migration starts: 2025-12-01T00:00:00Z (the same for `sim-meters`).
pub const SIM_START: i64 = 1_764_547_200;

pub fn migrate(m: &ArgMatches) -> Result<String> {
    use gbcs::sim::fleet::{FleetMix, MigrationParties, SimulatedMigration};
    if let Some(inventory) = m.get_one::<String>("inventory") {
        return crate::migrate_inventory::migrate(m, inventory);
    }
    let n = usize::try_from(m.get_one::<u64>("simulate").copied().unwrap_or(0))
        .map_err(|_| Failure::usage("--simulate too large"))?;
    let seed = m.get_one::<u64>("seed").copied().unwrap_or(1);
    let (config, profile) = crate::input::network_flags(m, seed)?;
    // Nothing is overwritten silently: a ledger file already there is another run's.
    if let Some(path) = m.get_one::<String>("ledger") {
        if std::path::Path::new(path).exists() {
            return Err(Failure::usage(format!(
                "--ledger {path} exists (another run's ledger and the report numbers issued from it): nothing is overwritten; give a new path"
            )));
        }
    }
    let pki =
        gbcs::sim::TestPki::generate_with_backend(b"gbcs migrate", gbcs::crypto::Backend::DEFAULT)
            .map_err(|e| Failure::key(e.to_string()))?;
    // Keys given on the command line (files or HSM URIs) sign and MAC; the test PKI certifies
    // their public keys, so the simulated meters trust them.
    let tcos = match m.get_one::<String>("key") {
        Some(k) => Some(signing_key(m, k)?),
        // The test PKI's own TCoS key, made deterministic.
        None if crate::messages::deterministic(m) => {
            let key = keys::deterministic_key(pki.tcos.ds.key.clone())
                .map_err(|e| Failure::key(e.to_string()))?;
            Some(keys::Signer {
                public: Some(key.public_key()),
                signer: Box::new(key),
                provenance: keys::Provenance::Unknown,
            })
        }
        None => None,
    };
    let acb = m
        .get_one::<String>("acb-key")
        .map(|k| keys::agreement(k, module(m)).map_err(Failure::key))
        .transpose()?;
    let public = |k: Option<&gbcs::crypto::PublicKey>, what: &str| {
        k.cloned().ok_or_else(|| {
            Failure::key(format!(
                "{what}: the token has no public key object beside the key"
            ))
        })
    };
    let tcos_public = tcos
        .as_ref()
        .map(|t| public(t.public.as_ref(), "--key"))
        .transpose()?;
    let acb_public = acb
        .as_ref()
        .map(|a| public(a.public.as_ref(), "--acb-key"))
        .transpose()?;
    let parties = MigrationParties::certified(&pki, tcos_public.as_ref(), acb_public.as_ref())
        .map_err(|e| Failure::key(e.to_string()))?;
    let tcos_credential = parties
        .tcos_credential()
        .map_err(|e| Failure::key(e.to_string()))?;
    // With a store (and one engine), the fleet is taken a window at a time: no device is
    // made until its window comes.
    let windowed = m.contains_id("state") && !m.contains_id("engine");
    let mut sim = SimulatedMigration::from_pki(
        pki,
        parties,
        seed,
        if windowed { 0 } else { n },
        &FleetMix::default(),
        SIM_START,
    )
    .map_err(|e| Failure::key(e.to_string()))?;
    let keyring = Keyring {
        tcos: tcos.as_ref(),
        acb: acb.as_ref(),
        credential: tcos_credential,
        own_tcos: sim.pki.tcos.ds.key.clone(),
        own_acb: sim.pki.acb.ka.key.clone(),
    };
    // The store, when given: a new one, or the same simulated run's to resume; another
    // run's store is refused (nothing is overwritten or mixed).
    let flags = gbcs::cos::engine::StartingCounters {
        tcos: m.get_one::<u64>("tcos-counter").copied().unwrap_or(1),
        acb: m.get_one::<u64>("acb-counter").copied().unwrap_or(1),
    };
    if let (Some(engine_name), Some(url)) =
        (m.get_one::<String>("engine"), m.get_one::<String>("state"))
    {
        let inventory = core::mem::take(&mut sim.fleet.records);
        let (signer, acb_key) = engine_keys(&sim, tcos.as_ref(), acb.as_ref(), tcos_credential);
        let exec = exec_transport(m)?;
        let mut batch =
            crate::migrate_leased::simulated_batch(&sim, exec, profile, signer, acb_key);
        let run = crate::migrate_leased::Leased {
            run: RunId::new(
                RunKind::Simulated,
                u64::try_from(n).unwrap_or(u64::MAX),
                seed,
            ),
            inventory,
            policy: sim.policy.clone(),
            config,
            flags,
            start: SIM_START,
            run_batch: &mut batch,
        };
        return crate::migrate_leased::run(m, url, engine_name, run);
    }
    let run_id = RunId::new(
        RunKind::Simulated,
        u64::try_from(n).unwrap_or(u64::MAX),
        seed,
    );
    let (mut store, resumed) = match m.get_one::<String>("state") {
        Some(url) => match open_run_store(url, &run_id, SIM_START, !windowed)? {
            RunStore::Complete(line) => return Ok(line),
            RunStore::Fresh(s) if windowed => {
                return windowed_run(
                    m,
                    &mut sim,
                    s,
                    url,
                    n,
                    seed,
                    false,
                    keyring,
                    (config, profile),
                    flags,
                )
            }
            RunStore::Resume(s, _) if windowed => {
                return windowed_run(
                    m,
                    &mut sim,
                    s,
                    url,
                    n,
                    seed,
                    true,
                    keyring,
                    (config, profile),
                    flags,
                )
            }
            RunStore::Fresh(s) => (Some(s), None),
            RunStore::Resume(s, r) => (Some(s), Some(r)),
        },
        None => (None, None),
    };
    let mut resumed_line = String::new();
    let mut engine = match resumed {
        // Each party's counters start where that party's stand: a meter accepts only
        // counters above the last it saw from the same originator.
        None => sim.engine(config, flags),
        Some(r) => {
            resumed_line = r.line(flags);
            let records = core::mem::take(&mut sim.fleet.records);
            r.engine(records, sim.policy.clone(), config, flags)
        }
    };
    let bar = crate::migrate_store::progress_bar(n)?;
    let (signer, acb_key) = engine_keys(&sim, tcos.as_ref(), acb.as_ref(), tcos_credential);
    let driver = gbcs::driver::DriverConfig {
        stop_on_ctrl_c: true,
        ..gbcs::driver::DriverConfig::default()
    };
    let mut no_store = gbcs::driver::NoStore;
    let sink: &mut dyn gbcs::driver::RecordSink = match store.as_mut() {
        Some(s) => s.as_sink(),
        None => &mut no_store,
    };
    let mut on_progress =
        |p: &gbcs::cos::engine::Stats| crate::migrate_store::show_progress(&bar, p);
    let transport = m
        .get_one::<String>("transport")
        .map(String::as_str)
        .unwrap_or("sim");
    let mut malformed = None;
    let report = match transport.strip_prefix("exec:") {
        Some(command) => {
            let mut child = gbcs::driver::exec::ExecTransport::spawn_line(command)
                .map_err(|e| Failure::usage(format!("--transport {transport}: {e}")))?;
            let report = sim.run_over(
                &mut engine,
                &mut child,
                &driver,
                signer,
                acb_key,
                sink,
                &mut |_| {},
                &mut on_progress,
            );
            malformed = Some(child.malformed());
            report
        }
        None if transport == "sim" => sim.run_realtime_using(
            &mut engine,
            profile,
            &driver,
            signer,
            acb_key,
            sink,
            &mut |_| {},
            &mut on_progress,
        ),
        None => {
            return Err(Failure::usage(format!(
                "--transport {transport}: give sim or exec:COMMAND"
            )))
        }
    }
    .map_err(Failure::key)?;
    bar.finish_and_clear();
    let run =
        crate::migrate_store::Concluded::of_engine(&engine, &report, malformed, n, resumed_line);
    run.conclude(m, store.as_deref_mut(), RunKind::Simulated)
}

/// The command `--transport exec:COMMAND` names, or none for `sim` (the default).
fn exec_transport(m: &ArgMatches) -> Result<Option<&str>> {
    let transport = m
        .get_one::<String>("transport")
        .map_or("sim", String::as_str);
    match transport.strip_prefix("exec:") {
        Some(command) => Ok(Some(command)),
        None if transport == "sim" => Ok(None),
        None => Err(Failure::usage(format!(
            "--transport {transport}: give sim or exec:COMMAND"
        ))),
    }
}

/// The keys a run signs and MACs with, owned (so the fleet can change under them): those
/// given on the command line, else the test PKI's.
struct Keyring<'k> {
    tcos: Option<&'k keys::Signer>,
    acb: Option<&'k keys::Agreement>,
    credential: gbcs::cos::Credential,
    own_tcos: gbcs::crypto::SigningKey,
    own_acb: gbcs::crypto::KeyAgreementKey,
}

/// `migrate --simulate N --state URL` a window at a time (`migrate_window`), over the
/// simulated network or a child per window (`--transport exec:…`).
#[allow(clippy::too_many_arguments)]
fn windowed_run(
    m: &ArgMatches,
    sim: &mut gbcs::sim::fleet::SimulatedMigration,
    mut store: Box<dyn gbcs::store::MigrationStore>,
    url: &str,
    n: usize,
    seed: u64,
    resuming: bool,
    keyring: Keyring<'_>,
    (config, profile): (
        gbcs::cos::engine::EngineConfig,
        gbcs::sim::network::NetworkProfile,
    ),
    flags: gbcs::cos::engine::StartingCounters,
) -> Result<String> {
    let signer = gbcs::cos::CosSigner {
        credential: keyring.credential,
        signer: match keyring.tcos {
            Some(t) => &*t.signer,
            None => &keyring.own_tcos,
        },
    };
    let acb_key: &(dyn KeyAgreement + Sync) = match keyring.acb {
        Some(a) => &*a.key,
        None => &keyring.own_acb,
    };
    let exec = exec_transport(m)?;
    let driver = gbcs::driver::DriverConfig {
        stop_on_ctrl_c: true,
        ..gbcs::driver::DriverConfig::default()
    };
    let mut malformed: Option<(u64, Option<String>)> = exec.map(|_| (0, None));
    let mut run_window = |sim: &gbcs::sim::fleet::SimulatedMigration,
                          engine: &mut gbcs::cos::engine::Engine,
                          sink: &mut dyn gbcs::driver::RecordSink,
                          progress: &mut dyn FnMut(&gbcs::cos::engine::Stats)|
     -> std::result::Result<gbcs::driver::RunReport, String> {
        match exec {
            // A child per window: a run ends by closing its transport.
            Some(command) => {
                let mut child = gbcs::driver::exec::ExecTransport::spawn_line(command)
                    .map_err(|e| format!("--transport exec:{command}: {e}"))?;
                let report = sim.run_over(
                    engine,
                    &mut child,
                    &driver,
                    signer,
                    acb_key,
                    sink,
                    &mut |_| {},
                    progress,
                );
                if let Some((total, first)) = malformed.as_mut() {
                    let (k, line) = child.malformed();
                    *total += k;
                    if first.is_none() {
                        *first = line;
                    }
                }
                report
            }
            None => sim.run_realtime_using(
                engine,
                profile,
                &driver,
                signer,
                acb_key,
                sink,
                &mut |_| {},
                progress,
            ),
        }
    };
    let bar = crate::migrate_store::progress_bar(n)?;
    let windows = crate::migrate_window::Windows {
        n,
        window: m.get_one::<usize>("window").copied().unwrap_or(10_000),
        policy: sim.policy.clone(),
        config,
        flags,
        start: SIM_START,
        url,
        resuming,
    };
    // A window's meters and records, drawn from the seed as the whole fleet's would be.
    let mut load = |sim: &mut gbcs::sim::fleet::SimulatedMigration,
                    range: core::ops::Range<usize>,
                    now: gbcs::cos::engine::UnixTime|
     -> Result<Vec<gbcs::cos::migration::DeviceRecord>> {
        sim.load_window(
            seed,
            range,
            &gbcs::sim::fleet::FleetMix::default(),
            now.secs(),
        )
        .map_err(|e| Failure::key(e.to_string()))?;
        Ok(core::mem::take(&mut sim.fleet.records))
    };
    let done =
        crate::migrate_window::run(sim, &mut load, &mut run_window, &mut *store, &windows, &bar)?;
    bar.finish_and_clear();
    let run = crate::migrate_store::Concluded {
        summary: done.summary,
        stopped: done.stopped,
        finished: done.finished,
        ledger: None,
        report: &done.report,
        malformed,
        devices: n,
        resumed_line: done.resumed_line,
    };
    run.conclude(m, Some(&mut *store), RunKind::Simulated)
}

/// The keys the engine signs and MACs with: those given on the command line, else the test
/// PKI's TCoS and ACB keys.
fn engine_keys<'a>(
    sim: &'a gbcs::sim::fleet::SimulatedMigration,
    tcos: Option<&'a keys::Signer>,
    acb: Option<&'a keys::Agreement>,
    credential: gbcs::cos::Credential,
) -> (gbcs::cos::CosSigner<'a>, &'a (dyn KeyAgreement + Sync)) {
    let signer = gbcs::cos::CosSigner {
        credential,
        signer: match tcos {
            Some(t) => &*t.signer,
            None => &sim.pki.tcos.ds.key,
        },
    };
    let acb_key: &(dyn KeyAgreement + Sync) = match acb {
        Some(a) => &*a.key,
        None => &sim.pki.acb.ka.key,
    };
    (signer, acb_key)
}
