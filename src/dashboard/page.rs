//! The page: one HTML document with its style inline and every chart as inline SVG, nothing
//! fetched and no script, so it opens offline and travels as an email attachment.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use askama::Template;

use super::chart::{float, per_mille_text, BarChart, ModelChart, Timeline};
use super::figures::{Figures, Progress};
use super::text::{instant, number, time_label};

/// One labelled figure of the headline.
#[derive(Clone, Debug)]
pub struct Figure {
    /// What it is.
    pub label: String,
    /// Its value.
    pub value: String,
    /// Its id (for machines reading the page).
    pub id: String,
}

/// A row of the per-supplier counts (ECOSMIG-007 as at the window's end).
#[derive(Clone, Debug)]
pub struct CountRow {
    /// The supplier (or `all suppliers`).
    pub supplier: String,
    /// The counts, in ECOSMIG-007's order.
    pub values: [String; 5],
}

/// A row of a series' data table.
#[derive(Clone, Debug)]
pub struct SeriesRow {
    /// The bucket.
    pub bucket: String,
    /// Its values.
    pub values: Vec<String>,
}

/// One scope's progress: its charts and their numbers.
#[derive(Clone, Debug)]
pub struct Panel {
    /// The section's id.
    pub id: String,
    /// Its heading.
    pub heading: String,
    /// The charts (SVG).
    pub charts: Vec<String>,
    /// The numbers.
    pub rows: Vec<SeriesRow>,
}

/// A row of the model table.
#[derive(Clone, Debug)]
pub struct ModelLine {
    /// Manufacturer/model.
    pub model: String,
    /// Firmware.
    pub firmware: String,
    /// Devices, attempts, faults, fault rate, listed.
    pub values: [String; 5],
    /// The notices' categories, in words.
    pub categories: String,
    /// What it asks of the operator.
    pub verdict: String,
    /// Whether it needs a decision.
    pub urgent: bool,
}

/// A row of the marks' table.
#[derive(Clone, Debug)]
pub struct MarkLine {
    /// When.
    pub at: String,
    /// What kind.
    pub kind: String,
    /// In words.
    pub text: String,
}

/// A row of the reports' table.
#[derive(Clone, Debug)]
pub struct ReportLine {
    /// Report, recipient, period start, period end, made, sequence.
    pub values: [String; 6],
}

/// The page.
#[derive(Template, Clone, Debug)]
#[template(path = "dashboard.html")]
pub struct Page {
    /// Where the state came from.
    pub source: String,
    /// When the page was made.
    pub generated: String,
    /// The window.
    pub from: String,
    /// Its end: the "as at" instant.
    pub to: String,
    /// The bucket's width in words.
    pub unit: String,
    /// The headline.
    pub headline: Vec<Figure>,
    /// ECOSMIG-007 as at the end.
    pub counts: Vec<CountRow>,
    /// The fleet's and each supplier's progress.
    pub panels: Vec<Panel>,
    /// The model chart (SVG).
    pub model_chart: String,
    /// The model table.
    pub models: Vec<ModelLine>,
    /// How many models the chart leaves to the table.
    pub models_not_charted: usize,
    /// The threshold in words.
    pub rule: String,
    /// The timeline (SVG).
    pub timeline: String,
    /// The marks.
    pub marks: Vec<MarkLine>,
    /// The activity charts (SVG), if the store has commands.
    pub activity: Vec<String>,
    /// The activity's numbers.
    pub activity_rows: Vec<SeriesRow>,
    /// The reports.
    pub reports: Vec<ReportLine>,
}

/// Most models drawn in the chart (the table lists them all).
const CHARTED_MODELS: usize = 25;

fn floats(v: &[u64]) -> Vec<f64> {
    v.iter().map(|n| float(*n)).collect()
}

fn whole(v: f64) -> String {
    let r = v.round();
    if (0.0..9.0e15).contains(&r) {
        // Exact: a whole number in range, written without a fraction.
        number(format!("{r:.0}").parse::<u64>().unwrap_or(0))
    } else {
        format!("{v:.0}")
    }
}

fn panel(id: &str, heading: &str, p: &Progress, f: &Figures) -> Result<Panel, askama::Error> {
    let b = &f.buckets;
    let charts = [
        BarChart::of(
            &format!("{id}-migrated"),
            &format!("{heading}: devices migrated per {}", b.unit()),
            "migrations completed",
            "#1b4f72",
            b,
            &floats(&p.migrated),
            whole,
        ),
        BarChart::of(
            &format!("{id}-failed"),
            &format!("{heading}: failed attempts per {}", b.unit()),
            "failed attempts",
            "#e08a2c",
            b,
            &floats(&p.failed),
            whole,
        ),
        BarChart::of(
            &format!("{id}-remaining"),
            &format!("{heading}: devices still on TCoS"),
            "devices at the end of each bar",
            "#7f7f7f",
            b,
            &floats(&p.remaining),
            whole,
        ),
    ]
    .iter()
    .map(Template::render)
    .collect::<Result<Vec<_>, _>>()?;
    let rows = (0..b.count)
        .map(|i| SeriesRow {
            bucket: time_label(b.start_of(i), b.width),
            values: [&p.migrated, &p.failed, &p.remaining]
                .iter()
                .map(|v| number(v.get(i).copied().unwrap_or(0)))
                .collect(),
        })
        .collect();
    Ok(Panel {
        id: String::from(id),
        heading: String::from(heading),
        charts,
        rows,
    })
}

