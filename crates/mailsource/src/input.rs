//! Opening one input (or one file found below a directory input) and deciding
//! what it holds: a tar archive, an mbox or a single message.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::archive::ArchiveMessages;
use crate::mbox::{self, Layout, Piece, PieceError, Splitter};
use crate::walk::Walk;
use crate::{Origin, RawMessage, ReadError};

/// Bytes read from the start of a file to recognise its format (a tar
/// header block is 512 bytes; its "ustar" magic sits at offset 257).
pub(crate) const SNIFF_LEN: usize = 512;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// gzip magic 1f 8b: a `.tar.gz` / `.tgz` (or a compressed single file).
    Gzip,
    /// "ustar" at offset 257: an uncompressed tar archive.
    Tar,
    /// Starts with "From ": an mbox.
    Mbox,
    /// Anything else: one message, as it is.
    Single,
}

/// Recognises a file by its first bytes (up to [`SNIFF_LEN`]).
pub(crate) fn sniff(head: &[u8]) -> Format {
    if head.starts_with(&[0x1f, 0x8b]) {
        Format::Gzip
    } else if is_tar(head) {
        Format::Tar
    } else if mbox::starts_like_mbox(head) {
        Format::Mbox
    } else {
        Format::Single
    }
}

/// Whether a block starts a ustar (POSIX or GNU) tar archive.
pub(crate) fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// Reads up to `limit` bytes from the start of `reader`.
pub(crate) fn read_head<R: Read>(reader: &mut R, limit: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit);
    reader.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Whatever is being read for one input.
pub(crate) enum Source {
    /// A single result already known (typically an error), then nothing.
    One(Option<RawMessage>),
    /// The messages of a file read directly (single message or mbox).
    File(FileMessages),
    /// The messages of a tar archive, read on a helper thread.
    Archive(ArchiveMessages),
    /// The files below a directory.
    Walk(Box<Walk>),
}

impl Source {
    /// The next message of this input, or `None` when it is exhausted.
    pub(crate) fn next(&mut self) -> Option<RawMessage> {
        match self {
            Self::One(message) => message.take(),
            Self::File(file) => file.next(),
            Self::Archive(archive) => archive.next(),
            Self::Walk(walk) => walk.next(),
        }
    }

    /// A source that yields just `error`, about `path` (and `member`).
    pub(crate) fn failed(path: PathBuf, member: Option<String>, error: ReadError) -> Self {
        Self::One(Some(error_message(path, member, error)))
    }
}

/// A message standing for an input (or part of one) that could not be read.
pub(crate) fn error_message(path: PathBuf, member: Option<String>, error: ReadError) -> RawMessage {
    RawMessage {
        origin: Origin {
            path,
            member,
            index: None,
        },
        bytes: Err(error),
        mbox_sender: None,
    }
}

/// Opens a path given by the user: a directory is walked, anything else is
/// read as a file.
pub(crate) fn open_input(path: PathBuf, limit: u64) -> Source {
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.is_dir() => Source::Walk(Box::new(Walk::new(path, limit))),
        Ok(_) => open_file(path, None, limit),
        Err(error) => {
            let error = open_error(&path, None, error);
            Source::failed(path, None, error)
        }
    }
}

/// The error for a path that could not be opened.
pub(crate) fn open_error(path: &Path, member: Option<&str>, error: io::Error) -> ReadError {
    if error.kind() == io::ErrorKind::NotFound && member.is_none() {
        ReadError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        ReadError::Io {
            path: path.to_path_buf(),
            member: member.map(str::to_owned),
            source: error,
        }
    }
}

/// Opens a file (given directly, or found below a directory input with
/// `member` its relative path) and reads it according to its first bytes.
pub(crate) fn open_file(path: PathBuf, member: Option<String>, limit: u64) -> Source {
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(error) => {
            let error = open_error(&path, member.as_deref(), error);
            return Source::failed(path, member, error);
        }
    };
    let size_hint = file
        .metadata()
        .ok()
        .filter(|metadata| metadata.is_file())
        .map(|metadata| metadata.len());
    let head = match read_head(&mut file, SNIFF_LEN) {
        Ok(head) => head,
        Err(source) => {
            let error = ReadError::Io {
                path: path.clone(),
                member: member.clone(),
                source,
            };
            return Source::failed(path, member, error);
        }
    };
    let layout = match sniff(&head) {
        Format::Gzip => return ArchiveMessages::spawn(path, member, head, file, true, limit),
        Format::Tar => return ArchiveMessages::spawn(path, member, head, file, false, limit),
        Format::Mbox => Layout::Mbox { size_hint },
        Format::Single => Layout::Single { size_hint },
    };
    let reader: Box<dyn BufRead + Send> = Box::new(BufReader::new(Cursor::new(head).chain(file)));
    Source::File(FileMessages {
        path,
        member,
        limit,
        splitter: Splitter::new(reader, layout, limit),
    })
}

/// The messages of a file read directly.
pub(crate) struct FileMessages {
    path: PathBuf,
    member: Option<String>,
    limit: u64,
    splitter: Splitter<Box<dyn BufRead + Send>>,
}

impl FileMessages {
    fn next(&mut self) -> Option<RawMessage> {
        let piece = self.splitter.next()?;
        Some(raw_message(
            piece,
            &self.path,
            &self.member,
            self.limit,
            |source| ReadError::Io {
                path: self.path.clone(),
                member: self.member.clone(),
                source,
            },
        ))
    }
}

/// Gives a piece its origin; `io_error` words an I/O failure for the context
/// (plain file or archive).
pub(crate) fn raw_message(
    piece: Piece,
    path: &Path,
    member: &Option<String>,
    limit: u64,
    io_error: impl FnOnce(io::Error) -> ReadError,
) -> RawMessage {
    let bytes = piece.bytes.map_err(|error| match error {
        PieceError::TooLarge { size } => ReadError::TooLarge {
            path: path.to_path_buf(),
            member: member.clone(),
            index: piece.index,
            size,
            limit,
        },
        PieceError::Io(source) => io_error(source),
    });
    RawMessage {
        origin: Origin {
            path: path.to_path_buf(),
            member: member.clone(),
            index: piece.index,
        },
        bytes,
        mbox_sender: piece.sender,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Format::Gzip);
        let mut tar = vec![0u8; 512];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(sniff(&tar), Format::Tar);
        assert_eq!(sniff(b"From a@b Mon Jan 1 00:00:00 2024\n"), Format::Mbox);
        assert_eq!(sniff(b"From: a@b\n"), Format::Single);
        assert_eq!(sniff(b""), Format::Single);
        assert_eq!(sniff(&[0x1f]), Format::Single);
    }
}
