//! The crate's one error type.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum EvalError {
    #[error("{}: {source}; check that the directory is writable and the disk has room", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {what}", path.display())]
    Refused { path: PathBuf, what: String },
    #[error("drawing {}: {what}", path.display())]
    Plot { path: PathBuf, what: String },
    #[error("metrics: {0}")]
    Metrics(String),
}
