//! The crate's one error type.
//!
//! A message says what is wrong with which file and never repeats its
//! source's text: the cause is kept as `source`, so `{err:#}` prints each
//! cause once.

use std::path::PathBuf;

/// What can go wrong reading rules, building a model, or reading and
/// writing an artifact.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A rule file that is not valid TOML of the rule format.
    #[error("{origin}: not a rule file")]
    RuleFile {
        /// Where the text came from (a path, or "built-in rules").
        origin: String,
        /// The TOML reader's complaint.
        #[source]
        source: toml::de::Error,
    },
    /// One rule that cannot be resolved against the feature schema.
    #[error("rule `{code}`: {problem}")]
    Rule {
        /// The rule's code.
        code: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A file that cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// An output that cannot be written.
    #[error(transparent)]
    Write(#[from] crate::atomic::WriteError),
    /// The artifact fails verification; `problem` says which check.
    #[error("model artifact {dir}: {problem}")]
    Artifact {
        /// The artifact's directory.
        dir: PathBuf,
        /// The check that failed, in words.
        problem: String,
    },
    /// A key file that cannot be read or used, or holds the other kind of
    /// key; `problem` says which and what to give instead.
    #[error("{path}: {problem}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it, in words.
        problem: String,
    },
    /// An artifact refused for its signature: none, one by a key that is
    /// not trusted, or one its files no longer match. `problem` names the
    /// file and the key (its id and .pub file).
    #[error("model artifact {dir}: {problem}")]
    Signature {
        /// The artifact's directory.
        dir: PathBuf,
        /// What is wrong, naming the file and the key.
        problem: String,
    },
    /// Model parameters that do not fit together.
    #[error("model: {0}")]
    Model(String),
    /// A manifest that cannot be serialised.
    #[error("model manifest cannot be written as JSON")]
    Json(#[source] serde_json::Error),
}
