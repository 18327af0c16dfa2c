//! The model: expert rules, the one scoring function, verdicts with
//! reasons, the artifact that carries a trained model, the statistics
//! training and evaluation both report, and the one way outputs are
//! written.
//!
//! - [`rules`]: the expert rules, read from a declarative file and resolved
//!   against the feature schema (an unknown feature is refused at load).
//! - [`model`]: the learned numbers and the one scoring implementation
//!   (rule hits and classifier → calibrated probability → level).
//! - [`detector`]: a model turned into verdicts with ranked reasons.
//! - [`verdict`]: the scan output contract of design.md §5.
//! - [`artifact`]: the model artifact of design.md §6, written whole or not
//!   at all, and verified (SHA-256 of every file, format version, feature
//!   schema) before it is used; the default model built into the binary.
//! - [`stats`]: rates with Wilson intervals, one [`Interval`] type, ROC /
//!   PR ranking metrics and a seeded bootstrap, column standardisation.
//! - [`atomic`]: every writer of the workspace goes through it (a
//!   temporary file or directory, flushed, renamed into place).
//!
//! What it deliberately does not do: parse mail or compute features (that
//! is `impostor-features`), fit anything (`impostor-train` produces the
//! numbers), serve (`impostor-serve`), or link an async runtime, polars,
//! linfa, plotters or any GPL code: training, evaluation and a gateway all
//! link it.

#![warn(missing_docs)]
// Rule and artifact files are input too: no slicing that can panic.
#![cfg_attr(not(test), deny(clippy::string_slice))]

pub mod artifact;
pub mod atomic;
pub mod detector;
pub mod error;
pub mod model;
pub mod rules;
pub mod stats;
pub mod verdict;

pub use artifact::Artifact;
pub use detector::Detector;
pub use error::ModelError;
pub use model::{Model, ModelParams, Score};
pub use rules::{RuleSet, BUILTIN_RULES};
pub use stats::{Interval, Rate};
pub use verdict::{Level, Reason, ScanRecord, Verdict};
