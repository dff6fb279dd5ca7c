//! The charts' geometry, drawn as inline SVG through askama templates (`templates/*.svg`,
//! escaped as XML): a bar per bucket of time, a bar per device model with the auto-stop's
//! threshold marked, and the timeline's marks. Every bar carries its number, as text beside
//! it when there is room and always in its tooltip and the data table beneath the chart.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use askama::Template;

use super::text::{number, time_label};
use crate::cos::engine::{Buckets, Mark, MarkKind};

/// The plot's size and margins (SVG user units).
const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 52.0;

/// A tick on an axis.
#[derive(Clone, Debug)]
pub struct Tick {
    /// Where (x or y, SVG units).
    pub at: String,
    /// Its words.
    pub text: String,
}

/// A bar.
#[derive(Clone, Debug)]
pub struct Bar {
    /// Left, top, width, height (SVG units).
    pub x: String,
    /// Top.
    pub y: String,
    /// Width.
    pub w: String,
    /// Height.
    pub h: String,
    /// Where its number goes.
    pub tx: String,
    /// Its number's baseline.
    pub ty: String,
    /// What it is (the bucket's time).
    pub label: String,
    /// Its value, written.
    pub value: String,
    /// Whether its number is drawn (when the bars are wide enough).
    pub show: bool,
}

/// A bar chart over the buckets of a window.
#[derive(Template, Clone, Debug)]
#[template(path = "bars.svg")]
pub struct BarChart {
    /// The element's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// What the y axis counts.
    pub y_label: String,
    /// What the x axis is.
    pub x_label: String,
    /// A sentence for screen readers.
    pub desc: String,
    /// Fill colour.
    pub fill: &'static str,
    /// The bars' outline width (none when they are too narrow for one).
    pub stroke: &'static str,
    /// The bars.
    pub bars: Vec<Bar>,
    /// The y axis' ticks.
    pub y_ticks: Vec<Tick>,
    /// The x axis' ticks.
    pub x_ticks: Vec<Tick>,
    /// Plot area: left, right, top, bottom (SVG units).
    pub left: String,
    /// Right edge.
    pub right: String,
    /// Top edge.
    pub top: String,
    /// Bottom edge (the x axis).
    pub bottom: String,
    /// Total width.
    pub width: String,
    /// Total height.
    pub height: String,
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// The smallest of 1, 2, 5 × 10ⁿ (and 2.5 × 10ⁿ from 25 on, so its quarters stay whole) at or
/// above `v`, at least 1.
#[must_use]
pub fn nice_ceiling(v: f64) -> f64 {
    let mut step = 1.0;
    loop {
        let steps: &[f64] = if step >= 10.0 {
            &[1.0, 2.0, 2.5, 5.0]
        } else {
            &[1.0, 2.0, 5.0]
        };
        for &m in steps {
            if m * step >= v {
                return m * step;
            }
        }
        step *= 10.0;
        if step > 1e18 {
            return v;
        }
    }
}

/// `n` as a float (exact below 2⁵³, as any count here is).
#[must_use]
pub fn float(n: u64) -> f64 {
    u32::try_from(n >> 32).map_or(f64::MAX, |hi| {
        f64::from(hi) * 4_294_967_296.0 + f64::from(u32::try_from(n & 0xFFFF_FFFF).unwrap_or(0))
    })
}

impl BarChart {
    /// A chart of `values`, one per bucket of `buckets`, written by `show`.
    #[must_use]
    pub fn of(
        id: &str,
        title: &str,
        y_label: &str,
        fill: &'static str,
        buckets: &Buckets,
        values: &[f64],
        show: impl Fn(f64) -> String,
    ) -> Self {
        let max = values.iter().copied().fold(0.0f64, f64::max);
        // A top whose quarters are round numbers: the four grid lines read plainly.
        let top_value = nice_ceiling(max / 4.0).max(1.0) * 4.0;
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let n = values.len().max(1);
        let slot = plot_w / float(u64::try_from(n).unwrap_or(1));
        let bar_w = (slot * 0.8).max(0.5);
        let wide = slot >= 24.0;
        let bars = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let h = plot_h * v / top_value;
                let x = LEFT + slot * float(u64::try_from(i).unwrap_or(0)) + (slot - bar_w) / 2.0;
                let y = TOP + plot_h - h;
                Bar {
                    x: f(x),
                    y: f(y),
                    w: f(bar_w),
                    h: f(h),
                    tx: f(x + bar_w / 2.0),
                    ty: f(y - 3.0),
                    label: time_label(buckets.start_of(i), buckets.width),
                    value: show(*v),
                    show: wide,
                }
            })
            .collect();
        let y_ticks = (0..=4)
            .map(|k| {
                let v = top_value * f64::from(k) / 4.0;
                Tick {
                    at: f(TOP + plot_h - plot_h * f64::from(k) / 4.0),
                    text: show(v),
                }
            })
            .collect();
        let every = n.div_ceil(4).max(1);
        let x_ticks = (0..n)
            .step_by(every)
            .map(|i| Tick {
                at: f(LEFT + slot * (float(u64::try_from(i).unwrap_or(0)) + 0.5)),
                text: time_label(buckets.start_of(i), buckets.width),
            })
            .collect();
        let total: f64 = values.iter().sum();
        Self {
            id: String::from(id),
            title: String::from(title),
            y_label: String::from(y_label),
            x_label: format!("time (UTC), one bar per {}", buckets.unit()),
            desc: format!(
                "{title}: {} bars, one per {}; the highest is {}, the total {}.",
                values.len(),
                buckets.unit(),
                show(max),
                show(total)
            ),
            fill,
            stroke: if bar_w >= 4.0 { "0.4" } else { "0" },
            bars,
            y_ticks,
            x_ticks,
            left: f(LEFT),
            right: f(WIDTH - RIGHT),
            top: f(TOP),
            bottom: f(TOP + plot_h),
            width: f(WIDTH),
            height: f(HEIGHT),
        }
    }
}

