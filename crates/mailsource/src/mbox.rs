//! Cutting a byte stream into messages: an mbox (mboxo or mboxrd) or a
//! stream that is one single message.
//!
//! An mbox is split on lines beginning "From " that open the stream, or that
//! follow a blank line and look like an envelope line ("From sender date",
//! i.e. they carry a time of day such as `16:14:11`). The second condition
//! keeps unquoted bodies such as "\n\nFrom home recordings to mp3s..." (found
//! in real corpora) from being cut in two.
//!
//! Memory is bounded: a message is accumulated only up to the size limit;
//! past it the rest is read and counted but not stored.

use std::io::{self, BufRead, Read};

/// How many bytes of a line are kept when only its start matters (deciding
/// whether it is a separator). Longer lines are never separators.
const LINE_HEAD: usize = 1024;

/// Most a first message's buffer is reserved at from the stream's size.
const MAX_RESERVE: u64 = 1 << 20;

/// How to cut the stream.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Layout {
    /// An mbox: split on separator lines. The size of the whole stream,
    /// when known, sizes the first message's buffer (most mbox members of
    /// an archive hold one message).
    Mbox { size_hint: Option<u64> },
    /// The whole stream is one message, whose size may be known in advance.
    Single { size_hint: Option<u64> },
}

/// One message cut from the stream, before it is given an [`crate::Origin`].
#[derive(Debug)]
pub(crate) struct Piece {
    /// Position in the mbox; `None` for a single message.
    pub index: Option<usize>,
    /// Envelope sender from the separator line.
    pub sender: Option<String>,
    /// The message bytes or why they are missing.
    pub bytes: Result<Vec<u8>, PieceError>,
}

/// Why a piece has no bytes.
#[derive(Debug)]
pub(crate) enum PieceError {
    /// Over the limit; `size` is the size as stored.
    TooLarge { size: u64 },
    /// The underlying reader failed; the stream is abandoned after this.
    Io(io::Error),
}

/// Iterator over the messages of a stream.
pub(crate) struct Splitter<R> {
    reader: R,
    layout: Layout,
    limit: u64,
    next_index: usize,
    /// Sender of the separator consumed last, for the message that follows.
    sender: Option<String>,
    /// A separator was consumed and its message not yet yielded.
    pending: bool,
    at_stream_start: bool,
    done: bool,
    /// Line head buffer used while skipping an oversize message.
    scratch: Vec<u8>,
}

impl<R: BufRead> Splitter<R> {
    /// Cuts `reader` according to `layout`, keeping messages of at most
    /// `limit` bytes.
    pub(crate) fn new(reader: R, layout: Layout, limit: u64) -> Self {
        Self {
            reader,
            layout,
            limit,
            next_index: 0,
            sender: None,
            pending: false,
            at_stream_start: true,
            done: false,
            scratch: Vec::new(),
        }
    }

    fn single(&mut self, size_hint: Option<u64>) -> Piece {
        self.done = true;
        single_piece(&mut self.reader, size_hint, self.limit)
    }

    fn finish(&mut self, bytes: Result<Vec<u8>, PieceError>) -> Piece {
        let index = self.next_index;
        self.next_index += 1;
        self.pending = false;
        Piece {
            index: Some(index),
            sender: self.sender.take(),
            bytes,
        }
    }

