//! Migrates a simulated fleet from TCoS to ECoS, with a progress display, then prints the
//! outcomes, devices per second and the ECOSMIG-007 report of each supplier.
//!
//! ```text
//! cargo run --release --example bulk_migration [-- --devices N --seed S --workers W
//!                                                  --backend rustcrypto|aws-lc]
//! cargo run --release --features pkcs11 --example bulk_migration -- --pkcs11-module SO \
//!     --key 'pkcs11:token=…;object=…?pin-source=file:…' --acb-key 'pkcs11:…'
//! ```
//!
//! With `--key` and `--acb-key` (feature `pkcs11`), the TCoS signature and the ACB's ECDH
//! happen in the HSM: the test PKI certifies the public keys read from the token, and the
//! simulated meters trust those certificates.
//!
//! Every key — the engine's (TCoS, ACB) and the simulated meters' — is on the chosen backend
//! (default: aws-lc when the feature is on). The time the meters spend answering is measured
//! apart (the transport is timed), so the engine's own devices per second is printed beside
//! the run's.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use gbcs::cos::engine::{EngineConfig, Transport};
use gbcs::cos::report::{Ecosmig007, ReportFormat};
use gbcs::cos::CosSigner;
use gbcs::crypto::{Backend, KeyAgreement, PublicKey, SignatureSigner};
use gbcs::frame::EntityId;
use gbcs::payload::GeneralizedTime;
use gbcs::sim::fleet::{FleetMix, MigrationParties, Profile, SimulatedMigration};
use gbcs::sim::TestPki;

fn arg(name: &str, default: u64) -> Result<u64, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a number")),
    }
}

fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

/// The simulated meters, with the time they spend answering added up (over all threads).
struct Timed<'a> {
    meters: &'a dyn Transport,
    nanos: AtomicU64,
}

impl Transport for Timed<'_> {
    fn exchange(&self, device: EntityId, command: &[u8]) -> Option<Vec<u8>> {
        let start = Instant::now();
        let reply = self.meters.exchange(device, command);
        let spent = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(spent, Ordering::Relaxed);
        reply
    }
}

/// The TCoS DS and ACB KA keys in an HSM, from `--key` and `--acb-key` (PKCS#11 URIs), with
/// the public keys read from the token.
struct HsmKeys {
    tcos: Box<dyn SignatureSigner + Sync>,
    acb: Box<dyn KeyAgreement + Sync>,
    tcos_public: PublicKey,
    acb_public: PublicKey,
}

#[cfg(feature = "pkcs11")]
fn hsm_keys() -> Result<Option<HsmKeys>, Box<dyn std::error::Error>> {
    use gbcs::crypto::pkcs11::{HsmKeyAgreementKey, HsmSigningKey, Pkcs11Module, Pkcs11Uri};
    let (Some(key), Some(acb)) = (text_arg("--key"), text_arg("--acb-key")) else {
        return Ok(None);
    };
    let module_path = text_arg("--pkcs11-module").map(std::path::PathBuf::from);
    eprintln!("TCoS signatures with {key} and ACB key agreement with {acb}, in the HSM");
    let (key, acb): (Pkcs11Uri, Pkcs11Uri) = (key.parse()?, acb.parse()?);
    let module = Pkcs11Module::for_uri(module_path.as_deref(), &key)?;
    let (tcos, acb) = (
        HsmSigningKey::open(&module, &key)?,
        HsmKeyAgreementKey::open(&module, &acb)?,
    );
    let (Some(tcos_public), Some(acb_public)) =
        (tcos.public_key().cloned(), acb.public_key().cloned())
    else {
        return Err("the token has no public key objects beside the keys".into());
    };
    Ok(Some(HsmKeys {
        tcos: Box::new(tcos),
        acb: Box::new(acb),
        tcos_public,
        acb_public,
    }))
}

