//! The crate's one error type for configuration and one for messages.

use std::path::PathBuf;

/// A problem with the configuration a [`crate::Context`] is built from.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("cannot read {path}: {source}; check that the file exists and is readable")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("org profile {path} is not valid: {message}; see datasets/orgs/kestrel-foods.toml for the expected keys")]
    OrgProfile { path: PathBuf, message: String },
    #[error("{what} is not valid: {message}")]
    Invalid { what: String, message: String },
}

/// Why one message could not be turned into a view. The run goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {size} bytes, over the {limit}-byte limit; raise the limit or drop the message")]
    TooLarge { size: usize, limit: usize },
    #[error("no RFC 5322 header block could be read (binary or truncated data?)")]
    NoHeaders,
}
