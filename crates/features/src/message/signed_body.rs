//! How much of the body a DKIM `l=` tag leaves unsigned.
//!
//! `l=` counts the body bytes the signature covers after canonicalisation
//! (RFC 6376 §3.4.3-4); anything past it may have been appended by anyone
//! (DKIM replay: a genuinely signed message with the attacker's content
//! added). The body is measured as canonicalised here, approximately:
//! - every line ends in CRLF, a bare LF counting as CRLF (what the MTA
//!   sends on the wire);
//! - `simple`: trailing empty lines removed, an empty body is one CRLF;
//! - `relaxed`: white space at line ends removed, runs of white space
//!   counted as one space, trailing empty lines removed, an empty body is
//!   empty;
//! - a lone CR is an ordinary byte, and mbox `>From ` quoting is not
//!   undone. Either error is a few bytes; appended content is lines.

use super::DkimSignature;

/// Longest unsigned tail kept as text: a list footer is a few lines; a
/// longer tail is content, whoever added it.
pub const FOOTER_MAX_BYTES: usize = 2048;

/// Fills `unsigned_body_bytes` (and, when short, `unsigned_tail`) of every
/// signature with `l=`.
pub(super) fn measure(signatures: &mut [DkimSignature], body: &[u8]) {
    let mut simple = None;
    let mut relaxed = None;
    for sig in signatures.iter_mut() {
        let Some(limit) = sig.body_length else {
            continue;
        };
        let length = if sig.relaxed_body {
            *relaxed.get_or_insert_with(|| canonical_length(body, true))
        } else {
            *simple.get_or_insert_with(|| canonical_length(body, false))
        };
        let unsigned = length.saturating_sub(limit);
        sig.unsigned_body_bytes = Some(unsigned);
        if unsigned > 0 && unsigned <= FOOTER_MAX_BYTES as u64 {
            sig.unsigned_tail = unsigned_tail(body, sig.relaxed_body, limit)
                .filter(|tail| tail.len() <= 2 * FOOTER_MAX_BYTES)
                .map(|tail| String::from_utf8_lossy(tail).into_owned());
        }
    }
}

/// The raw lines from the first one that reaches past `limit` canonical
/// bytes to the end. A line the limit cuts is kept whole: reading a few
/// signed bytes as unsigned can only make a tail look less like a footer.
fn unsigned_tail(body: &[u8], relaxed: bool, limit: u64) -> Option<&[u8]> {
    let mut total: u64 = 0;
    let mut pending_empty: u64 = 0;
    let mut start = 0;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let offset = start;
        start += line.len();
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let length = if relaxed {
            relaxed_line_length(text)
        } else {
            text.len() as u64
        };
        if length == 0 {
            pending_empty += 1;
            continue;
        }
        total += pending_empty * 2 + length + 2;
        pending_empty = 0;
        if total > limit {
            return body.get(offset..);
        }
    }
    None
}

/// The body's length in bytes after `simple` or `relaxed` canonicalisation
/// (as approximated above). One pass, no allocation.
pub(super) fn canonical_length(body: &[u8], relaxed: bool) -> u64 {
    let mut total: u64 = 0;
    // Empty lines seen since the last non-empty one: counted only if a
    // non-empty line follows (trailing empty lines are removed).
    let mut pending_empty: u64 = 0;
    let mut lines = body.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if last && line.is_empty() {
            // The split after the final line break.
            break;
        }
        let length = if relaxed {
            relaxed_line_length(line)
        } else {
            line.len() as u64
        };
        if length == 0 {
            pending_empty += 1;
            continue;
        }
        total += pending_empty * 2 + length + 2;
        pending_empty = 0;
    }
    if total == 0 && !relaxed {
        return 2;
    }
    total
}

/// A line's length after relaxed canonicalisation, without its CRLF.
fn relaxed_line_length(line: &[u8]) -> u64 {
    let mut length: u64 = 0;
    let mut in_space = false;
    let mut pending_space = false;
    for &b in line {
        if b == b' ' || b == b'\t' {
            in_space = true;
            continue;
        }
        if in_space {
            pending_space = true;
            in_space = false;
        }
        if pending_space {
            length += 1;
            pending_space = false;
        }
        length += 1;
    }
    length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_counts_crlf_lines_without_trailing_empty_ones() {
        assert_eq!(canonical_length(b"", false), 2);
        assert_eq!(canonical_length(b"\r\n\r\n", false), 2);
        assert_eq!(canonical_length(b"hi\r\n", false), 4);
        assert_eq!(canonical_length(b"hi", false), 4);
        assert_eq!(canonical_length(b"hi\n\nthere  \n\n\n", false), 4 + 2 + 9);
    }

    #[test]
    fn relaxed_folds_white_space_and_drops_it_at_line_ends() {
        assert_eq!(canonical_length(b"", true), 0);
        assert_eq!(canonical_length(b"\r\n", true), 0);
        assert_eq!(canonical_length(b"a  \t b \t\r\n", true), 3 + 2);
        // Leading white space folds to one space; it is not removed.
        assert_eq!(
            canonical_length(b"  a\r\n\r\n \r\nb\r\n\r\n", true),
            4 + 2 + 2 + 3
        );
    }

    #[test]
    fn unsigned_bytes_are_what_lies_past_l() {
        let sig = |l: Option<u64>, relaxed| DkimSignature {
            domain: "x.example".into(),
            selector: "s".into(),
            body_length: l,
            headers: vec!["from".into()],
            relaxed_body: relaxed,
            unsigned_body_bytes: None,
            unsigned_tail: None,
        };
        let mut sigs = [sig(Some(4), false), sig(Some(100), true), sig(None, true)];
        measure(&mut sigs, b"hi\r\nappended line\r\n");
        assert_eq!(sigs[0].unsigned_body_bytes, Some(15));
        assert_eq!(sigs[1].unsigned_body_bytes, Some(0));
        assert_eq!(sigs[2].unsigned_body_bytes, None);
        assert_eq!(sigs[0].unsigned_tail.as_deref(), Some("appended line\r\n"));
        assert_eq!(sigs[1].unsigned_tail, None);
    }

    #[test]
    fn a_line_the_limit_cuts_is_kept_whole_in_the_tail() {
        assert_eq!(
            unsigned_tail(b"hi\r\nsigned and more\r\n", false, 6),
            Some(&b"signed and more\r\n"[..])
        );
        assert_eq!(unsigned_tail(b"hi\r\n", false, 4), None);
    }
}
