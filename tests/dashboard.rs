//! The operator's dashboard over a simulated migration that a broken model stops: the page
//! parses as HTML (with a real parser), holds the named charts, puts the broken model first,
//! and its numbers are the ledger's and the reports' for the same instant; the store's SQL
//! aggregation equals the in-memory one; text from the state is escaped, never markup.

#[path = "support/migration_common.rs"]
mod common;
#[path = "support/run.rs"]
mod run;
#[path = "support/skip.rs"]
mod skip;

use common::*;
use gbcs::cos::engine::{Activity, Buckets, Record};
use gbcs::cos::ledger::{Ledger, LedgerEntry};
use gbcs::cos::migration::{AutoStopPolicy, Incident};
use gbcs::cos::{Ecosmig007, SecPartyId};
use gbcs::dashboard::{render, Figures};
use gbcs::store::SqliteLedger;
use run::Run;
use scraper::{Html, Selector};

/// 2026-12-31T23:59:59Z: the end of the month the run starts in (it goes on into January).
const MONTH_END: i64 = 1_798_761_599;

struct Stopped {
    ledger: Ledger,
    records: Vec<Record>,
    model: gbcs::cos::ModelKey,
    rule: AutoStopPolicy,
}

fn stopped_run() -> Stopped {
    let (mut sim, config) = bad_model_run();
    let mut run = Run::new(&mut sim, config, 1);
    run.run(&sim);
    let Some(Incident::ModelFaults { model, .. }) = run.stopped().cloned() else {
        panic!(
            "expected the broken model to stop the run: {:?}",
            run.stopped()
        );
    };
    Stopped {
        ledger: run.ledger().clone(),
        records: run.h.records.iter().map(|(_, r)| r.clone()).collect(),
        model,
        rule: run.policy().auto_stop,
    }
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("selector")
}

fn text(e: scraper::ElementRef<'_>) -> String {
    e.text().collect::<String>().trim().to_owned()
}

fn number(s: &str) -> u64 {
    s.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{s:?} is not a number"))
}

fn page(s: &Stopped, to: i64) -> (Figures, Html) {
    let from = s.ledger.first_instant().expect("a run");
    let buckets = Buckets::covering(from, to);
    let activity = Activity::of_records(&s.records, buckets);
    let figures = Figures::of(&s.ledger, buckets, activity, s.rule);
    let html = render(&figures, "a test run", to + 1).expect("render");
    (figures, Html::parse_document(&html))
}

#[test]
fn the_page_names_its_charts_puts_the_broken_model_first_and_marks_the_auto_stop() {
    let s = stopped_run();
    let (figures, doc) = page(&s, MONTH_END);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    for id in [
        "counts-table",
        "fleet-migrated",
        "fleet-failed",
        "fleet-remaining",
        "chart-models",
        "models-table",
        "chart-timeline",
        "marks-table",
        "activity-first",
        "activity-in-flight",
    ] {
        let found = doc.select(&sel(&format!("#{id}"))).count();
        assert_eq!(found, 1, "#{id}");
    }
    // Self-contained: no script, nothing fetched.
    assert_eq!(
        doc.select(&sel("script, link, img, iframe, object"))
            .count(),
        0
    );
    // Each supplier has its charts.
    for supplier in figures.counts.keys() {
        let id = format!("#supplier-{supplier}-migrated");
        assert_eq!(doc.select(&sel(&id)).count(), 1, "{id}");
    }
    // The model that stopped the run needs a decision, and comes first.
    let first = doc
        .select(&sel("#models-table tbody tr"))
        .next()
        .expect("a model row");
    assert_eq!(
        text(first.select(&sel("th")).next().expect("name")),
        s.model.to_string()
    );
    assert_eq!(first.value().attr("class"), Some("urgent"));
    let bars = doc.select(&sel("#chart-models rect.bar")).count();
    assert!(bars >= 1 && bars <= figures.models.len());
    assert_eq!(doc.select(&sel("#chart-models .threshold")).count(), 1);
    // The auto-stop is on the timeline, as a mark and a row.
    assert!(doc.select(&sel("#chart-timeline .mark.stop")).count() >= 1);
    let marks: Vec<String> = doc
        .select(&sel("#marks-table tbody tr"))
        .map(text)
        .collect();
    assert!(
        marks
            .iter()
            .any(|m| m.contains("auto-stop") && m.contains(&s.model.to_string())),
        "{marks:?}"
    );
    // A bar per bucket, never one per device.
    let fleet_bars = doc.select(&sel("#fleet-migrated rect.bar")).count();
    assert_eq!(fleet_bars, figures.buckets.count);
    assert!(fleet_bars <= 400);
}

