//! Labelled corpora → feature tables → rule weights and a classifier →
//! model artifact.
//!
//! What it does: [`run`] is a training run as `impostor train` and
//! `impostor bench` start it ([`TrainConfig`] checked into a
//! [`CheckedTrain`], then run: mail → examples with roles → a verified
//! artifact); [`extract`] extracts many messages on a worker pool in input
//! order; [`feature_table`] turns extracted messages into a table (one
//! row per message: where it came from, its error if any, every named
//! feature) and writes it as Parquet (through polars) or NDJSON, atomically;
//! [`training`] fits rule weights and a linfa-logistic classifier, calibrates
//! them on out-of-fold scores, chooses the detection levels on a validation
//! role, measures a held-out test role, and exports the model artifact.
//!
//! What it deliberately does not do: parse mail or compute features (that is
//! `impostor-features`, so training and serving can never disagree), index,
//! split or generate corpora (`impostor-corpus`), or define how a model
//! scores (the artifact format and the one scoring function are
//! `impostor-model`'s; training only produces their numbers).

#![deny(missing_docs)]

pub mod error;
pub mod extract;
pub mod feature_table;
pub mod replay;
pub mod run;
pub mod training;

pub use error::TrainError;
pub use feature_table::{FeatureRow, TableFormat};
pub use run::{artifact_rules, CheckedTrain, HoldOut, Retrain, TrainConfig, TrainOutcome};
