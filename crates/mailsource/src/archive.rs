//! Reading tar archives, gzip-compressed (`.tar.gz`, `.tgz`) or not, as a
//! stream: every regular file is a message (or an mbox of messages), read on
//! a helper thread that hands messages over, in small batches, through a
//! bounded channel.
//!
//! Directories, symlinks and other entry types are skipped, and so are
//! members whose file name starts with '.'. A gzip file that does not hold a
//! tar archive is read as one compressed file (message or mbox). Damage in
//! the compressed stream or the tar structure ends the archive with one
//! [`ReadError::CorruptArchive`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::{self, JoinHandle};
use std::vec;

use flate2::read::MultiGzDecoder;

use crate::input::{error_message, is_tar, raw_message, read_head, Source, SNIFF_LEN};
use crate::mbox::{lone_message, single_piece, starts_like_mbox, Layout, Piece, Splitter};
use crate::{RawMessage, ReadError};

/// Batches in flight between the reading thread and the consumer.
const CHANNEL_CAPACITY: usize = 4;
/// A batch is handed over once it holds this many messages...
const BATCH_MESSAGES: usize = 64;
/// ... or this many bytes of them. One message a send cost a thread wake-up
/// per message, a large share of the reading thread's time on small mail.
/// Memory held stays bounded: about (CHANNEL_CAPACITY + 2) batches, each
/// under this plus one message of the size limit.
const BATCH_BYTES: usize = 1 << 20;

/// The consumer's end of an archive being read on a helper thread.
pub(crate) struct ArchiveMessages {
    path: PathBuf,
    receiver: Receiver<Vec<RawMessage>>,
    /// The rest of the batch received last.
    batch: vec::IntoIter<RawMessage>,
    reader: Option<JoinHandle<()>>,
}

impl ArchiveMessages {
    /// Starts reading `file`, whose first bytes `head` were already read, on
    /// a helper thread. `member` is the path below a directory input, if the
    /// archive was found by a walk (used only for a compressed non-tar file).
    pub(crate) fn spawn(
        path: PathBuf,
        member: Option<String>,
        head: Vec<u8>,
        file: File,
        compressed: bool,
        limit: u64,
    ) -> Source {
        let (sender, receiver) = sync_channel(CHANNEL_CAPACITY);
        let out = Outbox {
            sender,
            path: path.clone(),
            limit,
            batch: Batch::default(),
        };
        let stream = Cursor::new(head).chain(file);
        let spawned = thread::Builder::new()
            .name("mailsource-archive".into())
            .spawn(move || {
                let mut out = out;
                out.read(stream, compressed, member);
            });
        match spawned {
            Ok(handle) => Source::Archive(Self {
                path,
                receiver,
                batch: Vec::new().into_iter(),
                reader: Some(handle),
            }),
            Err(source) => {
                let error = ReadError::Io {
                    path: path.clone(),
                    member: None,
                    source,
                };
                Source::failed(path, None, error)
            }
        }
    }

    /// The next message of the archive, waiting for the reading thread.
    pub(crate) fn next(&mut self) -> Option<RawMessage> {
        if let Some(message) = self.batch.next() {
            return Some(message);
        }
        while let Ok(batch) = self.receiver.recv() {
            self.batch = batch.into_iter();
            if let Some(message) = self.batch.next() {
                return Some(message);
            }
        }
        // The thread has finished (or died): report a crash once.
        let handle = self.reader.take()?;
        if handle.join().is_ok() {
            return None;
        }
        let path = self.path.clone();
        let error = ReadError::ReaderCrashed { path: path.clone() };
        Some(error_message(path, None, error))
    }
}

/// The reading thread's end: sends messages about one archive.
struct Outbox {
    sender: SyncSender<Vec<RawMessage>>,
    path: PathBuf,
    limit: u64,
    batch: Batch,
}

/// What was read is handed over however the thread ends, a panic
/// included, before the consumer hears that it has.
impl Drop for Outbox {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Messages read and not yet handed over.
#[derive(Default)]
struct Batch {
    messages: Vec<RawMessage>,
    bytes: usize,
}

impl Outbox {
    /// Queues one message, handing the batch over when it is full; `false`
    /// once the consumer has gone away.
    fn send(&mut self, message: RawMessage) -> bool {
        let batch = &mut self.batch;
        batch.bytes += message.bytes.as_ref().map_or(0, Vec::len);
        batch.messages.push(message);
        let full = batch.messages.len() >= BATCH_MESSAGES || batch.bytes >= BATCH_BYTES;
        !full || self.flush()
    }

    /// Hands over what is queued; `false` once the consumer has gone away.
    fn flush(&mut self) -> bool {
        let messages = std::mem::take(&mut self.batch).messages;
        messages.is_empty() || self.sender.send(messages).is_ok()
    }

