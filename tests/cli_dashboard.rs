//! `gbcs dashboard`: from a store a simulated `migrate` wrote, or from a ledger file, one HTML
//! file; the store's page has the command charts, the file's says it has none; the same
//! counts either way. A missing store, a window that ends before it starts and an existing
//! page are refused with their exit codes; `--replace` replaces the page whole.

#[path = "support/cli_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;
use common::*;
use scraper::{Html, Selector};
use std::path::PathBuf;

fn fresh(name: &str) -> PathBuf {
    let p = tmp(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

fn counts(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let row = Selector::parse("#counts-table tbody tr").expect("selector");
    doc.select(&row)
        .map(|r| r.text().collect::<Vec<_>>().join("|"))
        .collect()
}

fn count(html: &str, css: &str) -> usize {
    let doc = Html::parse_document(html);
    doc.select(&Selector::parse(css).expect("selector")).count()
}

#[test]
fn the_dashboard_of_a_store_and_of_its_ledger_file_show_the_same_counts() {
    let ledger = fresh("dash-ledger.json");
    let store = fresh("dash.sqlite");
    let url = format!("sqlite:{}", store.display());
    migrate_simulated(&["--ledger", ledger.to_str().expect("path"), "--state", &url]);
    let from_store = fresh("dash-store.html");
    let from_file = fresh("dash-file.html");
    let said = ok(&gbcs(&[
        "dashboard",
        "--state",
        &url,
        "--out",
        from_store.to_str().expect("path"),
    ]));
    assert!(said.starts_with("dashboard of 300 devices"), "{said}");
    ok(&gbcs(&[
        "dashboard",
        "--ledger",
        ledger.to_str().expect("path"),
        "--out",
        from_file.to_str().expect("path"),
    ]));
    let store_html = std::fs::read_to_string(&from_store).expect("page");
    let file_html = std::fs::read_to_string(&from_file).expect("page");
    assert!(!counts(&store_html).is_empty());
    assert_eq!(counts(&store_html), counts(&file_html));
    // Commands are in the store only.
    assert_eq!(count(&store_html, "#activity svg"), 2);
    assert_eq!(count(&file_html, "#activity svg"), 0);
    assert_eq!(count(&store_html, "script"), 0);
}

#[test]
fn a_missing_store_a_backwards_window_and_an_existing_page_are_refused() {
    let missing = fresh("no-such-store.sqlite");
    let out = fresh("dash-refused.html");
    let out_s = out.to_str().expect("path");
    let o = gbcs(&[
        "dashboard",
        "--state",
        &format!("sqlite:{}", missing.display()),
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such store"));
    assert!(!missing.exists(), "a missing store is not created");
    assert!(!out.exists());
    let ledger = fresh("dash-refused-ledger.json");
    migrate_simulated(&["--ledger", ledger.to_str().expect("path")]);
    let l = ledger.to_str().expect("path");
    let o = gbcs(&[
        "dashboard",
        "--ledger",
        l,
        "--from",
        "2026-02-01T00:00:00Z",
        "--to",
        "2026-01-01T00:00:00Z",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("before --from"));
    std::fs::write(&out, "an operator's notes").expect("write");
    let o = gbcs(&["dashboard", "--ledger", l, "--out", out_s]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert_eq!(
        std::fs::read_to_string(&out).expect("kept"),
        "an operator's notes"
    );
    ok(&gbcs(&[
        "dashboard",
        "--ledger",
        l,
        "--out",
        out_s,
        "--replace",
    ]));
    let html = std::fs::read_to_string(&out).expect("page");
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    // No temporary file is left beside it.
    let dir = out.parent().expect("dir");
    let left: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".dash-refused.html")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_window_and_a_policy_choose_what_the_page_shows() {
    let ledger = fresh("dash-window-ledger.json");
    migrate_simulated(&["--ledger", ledger.to_str().expect("path")]);
    let policy = fresh("dash-policy.json");
    std::fs::write(
        &policy,
        r#"{"auto_stop": {"model_fault_per_mille": 50, "model_min_samples": 1}}"#,
    )
    .expect("policy");
    let out = fresh("dash-window.html");
    ok(&gbcs(&[
        "dashboard",
        "--ledger",
        ledger.to_str().expect("path"),
        "--from",
        "2025-12-01T00:00:00Z",
        "--to",
        "2025-12-01T23:59:59Z",
        "--policy",
        policy.to_str().expect("path"),
        "--out",
        out.to_str().expect("path"),
    ]));
    let html = std::fs::read_to_string(&out).expect("page");
    assert!(
        html.contains("as at 2025-12-01T23:59:59Z"),
        "the window's end"
    );
    assert!(
        html.contains("auto-stop threshold 5.0 %"),
        "the policy's threshold"
    );
    // A day in hours: 24 bars a chart.
    assert_eq!(count(&html, "#fleet-migrated rect.bar"), 24);
    let bad = fresh("dash-bad-policy.json");
    std::fs::write(
        &bad,
        "{\"auto_stop\": {\"model_fault_per_mille\": \"lots\"}}",
    )
    .expect("policy");
    let o = gbcs(&[
        "dashboard",
        "--ledger",
        ledger.to_str().expect("path"),
        "--policy",
        bad.to_str().expect("path"),
        "--out",
        fresh("dash-bad.html").to_str().expect("path"),
    ]);
    assert_ne!(o.status.code(), Some(0), "{o:?}");
}

#[test]
fn an_absurd_window_is_still_a_page_of_bars() {
    let ledger = fresh("dash-absurd-ledger.json");
    migrate_simulated(&["--ledger", ledger.to_str().expect("path")]);
    let out = fresh("dash-absurd.html");
    ok(&gbcs(&[
        "dashboard",
        "--ledger",
        ledger.to_str().expect("path"),
        "--from",
        "0001-01-01T00:00:00Z",
        "--to",
        "9999-12-31T23:59:59Z",
        "--out",
        out.to_str().expect("path"),
    ]));
    let html = std::fs::read_to_string(&out).expect("page");
    let bars = count(&html, "#fleet-migrated rect.bar");
    assert!((1..=400).contains(&bars), "{bars} bars");
}