    fn next_mbox(&mut self, size_hint: Option<u64>) -> Option<Piece> {
        // Grown a line at a time otherwise: a copy at every doubling.
        let reserve = match size_hint {
            Some(size) if self.next_index == 0 && !self.pending => {
                size.min(self.limit).min(MAX_RESERVE)
            }
            _ => 0,
        };
        let mut message = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
        let mut size: u64 = 0;
        let mut oversize = false;
        // Length of the previous line if it was blank ("\n" or "\r\n").
        let mut previous_blank: Option<usize> = None;
        let mut has_content = false;
        loop {
            let start = message.len();
            let keep = if oversize {
                LINE_HEAD
            } else {
                usize::try_from(self.limit - size)
                    .unwrap_or(usize::MAX)
                    .saturating_add(LINE_HEAD)
            };
            self.scratch.clear();
            let buffer = if oversize {
                &mut self.scratch
            } else {
                &mut message
            };
            let length = match read_line_into(&mut self.reader, buffer, keep) {
                Ok(length) => length,
                Err(error) => {
                    self.done = true;
                    return Some(self.finish(Err(PieceError::Io(error))));
                }
            };
            if length == 0 {
                self.done = true;
                if !has_content && !self.pending {
                    return None;
                }
                break;
            }
            let line: &[u8] = if oversize {
                &self.scratch
            } else {
                &message[start..]
            };
            let short = length <= LINE_HEAD as u64;
            let separator = short
                && line.starts_with(b"From ")
                && (self.at_stream_start
                    || (previous_blank.is_some() && looks_like_envelope(line)));
            self.at_stream_start = false;
            if separator {
                let sender = envelope_sender(line);
                if !oversize {
                    message.truncate(start.saturating_sub(previous_blank.unwrap_or(0)));
                }
                if !has_content && !self.pending {
                    // The separator opening the stream: the message follows.
                    self.sender = sender;
                    self.pending = true;
                    continue;
                }
                let bytes = if oversize {
                    Err(PieceError::TooLarge { size })
                } else {
                    Ok(message)
                };
                let piece = self.finish(bytes);
                self.sender = sender;
                self.pending = true;
                return Some(piece);
            }
            has_content = true;
            let quoted = is_quoted_from(line);
            previous_blank = (line == b"\n" || line == b"\r\n").then_some(line.len());
            if quoted && !oversize {
                message.remove(start);
            }
            size += length;
            if !oversize && size > self.limit {
                oversize = true;
                message = Vec::new();
            }
        }
        let bytes = if oversize {
            Err(PieceError::TooLarge { size })
        } else {
            Ok(message)
        };
        Some(self.finish(bytes))
    }
}

impl<R: BufRead> Iterator for Splitter<R> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        if self.done {
            return None;
        }
        match self.layout {
            Layout::Single { size_hint } => Some(self.single(size_hint)),
            Layout::Mbox { size_hint } => self.next_mbox(size_hint),
        }
    }
}

/// The whole of `reader` as one message of at most `limit` bytes. Needs no
/// buffering: a known size reads straight into the message's buffer.
pub(crate) fn single_piece<R: Read>(reader: R, size_hint: Option<u64>, limit: u64) -> Piece {
    Piece {
        index: None,
        sender: None,
        bytes: read_single(reader, size_hint, limit),
    }
}

fn read_single<R: Read>(
    mut reader: R,
    size_hint: Option<u64>,
    limit: u64,
) -> Result<Vec<u8>, PieceError> {
    if let Some(size) = size_hint.filter(|&size| size > limit) {
        return Err(PieceError::TooLarge { size });
    }
    let cap = limit.saturating_add(1);
    let reserve = size_hint.map_or(0, |size| size.min(cap));
    let mut bytes = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
    (&mut reader)
        .take(cap)
        .read_to_end(&mut bytes)
        .map_err(PieceError::Io)?;
    if bytes.len() as u64 <= limit {
        return Ok(bytes);
    }
    let read = bytes.len() as u64;
    drop(bytes);
    let rest = io::copy(&mut reader, &mut io::sink()).map_err(PieceError::Io)?;
    Err(PieceError::TooLarge { size: read + rest })
}

