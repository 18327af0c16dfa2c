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
    /// A fault of this program, not of the message: a panic while reading
    /// it, contained to this one message (see [`contain_panic`]).
    #[error("internal error while reading this message: {0}; please report it with the message")]
    Internal(String),
}

impl ParseError {
    /// Whether the fault is this program's (a contained panic) rather than
    /// the message's.
    pub fn is_internal(&self) -> bool {
        matches!(self, ParseError::Internal(_))
    }
}

/// Runs the work on one message so that a panic inside it (a bug an
/// attacker's bytes found) becomes that message's [`ParseError::Internal`]
/// instead of ending the whole run or request.
pub fn contain_panic<T>(work: impl FnOnce() -> Result<T, ParseError>) -> Result<T, ParseError> {
    // The work holds only references to the message and an immutable
    // Context; nothing is left half-updated for the caller to observe.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            Err(ParseError::Internal(what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_the_work_becomes_the_messages_internal_error() {
        let got: Result<(), _> = contain_panic(|| panic!("byte index 4 is not a char boundary"));
        let err = got.unwrap_err();
        assert!(err.is_internal());
        assert!(
            err.to_string()
                .starts_with("internal error while reading this message: byte index 4"),
            "{err}"
        );
        let formatted: Result<(), _> = contain_panic(|| panic!("{} of {}", 3, 4));
        assert_eq!(formatted, Err(ParseError::Internal("3 of 4".into())));
    }

    #[test]
    fn work_that_does_not_panic_is_returned_as_it_is() {
        assert_eq!(contain_panic(|| Ok(7)), Ok(7));
        assert_eq!(
            contain_panic::<()>(|| Err(ParseError::Empty)),
            Err(ParseError::Empty)
        );
    }
}
