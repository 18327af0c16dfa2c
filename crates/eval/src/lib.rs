//! Detection metrics with confidence intervals, baselines and benchmark
//! reports for Impostor.
//!
//! Today it holds [`rates`]: proportions (detection rate, false-positive rate,
//! precision) with Wilson score 95% intervals and per-million scaling, and
//! [`ranking`]: ROC AUC (ties as half), ROC and precision-recall curves,
//! average precision and a seeded bootstrap interval for AUC; the building
//! blocks of `metrics.json` (design.md §7). Training reports its held-out
//! rates with them too. [`plot`] draws the report's figures (ROC and
//! precision-recall curves, per-technique bars, score histograms,
//! reliability diagrams) as PNG and SVG from plain data. Baselines,
//! per-source and per-technique tables and `report.md` arrive with the
//! evaluation issue.
//!
//! What it deliberately does not do: parse mail, extract features or score
//! messages. Scores come from `impostor-serve`'s Detector, so that evaluation
//! measures the one scoring implementation the gateway runs.

pub mod detector;
pub mod detectors;
pub mod plot;
pub mod ranking;
pub mod rates;

pub use detector::{Detector, DetectorError, Judgement, Sample};
pub use ranking::{average_precision, bootstrap_auc, roc_auc};
pub use rates::{wilson, Interval, Rate, Z_95};