/// An mbox in memory that holds one message, as the [`Splitter`] would cut
/// it, with one copy instead of one a line: its opening "From " line, then
/// no line that is, or quotes, a "From " line, and nothing the size limit
/// or a long first line would make a special case. Anything else is
/// handed back for the splitter.
pub(crate) fn lone_message(mut bytes: Vec<u8>, limit: u64) -> Result<Piece, Vec<u8>> {
    let Some(newline) = memchr::memchr(b'\n', &bytes) else {
        return Err(bytes);
    };
    let first = newline + 1;
    let rest = &bytes[first..];
    let plain = bytes.starts_with(b"From ")
        && first <= LINE_HEAD
        && !rest.is_empty()
        && rest.len() as u64 <= limit
        && memchr::memmem::find_iter(rest, b"From ").all(|at| {
            let quoted = rest[..at].iter().rev().take_while(|&&b| b == b'>').count();
            let line_start = at - quoted;
            line_start > 0 && rest[line_start - 1] != b'\n'
        });
    if !plain {
        return Err(bytes);
    }
    let sender = envelope_sender(&bytes[..first]);
    bytes.drain(..first);
    Ok(Piece {
        index: Some(0),
        sender,
        bytes: Ok(bytes),
    })
}

/// Whether the start of a stream makes it an mbox.
pub(crate) fn starts_like_mbox(head: &[u8]) -> bool {
    head.starts_with(b"From ")
}

/// Appends one line (up to and including '\n', or up to end of stream) to
/// `out`, keeping at most `keep` bytes of it and discarding the rest. Returns
/// the full length of the line; 0 means end of stream.
fn read_line_into<R: BufRead>(reader: &mut R, out: &mut Vec<u8>, keep: usize) -> io::Result<u64> {
    let mut total: u64 = 0;
    let mut kept = 0usize;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(total);
        }
        let (used, complete) = match memchr::memchr(b'\n', available) {
            Some(newline) => (newline + 1, true),
            None => (available.len(), false),
        };
        let stored = used.min(keep - kept);
        out.extend_from_slice(&available[..stored]);
        kept += stored;
        total += used as u64;
        reader.consume(used);
        if complete {
            return Ok(total);
        }
    }
}

/// `^>+From `: a line quoted by an mboxrd (or mboxo) writer.
fn is_quoted_from(line: &[u8]) -> bool {
    let unquoted = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
    unquoted > 0 && line[unquoted..].starts_with(b"From ")
}

/// The words of a "From " line after "From ".
fn envelope_words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.get(5..)
        .unwrap_or_default()
        .split(|b| b.is_ascii_whitespace())
        .filter(|word| !word.is_empty())
}

/// The first word after "From ", as given.
fn envelope_sender(line: &[u8]) -> Option<String> {
    envelope_words(line)
        .next()
        .map(|word| String::from_utf8_lossy(word).into_owned())
}

/// "From sender ... hh:mm[:ss] ...": a sender followed by a date with a time.
fn looks_like_envelope(line: &[u8]) -> bool {
    envelope_words(line).skip(1).any(is_time_of_day)
}

