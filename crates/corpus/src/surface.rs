//! Surface features: what a message looks like without reading what it
//! says (size, header count and order, MIME layout, date). No detector
//! feature should be one of these; they are what a classifier would latch on
//! to if corpora or generated classes differ in form, so the source probe
//! and the generator's separability test are trained on them.

/// Headers whose presence and position are recorded, lower-case.
const ORDERED_HEADERS: &[&str] = &[
    "return-path",
    "received",
    "date",
    "from",
    "to",
    "cc",
    "subject",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "reply-to",
    "x-mailer",
    "user-agent",
    "list-id",
    "list-unsubscribe",
    "precedence",
    "dkim-signature",
    "authentication-results",
    "received-spf",
    "in-reply-to",
    "references",
    "thread-index",
    "x-originating-ip",
];

/// Names of the values [`surface_features`] returns, in order.
pub fn surface_feature_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "log2_bytes",
        "log2_header_bytes",
        "log2_body_bytes",
        "header_count",
        "received_count",
        "content_type_field_count",
        "multipart_flag",
        "html_part_flag",
        "base64_part_flag",
        "quoted_printable_part_flag",
        "crlf_line_ends_flag",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.extend(
        ORDERED_HEADERS
            .iter()
            .map(|h| format!("{h}_position_ratio")),
    );
    names
}

/// The surface of one raw message; see [`surface_feature_names`]. Header
/// positions are the first occurrence's rank over the header count (0 when
/// absent), so "Date before From" and "no List-Id" are both visible.
pub fn surface_features(bytes: &[u8]) -> Vec<f64> {
    surface_of(bytes, &scan_headers(bytes))
}

/// [`surface_features`] from a header scan already made.
pub fn surface_of(bytes: &[u8], scan: &HeaderScan<'_>) -> Vec<f64> {
    let header_len = scan.len.min(bytes.len());
    let body = &bytes[header_len..];
    let marks = mime_marks(bytes);
    let count = scan.count.max(1) as f64;
    let flag = |b: bool| f64::from(u8::from(b));
    let mut out = vec![
        (bytes.len() as f64 + 1.0).log2(),
        (header_len as f64 + 1.0).log2(),
        (body.len() as f64 + 1.0).log2(),
        scan.count as f64,
        scan.received as f64,
        marks.content_types as f64,
        flag(marks.multipart),
        flag(marks.html),
        flag(marks.base64),
        flag(marks.quoted_printable),
        f64::from(u8::from(
            memchr::memmem::find(&bytes[..bytes.len().min(4096)], b"\r\n").is_some(),
        )),
    ];
    for at in scan.first_at {
        out.push(at.map_or(0.0, |i| (i + 1) as f64 / count));
    }
    out
}

/// What the Content-* lines of a message (top and every part) say.
#[derive(Default)]
struct MimeMarks {
    content_types: usize,
    multipart: bool,
    html: bool,
    base64: bool,
    quoted_printable: bool,
}

/// Reads every line that starts with "Content-" (any case), found by one
/// substring search for "ontent-", the rarest stretch they share.
fn mime_marks(bytes: &[u8]) -> MimeMarks {
    let mut marks = MimeMarks::default();
    for at in memchr::memmem::find_iter(bytes, b"ontent-") {
        let Some(start) = at.checked_sub(1) else {
            continue;
        };
        let line_start = start == 0 || bytes[start - 1] == b'\n';
        if !line_start || !bytes[start].eq_ignore_ascii_case(&b'c') {
            continue;
        }
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        // A folded value goes on, but the marks are in the first 200 bytes.
        let line = bytes[start..end.min(start + 200)].to_ascii_lowercase();
        if line.starts_with(b"content-type:") {
            marks.content_types += 1;
            let value = &line[13..];
            marks.multipart |= memchr::memmem::find(value, b"multipart/").is_some();
            marks.html |= memchr::memmem::find(value, b"text/html").is_some();
        } else if line.starts_with(b"content-transfer-encoding:") {
            let value = &line[26..];
            marks.base64 |= memchr::memmem::find(value, b"base64").is_some();
            marks.quoted_printable |= memchr::memmem::find(value, b"quoted-printable").is_some();
        }
    }
    marks
}

