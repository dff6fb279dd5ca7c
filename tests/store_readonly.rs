//! A store that cannot be written — the file immutable, or its folder too (so SQLite cannot
//! make its write-ahead log) — stops `migrate` with exit 4 and SQLite's words before anything
//! is sent, and keeps every record it held: once writable again, the same command resumes the
//! run to its end. Made real with the immutable attribute (`chattr +i`), which binds root too
//! (root ignores file modes); where it cannot be set, the test skips and says so.

#[path = "support/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Clears the immutable attribute of its paths when dropped, whatever the test did.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: &[&Path]) -> Option<Self> {
        let ok = Command::new("chattr")
            .arg("+i")
            .args(paths)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let guard = Self(paths.iter().map(|p| p.to_path_buf()).collect());
        ok.then_some(guard)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").args(&self.0).status();
    }
}

fn gbcs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gbcs"))
        .args(args)
        .output()
        .expect("run gbcs")
}

/// What the store holds: each device's progress and every ledger entry, as text.
fn contents(db: &Path) -> (Vec<String>, Vec<String>) {
    let c = rusqlite::Connection::open(db).expect("open");
    let rows = |sql: &str| -> Vec<String> {
        let mut s = c.prepare(sql).expect("prepare");
        s.query_map([], |r| r.get::<_, String>(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    (
        rows("SELECT CAST(device AS TEXT) || progress FROM devices ORDER BY device"),
        rows("SELECT CAST(seq AS TEXT) || entry FROM ledger_entries ORDER BY seq"),
    )
}

#[test]
fn a_store_that_cannot_be_written_stops_the_run_and_loses_nothing() {
    let dir = std::env::temp_dir().join(format!("gbcs-readonly-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("run.sqlite");
    let url = format!("sqlite:{}", db.display());
    let bin = env!("CARGO_BIN_EXE_gbcs");
    let meters = format!("exec:{bin} sim-meters --simulate 300 --seed 3");
    let args = [
        "migrate",
        "--simulate",
        "300",
        "--seed",
        "3",
        "--state",
        &url,
        "--deadline",
        "1s",
        "--max-in-flight",
        "5",
        "--transport",
        &meters,
    ];
    // An unfinished run: killed once the store holds some progress.
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    for _ in 0..600 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let entries =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row("SELECT COUNT(*) FROM ledger_entries", [], |r| {
                        r.get::<_, i64>(0)
                    })
                })
                .unwrap_or(0);
        if entries >= 30 {
            break;
        }
    }
    child.kill().expect("kill -9");
    assert!(!child.wait().expect("wait").success(), "killed mid-run");
    // Read (which folds the write-ahead log into the file), then made unwritable.
    let before = contents(&db);
    assert!(!before.1.is_empty(), "the killed run left entries");
    for (what, paths) in [
        ("the file", vec![db.as_path()]),
        ("the file and its folder", vec![db.as_path(), dir.as_path()]),
    ] {
        let Some(guard) = Immutable::set(&paths) else {
            skip::skipped(
                "a real read-only store",
                "chattr +i is not available here (it needs root and a file system that keeps the attribute)",
            );
            return;
        };
        let o = gbcs(&args);
        drop(guard);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{what}: {stderr}");
        assert!(
            stderr.contains("readonly database") || stderr.contains("unable to open database file"),
            "{what}: {stderr}"
        );
        assert!(stderr.contains("sqlite"), "{what}: {stderr}");
        assert_eq!(contents(&db), before, "{what}: the store changed");
    }
    // Writable again: the same command resumes the run to its end.
    let o = gbcs(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.starts_with("resumed: "), "{out}");
    assert!(out
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .starts_with("complete: 300 devices"));
    let _ = std::fs::remove_dir_all(&dir);
}
