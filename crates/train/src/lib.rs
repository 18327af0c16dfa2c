//! Corpora → feature tables → rule weights and a classifier → model artifact.
//!
//! What it does now: [`corpus`] indexes corpora into a manifest (labels,
//! dates, hashes, duplicate groups), splits it without leakage and probes
//! whether sources can be told apart; [`gen`] writes labelled synthetic mail
//! (ham of an example organisation, and the five attack techniques injected
//! into ham); [`feature_table`] turns extracted messages into a table (one
//! row per message: where it came from, its error if any, every named
//! feature) and writes it as Parquet (through polars) or NDJSON, atomically;
//! [`training`] fits rule weights and a linfa-logistic classifier, calibrates
//! them on out-of-fold scores, chooses the detection levels on a validation
//! role, measures a held-out test role, and exports the model artifact.
//!
//! What it deliberately does not do: parse mail or compute features (that is
//! `impostor-features`, so training and serving can never disagree), read
//! archives (`impostor-mailsource`), or define how a model scores (the
//! artifact format and the one scoring function are `impostor-serve`'s;
//! training only produces their numbers).

pub mod corpus;
pub mod error;
pub mod extract;
pub mod feature_table;
pub mod gen;
pub mod output;
pub mod progress;
pub mod run;
pub mod training;

pub use error::TrainError;
pub use feature_table::{FeatureRow, TableFormat};
pub use progress::{Progress, Silent, Stage};
pub use run::{CheckedTrain, HoldOut, Retrain, TrainConfig, TrainOutcome};