    fn corrupt(&mut self, member: Option<String>, source: io::Error) {
        let error = ReadError::CorruptArchive {
            path: self.path.clone(),
            member: member.clone(),
            source,
        };
        self.send(error_message(self.path.clone(), member, error));
    }

    /// Reads the whole archive (the thread's body).
    fn read<R: Read>(&mut self, stream: R, compressed: bool, member: Option<String>) {
        if !compressed {
            return self.read_tar(stream);
        }
        let mut decoder = MultiGzDecoder::new(BufReader::new(stream));
        let head = match read_head(&mut decoder, SNIFF_LEN) {
            Ok(head) => head,
            Err(source) => return self.corrupt(member, source),
        };
        let tar = is_tar(&head);
        let decompressed = Cursor::new(head).chain(decoder);
        if tar {
            self.read_tar(decompressed);
        } else {
            // e.g. message.eml.gz or inbox.mbox.gz
            self.read_member(decompressed, member, None);
        }
    }

    fn read_tar<R: Read>(&mut self, stream: R) {
        let mut archive = tar::Archive::new(Forward {
            inner: stream,
            position: 0,
        });
        let entries = match archive.entries_with_seek() {
            Ok(entries) => entries,
            Err(source) => return self.corrupt(None, source),
        };
        let mut last_member: Option<String> = None;
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(source) => return self.corrupt(last_member, source),
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let hidden = name
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .is_some_and(|file_name| file_name.starts_with('.'));
            last_member = Some(name.clone());
            if hidden {
                continue;
            }
            let size = entry.size();
            let body = Exact {
                inner: entry,
                remaining: size,
            };
            if !self.read_member(body, Some(name), Some(size)) {
                return;
            }
        }
        // The tar reader stops at the end-of-archive blocks; read what
        // follows so that a cut or damaged gzip trailer is still noticed.
        if let Err(source) = io::copy(&mut archive.into_inner(), &mut io::sink()) {
            self.corrupt(last_member, source);
        }
    }

    /// Sends the messages of one member (single message or mbox). Returns
    /// `false` when the archive must not be read further.
    fn read_member<R: Read>(
        &mut self,
        mut body: R,
        member: Option<String>,
        size: Option<u64>,
    ) -> bool {
        let head = match read_head(&mut body, 5) {
            Ok(head) => head,
            Err(source) => {
                self.corrupt(member, source);
                return false;
            }
        };
        let mbox = starts_like_mbox(&head);
        let body = Cursor::new(head).chain(body);
        if !mbox {
            // Read straight into the message's buffer: a BufReader would copy
            // it and zero 8 KiB of its own for every member.
            let piece = single_piece(body, size, self.limit);
            return self.send_piece(piece, &member);
        }
        let layout = Layout::Mbox { size_hint: size };
        if let Some(size) = size.filter(|&size| size <= READ_AHEAD_MAX) {
            // Most mbox members are one small message: read them whole and
            // split them in memory, not through a BufReader that copies
            // every byte once more and zeroes 8 KiB of its own per member.
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            let mut body = body;
            let error = body.read_to_end(&mut bytes).err();
            if error.is_none() {
                match lone_message(bytes, self.limit) {
                    Ok(piece) => return self.send_piece(piece, &member),
                    Err(back) => bytes = back,
                }
            }
            let stream = ReadAhead {
                bytes: &bytes,
                error,
            };
            return self.send_pieces(Splitter::new(stream, layout, self.limit), &member);
        }
        self.send_pieces(
            Splitter::new(BufReader::new(body), layout, self.limit),
            &member,
        )
    }

    /// Sends the messages of one member. Returns `false` when the archive
    /// must not be read further.
    fn send_pieces(
        &mut self,
        pieces: impl Iterator<Item = Piece>,
        member: &Option<String>,
    ) -> bool {
        for piece in pieces {
            if !self.send_piece(piece, member) {
                return false;
            }
        }
        true
    }

    /// Sends one message of a member. Returns `false` when the archive must
    /// not be read further.
    fn send_piece(&mut self, piece: Piece, member: &Option<String>) -> bool {
        let mut failed = false;
        let path = &self.path;
        let message = raw_message(piece, path, member, self.limit, |source| {
            failed = true;
            ReadError::CorruptArchive {
                path: path.clone(),
                member: member.clone(),
                source,
            }
        });
        self.send(message) && !failed
    }
}

/// Largest mbox member read into memory whole before it is split.
const READ_AHEAD_MAX: u64 = 1 << 20;

