//! The crate's one error type.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum EvalError {
    #[error(transparent)]
    Write(#[from] impostor_model::atomic::WriteError),
    #[error("{}: {what}", path.display())]
    Refused { path: PathBuf, what: String },
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    #[error("metrics.json cannot be serialised")]
    Metrics(#[source] serde_json::Error),
}