#[test]
fn the_counts_on_the_page_are_the_ecosmig_007_of_the_same_instant() {
    let s = stopped_run();
    let (_, doc) = page(&s, MONTH_END);
    let mut ledger = s.ledger.clone();
    let rows: Vec<(String, Vec<u64>)> = doc
        .select(&sel("#counts-table tbody tr"))
        .map(|tr| {
            let name = text(tr.select(&sel("th")).next().expect("supplier"));
            let values = tr.select(&sel("td")).map(|td| number(&text(td))).collect();
            (name, values)
        })
        .collect();
    assert!(rows.len() >= 2, "{rows:?}");
    let mut total = [0u64; 5];
    for (name, values) in &rows {
        if name == "all suppliers" {
            assert_eq!(values, &total.to_vec());
            continue;
        }
        let supplier = SecPartyId::new(name).expect("a supplier ID");
        let (report, _) =
            Ecosmig007::for_month(&mut ledger, supplier, 2026, 12, None, MONTH_END + 86_400)
                .expect("the December report");
        let c = report.counts;
        let expected = [
            c.migrations_completed,
            c.failed_attempts,
            c.ecos_installed,
            c.remaining_tcos,
            c.non_migratable,
        ];
        assert_eq!(values, &expected.to_vec(), "{name}");
        for (t, v) in total.iter_mut().zip(expected) {
            *t += v;
        }
    }
    let headline = |id: &str| {
        number(
            doc.select(&sel(&format!("#figure-{id} .value")))
                .next()
                .map(text)
                .expect("figure")
                .as_str(),
        )
    };
    assert_eq!(headline("migrated"), total[0]);
    assert_eq!(headline("failed"), total[1]);
    assert_eq!(headline("remaining"), total[3]);
}

#[test]
fn every_bucket_adds_up_to_the_ledger_as_at_its_end() {
    let s = stopped_run();
    // A window that ends mid-run as well as one past it.
    let last = s.ledger.last_instant().expect("a run");
    let first = s.ledger.first_instant().expect("a run");
    for to in [first + (last - first) / 2, MONTH_END, last + 86_400] {
        let (figures, _) = page(&s, to);
        let b = figures.buckets;
        let mut migrated = figures.fleet.migrated_before;
        let mut failed = figures.fleet.failed_before;
        for i in 0..b.count {
            migrated += figures.fleet.migrated[i];
            failed += figures.fleet.failed[i];
            let at = b.end_of(i);
            let summary = s.ledger.summary_as_at(at);
            let sum =
                |f: fn(&gbcs::cos::SupplierCounts) -> u64| summary.values().map(f).sum::<u64>();
            assert_eq!(migrated, sum(|c| c.migrations_completed), "bucket {i}");
            assert_eq!(failed, sum(|c| c.failed_attempts), "bucket {i}");
            assert_eq!(
                figures.fleet.remaining[i],
                sum(|c| c.remaining_tcos),
                "bucket {i}"
            );
            for (supplier, p) in &figures.suppliers {
                let c = summary.get(supplier).copied().unwrap_or_default();
                assert_eq!(p.remaining[i], c.remaining_tcos, "{supplier} bucket {i}");
            }
        }
    }
}

