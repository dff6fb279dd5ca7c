//! Migrates a simulated fleet from TCoS to ECoS, with a progress display, then prints the
//! outcomes, devices per second and the ECOSMIG-007 report of each supplier.
//!
//! ```text
//! cargo run --release --example bulk_migration [-- --devices N --seed S --workers W]
//! ```

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use gbcs::cos::engine::EngineConfig;
use gbcs::cos::report::{scheduled_creation, Ecosmig007, ReportFormat};
use gbcs::payload::GeneralizedTime;
use gbcs::sim::fleet::{FleetMix, SimulatedMigration};

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

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let devices = usize::try_from(arg("--devices", 10_000)?)?;
    let seed = arg("--seed", 20_261_129)?;
    let workers = usize::try_from(arg(
        "--workers",
        std::thread::available_parallelism().map_or(1, |n| n.get()) as u64,
    )?)?;
    let clock = 1_764_547_200; // 2025-12-01T00:00:00Z

    eprintln!("issuing the test PKI and {devices} simulated meters (seed {seed}) …");
    let mut sim = SimulatedMigration::new(
        b"bulk migration demo",
        seed,
        devices,
        &FleetMix::default(),
        clock,
    )?;
    let profiles = sim.fleet.profiles.clone();
    let mut run = sim.start(1_000_000);
    let config = EngineConfig {
        batch_size: 500,
        workers,
        batch_interval_secs: 600,
    };

    let started = Instant::now();
    let last = sim.with_context(|ctx| {
        run.run(ctx, &sim.fleet.transport, &config, |p| {
            let width = 40;
            let done = p.migrated * width / p.devices.max(1);
            let when = GeneralizedTime::from_unix_seconds(p.clock)
                .map_or_else(String::new, |t| t.to_string());
            eprint!(
                "\r[{}{}] batch {:>3}  attempts {:>6}  migrated {:>6}/{}  clock {when}",
                "#".repeat(done),
                ".".repeat(width - done),
                p.batches,
                p.attempts,
                p.migrated,
                p.devices
            );
            let _ = std::io::stderr().flush();
        })
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!();

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
    println!(
        "\n{} attempts in {elapsed:.2} s: {:.0} devices per second (engine and simulated meters sharing {workers} cores)",
        last.attempts,
        last.attempts as f64 / elapsed.max(1e-9)
    );

    let created = scheduled_creation(2025, 12);
    for (seq, (supplier, counts)) in run
        .ledger
        .summary(&run.records, &run.policy)
        .into_iter()
        .enumerate()
    {
        let report = Ecosmig007::monthly(supplier, u32::try_from(seq + 1)?, created, counts);
        println!(
            "\nECOSMIG-007 for {}:\n{}",
            report.recipient,
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
