//! The history crate's one error type.

use std::path::PathBuf;

/// What can go wrong with a history store.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The embedded store's file could not be opened or written.
    #[error("history store {path}: {message}; check the path and its permissions, or give another --history file")]
    File {
        /// The store's file.
        path: PathBuf,
        /// What the database said.
        message: String,
    },
    /// The Redis server refused or could not be reached.
    #[error("history store {url}: {message}; check that Redis runs there (redis-cli -u URL ping)")]
    Redis {
        /// The server's URL.
        url: String,
        /// What the client said.
        message: String,
    },
    /// A stored record could not be read back.
    #[error("history store {store}: a stored record is unreadable ({message}); the store may be from another version: import it anew")]
    Corrupt {
        /// Which store.
        store: String,
        /// What the decoder said.
        message: String,
    },
    /// A parameter is out of range.
    #[error("history parameter {name}: {message}")]
    Param {
        /// The parameter.
        name: &'static str,
        /// Why it is refused.
        message: String,
    },
    /// The store description names no known backend.
    #[error("history store \"{0}\": give a file path (embedded store), redis://HOST:PORT[/DB] or memory:")]
    Spec(String),
}
