//! `gbcs sim-meters`: the simulated meters of `migrate --simulate N --seed S` behind JSON
//! lines, for `migrate --transport exec:…` (and the crash harness's meter world).

use clap::ArgMatches;

use crate::failure::{Failure, Result};
use crate::migrate_cmd::SIM_START;

/// `gbcs sim-meters`: the simulated meters of `migrate --simulate N --seed S` behind JSON
/// lines on stdin and stdout, for `migrate --transport exec:…`; with `--world` their memory
/// is kept in a file and outlives the process.
pub fn sim_meters(m: &ArgMatches) -> Result<String> {
    use gbcs::driver::exec::{alert_line, parse_command_line, reply_line};
    use gbcs::sim::fleet::{FleetMix, MigrationParties, SimulatedMigration};
    use std::io::BufRead;
    let n = usize::try_from(m.get_one::<u64>("simulate").copied().unwrap_or(0))
        .map_err(|_| Failure::usage("--simulate too large"))?;
    let seed = m.get_one::<u64>("seed").copied().unwrap_or(1);
    let loss = m.get_one::<f64>("loss").copied().unwrap_or(0.0);
    let late = m.get_one::<f64>("late").copied().unwrap_or(0.0);
    let late_by =
        std::time::Duration::from_millis(m.get_one::<u64>("late-by").copied().unwrap_or(5_000));
    // One process at a time holds a world: the next waits until the last has delivered what
    // it read (a killed engine's last commands reach the meters before the next engine's).
    let mut world = match m.get_one::<String>("world") {
        Some(url) => {
            let path = gbcs::store::sqlite_path(url)
                .map_err(|e| crate::report_cmds::store_failure(url, &e))?;
            // The lock: an exclusive transaction on a side database, held for the process's
            // life (released by the system when it dies, whatever kills it); --shared lets
            // several processes deliver to one world, each delivery one transaction.
            let lock = if m.get_flag("shared") {
                None
            } else {
                Some(
                    rusqlite::Connection::open(format!("{path}.lock"))
                        .and_then(|c| {
                            c.busy_timeout(std::time::Duration::from_secs(600))?;
                            c.execute_batch("BEGIN EXCLUSIVE")?;
                            Ok(c)
                        })
                        .map_err(|e| Failure::io(path, std::io::Error::other(e)))?,
                )
            };
            let w = gbcs::store::world::MeterWorld::open(path)
                .map_err(|e| crate::report_cmds::store_failure(url, &e))?;
            Some((w, lock, url.clone()))
        }
        None => None,
    };
    let pki =
        gbcs::sim::TestPki::generate_with_backend(b"gbcs migrate", gbcs::crypto::Backend::DEFAULT)
            .map_err(|e| Failure::key(e.to_string()))?;
    let parties =
        MigrationParties::certified(&pki, None, None).map_err(|e| Failure::key(e.to_string()))?;
    let sim = SimulatedMigration::from_pki(pki, parties, seed, n, &FleetMix::default(), SIM_START)
        .map_err(|e| Failure::key(e.to_string()))?;
    if let Some(dir) = m.get_one::<String>("write-inventory") {
        return crate::sim_inventory::write(&sim, dir);
    }
    let out = Replies::start(late_by);
    let stdin = std::io::stdin();
    let (mut commands, mut replies, mut refused, mut lost, mut held) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for (i, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|e| Failure::io("stdin", e))?;
        if line.trim().is_empty() {
            continue;
        }
        let c = match parse_command_line(&line) {
            Ok(c) => c,
            Err(why) => {
                refused += 1;
                eprintln!("sim-meters: line {}: {why}", i + 1);
                continue;
            }
        };
        commands += 1;
        let (reply, alerts) = match world.as_mut() {
            Some((w, _, url)) => {
                let d = w
                    .deliver(&sim.fleet.meters, c.device, &c.bytes, c.at.secs())
                    .map_err(|e| crate::report_cmds::store_failure(url, &e))?;
                (d.reply, d.alerts)
            }
            None => sim.fleet.meters.deliver(c.device, &c.bytes, c.at.secs()),
        };
        for a in &alerts {
            out.send(alert_line(a), false)?;
        }
        if let Some(r) = reply {
            // The fate of the reply, drawn from the seed, the device and the counter: the
            // same command meets the same fate in every run.
            let draw = fate(seed, c.device.to_u64(), c.counter);
            if draw < loss {
                lost += 1;
                continue;
            }
            let is_late = draw < loss + late;
            held += u64::from(is_late);
            replies += 1;
            out.send(reply_line(c.device, &r), is_late)?;
        }
    }
    out.finish()?;
    drop(world);
    eprintln!(
        "sim-meters: {commands} commands, {replies} replies ({held} late), {lost} lost, {refused} lines refused"
    );
    Ok(String::new())
}

/// A number in [0, 1) from the seed, the device and the counter (SplitMix64's finaliser).
fn fate(seed: u64, device: u64, counter: u64) -> f64 {
    let mut z = seed
        .wrapping_add(device.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(counter.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The writer of sim-meters' stdout: replies at once, or held back for a while (late).
struct Replies {
    tx: std::sync::mpsc::Sender<(std::time::Instant, String)>,
    writer: std::thread::JoinHandle<std::io::Result<()>>,
    late_by: std::time::Duration,
}

impl Replies {
    fn start(late_by: std::time::Duration) -> Self {
        use std::io::Write;
        let (tx, rx) = std::sync::mpsc::channel::<(std::time::Instant, String)>();
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut held: std::collections::BTreeMap<(std::time::Instant, u64), String> =
                std::collections::BTreeMap::new();
            let mut k = 0u64;
            let mut open = true;
            while open || !held.is_empty() {
                let now = std::time::Instant::now();
                while let Some(entry) = held.first_entry() {
                    if entry.key().0 > now {
                        break;
                    }
                    writeln!(out, "{}", entry.remove())?;
                }
                out.flush()?;
                let wait = held
                    .keys()
                    .next()
                    .map_or(std::time::Duration::from_secs(3600), |t| {
                        t.0.saturating_duration_since(now)
                    });
                match rx.recv_timeout(wait) {
                    Ok((at, line)) => {
                        k += 1;
                        held.insert((at, k), line);
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => open = false,
                }
                if !open {
                    // Stdin closed: what is held goes out when due, then the writer ends.
                    if let Some(t) = held.keys().next().map(|t| t.0) {
                        std::thread::sleep(t.saturating_duration_since(std::time::Instant::now()));
                    }
                }
            }
            out.flush()
        });
        Self {
            tx,
            writer,
            late_by,
        }
    }

    fn send(&self, line: String, late: bool) -> Result<()> {
        let at = std::time::Instant::now()
            + if late {
                self.late_by
            } else {
                std::time::Duration::ZERO
            };
        self.tx.send((at, line)).map_err(|_| {
            Failure::io(
                "stdout",
                std::io::Error::from(std::io::ErrorKind::BrokenPipe),
            )
        })
    }

    fn finish(self) -> Result<()> {
        drop(self.tx);
        match self.writer.join() {
            Ok(r) => r.map_err(|e| Failure::io("stdout", e)),
            Err(_) => Err(Failure::io(
                "stdout",
                std::io::Error::other("the writer thread panicked"),
            )),
        }
    }
}
