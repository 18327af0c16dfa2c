//! The crate's one error type for configuration and one for messages.
//!
//! A message says what is wrong and what to do; the cause underneath (an
//! I/O or TOML error) is its `source`, never repeated in its text, so a
//! chain printed cause by cause (anyhow's `{:#}`) says each thing once.

use std::path::PathBuf;

/// A problem with the configuration a [`crate::Context`] is built from.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// A configuration file (an org profile or a list) could not be read.
    #[error("cannot read {path}; check that the file exists and is readable")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading it failed.
        #[source]
        source: std::io::Error,
    },
    /// An org profile is not TOML of the expected shape: a syntax error, a
    /// value of the wrong type, an unknown or a missing key.
    #[error(
        "org profile {path} is not valid; see datasets/orgs/kestrel-foods.toml for the expected keys"
    )]
    OrgProfileSyntax {
        /// Where the profile came from.
        path: PathBuf,
        /// What the TOML reader found, and where.
        #[source]
        source: toml::de::Error,
    },
    /// An org profile reads as TOML but holds a value that cannot be used.
    #[error("org profile {path} is not valid: {problem}; correct it (see datasets/orgs/kestrel-foods.toml)")]
    OrgProfile {
        /// Where the profile came from.
        path: PathBuf,
        /// The value at fault, in words.
        problem: String,
    },
    /// The intent lexicon is not TOML of the expected shape.
    #[error("the intent lexicon is not valid; see data/intent.toml for its shape")]
    IntentLexicon {
        /// What the TOML reader found, and where.
        #[source]
        source: toml::de::Error,
    },
    /// A list of phrases or names could not be compiled into a matcher.
    #[error("the {what} could not be compiled into a matcher; shorten it")]
    Matcher {
        /// Which list.
        what: &'static str,
        /// Why the matcher could not be built.
        #[source]
        source: aho_corasick::BuildError,
    },
}

/// Why one message could not be turned into a view. The run goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The message has no bytes but white space (after any mbox `From ` line).
    #[error("the message is empty")]
    Empty,
    /// The message is larger than [`crate::ParseLimits::max_message_bytes`].
    #[error("the message is {size} bytes, over the {limit}-byte limit; raise the limit or drop the message")]
    TooLarge {
        /// The message's size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// Nothing at the start of the message reads as a header field.
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
mod panic_tests {
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

#[cfg(test)]
mod chain_tests {
    use super::*;
    use crate::{Context, OrgProfile};
    use std::error::Error;
    use std::path::Path;

    /// Every message of an error's chain, top first.
    fn chain(err: &(dyn Error + 'static)) -> Vec<String> {
        std::iter::successors(Some(err), |&e| e.source())
            .map(|e| e.to_string())
            .collect()
    }

    /// One error of every kind this crate makes from a cause.
    fn errors_with_causes() -> Vec<FeatureError> {
        let missing = Path::new("/nonexistent/impostor/org.toml");
        let org = OrgProfile::from_toml("name = \"x\"", Path::new("x.toml")).unwrap();
        vec![
            OrgProfile::load(missing).unwrap_err(),
            OrgProfile::from_toml("name = 1", Path::new("bad.toml")).unwrap_err(),
            OrgProfile::from_toml("name = \"x\"\nunknown_key = 1", Path::new("bad.toml"))
                .unwrap_err(),
            crate::intent::IntentMatcher::from_toml("category = 1")
                .err()
                .unwrap(),
            Context::builder(org).freemail_file(missing).err().unwrap(),
        ]
    }

    #[test]
    fn each_cause_is_printed_once_down_the_chain() {
        for err in errors_with_causes() {
            let messages = chain(&err);
            assert!(messages.len() >= 2, "{err:?} has no source");
            for (i, message) in messages.iter().enumerate() {
                for cause in &messages[i + 1..] {
                    assert!(
                        !message.contains(cause.as_str()),
                        "{message:?} repeats {cause:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn no_message_names_a_command_line_flag() {
        let no_cause =
            [
                OrgProfile::from_toml("name = \"\"\n[[vip]]\nname = \"\"", Path::new("a.toml"))
                    .unwrap_err(),
            ];
        for err in errors_with_causes().iter().chain(&no_cause) {
            let text = chain(err).join(": ");
            assert!(!text.contains("--"), "{text}");
        }
        for err in [
            ParseError::Empty,
            ParseError::TooLarge { size: 2, limit: 1 },
            ParseError::NoHeaders,
        ] {
            assert!(!err.to_string().contains("--"), "{err}");
        }
    }
}