/// A device model's row in the model chart.
#[derive(Clone, Debug)]
pub struct ModelBar {
    /// Its name.
    pub name: String,
    /// The bar's width (SVG units).
    pub w: String,
    /// Its row's top.
    pub y: String,
    /// Its label's baseline.
    pub ty: String,
    /// Where the number goes.
    pub tx: String,
    /// The number: the fault rate and its sample.
    pub value: String,
    /// Whether it needs a decision (drawn darker).
    pub urgent: bool,
}

/// Fault rates per model, with the per-model threshold as a line.
#[derive(Template, Clone, Debug)]
#[template(path = "models.svg")]
pub struct ModelChart {
    /// The rows.
    pub rows: Vec<ModelBar>,
    /// The threshold line's x.
    pub threshold_x: String,
    /// The threshold in words.
    pub threshold: String,
    /// The bars' left edge.
    pub left: String,
    /// Total height.
    pub height: String,
    /// The plot's bottom.
    pub bottom: String,
    /// The x axis' ticks (percent).
    pub x_ticks: Vec<Tick>,
    /// A sentence for screen readers.
    pub desc: String,
}

const MODEL_LEFT: f64 = 230.0;
const MODEL_PLOT: f64 = 260.0;
const ROW: f64 = 22.0;
const TIMELINE_WIDTH: f64 = 640.0;

impl ModelChart {
    /// A chart of `rows`: (name, faults per mille, sample, needs a decision); the threshold
    /// at `threshold_per_mille`.
    #[must_use]
    pub fn of(rows: &[(String, u64, u64, bool)], threshold_per_mille: u64) -> Self {
        // The scale reaches past the threshold and the worst model: a tenth of it when
        // every model faults rarely, so small rates still read.
        let worst = rows.iter().map(|r| r.1).max().unwrap_or(0);
        let full = nice_ceiling(float(
            worst.max(threshold_per_mille.saturating_mul(3) / 2).max(10),
        ))
        .min(1000.0);
        let x_of = |pm: u64| MODEL_LEFT + MODEL_PLOT * (float(pm) / full).min(1.0);
        let bars = rows
            .iter()
            .enumerate()
            .map(|(i, (name, pm, sample, urgent))| {
                let y = TOP + ROW * float(u64::try_from(i).unwrap_or(0));
                ModelBar {
                    name: name.clone(),
                    w: f(x_of(*pm) - MODEL_LEFT),
                    y: f(y + 3.0),
                    ty: f(y + 15.0),
                    tx: f(MODEL_LEFT + MODEL_PLOT + 8.0),
                    value: format!("{} of {}", per_mille_text(*pm), number(*sample)),
                    urgent: *urgent,
                }
            })
            .collect::<Vec<_>>();
        let bottom = TOP + ROW * float(u64::try_from(rows.len().max(1)).unwrap_or(1));
        Self {
            desc: format!(
                "Fault rate of each of {} device models, with the auto-stop's per-model threshold of {}.",
                rows.len(),
                per_mille_text(threshold_per_mille)
            ),
            rows: bars,
            threshold_x: f(x_of(threshold_per_mille)),
            threshold: format!("auto-stop threshold {}", per_mille_text(threshold_per_mille)),
            left: f(MODEL_LEFT),
            height: f(bottom + 40.0),
            bottom: f(bottom),
            x_ticks: (0..=4)
                .map(|k| Tick {
                    at: f(MODEL_LEFT + MODEL_PLOT * f64::from(k) / 4.0),
                    text: format!("{:.1} %", full * f64::from(k) / 40.0),
                })
                .collect(),
        }
    }
}