/// One pass over a header block: how many fields, how many Received, where
/// each recorded header (the `*_position_ratio` names of
/// [`surface_feature_names`]) first stands, the raw Date and Message-ID
/// values, and the block's length through its blank line.
pub struct HeaderScan<'a> {
    /// Header fields read (at most 10 000).
    pub count: usize,
    /// Received fields among them.
    pub received: usize,
    first_at: [Option<usize>; ORDERED_HEADERS.len()],
    /// The first Date field's raw value, folded lines included.
    pub date: Option<&'a [u8]>,
    /// The first Message-ID field's raw value, folded lines included.
    pub message_id: Option<&'a [u8]>,
    /// Bytes of the header block through its blank line (the whole input
    /// when there is none).
    pub len: usize,
}

/// Most fields read; a hostile header block is not allowed to be endless.
const MAX_FIELDS: usize = 10_000;

/// Scans the header block at the start of `bytes`; see [`HeaderScan`].
pub fn scan_headers(bytes: &[u8]) -> HeaderScan<'_> {
    let mut scan = HeaderScan {
        count: 0,
        received: 0,
        first_at: [None; ORDERED_HEADERS.len()],
        date: None,
        message_id: None,
        len: bytes.len(),
    };
    let mut pos = 0;
    // The field whose value is being read (Date or Message-ID), to take in
    // its folded lines.
    let mut open: Option<(bool, usize)> = None;
    while pos < bytes.len() && scan.count < MAX_FIELDS {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..end];
        let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if trimmed.is_empty() {
            scan.len = end;
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some((is_date, start)) = open {
                let value = &bytes[start..pos + trimmed.len()];
                if is_date {
                    scan.date = Some(value);
                } else {
                    scan.message_id = Some(value);
                }
            }
            pos = end;
            continue;
        }
        open = None;
        if let Some(colon) = memchr::memchr(b':', trimmed) {
            let name = trimmed[..colon].trim_ascii();
            let index = scan.count;
            scan.count += 1;
            if name.eq_ignore_ascii_case(b"received") {
                scan.received += 1;
            }
            if let Some(k) = ORDERED_HEADERS
                .iter()
                .position(|h| name.eq_ignore_ascii_case(h.as_bytes()))
            {
                scan.first_at[k].get_or_insert(index);
            }
            let value_start = pos + colon + 1;
            let value = &bytes[value_start..pos + trimmed.len()];
            if name.eq_ignore_ascii_case(b"date") && scan.date.is_none() {
                scan.date = Some(value);
                open = Some((true, value_start));
            } else if name.eq_ignore_ascii_case(b"message-id") && scan.message_id.is_none() {
                scan.message_id = Some(value);
                open = Some((false, value_start));
            }
        }
        pos = end;
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surface_reads_headers_order_and_layout() {
        let msg = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n--x--\r\n";
        let f = surface_features(msg);
        let names = surface_feature_names();
        assert_eq!(f.len(), names.len());
        let get = |n: &str| f[names.iter().position(|x| x == n).unwrap()];
        assert_eq!(get("header_count"), 4.0);
        assert_eq!(get("content_type_field_count"), 3.0);
        assert_eq!(get("multipart_flag"), 1.0);
        assert_eq!(get("html_part_flag"), 1.0);
        assert_eq!(get("crlf_line_ends_flag"), 1.0);
        assert_eq!(get("from_position_ratio"), 0.25);
        assert_eq!(get("list-id_position_ratio"), 0.0);
    }

    #[test]
    fn the_header_scan_reads_folded_date_and_message_id() {
        let msg = b"Received: x\nDate: Thu,\n 1 Jan 1970 00:01:00 +0000\nMESSAGE-ID:\n\t<a@b>\nX: y\n\nDate: body\n";
        let scan = scan_headers(msg);
        assert_eq!(scan.count, 4);
        assert_eq!(scan.received, 1);
        assert_eq!(scan.date, Some(&b" Thu,\n 1 Jan 1970 00:01:00 +0000"[..]));
        assert_eq!(scan.message_id, Some(&b"\n\t<a@b>"[..]));
        assert_eq!(&msg[scan.len..], b"Date: body\n");
    }

    #[test]
    fn hostile_header_blocks_stay_bounded() {
        let msg = "X: y\n".repeat(50_000);
        let f = surface_features(msg.as_bytes());
        assert!(f[3] <= 10_001.0);
        assert_eq!(surface_features(b"").len(), surface_feature_names().len());
    }
}
