//! Migration throughput over a network, in real time (`harness = false`: each case is one
//! whole run, not criterion samples): `migration/aws-lc/network/rtt_0ms` and
//! `migration/aws-lc/network/rtt_1s` — 20,000 simulated meters of the default mix, the tokio
//! driver with its CPU pool on every core, a simulated network with log-normal round trips
//! (median 1 s, 99th percentile 10 s; none for `rtt_0ms`), 1 % of replies lost (30 s deadline),
//! 0.5 % late, 0.5 % duplicated. Each case prints the three figures the CLI prints (first
//! commands per second, first attempts resolved per second, peak in flight) with the run's
//! peak RSS and what the network alone allows of the resolved figure (`net bound`: every
//! device's first command resolved the moment its reply arrived, no CPU spent); three rounds alternate the cases, each in its own process, and the medians close
//! the report.
//!
//! `cargo bench --bench network` (`GBCS_NETWORK_DEVICES` and `GBCS_NETWORK_ROUNDS` change the
//! fleet and the rounds).

use std::process::Command;

use gbcs::cos::engine::{EngineConfig, StartingCounters};
use gbcs::crypto::Backend;
use gbcs::driver::DriverConfig;
use gbcs::sim::fleet::{FleetMix, SimulatedMigration};
use gbcs::sim::network::NetworkProfile;

const CASES: [(&str, u64, u64); 2] = [("rtt_0ms", 0, 0), ("rtt_1s", 1000, 10_000)];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The process's peak resident set, KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// One run of `case`, in this process; prints its result line.
fn run_case(case: &str) {
    let (_, median, p99) = CASES
        .iter()
        .copied()
        .find(|c| c.0 == case)
        .expect("a known case");
    let devices = env_usize("GBCS_NETWORK_DEVICES", 20_000);
    let mut sim = SimulatedMigration::with_backend(
        b"network bench",
        20_261_207,
        devices,
        &FleetMix::default(),
        1_764_547_200,
        Backend::AwsLc,
    )
    .expect("fleet");
    let mut engine = sim.engine(
        EngineConfig::default(),
        StartingCounters { tcos: 1, acb: 1 },
    );
    let profile = NetworkProfile {
        rtt_median_ms: median,
        rtt_p99_ms: p99,
        loss: 0.01,
        late: 0.005,
        duplicate: 0.005,
        seed: 7,
    };
    let report = sim
        .run_realtime_using(
            &mut engine,
            profile,
            &DriverConfig::default(),
            sim.pki.tcos.signer(),
            &sim.pki.acb.ka.key,
            &mut gbcs::driver::NoStore,
            &mut |_| {},
            &mut |_| {},
        )
        .expect("driver");
    println!(
        "RESULT {case} {:.1} {:.1} {} {} {:.1} {} {:.1}",
        report.first_commands_per_second,
        report.first_resolved_per_second,
        report.stats.peak_in_flight,
        peak_rss_kib(),
        report.wall_secs,
        report
            .stopped
            .map_or_else(|| "none".to_owned(), |i| format!("{i}").replace(' ', "_")),
        report.network_bound_resolved_per_second.unwrap_or(0.0),
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    if let Ok(case) = std::env::var("GBCS_NETWORK_CASE") {
        run_case(&case);
        return;
    }
    // `cargo bench` passes `--bench`; a filter selects no case here.
    let rounds = env_usize("GBCS_NETWORK_ROUNDS", 3);
    let devices = env_usize("GBCS_NETWORK_DEVICES", 20_000);
    let exe = std::env::current_exe().expect("this benchmark's path");
    let mut results: Vec<(String, [f64; 6])> = Vec::new();
    println!(
        "migration over a simulated network: {devices} meters, default mix, aws-lc, {rounds} rounds alternating"
    );
    println!(
        "{:<36} {:>12} {:>12} {:>10} {:>10} {:>10} {:>8}  auto-stop",
        "case", "first cmd/s", "resolved/s", "net bound", "peak", "RSS MiB", "wall s"
    );
    for round in 1..=rounds {
        for (case, ..) in CASES {
            let out = Command::new(&exe)
                .env("GBCS_NETWORK_CASE", case)
                .output()
                .expect("run the case");
            let text = String::from_utf8_lossy(&out.stdout);
            let Some(line) = text.lines().find(|l| l.starts_with("RESULT ")) else {
                panic!(
                    "{case}: no result\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            let f: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let row = [num(2), num(3), num(4), num(5) / 1024.0, num(6), num(8)];
            println!(
                "{:<36} {:>12.0} {:>12.0} {:>10.0} {:>10.0} {:>10.0} {:>8.1}  {} (round {round})",
                format!("migration/aws-lc/network/{case}"),
                row[0],
                row[1],
                row[5],
                row[2],
                row[3],
                row[4],
                f.get(7).copied().unwrap_or("?")
            );
            results.push((case.to_owned(), row));
        }
    }
    println!("medians:");
    let mut med = Vec::new();
    for (case, ..) in CASES {
        let rows: Vec<[f64; 6]> = results
            .iter()
            .filter(|(c, _)| c == case)
            .map(|r| r.1)
            .collect();
        let m: Vec<f64> = (0..6)
            .map(|k| median(rows.iter().map(|r| r[k]).collect()))
            .collect();
        println!(
            "{:<36} {:>12.0} {:>12.0} {:>10.0} {:>10.0} {:>10.0} {:>8.1}",
            format!("migration/aws-lc/network/{case}"),
            m[0],
            m[1],
            m[5],
            m[2],
            m[3],
            m[4]
        );
        med.push(m);
    }
    if let [zero, one] = med.as_slice() {
        println!(
            "rtt_1s / rtt_0ms: first commands {:.2}x, first attempts resolved {:.2}x",
            one[0] / zero[0].max(1e-9),
            one[1] / zero[1].max(1e-9)
        );
        println!(
            "rtt_1s resolved / what its network allows: {:.2}x",
            one[1] / one[5].max(1e-9)
        );
    }
}
