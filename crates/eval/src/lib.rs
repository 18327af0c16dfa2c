//! Evaluation of forged-mail detectors: Impostor, its ablations and
//! baseline filters judged on the same labelled mail, and the benchmark
//! report (design.md §7).
//!
//! [`detector`] is the one trait every evaluated detector implements;
//! [`detectors`] holds them (Impostor whole and in part, authentication
//! only, a keyword filter, and the peers SpamAssassin through spamd and
//! Rspamd through /checkv2, over loopback, started by
//! `scripts/baselines.sh`). [`run`] scores every message through every
//! detector; [`rates`] (Wilson intervals) and [`ranking`] (ROC and PR
//! curves, AUC with ties as half, a seeded bootstrap) are the arithmetic;
//! [`metrics`] the numbers of `metrics.json` per detector, operating
//! point, source, technique, label and origin; [`figures`] and [`plot`]
//! the figures (plotters, PNG and SVG); [`report`] `report.md`,
//! `report.html` and the atomic writer. Training reports its held-out
//! rates with [`rates`] and [`ranking`] too.
//!
//! What it deliberately does not do: parse mail or compute features or
//! scores of its own. Impostor's scores come from `impostor-serve`'s
//! Detector, so evaluation measures the one scoring implementation the
//! gateway runs; which messages to evaluate (labels, roles, splits) is
//! the caller's (`impostor eval`).

pub mod detector;
pub mod detectors;
pub mod error;
pub mod evaluation;
pub mod figures;
pub mod metrics;
pub mod plot;
pub mod report;
pub mod run;
pub mod selection;

pub use detector::{Detector, DetectorError, Judgement, Sample};
pub use error::EvalError;
pub use evaluation::{evaluate, EvalConfig, MatchedFprs};
pub use selection::{select, Excluded, Selection};
