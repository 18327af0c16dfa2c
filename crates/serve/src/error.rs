//! The crate's one error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{origin}: not a rule file: {message}")]
    RuleFile { origin: String, message: String },
    #[error("rule `{code}`: {problem}")]
    Rule { code: String, problem: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}; check the directory exists and is writable")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The artifact fails verification; `problem` says which check.
    #[error("model artifact {dir}: {problem}")]
    Artifact { dir: PathBuf, problem: String },
    #[error("model: {0}")]
    Model(String),
}