#[cfg(not(feature = "pkcs11"))]
fn hsm_keys() -> Result<Option<HsmKeys>, Box<dyn std::error::Error>> {
    if text_arg("--key").is_some() || text_arg("--acb-key").is_some() {
        return Err("--key and --acb-key need the pkcs11 feature".into());
    }
    Ok(None)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let backend: Backend = match text_arg("--backend") {
        Some(name) => name.parse()?,
        None => Backend::DEFAULT,
    };
    let devices = usize::try_from(arg("--devices", 10_000)?)?;
    let seed = arg("--seed", 20_261_129)?;
    let workers = usize::try_from(arg(
        "--workers",
        std::thread::available_parallelism().map_or(1, |n| n.get()) as u64,
    )?)?;
    let clock = 1_764_547_200; // 2025-12-01T00:00:00Z

    eprintln!(
        "issuing the test PKI and {devices} simulated meters (seed {seed}, backend {backend}) …"
    );
    let hsm = hsm_keys()?;
    let pki = TestPki::generate_with_backend(b"bulk migration demo", backend)?;
    let parties = match &hsm {
        Some(h) => MigrationParties::certified(&pki, Some(&h.tcos_public), Some(&h.acb_public))?,
        None => MigrationParties::of(&pki),
    };
    let mut sim =
        SimulatedMigration::from_pki(pki, parties, seed, devices, &FleetMix::default(), clock)?;
    let profiles = sim.fleet.profiles.clone();
    let mut run = sim.start(1_000_000);
    let config = EngineConfig {
        batch_size: 500,
        workers,
        batch_interval_secs: 600,
    };

    let meters = Timed {
        meters: &sim.fleet.transport,
        nanos: AtomicU64::new(0),
    };
    let started = Instant::now();
    let tcos_credential = sim.parties.tcos_credential()?;
    let (signer, acb): (&(dyn SignatureSigner + Sync), &(dyn KeyAgreement + Sync)) = match &hsm {
        Some(h) => (&*h.tcos, &*h.acb),
        None => (&sim.pki.tcos.ds.key, &sim.pki.acb.ka.key),
    };
    let cos_signer = CosSigner {
        credential: tcos_credential,
        signer,
    };
    // Drawn on stderr only when it is a terminal (indicatif's own check).
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("[{bar:40}] {pos:>6}/{len} migrated  {msg}")?
            .progress_chars("#>."),
    );
    let last = sim.with_context_using(cos_signer, acb, |ctx| {
        run.run(ctx, &meters, &config, |p| {
            let when = GeneralizedTime::from_unix_seconds(p.clock)
                .map_or_else(String::new, |t| t.to_string());
            bar.set_length(p.devices as u64);
            bar.set_position(p.migrated as u64);
            bar.set_message(format!(
                "batch {:>3}  attempts {:>6}  clock {when}",
                p.batches, p.attempts
            ));
        })
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    println!(
        "\nOutcomes ({} devices, {} attempts, {} workers)",
        devices, last.attempts, workers
    );
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_profile: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (r, p) in run.records.iter().zip(&profiles) {
        let status = format!("{:?}", r.status);
        *by_status.entry(status.clone()).or_default() += 1;
        *by_profile
            .entry(format!("{p:?}"))
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
    for (s, n) in &by_status {
        println!("  {s:<28} {n:>6}");
    }
    println!("\nBy device profile");
    for (p, statuses) in &by_profile {
        let s: Vec<String> = statuses.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  {p:<40} {}", s.join(", "));
    }
    if let Some(incident) = run.stopped() {
        println!("\nAUTO-STOP: {incident}");
    }
    // The meters ran inside the engine's workers: their time, spread over the workers, is
    // taken out of the wall time to give the engine's own.
    let meter_secs = meters.nanos.load(Ordering::Relaxed) as f64 / 1e9;
    let engine_secs = (elapsed - meter_secs / workers.max(1) as f64).max(1e-9);
    let secrets = sim.secrets.stats();
    println!(
        "\n{} attempts in {elapsed:.2} s on {backend}: {:.0} attempts per second (engine and simulated meters sharing {workers} cores)",
        last.attempts,
        last.attempts as f64 / elapsed.max(1e-9)
    );
    println!(
        "engine alone: {engine_secs:.2} s, {:.0} attempts per second (the meters took {meter_secs:.2} CPU-seconds); ACB shared secrets: {} ECDH, {} from the cache",
        last.attempts as f64 / engine_secs,
        secrets.misses,
        secrets.hits
    );

    // The manufacturer's fix reaches the meters that faulted for want of it: an inventory
    // update makes them eligible again, and the run goes on.
    let upgraded: Vec<_> = run
        .records
        .iter()
        .zip(&profiles)
        .filter(|(r, p)| {
            **p == Profile::FaultUntilUpgraded
                && matches!(r.status, gbcs::cos::migration::MigrationStatus::Faulted(_))
        })
        .map(|(r, _)| r.entity_id)
        .collect();
    for d in &upgraded {
        sim.upgrade_firmware(&mut run, *d, "1.0.1");
    }
    let after = sim.with_context_using(cos_signer, acb, |ctx| {
        run.run(ctx, &meters, &config, |_| {})
    })?;
    println!(
        "\nfirmware upgraded on {} faulted meters: {} attempts more, {} migrated in all",
        upgraded.len(),
        after.attempts - last.attempts,
        after.migrated
    );

    // One report per recipient for December, as at 23:59:59 on the 31st, each with the
    // recipient's own next sequence number from the ledger.
    let suppliers: Vec<_> = run.ledger.summary_as_at(i64::MAX).into_keys().collect();
    for supplier in suppliers {
        let notices = run.ledger.notices(&supplier).len();
        let (report, _) = Ecosmig007::for_month(&mut run.ledger, supplier, 2025, 12, None);
        let c = report.counts;
        println!(
            "\nECOSMIG-007 for {} (sequence {}, {} to {}; {notices} devices in its notices)\n\
             \x20 migrations successfully completed  {:>9}\n\
             \x20 failed migration attempts          {:>9}\n\
             \x20 devices with ECoS installed        {:>9}\n\
             \x20 devices remaining with TCoS        {:>9}\n\
             \x20 devices of a non-migratable model  {:>9}\n\
             as written (header 00, detail 10, trailer 99):\n{}",
            report.recipient,
            report.sequence_number,
            report.period_start,
            report.period_end,
            c.migrations_completed,
            c.failed_attempts,
            c.ecos_installed,
            c.remaining_tcos,
            c.non_migratable,
            report.to_text(&ReportFormat::default())?
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
