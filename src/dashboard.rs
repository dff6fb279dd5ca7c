//! The operator's dashboard: the migration at a glance, as one self-contained HTML file.
//!
//! Whoever runs the national migration watches it for months and decides from what they see:
//! which device models fault often enough to list as Non-Migratable, whether an auto-stop was
//! a network blip or a broken model, how far each Responsible Supplier's fleet has come, and
//! whether the run keeps pace. [`Figures::of`] aggregates the ledger (one pass, never a pass
//! per bucket) and the store's command activity ([`Activity`], summed per bucket in the
//! store); [`render`] writes the page: inline SVG drawn through askama templates, its style
//! inline, no script, nothing fetched — it opens offline and travels as an attachment. The
//! page holds a few dozen elements per chart however large the fleet: one bar per bucket of
//! time or per device model, never one per device.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use gbcs::cos::engine::{Activity, Buckets};
//! use gbcs::cos::ledger::LedgerEntry;
//! use gbcs::cos::migration::AutoStopPolicy;
//! use gbcs::cos::{Ledger, SecPartyId};
//! use gbcs::dashboard::{render, Figures};
//! use gbcs::frame::EntityId;
//!
//! let mut ledger = Ledger::new();
//! let device = EntityId::from_u64(0x00DB_0000_0000_0001);
//! ledger.apply(&LedgerEntry::Supplier { device, at: 1_796_860_800, supplier: SecPartyId::new("SUPA01")? });
//! let buckets = Buckets::covering(1_796_860_800, 1_796_947_199);
//! let figures = Figures::of(&ledger, buckets, Activity::empty(buckets), AutoStopPolicy::default());
//! let html = render(&figures, "an example ledger", 1_796_947_200)?;
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(html.contains("SUPA01") && !html.contains("<script"));
//! # Ok(()) }
//! ```
//!
//! [`Activity`]: crate::cos::engine::Activity

use alloc::string::String;

use askama::Template;

mod chart;
mod figures;
mod page;
mod text;

pub use chart::nice_ceiling;
pub use figures::{Figures, ModelRow, Progress, ReportRow};
pub use page::Page;
pub use text::{instant, number};

/// The page of `figures`, read from `source` (a store's URL or a file's path, as shown on the
/// page), made at `generated` (Unix seconds).
///
/// # Errors
/// When a template fails to render.
pub fn render(figures: &Figures, source: &str, generated: i64) -> Result<String, askama::Error> {
    Page::of(figures, source, generated)?.render()
}
