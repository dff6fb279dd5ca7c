//! A skipped test says so where a person sees it: libtest captures what `println!` and
//! `eprintln!` print (and shows it only for a failing test), so the line is written to the
//! process's standard error directly, which the capture does not reach. The test's name comes
//! from its thread, which libtest names after it.
#![allow(dead_code)]

use std::io::Write as _;

/// Says on the real standard error that the current test skips `what`, and why.
pub fn skipped(what: &str, why: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "SKIPPED in {test}: {what}: {why}");
}

/// Whether the variable `name` is set to something other than empty or `0`.
pub fn required(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}
