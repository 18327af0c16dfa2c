//! What can go wrong while reading a message or an input, worded for users.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a message (or a whole input) could not be read.
///
/// Every variant names the file (and the archive member or directory-relative
/// path, when there is one) and its message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// An input path given by the user does not exist.
    #[error("{}: no such file or directory; check the path (an input may be a message file, an mbox, a directory or a .tar.gz archive)", .path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A file or directory could not be opened, listed or read.
    #[error("cannot read {}; check that it exists and is readable", Location::new(.path, .member, &None))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Its path below the directory given as input, if it was found by a walk.
        member: Option<String>,
        /// The underlying error.
        source: io::Error,
    },
    /// A message is larger than [`crate::ReadOptions::max_message_bytes`]; it
    /// was skipped without being kept in memory.
    #[error("message in {} is {}, over the {} limit; raise the per-message size limit to read it", Location::new(.path, .member, .index), human_size(*.size), human_size(*.limit))]
    TooLarge {
        /// The file holding the message.
        path: PathBuf,
        /// The archive member or directory-relative path, if any.
        member: Option<String>,
        /// The position in an mbox, if the message came from one.
        index: Option<usize>,
        /// The size of the message as stored, in bytes.
        size: u64,
        /// The limit in force, in bytes.
        limit: u64,
    },
    /// An archive (or a gzip-compressed file) is corrupt or truncated. The
    /// messages before this point were yielded; the rest of the archive is
    /// skipped.
    #[error("{} is corrupt or truncated{}; the messages before this point were read and the rest of this archive is skipped; re-download or re-create the archive", .path.display(), NearMember(.member))]
    CorruptArchive {
        /// The archive file.
        path: PathBuf,
        /// The member being read when the damage was found (or the last
        /// member read before it), if any.
        member: Option<String>,
        /// The underlying error from the decompressor or the tar reader.
        source: io::Error,
    },
    /// The helper thread reading an archive stopped unexpectedly (a bug in
    /// this crate or a library it uses); the rest of that input is skipped.
    #[error("reading {} stopped because of an internal error in the archive reader; the rest of this input is skipped; please report this together with the file", .path.display())]
    ReaderCrashed {
        /// The archive file.
        path: PathBuf,
    },
}

impl ReadError {
    /// The message with its cause, on one line, for a per-message record
    /// (`Display` leaves the cause to `source()`, so that a chain printed
    /// by cause shows it once).
    pub fn describe(&self) -> String {
        match std::error::Error::source(self) {
            Some(cause) => format!("{self} ({cause})"),
            None => self.to_string(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::NotFound { path }
            | Self::Io { path, .. }
            | Self::TooLarge { path, .. }
            | Self::CorruptArchive { path, .. }
            | Self::ReaderCrashed { path } => path,
        }
    }
}

/// "path[ member m][ mbox message at index i]" for error messages.
struct Location<'a> {
    path: &'a Path,
    member: Option<&'a str>,
    index: Option<usize>,
}

impl<'a> Location<'a> {
    fn new(path: &'a Path, member: &'a Option<String>, index: &Option<usize>) -> Self {
        Self {
            path,
            member: member.as_deref(),
            index: *index,
        }
    }
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::origin::describe(f, self.path, self.member, self.index)
    }
}

/// " near member m" or nothing.
struct NearMember<'a>(&'a Option<String>);

impl fmt::Display for NearMember<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(member) => write!(f, " near member {member}"),
            None => Ok(()),
        }
    }
}

/// A byte count for people: "512 bytes", "64 MiB", "120.5 MiB".
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                // Precision loss is irrelevant for a one-decimal display.
                #[allow(clippy::cast_precision_loss)]
                let value = bytes as f64 / unit as f64;
                format!("{value:.1} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_the_cli_flag() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(64 << 20), "64 MiB");
        assert_eq!(human_size((120 << 20) + (1 << 19)), "120.5 MiB");
        assert_eq!(human_size(3 << 30), "3 GiB");
    }

    #[test]
    fn too_large_names_file_member_and_the_remedy() {
        let e = ReadError::TooLarge {
            path: PathBuf::from("foo.tar.gz"),
            member: Some("easy_ham/0001".into()),
            index: None,
            size: 120 << 20,
            limit: 64 << 20,
        };
        assert_eq!(
            e.to_string(),
            "message in foo.tar.gz member easy_ham/0001 is 120 MiB, over the 64 MiB limit; \
             raise the per-message size limit to read it"
        );
    }
}
