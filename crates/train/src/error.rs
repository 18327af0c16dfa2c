//! The crate's one error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("cannot write {path}: {source}; check the directory exists and is writable")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: unknown table format; name the file .parquet or .ndjson")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {message}")]
    Table { path: PathBuf, message: String },
    #[error("source probe: {0}")]
    Probe(String),
    #[error("{0}")]
    Invalid(String),
}
