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
        let exec = exec_transport(m)?;
        let mut batch = crate::migrate_leased::simulated_batch(
            &sim,
            exec,
            profile,
            keyring.signer(),
            keyring.acb(),
        );
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
    // With a store: the fleet a window at a time, written to it and resumed from it.
    if let Some(url) = m.get_one::<String>("state") {
        let (store, resuming) = match open_run_store(url, &run_id)? {
            RunStore::Complete(line) => return Ok(line),
            RunStore::Fresh(s) => (s, false),
            RunStore::Resume(s) => (s, true),
        };
        return windowed_run(
            m,
            &mut sim,
            store,
            url,
            n,
            seed,
            resuming,
            &keyring,
            (config, profile),
            flags,
        );
    }
    // Without one: one engine over the whole fleet, nothing kept. Each party's counters
    // start where the flags say: a meter accepts only counters above the last it saw.
    let mut engine = sim.engine(config, flags);
    let bar = crate::migrate_store::progress_bar(n)?;
    let driver = crate::migrate_store::driver_config();
    let mut on_progress =
        |p: &gbcs::cos::engine::Stats| crate::migrate_store::show_progress(&bar, p);
    let mut malformed = None;
    let report = match exec_transport(m)? {
        Some(command) => {
            let mut child = gbcs::driver::exec::ExecTransport::spawn_line(command)
                .map_err(|e| Failure::usage(format!("--transport exec:{command}: {e}")))?;
            let report = sim.run_over(
                &mut engine,
                &mut child,
                &driver,
                keyring.signer(),
                keyring.acb(),
                &mut gbcs::driver::NoStore,
                &mut |_| {},
                &mut on_progress,
            );
            malformed = Some(child.malformed());
            report
        }
        None => sim.run_realtime_using(
            &mut engine,
            profile,
            &driver,
            keyring.signer(),
            keyring.acb(),
            &mut gbcs::driver::NoStore,
            &mut |_| {},
            &mut on_progress,
        ),
    }
    .map_err(Failure::key)?;
    bar.finish_and_clear();
    let run =
        crate::migrate_store::Concluded::of_engine(&engine, &report, malformed, n, String::new());
    run.conclude(m, None, RunKind::Simulated)
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

/// The keys a run signs and MACs with: those given on the command line, else the test PKI's
/// (owned, so a windowed run's fleet can change under them).
struct Keyring<'k> {
    tcos: Option<&'k keys::Signer>,
    acb: Option<&'k keys::Agreement>,
    credential: gbcs::cos::Credential,
    own_tcos: gbcs::crypto::SigningKey,
    own_acb: gbcs::crypto::KeyAgreementKey,
}

impl Keyring<'_> {
    /// The TCoS signer.
    fn signer(&self) -> gbcs::cos::CosSigner<'_> {
        gbcs::cos::CosSigner {
            credential: self.credential,
            signer: match self.tcos {
                Some(t) => &*t.signer,
                None => &self.own_tcos,
            },
        }
    }

    /// The ACB's key agreement key.
    fn acb(&self) -> &(dyn KeyAgreement + Sync) {
        match self.acb {
            Some(a) => &*a.key,
            None => &self.own_acb,
        }
    }
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
    keyring: &Keyring<'_>,
    (config, profile): (
        gbcs::cos::engine::EngineConfig,
        gbcs::sim::network::NetworkProfile,
    ),
    flags: gbcs::cos::engine::StartingCounters,
) -> Result<String> {
    let (signer, acb_key) = (keyring.signer(), keyring.acb());
    let exec = exec_transport(m)?;
    let driver = crate::migrate_store::driver_config();
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
                if let Some(tally) = malformed.as_mut() {
                    crate::migrate_window::tally_malformed(tally, child.malformed());
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
        window: crate::migrate_window::window_flag(m),
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
