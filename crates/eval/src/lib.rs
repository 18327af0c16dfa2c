//! Evaluation of forged-mail detectors: Impostor, its ablations and
//! baseline filters judged on the same labelled mail, and the benchmark
//! report (design.md §7).
//!
//! [`evaluation`] is the run `impostor eval` and `impostor bench` start:
//! [`EvalConfig`] in, the report out. [`selection`] decides which messages
//! a model may be measured on (never its train and validation roles or
//! their copies; each message left out is counted by [`Excluded`] reason).
//! [`detector`] is the one trait every evaluated detector implements;
//! [`detectors`] holds them (Impostor whole and in part, authentication
//! only, a keyword filter, and the peers SpamAssassin through spamd and
//! Rspamd through /checkv2, over loopback, started by
//! `scripts/baselines.sh`). [`run`] scores every message through every
//! detector; [`metrics`] the numbers of `metrics.json` per detector,
//! operating point, source, technique, label and origin (the intervals and
//! curves are `impostor_model::stats`); [`figures`] and [`plot`] the
//! figures (plotters, PNG and SVG); [`report`] `report.md`, `report.html`
//! and the atomic writer. [`transfer`] retrains on the model's own
//! training data without each real source, and across eras, to measure
//! how the model does on mail unlike what it was fitted on.
//!
//! What it deliberately does not do: parse mail or compute features or
//! scores of its own. Impostor's scores come from `impostor-model`'s
//! Detector, so evaluation measures the one scoring implementation the
//! gateway runs; mail is indexed as training indexes it
//! (`impostor-corpus`), and the model's roles are read from its training
//! data (`impostor-train`).

#![deny(missing_docs)]

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
pub mod transfer;

pub use detector::{Detector, DetectorError, Judgement, Sample};
pub use error::EvalError;
pub use evaluation::{evaluate, EvalConfig, MatchedFprs};
pub use selection::{select, Excluded, Selection};