impl Page {
    /// The page of `figures`, read from `source`, made at `generated` (Unix seconds).
    ///
    /// # Errors
    /// When a template fails to render (a bug, reported rather than hidden).
    pub fn of(figures: &Figures, source: &str, generated: i64) -> Result<Self, askama::Error> {
        let f = figures;
        let b = &f.buckets;
        let total = f.counts.values().fold([0u64; 5], |mut t, c| {
            t[0] += c.migrations_completed;
            t[1] += c.failed_attempts;
            t[2] += c.ecos_installed;
            t[3] += c.remaining_tcos;
            t[4] += c.non_migratable;
            t
        });
        let mut counts: Vec<CountRow> = f
            .counts
            .iter()
            .map(|(s, c)| CountRow {
                supplier: s.to_string(),
                values: [
                    c.migrations_completed,
                    c.failed_attempts,
                    c.ecos_installed,
                    c.remaining_tcos,
                    c.non_migratable,
                ]
                .map(number),
            })
            .collect();
        counts.push(CountRow {
            supplier: String::from("all suppliers"),
            values: total.map(number),
        });
        let headline = [
            (
                "devices",
                "Devices in the ledger",
                u64::try_from(f.devices).unwrap_or(0),
            ),
            ("migrated", "Migrations completed", total[0]),
            ("failed", "Failed attempts", total[1]),
            ("remaining", "Remaining with TCoS credentials", total[3]),
            ("non-migratable", "Non-Migratable", total[4]),
        ]
        .iter()
        .map(|(id, label, v)| Figure {
            label: String::from(*label),
            value: number(*v),
            id: String::from(*id),
        })
        .collect();
        let mut panels = Vec::new();
        panels.push(panel("fleet", "Fleet", &f.fleet, f)?);
        for (s, p) in &f.suppliers {
            panels.push(panel(
                &format!("supplier-{s}"),
                &format!("Supplier {s}"),
                p,
                f,
            )?);
        }
        let limit = u64::try_from(f.rule.model_fault_per_mille).unwrap_or(1000);
        let charted: Vec<(String, u64, u64, bool)> = f
            .models
            .iter()
            .take(CHARTED_MODELS)
            .map(|m| {
                (
                    format!("{} {}", m.model, m.firmware),
                    m.fault_per_mille(),
                    m.attempts,
                    m.needs_decision(&f.rule),
                )
            })
            .collect();
        let models = f
            .models
            .iter()
            .map(|m| ModelLine {
                model: m.model.to_string(),
                firmware: m.firmware.clone(),
                values: [
                    number(m.devices),
                    number(m.attempts),
                    number(m.faults),
                    per_mille_text(m.fault_per_mille()),
                    number(m.listed),
                ],
                categories: m
                    .categories
                    .iter()
                    .map(|(c, n)| format!("{c}: {}", number(*n)))
                    .collect::<Vec<_>>()
                    .join("; "),
                verdict: String::from(m.verdict(&f.rule)),
                urgent: m.needs_decision(&f.rule),
            })
            .collect();
        let a = &f.activity;
        let (activity, activity_rows) = if a.recorded {
            let per_second = a.first_commands_per_second();
            let charts = [
                BarChart::of(
                    "activity-first",
                    &format!("First commands per second, averaged over each {}", b.unit()),
                    "devices first commanded per second",
                    "#145a32",
                    b,
                    &per_second,
                    |v| format!("{v:.1}"),
                ),
                BarChart::of(
                    "activity-in-flight",
                    "Commands in flight at the end of each bar",
                    "commands awaiting a reply",
                    "#5b2c6f",
                    b,
                    &floats(&a.in_flight),
                    whole,
                ),
            ]
            .iter()
            .map(Template::render)
            .collect::<Result<Vec<_>, _>>()?;
            let rows = (0..b.count)
                .map(|i| SeriesRow {
                    bucket: time_label(b.start_of(i), b.width),
                    values: alloc::vec![
                        number(a.first_commands.get(i).copied().unwrap_or(0)),
                        format!("{:.1}", per_second.get(i).copied().unwrap_or(0.0)),
                        number(a.sent.get(i).copied().unwrap_or(0)),
                        number(a.in_flight.get(i).copied().unwrap_or(0)),
                    ],
                })
                .collect();
            (charts, rows)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Self {
            source: String::from(source),
            generated: instant(generated),
            from: instant(b.start),
            to: instant(f.as_at),
            unit: String::from(b.unit()),
            headline,
            counts,
            panels,
            model_chart: ModelChart::of(&charted, limit).render()?,
            models_not_charted: f.models.len().saturating_sub(CHARTED_MODELS),
            models,
            rule: format!(
                "The auto-stop judges a model on its last {} attempts once it has {}, and stops the run when more than {} of them are device faults.",
                number(u64::try_from(f.rule.model_window).unwrap_or(0)),
                number(u64::try_from(f.rule.model_min_samples).unwrap_or(0)),
                per_mille_text(limit)
            ),
            timeline: Timeline::of(&a.marks, b).render()?,
            marks: a
                .marks
                .iter()
                .map(|m| MarkLine {
                    at: instant(m.at.secs()),
                    kind: String::from(m.kind.name()),
                    text: m.text.clone(),
                })
                .collect(),
            activity,
            activity_rows,
            reports: f
                .reports
                .iter()
                .map(|r| ReportLine {
                    values: [
                        r.report.clone(),
                        r.recipient.to_string(),
                        instant(r.period.0),
                        instant(r.period.1),
                        number(u64::try_from(r.made).unwrap_or(0)),
                        r.sequence.map_or_else(|| String::from("—"), |s| s.to_string()),
                    ],
                })
                .collect(),
        })
    }
}
