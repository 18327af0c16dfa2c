//! The statistics training and evaluation share: rates with Wilson
//! intervals, one interval type, ranking metrics (ROC / PR, AUC with ties
//! as half, a seeded bootstrap) and column standardisation.

pub mod ranking;
pub mod rates;
mod standardise;

pub use ranking::{average_precision, bootstrap_auc, roc_auc};
pub use rates::{wilson, Interval, Rate, Z_95};
pub use standardise::standardiser;
