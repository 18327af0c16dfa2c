//! Message bytes → `verdict_log::message_id`: the Message-ID each line of
//! the verdict log carries, read from the top header block of whatever the
//! server was sent.

#![no_main]

use impostor_serve::verdict_log::message_id;
use libfuzzer_sys::fuzz_target;

/// The documented bound on the identifier, in bytes.
const MAX_ID_BYTES: usize = 256;
/// Header bytes the function searches (its MAX_HEADER_BYTES): past them the
/// body-independence check below does not hold, and is not made.
const MAX_HEADER_BYTES: usize = 256 * 1024;

/// Where the top header block ends: just past the line feed of its first
/// empty line (a bare CRLF or LF), if there is one.
fn header_end(data: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(lf) = data.get(start..)?.iter().position(|&b| b == b'\n') {
        let line = data.get(start..start + lf)?;
        if line.is_empty() || line == b"\r" {
            return Some(start + lf + 1);
        }
        start += lf + 1;
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let id = message_id(data);
    if let Some(id) = &id {
        assert!(!id.is_empty(), "an empty identifier is None");
        assert!(id.len() <= MAX_ID_BYTES, "{} bytes", id.len());
        // Unfolded: no line break survives.
        assert!(!id.contains('\n'), "a line feed in {id:?}");
        // The brackets and white space around it are taken off before the
        // cut; a cut (to 253..=256 bytes) may end anywhere.
        assert!(!id.starts_with('<'), "a bracket before {id:?}");
        assert!(!id.starts_with(char::is_whitespace), "space before {id:?}");
        if id.len() + 3 < MAX_ID_BYTES {
            assert!(!id.ends_with('>'), "a bracket after {id:?}");
            assert!(!id.ends_with(char::is_whitespace), "space after {id:?}");
        }
    }
    // Only the top header block counts: a Message-ID field in the body
    // changes nothing.
    if data.len() <= MAX_HEADER_BYTES {
        if let Some(end) = header_end(data) {
            let mut other = data.get(..end).unwrap_or_default().to_vec();
            other.extend_from_slice(b"Message-ID: <from-the-body@fuzz.example>\r\n\r\n");
            assert_eq!(message_id(&other), id, "the body changed the answer");
        }
    }
    // Line ends are LF or CRLF alike (without a CR in the input, so that
    // no bare CR turns into a line end).
    if !data.contains(&b'\r') && data.len() <= MAX_HEADER_BYTES / 2 {
        let crlf: Vec<u8> = data
            .iter()
            .flat_map(|&b| match b {
                b'\n' => vec![b'\r', b'\n'],
                b => vec![b],
            })
            .collect();
        assert_eq!(message_id(&crlf), id, "CRLF line ends changed the answer");
    }
});
