//! `migrate --transport exec:COMMAND`: the commands go to a child process as JSON lines and its
//! replies come back the same way. With `gbcs sim-meters` (the same simulated meters, in their
//! own process) as the child, a run ends exactly as the in-process run does; a child that
//! answers with garbage has its lines counted and reported, never guessed at; a child that
//! cannot start is a usage error.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
use common::*;

const RUN: [&str; 9] = [
    "migrate",
    "--simulate",
    "60",
    "--seed",
    "11",
    "--deadline",
    "1500ms",
    "--max-in-flight",
    "16",
];

fn summary(path: &std::path::Path) -> Vec<(gbcs::cos::SecPartyId, gbcs::cos::SupplierCounts)> {
    let text = std::fs::read_to_string(path).expect("ledger");
    let ledger: gbcs::cos::ledger::Ledger = serde_json::from_str(&text).expect("ledger parses");
    ledger.summary_as_at(i64::MAX).into_iter().collect()
}

#[test]
fn meters_in_another_process_end_the_run_as_the_in_process_ones_do() {
    let exec_ledger = tmp("exec-ledger.json");
    let sim_ledger = tmp("exec-sim-ledger.json");
    let _ = std::fs::remove_file(&exec_ledger);
    let _ = std::fs::remove_file(&sim_ledger);
    let child = format!(
        "exec:{} sim-meters --simulate 60 --seed 11",
        env!("CARGO_BIN_EXE_gbcs")
    );
    let mut args = RUN.to_vec();
    args.extend_from_slice(&[
        "--transport",
        &child,
        "--ledger",
        exec_ledger.to_str().expect("path"),
    ]);
    let out = gbcs(&args);
    let exec = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sim-meters: "),
        "the child's own count: {stderr}"
    );
    let mut args = RUN.to_vec();
    args.extend_from_slice(&["--ledger", sim_ledger.to_str().expect("path")]);
    let sim = ok(&gbcs(&args));
    let last = |s: &str| s.trim_end().lines().last().unwrap_or_default().to_owned();
    assert!(last(&exec).starts_with("complete: 60 devices, "), "{exec}");
    assert_eq!(last(&exec), last(&sim));
    assert_eq!(summary(&exec_ledger), summary(&sim_ledger));
    assert!(!exec.contains("MALFORMED"), "{exec}");
}

#[test]
fn a_child_that_answers_garbage_is_reported_and_one_that_cannot_start_is_refused() {
    let script = tmp("garbage-meters.sh");
    std::fs::write(
        &script,
        // First a line past the transport's bound (1 MiB), then on each command a line that
        // is not JSON and one whose device is not an ID.
        "#!/bin/sh\nhead -c 1100000 /dev/zero | tr '\\0' a; echo\nwhile read line; do echo 'not json'; echo '{\"device\":\"00DB\",\"bytes\":\"AA==\"}'; done\n",
    )
    .expect("script");
    let child = format!("exec:sh {}", script.display());
    let mut args = RUN.to_vec();
    args[6] = "200ms";
    args.extend_from_slice(&["--transport", &child]);
    let out = gbcs(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Nothing answered: the failures stop the run, and the lines are accounted for.
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(
        stdout.contains("MALFORMED LINES from the transport: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("a line over 1048576 bytes"),
        "the first, the over-long one, is shown: {stdout}"
    );
    let count: u64 = stdout
        .split("MALFORMED LINES from the transport: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    // The long line, then the two bad lines of at least one command: each counted.
    assert!(count >= 3, "{count}");
    let mut args = RUN.to_vec();
    args.extend_from_slice(&["--transport", "exec:/nonexistent/meters"]);
    let out = gbcs(&args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/meters"));
    let mut args = RUN.to_vec();
    args.extend_from_slice(&["--transport", "carrier-pigeon"]);
    assert_eq!(gbcs(&args).status.code(), Some(2));
}

#[test]
fn a_child_that_never_exits_is_ended_when_the_run_is() {
    // Reads its commands, answers none, and ignores the end of its input.
    let script = tmp("stubborn-meters.sh");
    std::fs::write(&script, "#!/bin/sh\ncat > /dev/null\nexec sleep 600\n").expect("script");
    let child = format!("exec:sh {}", script.display());
    let mut args = RUN.to_vec();
    args[6] = "200ms";
    args.extend_from_slice(&["--transport", &child]);
    // The run ends (stopped by its failures) without waiting out the child's ten minutes:
    // the child is killed a few seconds after its input closes.
    let out = gbcs(&args);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
}

#[test]
fn a_child_that_never_reads_its_input_stalls_nothing() {
    // Never reads a line: its input's pipe fills, then the transport's queue. Each command
    // then fails at its deadline (or at once while the child stays stuck) as unanswered, and
    // the run ends; before the writer thread it hung on a write that never returned.
    let script = tmp("deaf-meters.sh");
    std::fs::write(&script, "#!/bin/sh\nexec sleep 600\n").expect("script");
    let child = format!("exec:sh {}", script.display());
    let mut child_process = std::process::Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args([
            "migrate",
            "--simulate",
            "3000",
            "--deadline",
            "1s",
            "--transport",
            &child,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // A bounded wait (not a speed check): a hang fails the test rather than CI.
    let mut status = None;
    for _ in 0..1_200 {
        if let Some(s) = child_process.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let Some(status) = status else {
        let _ = child_process.kill();
        panic!("the run hung on a child that never reads");
    };
    let out = child_process.wait_with_output().expect("output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(5), "{err}");
    assert!(err.contains("stopped: "), "{err}");
}
