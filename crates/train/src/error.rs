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
    /// An input named for reading does not exist.
    #[error("{}: no such file or directory; give .eml files, directories, mbox files or .tar.gz archives", path.display())]
    MissingInput {
        /// The input as given.
        path: PathBuf,
    },
    /// A hold-out names a source no labelled message comes from.
    #[error("no labelled message comes from a source named {name}; the sources are: {known}")]
    UnknownSource {
        /// The source as named.
        name: String,
        /// Whether it was named to be held out by date (else held out whole).
        by_date: bool,
        /// The sources there are, comma-separated.
        known: String,
    },
    /// Retraining made the default level worse on the regression set.
    #[error("on the regression set, {what}. Nothing written: check the added samples' labels")]
    Regressed {
        /// What got worse.
        what: String,
    },
    /// The model, its rules or an artifact (the serving crate's checks).
    #[error(transparent)]
    Model(#[from] impostor_serve::ServeError),
}