/// Per mille as a percentage with one decimal.
#[must_use]
pub fn per_mille_text(pm: u64) -> String {
    format!("{}.{} %", pm / 10, pm % 10)
}

/// A mark on the timeline.
#[derive(Clone, Debug)]
pub struct MarkDot {
    /// Its x.
    pub x: String,
    /// Its row's y.
    pub y: String,
    /// Its shape: `stop`, `local`, `listed` or `other`.
    pub shape: &'static str,
    /// Its words (with its time).
    pub text: String,
}

/// The timeline: one row per kind of mark.
#[derive(Template, Clone, Debug)]
#[template(path = "timeline.svg")]
pub struct Timeline {
    /// The marks.
    pub marks: Vec<MarkDot>,
    /// The rows' names and ys.
    pub rows: Vec<Tick>,
    /// The x axis' ticks.
    pub x_ticks: Vec<Tick>,
    /// Left edge of the time axis.
    pub left: String,
    /// Right edge.
    pub right: String,
    /// A sentence for screen readers.
    pub desc: String,
}

impl Timeline {
    /// The timeline of `marks` over `buckets`.
    #[must_use]
    pub fn of(marks: &[Mark], buckets: &Buckets) -> Self {
        let rows = [
            ("auto-stops", 0.0),
            ("local faults", 1.0),
            ("listings", 2.0),
            ("pauses, marks", 3.0),
        ];
        let span = float(
            u64::try_from(buckets.end() + 1 - buckets.start)
                .unwrap_or(1)
                .max(1),
        );
        let plot_w = TIMELINE_WIDTH - LEFT * 2.0 - RIGHT;
        let x_of = |secs: i64| {
            let off = float(u64::try_from(secs - buckets.start).unwrap_or(0));
            LEFT * 2.0 + plot_w * off / span
        };
        let dots = marks
            .iter()
            .map(|m| {
                let (row, shape) = match m.kind {
                    MarkKind::AutoStop | MarkKind::WrongCredential => (0.0, "stop"),
                    MarkKind::LocalFaults => (1.0, "local"),
                    MarkKind::Listed => (2.0, "listed"),
                    MarkKind::HighPriority | MarkKind::Paused | MarkKind::Resumed => (3.0, "other"),
                };
                MarkDot {
                    x: f(x_of(m.at.secs())),
                    y: f(TOP + 12.0 + row * 24.0),
                    shape,
                    text: format!("{}: {}", time_label(m.at.secs(), 1), m.text),
                }
            })
            .collect();
        let every = buckets.count.div_ceil(6).max(1);
        Self {
            desc: format!("{} marks on the run's timeline.", marks.len()),
            marks: dots,
            rows: rows
                .iter()
                .map(|(name, r)| Tick {
                    at: f(TOP + 16.0 + r * 24.0),
                    text: String::from(*name),
                })
                .collect(),
            x_ticks: (0..buckets.count)
                .step_by(every)
                .map(|i| Tick {
                    at: f(x_of(buckets.start_of(i))),
                    text: time_label(buckets.start_of(i), buckets.width),
                })
                .collect(),
            left: f(LEFT * 2.0),
            right: f(TIMELINE_WIDTH - RIGHT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_end_on_round_numbers_whose_quarters_are_whole() {
        for (v, top) in [
            (0.0, 1.0),
            (0.3, 1.0),
            (3.0, 5.0),
            (21.0, 25.0),
            (101.0, 200.0),
            (25_000.0, 25_000.0),
        ] {
            assert_eq!(nice_ceiling(v), top, "{v}");
        }
        assert_eq!(float(u64::MAX >> 11), 9_007_199_254_740_991.0);
        assert_eq!(per_mille_text(205), "20.5 %");
    }
}
