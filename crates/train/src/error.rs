//! The crate's one error type. Messages name the file and what to do, and
//! never repeat their source's text (it is kept as `source`).

use std::path::PathBuf;

/// What can go wrong writing feature tables or training a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// An output that cannot be written.
    #[error(transparent)]
    Write(#[from] impostor_model::atomic::WriteError),
    /// A file that cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A table file whose name says no format this crate writes.
    #[error("{path}: unknown table format; name the file .parquet or .ndjson")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A Parquet table that polars cannot read or write.
    #[error("{path}: cannot read or write it as a Parquet table")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// polars' reason.
        #[source]
        source: polars::error::PolarsError,
    },
    /// The model layer refused something (rules, parameters, artifact).
    #[error(transparent)]
    Model(Box<impostor_model::ModelError>),
    /// The corpus layer refused something (labels, manifest, split).
    #[error(transparent)]
    Corpus(Box<impostor_corpus::CorpusError>),
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
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
}

// Boxed: both are large, and a training run's every `Result` carries them.
impl From<impostor_model::ModelError> for TrainError {
    fn from(e: impostor_model::ModelError) -> Self {
        TrainError::Model(Box::new(e))
    }
}

impl From<impostor_corpus::CorpusError> for TrainError {
    fn from(e: impostor_corpus::CorpusError) -> Self {
        TrainError::Corpus(Box::new(e))
    }
}