/// `h:mm`, `hh:mm` or `hh:mm:ss`.
fn is_time_of_day(word: &[u8]) -> bool {
    let mut parts = word.split(|&b| b == b':');
    let digits = |part: &[u8], lengths: &[usize]| {
        lengths.contains(&part.len()) && part.iter().all(u8::is_ascii_digit)
    };
    let Some(hours) = parts.next() else {
        return false;
    };
    let rest: Vec<&[u8]> = parts.collect();
    digits(hours, &[1, 2]) && matches!(rest.len(), 1 | 2) && rest.iter().all(|p| digits(p, &[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_message_is_cut_as_the_splitter_cuts_it() {
        let long_first = format!("From a {}\nx\n", "b".repeat(2000));
        let inputs: Vec<&[u8]> = vec![
            b"From a Fri Aug 23 16:14:11 2002\nSubject: x\n\nbody\n",
            b"From a Fri Aug 23 16:14:11 2002\r\nSubject: x\r\n\r\nbody\r\n\r\n",
            b"From a\n",
            b"From a",
            b"From a\nx",
            b"From a\n\n",
            b"From a\nx\n>From b\n",
            b"From a\nx\n>>From b\n",
            b"From a\nx\n> From b\nsaid From c\n",
            b"From a\nx\nFrom b\n",
            b"From a\nx\n\nFrom b Fri Aug 23 16:14:11 2002\ny\n",
            b"From a\nx\n\nFrom home recordings\n",
            b"From \nx\n",
            b"From a\n0123456789",
            long_first.as_bytes(),
        ];
        for input in inputs {
            for limit in [5, 10, 1000] {
                let split: Vec<Piece> =
                    Splitter::new(input, Layout::Mbox { size_hint: None }, limit).collect();
                if let Ok(piece) = lone_message(input.to_vec(), limit) {
                    assert_eq!(
                        format!("{:?}", [piece]),
                        format!("{split:?}"),
                        "{:?} {limit}",
                        String::from_utf8_lossy(input)
                    );
                }
            }
        }
        assert!(lone_message(b"From a\nx\n".to_vec(), 10).is_ok());
        assert!(lone_message(b"From a\nx\n>From b\n".to_vec(), 100).is_err());
    }

    fn split(data: &[u8], limit: u64) -> Vec<Piece> {
        Splitter::new(data, Layout::Mbox { size_hint: None }, limit).collect()
    }

    fn ok(piece: &Piece) -> &[u8] {
        piece.bytes.as_ref().expect("message bytes")
    }

    #[test]
    fn envelope_lines_need_a_time() {
        assert!(looks_like_envelope(b"From a@b  Fri Aug 23 16:14:11 2002\n"));
        assert!(looks_like_envelope(b"From - Mon Jan 1 0:00 2002\r\n"));
        assert!(!looks_like_envelope(
            b"From home recordings to downloaded mp3s\n"
        ));
        assert!(!looks_like_envelope(b"From 12:30\n"));
        assert!(!is_time_of_day(b"123:45"));
        assert!(!is_time_of_day(b"12:345"));
        assert!(!is_time_of_day(b"1:2:3:4"));
    }

    #[test]
    fn quoted_from_lines() {
        assert!(is_quoted_from(b">From x\n"));
        assert!(is_quoted_from(b">>>From x\n"));
        assert!(!is_quoted_from(b"From x\n"));
        assert!(!is_quoted_from(b">Fromx\n"));
        assert!(!is_quoted_from(b"> From x\n"));
    }

    #[test]
    fn body_from_after_blank_line_without_date_is_not_a_separator() {
        let data =
            b"From a@b Fri Aug 23 16:14:11 2002\nSubject: x\n\nFrom home recordings to mp3s\n";
        let pieces = split(data, 1 << 20);
        assert_eq!(pieces.len(), 1);
        assert_eq!(
            ok(&pieces[0]),
            b"Subject: x\n\nFrom home recordings to mp3s\n"
        );
        assert_eq!(pieces[0].sender.as_deref(), Some("a@b"));
    }

    #[test]
    fn separator_only_yields_one_empty_message() {
        let pieces = split(b"From x Fri Aug 23 16:14:11 2002\n", 100);
        assert_eq!(pieces.len(), 1);
        assert_eq!(ok(&pieces[0]), b"");
    }

    #[test]
    fn a_huge_line_does_not_exceed_the_limit_in_memory() {
        let mut data = b"From x Fri Aug 23 16:14:11 2002\n".to_vec();
        data.extend(std::iter::repeat_n(b'a', 10_000));
        data.extend_from_slice(b"\n\nFrom y Fri Aug 23 16:14:11 2002\nok\n");
        let pieces = split(&data, 1000);
        assert_eq!(pieces.len(), 2);
        assert!(matches!(
            pieces[0].bytes,
            Err(PieceError::TooLarge { size: 10_002 })
        ));
        assert_eq!(ok(&pieces[1]), b"ok\n");
        assert_eq!(pieces[1].sender.as_deref(), Some("y"));
    }

    #[test]
    fn single_message_over_limit_counts_its_size() {
        let data = vec![b'z'; 5000];
        let pieces: Vec<_> =
            Splitter::new(&data[..], Layout::Single { size_hint: None }, 100).collect();
        assert_eq!(pieces.len(), 1);
        assert!(matches!(
            pieces[0].bytes,
            Err(PieceError::TooLarge { size: 5000 })
        ));
    }
}