/// A member read ahead into memory, given to the splitter as the stream it
/// was: its bytes, then the error that ended the read, if one did.
struct ReadAhead<'a> {
    bytes: &'a [u8],
    error: Option<io::Error>,
}

impl Read for ReadAhead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.fill_buf()?.read(buf)?;
        self.consume(read);
        Ok(read)
    }
}

impl BufRead for ReadAhead<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.error.take() {
            Some(error) if self.bytes.is_empty() => Err(error),
            error => {
                self.error = error;
                Ok(self.bytes)
            }
        }
    }

    fn consume(&mut self, amount: usize) {
        self.bytes = &self.bytes[amount.min(self.bytes.len())..];
    }
}

/// A member's data that must be exactly `remaining` bytes long: ending early
/// means the archive was cut short, which the tar reader alone would not
/// report.
struct Exact<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let read = self.inner.read(buf)?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the archive ends {} bytes before the end of this member",
                    self.remaining
                ),
            ));
        }
        self.remaining = self.remaining.saturating_sub(read as u64);
        Ok(read)
    }
}

/// A stream read once, front to back, that the tar reader may "seek"
/// forward on to skip the padding after a member (or a member not read):
/// the bytes are read and dropped. Its own skip zeroes a 32 KiB buffer
/// for every member, a visible share of reading an archive of small mail.
struct Forward<R> {
    inner: R,
    /// Bytes read so far: the position tar is told.
    position: u64,
}

impl<R: Read> Read for Forward<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.position += read as u64;
        Ok(read)
    }
}

impl<R: Read> Seek for Forward<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Current(by) if by >= 0 => self.position.checked_add(by.unsigned_abs()),
            SeekFrom::Start(at) if at >= self.position => Some(at),
            _ => None,
        };
        let Some(target) = target else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a compressed archive is read forwards only",
            ));
        };
        let mut scratch = [0u8; 512];
        while self.position < target {
            let want = usize::try_from(target - self.position)
                .unwrap_or(usize::MAX)
                .min(scratch.len());
            let read = self.inner.read(&mut scratch[..want])?;
            if read == 0 {
                // The tar reader's own words for a cut archive.
                return Err(io::Error::other("unexpected EOF during skip"));
            }
            self.position += read as u64;
        }
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that fails once its bytes are read.
    struct Cut<'a>(&'a [u8]);

    impl Read for Cut<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("cut"));
            }
            self.0.read(buf)
        }
    }

    #[test]
    fn a_member_read_ahead_splits_as_it_streams() {
        let messages =
            b"From a Fri Aug 23 16:14:11 2002\nx\n>From y\n\nFrom b Fri Aug 23 16:14:11 2002\ny\n";
        for end in 0..=messages.len() {
            let data = &messages[..end];
            let layout = Layout::Mbox { size_hint: None };
            for failing in [false, true] {
                let streamed: Vec<Piece> = if failing {
                    Splitter::new(BufReader::with_capacity(7, Cut(data)), layout, 40).collect()
                } else {
                    Splitter::new(BufReader::with_capacity(7, data), layout, 40).collect()
                };
                let mut bytes = Vec::new();
                let error = if failing {
                    Cut(data).read_to_end(&mut bytes).err()
                } else {
                    bytes.extend_from_slice(data);
                    None
                };
                let ahead = ReadAhead {
                    bytes: &bytes,
                    error,
                };
                let read: Vec<Piece> = Splitter::new(ahead, layout, 40).collect();
                assert_eq!(
                    format!("{read:?}"),
                    format!("{streamed:?}"),
                    "{end} {failing}"
                );
            }
        }
    }

    #[test]
    fn forward_seeks_by_reading_and_reports_a_cut_stream_as_tar_does() {
        let data: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let mut stream = Forward {
            inner: &data[..],
            position: 0,
        };
        let mut first = [0u8; 10];
        stream.read_exact(&mut first).unwrap();
        assert_eq!(stream.seek(SeekFrom::Current(1000)).unwrap(), 1010);
        assert_eq!(stream.seek(SeekFrom::Start(1500)).unwrap(), 1500);
        let mut next = [0u8; 1];
        stream.read_exact(&mut next).unwrap();
        assert_eq!(next[0], data[1500]);
        assert!(stream.seek(SeekFrom::Start(3)).is_err());
        assert!(stream.seek(SeekFrom::Current(-1)).is_err());
        assert!(stream.seek(SeekFrom::End(0)).is_err());
        let cut = stream.seek(SeekFrom::Current(10_000)).unwrap_err();
        assert_eq!(cut.to_string(), "unexpected EOF during skip");
        let mut huge = Forward {
            inner: &data[..],
            position: u64::MAX - 1,
        };
        assert!(huge.seek(SeekFrom::Current(i64::MAX)).is_err());
    }
}
