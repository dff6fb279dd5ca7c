//! Migrates a simulated fleet from TCoS to ECoS over a simulated network, in real time, with a
//! progress display; then prints the outcomes, the engine's figures and the ECOSMIG-007 report
//! of each supplier.
//!
//! ```text
//! cargo run --release --example bulk_migration [-- --devices N --seed S --workers W
//!     --backend rustcrypto|aws-lc --rtt-median 1s --rtt-p99 10s --loss 0.01 --late 0.005
//!     --duplicate 0.005 --deadline 30s --max-in-flight N --max-rate N]
//! cargo run --release --features pkcs11 --example bulk_migration -- --pkcs11-module SO \
//!     --key 'pkcs11:token=…;object=…?pin-source=file:…' --acb-key 'pkcs11:…'
//! ```
//!
//! The engine core decides everything; the tokio driver keeps thousands of commands in flight
//! while a pool of workers (one per core) does the curve work. Round trips are real time; the
//! driver's clock jumps over back-off waits when nothing is in flight. With `--key` and
//! `--acb-key` (feature `pkcs11`), the TCoS signature and the ACB's ECDH happen in the HSM:
//! the test PKI certifies the public keys read from the token, and the simulated meters trust
//! those certificates. stdout ends with three lines scripts read:
//! `first commands per second: N`, `first attempts resolved per second: N`,
//! `peak in flight: M`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use gbcs::cos::engine::{EngineConfig, Input, StartingCounters};
use gbcs::cos::report::{Ecosmig007, ReportFormat};
use gbcs::cos::CosSigner;
use gbcs::crypto::{Backend, KeyAgreement, PublicKey, SignatureSigner};
use gbcs::driver::DriverConfig;
use gbcs::sim::fleet::{FleetMix, MigrationParties, Profile, SimulatedMigration};
use gbcs::sim::network::NetworkProfile;
use gbcs::sim::TestPki;

fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn arg<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match text_arg(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{name} {v}: not a number")),
    }
}

/// A duration (`250ms`, `1s`, `2m`), milliseconds.
fn duration(name: &str, default: u64) -> Result<u64, String> {
    let Some(v) = text_arg(name) else {
        return Ok(default);
    };
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: f64 = n
        .parse()
        .map_err(|_| format!("{name} {v}: e.g. 250ms or 1s"))?;
    let scale = match unit {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        _ => return Err(format!("{name} {v}: the unit is ms, s or m")),
    };
    Ok((n * scale).round() as u64)
}

