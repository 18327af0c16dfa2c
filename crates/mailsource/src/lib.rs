//! Streams raw RFC 5322 messages out of the inputs a user names: single
//! message files (`.eml` or any other name), mbox files (mboxo and mboxrd,
//! including the one-message "From "-prefixed files of the SpamAssassin
//! corpus), directories (walked recursively in name order, Maildir aware) and
//! tar archives (`.tar.gz`, `.tgz`, plain `.tar`, recognised by their magic
//! bytes rather than their names). Each message comes back as the bytes
//! stored, with only the mbox envelope taken away (the `From ` separator line,
//! the blank line that precedes the next separator, and one `>` of mboxrd
//! `>From ` quoting), together with an [`Origin`] that says where it came from.
//! Every input is treated as hostile: memory is bounded by a per-message size
//! limit ([`ReadOptions::max_message_bytes`]), nothing panics, and a bad
//! message, file or archive becomes one [`ReadError`] in the stream while the
//! run goes on with the next message or input.
//!
//! What it deliberately does not do: it does not parse headers, MIME or
//! encodings (another crate does that), it does not normalise line endings,
//! de-duplicate or label messages, it never writes to its inputs, never holds
//! a whole mbox or archive in memory, never follows symlinked directories and
//! never unpacks archives nested inside archives (such a member is yielded as
//! one message, as stored).

#![deny(missing_docs)]

mod archive;
mod error;
mod input;
mod mbox;
mod origin;
mod walk;

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;

pub use error::ReadError;
pub use origin::Origin;

/// The default per-message size limit: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// One message read from an input, or the error that stands in its place.
#[derive(Debug)]
pub struct RawMessage {
    /// Where the message came from (file, archive member, mbox position).
    pub origin: Origin,
    /// The bytes of the message with any mbox "From " separator line removed
    /// and mboxrd ">From " quoting undone (one '>' removed from lines matching
    /// `^>+From `). In an mbox, the blank line written before the next
    /// separator is part of the separator and removed too; nothing else is
    /// changed (line endings are kept as stored).
    ///
    /// `Err` concerns this one message (or, for an input that cannot be read
    /// at all, that input); the iterator goes on with the next one.
    pub bytes: Result<Vec<u8>, ReadError>,
    /// The envelope sender from an mbox "From " line (the first token after
    /// "From "), if there was one. "MAILER-DAEMON" and "-" kept as given.
    pub mbox_sender: Option<String>,
}

/// Options for [`read_inputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest message accepted, in bytes (as stored, before any mboxrd
    /// unquoting). A larger message is skipped without being held in memory
    /// and reported as [`ReadError::TooLarge`]. Defaults to
    /// [`DEFAULT_MAX_MESSAGE_BYTES`] (64 MiB).
    pub max_message_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// Opens every input in order and yields its messages lazily, in a
/// deterministic order.
///
/// Each path may be a single message file, an mbox, a directory (walked
/// recursively, entries sorted by name, hidden entries skipped, Maildir `tmp/`
/// skipped) or a tar archive, gzip-compressed or not. Inputs are opened only
/// when the iterator reaches them. An input that cannot be read at all (it
/// does not exist, a directory cannot be listed, an archive is corrupt) is
/// yielded as one [`RawMessage`] whose `bytes` is `Err`, and reading goes on
/// with the next input.
pub fn read_inputs(paths: &[PathBuf], options: &ReadOptions) -> Messages {
    Messages {
        inputs: paths.iter().cloned().collect(),
        limit: options.max_message_bytes,
        current: None,
    }
}

/// The lazy stream of messages returned by [`read_inputs`].
///
/// Reading a tar archive happens on a helper thread that hands messages over
/// through a small bounded channel, so at most a few messages are held in
/// memory at a time; dropping the iterator stops that thread.
pub struct Messages {
    inputs: VecDeque<PathBuf>,
    limit: u64,
    current: Option<input::Source>,
}

impl Iterator for Messages {
    type Item = RawMessage;

    fn next(&mut self) -> Option<RawMessage> {
        loop {
            if let Some(source) = &mut self.current {
                if let Some(message) = source.next() {
                    return Some(message);
                }
                self.current = None;
            }
            let path = self.inputs.pop_front()?;
            self.current = Some(input::open_input(path, self.limit));
        }
    }
}

impl std::iter::FusedIterator for Messages {}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages")
            .field("inputs_not_yet_opened", &self.inputs)
            .field("max_message_bytes", &self.limit)
            .field("reading_an_input", &self.current.is_some())
            .finish()
    }
}
