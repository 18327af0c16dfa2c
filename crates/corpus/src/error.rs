//! The crate's one error type. Messages name the file and what to do, and
//! never repeat their source's text (it is kept as `source`).

use std::path::PathBuf;

/// What can go wrong indexing, splitting or generating corpora.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
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
    /// A table (labels, manifest, split) whose content is not what it should be.
    #[error("{path}: {message}")]
    Table {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// A Parquet table that polars cannot read or write.
    #[error("{path}: cannot read or write it as a Parquet table ({hint})")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the file should have been.
        hint: &'static str,
        /// polars' reason.
        #[source]
        source: polars::error::PolarsError,
    },
    /// The source probe cannot run on these messages.
    #[error("source probe: {0}")]
    Probe(String),
    /// The source probe's classifier could not be fitted.
    #[error("source probe: the classifier could not be fitted")]
    ProbeFit(#[source] linfa_logistic::error::Error),
    /// One of the generator's embedded data files is malformed.
    #[error("generator data {what} is malformed")]
    GeneratorData {
        /// Which file (world, lures, ham templates).
        what: String,
        /// The TOML reader's reason.
        #[source]
        source: toml::de::Error,
    },
    /// An input named for reading does not exist.
    #[error("{}: no such file or directory; give .eml files, directories, mbox files or .tar.gz archives", path.display())]
    MissingInput {
        /// The input as given.
        path: PathBuf,
    },
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
    /// A model artifact (feedback's base) that cannot be read or fails
    /// verification.
    #[error("the base artifact cannot be used")]
    Artifact(#[source] impostor_model::error::ModelError),
}
