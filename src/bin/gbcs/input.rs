//! Reading what the subcommands are given: messages, text files, entity IDs.

use std::io::Read as _;
use std::path::Path;

use clap::ArgMatches;
use gbcs::cli::{self, InputFormat};
use gbcs::frame::EntityId;

use crate::failure::{Failure, Result};

/// A kind of file the tool reads, and the most bytes it reads of one: past the bound a file
/// is refused (exit 4) without being read further, so `/dev/zero` or a wrong path cannot make
/// the tool read without end.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// What the file is read as.
    pub kind: &'static str,
    /// The most bytes read.
    pub bytes: u64,
}

/// A GBCS message: a few KiB, doubled as hex; 1 MiB is far beyond any CS02 message.
pub const MESSAGE: Bound = Bound {
    kind: "a GBCS message (hex, base64 or binary)",
    bytes: 1 << 20,
};
/// A DUIS request: the library's own bound.
pub const DUIS_REQUEST: Bound = Bound {
    kind: "a DUIS request",
    bytes: gbcs::duis::MAX_REQUEST_BYTES as u64,
};
/// A PEM key or certificate (under 4 KiB).
pub const KEY_FILE: Bound = Bound {
    kind: "a PEM key or certificate",
    bytes: gbcs::crypto::keystore::MAX_KEY_FILE_BYTES,
};
/// A CoS registry (a line per credential).
pub const REGISTRY: Bound = Bound {
    kind: "a CoS registry",
    bytes: 16 << 20,
};
/// A migration policy (JSON): a list of models and a few numbers.
pub const POLICY: Bound = Bound {
    kind: "a migration policy",
    bytes: 16 << 20,
};
/// A ledger file (JSON): about 100 bytes per device and attempt; 4 GiB holds a national fleet.
pub const LEDGER: Bound = Bound {
    kind: "a ledger",
    bytes: 4 << 30,
};

/// Reads `path` (`-`: standard input) up to `bound`.
pub fn read_bounded(path: &str, bound: Bound) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    let read = if path == "-" {
        std::io::stdin()
            .lock()
            .take(bound.bytes + 1)
            .read_to_end(&mut v)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(bound.bytes + 1).read_to_end(&mut v))
    };
    let shown = if path == "-" { "stdin" } else { path };
    read.map_err(|e| Failure::io(shown, e))?;
    if u64::try_from(v.len()).unwrap_or(u64::MAX) > bound.bytes {
        return Err(Failure::TooLarge {
            path: shown.to_owned(),
            bound: bound.bytes,
            kind: bound.kind,
        });
    }
    Ok(v)
}

pub fn read_input(m: &ArgMatches) -> Result<Vec<u8>> {
    let path = m
        .get_one::<String>("input")
        .map(String::as_str)
        .unwrap_or("-");
    let raw = read_bounded(path, MESSAGE)?;
    let format = match m.get_one::<String>("format").map(String::as_str) {
        Some("hex") => InputFormat::Hex,
        Some("base64") => InputFormat::Base64,
        Some("binary") => InputFormat::Binary,
        _ => InputFormat::Auto,
    };
    cli::read_message(&raw, format).map_err(Failure::decode)
}

/// Reads `path` as UTF-8 text, up to `bound`.
pub fn read_text(path: &str, bound: Bound) -> Result<String> {
    String::from_utf8(read_bounded(path, bound)?).map_err(|e| Failure::File {
        path: path.to_owned(),
        line: 0,
        column: None,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// `--now TIME` (RFC 3339), else the system clock: the time checks are made at.
pub fn now(m: &ArgMatches) -> Result<i64> {
    match m.try_get_one::<String>("now").ok().flatten() {
        Some(t) => cli::parse_time(t).ok_or_else(|| {
            Failure::usage(format!(
                "--now {t}: not an RFC 3339 date-time with a zone, e.g. 2026-12-07T09:30:00Z"
            ))
        }),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| Failure::usage("the system clock is before 1970: give --now"))
            .and_then(|d| {
                i64::try_from(d.as_secs()).map_err(|_| Failure::usage("the system clock is absurd"))
            }),
    }
}

/// An originator counter: decimal, or hex after `0x`, up to the GBCS limit (a SeqNumber is
/// at most 2^63 - 1). For clap's `value_parser`.
pub fn counter(s: &str) -> std::result::Result<u64, String> {
    let max = gbcs::payload::MAX_SEQ_NUMBER;
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u128::from_str_radix(hex, 16),
        None => t.parse::<u128>(),
    };
    match parsed {
        Ok(n) if n <= u128::from(max) => u64::try_from(n).map_err(|e| e.to_string()),
        Ok(_) => Err(format!(
            "{t} is above the largest GBCS counter, 2^63 - 1 = {max}"
        )),
        Err(_) => Err(format!(
            "{t} is not a counter: a decimal number, or hex after 0x, from 0 to {max}"
        )),
    }
}

/// DCC's parties in the environment the command is for: `--dcc rtds` (the RTDS test parties),
/// each overridden by `--acb` and `--tcos`. The library names none of them.
pub fn dcc(m: &ArgMatches) -> Result<(Option<EntityId>, Option<EntityId>)> {
    let preset = match m
        .try_get_one::<String>("dcc")
        .ok()
        .flatten()
        .map(String::as_str)
    {
        Some("rtds") => (
            Some(EntityId::from_u64(0x90B3_D51F_3000_0002)),
            Some(EntityId::from_u64(0x90B3_D51F_3000_0004)),
        ),
        Some(other) => {
            return Err(Failure::usage(format!(
                "--dcc {other}: the presets are: rtds"
            )))
        }
        None => (None, None),
    };
    let given = |name: &str| -> Result<Option<EntityId>> {
        match m.try_get_one::<String>(name).ok().flatten() {
            Some(_) => entity(m, name).map(Some),
            None => Ok(None),
        }
    };
    Ok((given("acb")?.or(preset.0), given("tcos")?.or(preset.1)))
}

pub fn entity(m: &ArgMatches, name: &str) -> Result<EntityId> {
    let v = m
        .get_one::<String>(name)
        .map(String::as_str)
        .unwrap_or_default();
    v.parse()
        .map_err(|_| Failure::usage(format!("--{name}: {v} is not a 16-hex-digit entity ID")))
}

pub fn parse(bytes: &[u8]) -> Result<gbcs::Message<'_>> {
    gbcs::parse(bytes).map_err(|e| Failure::decode(e.to_string()))
}