/// A rate: a fraction, or a percentage.
fn rate(name: &str) -> Result<f64, String> {
    let Some(v) = text_arg(name) else {
        return Ok(0.0);
    };
    let (n, scale) = match v.strip_suffix('%') {
        Some(p) => (p, 100.0),
        None => (v.as_str(), 1.0),
    };
    let r: f64 = n
        .parse()
        .map_err(|_| format!("{name} {v}: e.g. 0.01 or 1%"))?;
    let r = r / scale;
    if !(0.0..=1.0).contains(&r) {
        return Err(format!("{name} {v}: between 0 and 1"));
    }
    Ok(r)
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
    let devices: usize = arg("--devices", 10_000)?;
    let seed: u64 = arg("--seed", 20_261_129)?;
    let workers: usize = arg(
        "--workers",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    )?;
    let median = duration("--rtt-median", 0)?;
    let profile = NetworkProfile {
        rtt_median_ms: median,
        rtt_p99_ms: duration("--rtt-p99", median)?.max(median),
        loss: rate("--loss")?,
        late: rate("--late")?,
        duplicate: rate("--duplicate")?,
        seed,
    };
    let config = EngineConfig {
        deadline_millis: i64::try_from(duration("--deadline", 30_000)?)?,
        max_in_flight: arg("--max-in-flight", 100_000)?,
        max_rate: text_arg("--max-rate").map(|v| v.parse()).transpose()?,
        ..EngineConfig::default()
    };
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
    let mut engine = sim.engine(
        config,
        StartingCounters {
            tcos: 1_000_000,
            acb: 1,
        },
    );
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
    let bar = indicatif::ProgressBar::new(devices as u64).with_style(
        indicatif::ProgressStyle::with_template("[{bar:40}] {pos:>6}/{len} migrated  {msg}")?
            .progress_chars("#>."),
    );
    let driver = DriverConfig {
        workers,
        stop_on_ctrl_c: true,
        ..DriverConfig::default()
    };
    let report = sim.run_realtime_using(
        &mut engine,
        profile,
        &driver,
        cos_signer,
        acb,
        &mut gbcs::driver::NoStore,
        &mut |_| {},
        &mut |p| {
            bar.set_position(p.migrated as u64);
            bar.set_message(format!(
                "attempts {:>6}  in flight {:>6}  clock {}",
                p.attempts, p.in_flight, p.now
            ));
        },
    )?;
    bar.finish_and_clear();

    let stats = report.stats;
    println!(
        "\nOutcomes ({devices} devices, {} attempts, {} commands, {workers} workers; round trip median {} ms, p99 {} ms)",
        stats.attempts, stats.sent, profile.rtt_median_ms, profile.rtt_p99_ms
    );
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_profile: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (r, p) in engine.records().iter().zip(&profiles) {
        let status = format!("{:?}", r.status);
        *by_status.entry(status.clone()).or_default() += 1;
        *by_profile
            .entry(format!("{p:?}"))
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
    for (s, n) in &by_status {
        println!("  {s:<28} {n:>7}");
    }
    println!("\nBy device profile");
    for (p, statuses) in &by_profile {
        let s: Vec<String> = statuses.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  {p:<40} {}", s.join(", "));
    }
    if let Some(incident) = engine.stopped() {
        println!("\nAUTO-STOP: {incident}");
    }
    let secrets = sim.secrets.stats();
    println!(
        "\n{} attempts in {:.1} s wall ({:.0} attempts per second on {backend}; the clock jumped {:.0} s of back-off); {} late and {} duplicate replies; ACB shared secrets: {} ECDH, {} from the cache",
        stats.attempts,
        report.wall_secs,
        stats.attempts as f64 / report.wall_secs.max(1e-9),
        report.jumped_secs,
        stats.late_replies,
        stats.duplicate_replies,
        secrets.misses,
        secrets.hits
    );

    // The manufacturer's fix reaches the meters that faulted for want of it: an inventory
    // update makes them eligible again, and the run goes on.
    let upgraded: Vec<_> = engine
        .records()
        .iter()
        .zip(&profiles)
        .filter(|(r, p)| {
            **p == Profile::FaultUntilUpgraded
                && matches!(r.status, gbcs::cos::migration::MigrationStatus::Faulted(_))
        })
        .map(|(r, _)| r.entity_id)
        .collect();
    for d in &upgraded {
        let update = sim.upgrade_firmware(*d, "1.0.1");
        engine.handle(engine.now(), update);
    }
    engine.handle(engine.now(), Input::Resume);
    let after = sim.run_realtime_using(
        &mut engine,
        profile,
        &driver,
        cos_signer,
        acb,
        &mut gbcs::driver::NoStore,
        &mut |_| {},
        &mut |_| {},
    )?;
    println!(
        "firmware upgraded on {} faulted meters: {} attempts more, {} migrated in all",
        upgraded.len(),
        after.stats.attempts - stats.attempts,
        after.stats.migrated
    );

    // One report per recipient for December, as at 23:59:59 on the 31st, each with the
    // recipient's own next sequence number from the ledger.
    let suppliers: Vec<_> = engine
        .ledger()
        .summary_as_at(i64::MAX)
        .into_keys()
        .collect();
    for supplier in suppliers {
        let notices = engine.ledger().notices(&supplier).len();
        let (r, _) = Ecosmig007::for_month(
            engine.ledger_mut(),
            supplier,
            2025,
            12,
            None,
            gbcs::cos::report::scheduled_creation(2025, 12).unix_seconds(),
        )?;
        let c = r.counts;
        println!(
            "\nECOSMIG-007 for {} (sequence {}, {} to {}; {notices} devices in its notices)\n\
             \x20 migrations successfully completed  {:>9}\n\
             \x20 failed migration attempts          {:>9}\n\
             \x20 devices with ECoS installed        {:>9}\n\
             \x20 devices remaining with TCoS        {:>9}\n\
             \x20 devices of a non-migratable model  {:>9}\n\
             as written (header 00, detail 10, trailer 99):\n{}",
            r.recipient,
            r.sequence_number,
            r.period_start,
            r.period_end,
            c.migrations_completed,
            c.failed_attempts,
            c.ecos_installed,
            c.remaining_tcos,
            c.non_migratable,
            r.to_text(&ReportFormat::default())?
        );
    }
    if let Some(bound) = report.network_bound_resolved_per_second {
        println!("\nfirst attempts resolved per second the network allows: {bound:.0}");
    }
    println!(
        "\nfirst commands per second: {:.0}\nfirst attempts resolved per second: {:.0}\npeak in flight: {}",
        report.first_commands_per_second,
        report.first_resolved_per_second,
        report.stats.peak_in_flight
    );
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