#[test]
fn the_store_aggregates_what_the_records_say() {
    let s = stopped_run();
    let dir = std::env::temp_dir().join(format!("gbcs-dashboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("store.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut store = SqliteLedger::open(&path).expect("store");
    // In batches, as the driver commits them.
    for chunk in s.records.chunks(37) {
        store.append_records(chunk).expect("append");
    }
    assert_eq!(store.ledger().expect("ledger"), s.ledger);
    let (lo, hi) = store.events_span().expect("span").expect("events");
    for (from, to) in [
        (lo, hi),
        (lo + (hi - lo) / 3, hi - (hi - lo) / 3),
        (lo - 7_200, hi + 86_400),
    ] {
        let buckets = Buckets::covering(from, to);
        let sql = store.activity(buckets).expect("activity");
        let memory = Activity::of_records(&s.records, buckets);
        assert_eq!(sql, memory, "{from}..{to}");
    }
    let whole = store.activity(Buckets::covering(lo, hi)).expect("activity");
    assert!(whole.recorded);
    assert!(whole.sent.iter().sum::<u64>() > 0);
    assert_eq!(
        whole.in_flight.last(),
        Some(&0),
        "everything settled by the end"
    );
    assert!(whole
        .marks
        .iter()
        .any(|m| m.kind == gbcs::cos::engine::MarkKind::AutoStop));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_from_the_state_is_shown_as_text_never_as_markup() {
    let mut ledger = Ledger::new();
    let supplier = SecPartyId::new("SUPA01").expect("id");
    let device = gbcs::frame::EntityId::from_u64(0x00DB_0000_0000_0001);
    ledger.apply(&LedgerEntry::Supplier {
        device,
        at: 1_000,
        supplier: supplier.clone(),
    });
    ledger.apply(&LedgerEntry::Descriptor {
        device,
        at: 1_000,
        descriptor: gbcs::cos::ledger::Descriptor {
            device_type: gbcs::cos::DeviceType::Esme,
            model: gbcs::cos::ModelKey::new("<b>ACME</b>", "M&M\"'"),
            firmware: "<img src=x onerror=alert(1)>".into(),
            meter_asset_provider: None,
        },
    });
    let evil = "<script>alert(1)</script>";
    ledger.apply(&LedgerEntry::Made {
        report: evil.into(),
        recipient: supplier,
        start: 0,
        end: 999,
    });
    let buckets = Buckets::covering(1_000, 2_000);
    let figures = Figures::of(
        &ledger,
        buckets,
        Activity::empty(buckets),
        AutoStopPolicy::default(),
    );
    let html = render(&figures, "</title><script>x()</script>", 2_001).expect("render");
    let doc = Html::parse_document(&html);
    assert_eq!(doc.select(&sel("script, img, b")).count(), 0, "{html}");
    let reports: String = doc.select(&sel("#reports-table")).map(text).collect();
    assert!(reports.contains(evil), "{reports}");
    let models: String = doc.select(&sel("#models-table")).map(text).collect();
    assert!(models.contains("<b>ACME</b>/M&M\"'"), "{models}");
    // Without command records the activity says so instead of drawing empty charts.
    assert_eq!(doc.select(&sel("#activity svg")).count(), 0);
    assert!(
        text(doc.select(&sel("#activity")).next().expect("section")).contains("no command records")
    );
}

/// The browser to draw with: `GBCS_CHROMIUM`, or the first of Debian's names on `PATH`.
fn chromium() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("GBCS_CHROMIUM") {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| {
            ["chromium", "chromium-browser", "chromium-headless-shell"].map(|n| d.join(n))
        })
        .find(|p| p.is_file())
}

/// Runs `cmd`, killing it if it has not finished after `secs` seconds.
fn run_bounded(mut cmd: std::process::Command, secs: u64) -> std::process::ExitStatus {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the browser");
    for _ in 0..secs * 10 {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("the browser did not finish in {secs} s");
}

#[test]
fn a_real_browser_draws_the_charts_in_their_colours() {
    let Some(browser) = chromium() else {
        assert!(
            !skip::required("GBCS_REQUIRE_CHROMIUM"),
            "GBCS_REQUIRE_CHROMIUM is set but no chromium is on PATH"
        );
        skip::skipped(
            "the dashboard's screenshot",
            "no chromium on PATH (apt-get install chromium; CI installs it and sets GBCS_REQUIRE_CHROMIUM=1)",
        );
        return;
    };
    let s = stopped_run();
    let from = s.ledger.first_instant().expect("a run");
    let buckets = Buckets::covering(from, MONTH_END);
    let figures = Figures::of(
        &s.ledger,
        buckets,
        Activity::of_records(&s.records, buckets),
        s.rule,
    );
    let html = render(&figures, "a test run", MONTH_END + 1).expect("render");
    let dir = std::env::temp_dir().join(format!("gbcs-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let page = dir.join("dashboard.html");
    let shot = dir.join("shot.png");
    std::fs::write(&page, html).expect("write");
    let mut cmd = std::process::Command::new(&browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--window-size=1360,1500",
    ])
    .arg(format!("--user-data-dir={}", dir.join("profile").display()))
    .arg(format!("--screenshot={}", shot.display()))
    .arg(format!("file://{}", page.display()));
    let status = run_bounded(cmd, 120);
    assert!(status.success(), "{} failed: {status}", browser.display());
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("the screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("pixels");
    assert_eq!((info.width, info.height), (1360, 1500));
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixels: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let distinct: std::collections::BTreeSet<[u8; 3]> = pixels.iter().copied().collect();
    let inked = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(
        distinct.len() >= 16,
        "{} colours: a blank page?",
        distinct.len()
    );
    assert!(
        inked * 50 > pixels.len(),
        "{inked} of {} pixels inked",
        pixels.len()
    );
    // The fleet's bars, in their colours: migrated, failed attempts, remaining.
    for (name, rgb) in [
        ("migrated", [0x1b, 0x4f, 0x72]),
        ("failed", [0xe0, 0x8a, 0x2c]),
        ("remaining", [0x7f, 0x7f, 0x7f]),
    ] {
        let n = pixels.iter().filter(|p| **p == rgb).count();
        assert!(n >= 40, "the {name} bars: {n} pixels of {rgb:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