pub fn name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Writes `bytes` to `path` whole or not at all: a temporary file in the same folder, written
/// and flushed to disk, renamed over `path` (atomic on POSIX file systems), then the folder
/// synced so the rename itself survives a power cut.
pub fn write_atomically(path: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let target = Path::new(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let shown = tmp.display().to_string();
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Failure::io(&shown, e));
    }
    if let Err(e) = std::fs::rename(&tmp, target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Failure::io(path, e));
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A duration on the command line: a number and a unit (`250ms`, `1s`, `1.5s`, `2m`, `1h`),
/// in milliseconds.
pub fn duration_ms(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s}: a duration is a number and a unit, e.g. 250ms or 1s"))?;
    let scale = match unit {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(format!("{s}: the unit is one of ms, s, m, h")),
    };
    let ms = value * scale;
    if !ms.is_finite() || !(0.0..=86_400_000.0 * 365.0).contains(&ms) {
        return Err(format!("{s}: out of range"));
    }
    Ok(ms.round() as u64)
}

/// A rate: a fraction of commands, 0 to 1 (`0.01`), or a percentage (`1%`).
pub fn fraction(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(p) => (p, 100.0),
        None => (t, 1.0),
    };
    let v: f64 = number
        .parse()
        .map_err(|_| format!("{s}: a rate is a fraction (0.01) or a percentage (1%)"))?;
    let v = v / scale;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{s}: a rate is between 0 and 1 (0% and 100%)"));
    }
    Ok(v)
}

/// The engine's caps and the simulated network, from `--rtt-median`, `--rtt-p99`, `--loss`,
/// `--late`, `--duplicate`, `--deadline`, `--max-in-flight`, `--max-rate` (seeded by `seed`).
pub fn network_flags(
    m: &ArgMatches,
    seed: u64,
) -> Result<(
    gbcs::cos::engine::EngineConfig,
    gbcs::sim::network::NetworkProfile,
)> {
    let ms =
        |name: &str, default: u64| -> u64 { m.get_one::<u64>(name).copied().unwrap_or(default) };
    let rate = |name: &str| -> f64 { m.get_one::<f64>(name).copied().unwrap_or(0.0) };
    let median = ms("rtt-median", 0);
    let p99 = ms("rtt-p99", median);
    if p99 < median {
        return Err(Failure::usage(format!(
            "--rtt-p99 {p99}ms is below --rtt-median {median}ms"
        )));
    }
    let (loss, late, duplicate) = (rate("loss"), rate("late"), rate("duplicate"));
    if loss + late > 1.0 {
        return Err(Failure::usage(
            "--loss and --late together are more than every reply",
        ));
    }
    let config = gbcs::cos::engine::EngineConfig {
        deadline_millis: i64::try_from(ms("deadline", 30_000)).unwrap_or(i64::MAX),
        max_in_flight: m
            .get_one::<usize>("max-in-flight")
            .copied()
            .unwrap_or(100_000),
        max_rate: m.get_one::<u32>("max-rate").copied(),
        ..gbcs::cos::engine::EngineConfig::default()
    };
    let profile = gbcs::sim::network::NetworkProfile {
        rtt_median_ms: median,
        rtt_p99_ms: p99,
        loss,
        late,
        duplicate,
        seed,
    };
    Ok((config, profile))
}

/// The lines a run's output ends with, which scripts read; before them, on a simulated
/// network, what the network alone allows of the resolved figure.
pub fn figures(report: &gbcs::driver::RunReport) -> String {
    let bound = report
        .network_bound_resolved_per_second
        .map_or_else(String::new, |b| {
            format!("first attempts resolved per second the network allows: {b:.0}\n")
        });
    format!(
        "{bound}first commands per second: {:.0}\nfirst attempts resolved per second: {:.0}\npeak in flight: {}\n",
        report.first_commands_per_second,
        report.first_resolved_per_second,
        report.stats.peak_in_flight
    )
}
