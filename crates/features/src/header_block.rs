//! The top-level header block as raw fields, read by ourselves rather than
//! through the MIME parser, because the tricks we look for (a space before the
//! colon, a second From) are exactly what a forgiving parser smooths over.

/// Receiving filters' verdict headers: they carry another filter's opinion of
/// the label, so features never read them (see ../shared/README.md).
pub const DEFAULT_VERDICT_HEADERS: &[&str] = &[
    "X-MS-Exchange-*",
    "X-Microsoft-Antispam*",
    "X-Forefront-*",
    "X-EOP*",
    "X-Sender-IP",
    "X-SID-Result",
    "X-Incoming*",
    "X-Message-Delivery",
    "X-Spam-*",
    "X-Barracuda-*",
    "X-BitDefender*",
    "X-RC-*",
    "XStatus",
    "XLevel",
    "XChecker-Version",
    "X-Amavis*",
    "X-Virus-*",
    "X-Mozilla-*",
    "Status",
    "X-Status",
    "X-UIDL",
    "X-Account-Key",
    "X-Keywords",
    "X-IMAP",
    "X-VADE-*",
];

/// Header names never read: exact names, or prefixes written with a final `*`.
/// Case-insensitive.
#[derive(Clone, Debug)]
pub struct HeaderFilter {
    exact: Vec<String>,
    prefixes: Vec<String>,
    /// Lower-cased first bytes of every pattern; an empty prefix ("*")
    /// marks them all. Most headers fail this test and are never compared.
    first_bytes: [bool; 256],
}

impl Default for HeaderFilter {
    fn default() -> Self {
        HeaderFilter::new(DEFAULT_VERDICT_HEADERS.iter().copied())
    }
}

impl HeaderFilter {
    /// A filter hiding `patterns`: header names, or prefixes ending in `*`;
    /// case-insensitive, white space around each ignored.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let mut exact = Vec::new();
        let mut prefixes = Vec::new();
        for p in patterns {
            let p = p.trim().to_ascii_lowercase();
            match p.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_string()),
                None if !p.is_empty() => exact.push(p),
                None => {}
            }
        }
        let mut first_bytes = [false; 256];
        for p in exact.iter().chain(&prefixes) {
            match p.as_bytes().first() {
                Some(&b) => {
                    if let Some(seen) = first_bytes.get_mut(usize::from(b)) {
                        *seen = true;
                    }
                }
                None => first_bytes = [true; 256],
            }
        }
        HeaderFilter {
            exact,
            prefixes,
            first_bytes,
        }
    }

    /// True when a header of this name must not be read.
    pub fn hides(&self, name: &str) -> bool {
        self.hides_trimmed(name.trim().as_bytes())
    }

    /// [`HeaderFilter::hides`] for a name without surrounding white space.
    fn hides_trimmed(&self, name: &[u8]) -> bool {
        // Runs for every header of every message: compare without allocating.
        let first = name.first().map_or(0, u8::to_ascii_lowercase);
        if !self.first_bytes.get(usize::from(first)).is_some_and(|&b| b) {
            return false;
        }
        self.exact
            .iter()
            .any(|e| e.as_bytes().eq_ignore_ascii_case(name))
            || self.prefixes.iter().any(|p| {
                name.get(..p.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(p.as_bytes()))
            })
    }
}

/// One header field as it stands in the message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawField<'a> {
    /// The name, without surrounding white space.
    pub name: &'a [u8],
    /// White space stood between the name and the colon.
    pub space_before_colon: bool,
    /// The value with its folding, up to (not including) the final line break.
    pub value: &'a [u8],
}

impl RawField<'_> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value unfolded into one line, lossily decoded.
    pub fn unfolded(&self) -> String {
        let text = String::from_utf8_lossy(self.value);
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if i > 0 {
                out.push(' ');
                out.push_str(line.trim_start());
            } else {
                out.push_str(line);
            }
        }
        out.trim().to_string()
    }
}

/// The fields of the top-level header block, in order, with the verdict
/// headers of `filter` left out.
#[derive(Debug, Default)]
pub(crate) struct HeaderBlock<'a> {
    pub fields: Vec<RawField<'a>>,
    /// Every field with a valid name, hidden ones too, in order: where the
    /// MIME parser's header parser would find them.
    pub spans: Vec<FieldSpan<'a>>,
    /// Where the body starts, when an empty line ended a block in which
    /// every line was a field with a plain name (no white space in or after
    /// it) or a continuation of one: a block any parser reads the same way.
    pub plain_end: Option<usize>,
}

/// Where a field stands in the message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpan<'a> {
    pub name: &'a [u8],
    /// The start of its line.
    pub field_start: usize,
    /// Just past the colon.
    pub value_start: usize,
    /// Just past the line break that ends its last line.
    pub end: usize,
}

impl<'a> HeaderBlock<'a> {
    /// Reads fields until the first empty line. Lines that are neither a field
    /// nor a continuation are skipped. Returns the block and where the body
    /// starts.
    pub fn read(bytes: &'a [u8], filter: &HeaderFilter) -> (HeaderBlock<'a>, usize) {
        let mut fields: Vec<RawField<'a>> = Vec::new();
        let mut spans: Vec<FieldSpan<'a>> = Vec::new();
        // Every line so far a plainly named field or a continuation of one.
        let mut plain = true;
        let mut pos = 0;
        // Index of the field the next continuation line belongs to; None after
        // a hidden field so its continuation is dropped with it.
        let mut open: Option<usize> = None;
        let mut value_start = 0;
        while pos < bytes.len() {
            let rest = bytes.get(pos..).unwrap_or_default();
            let end = memchr_newline(rest).map_or(bytes.len(), |i| pos + i);
            let line = bytes.get(pos..end).unwrap_or_default();
            let line_trimmed = line.strip_suffix(b"\r").unwrap_or(line);
            let next = (end + 1).min(bytes.len());
            if line_trimmed.is_empty() {
                let plain_end = plain.then_some(next);
                let block = HeaderBlock {
                    fields,
                    spans,
                    plain_end,
                };
                return (block, next);
            }
            if matches!(line_trimmed.first(), Some(b' ' | b'\t')) {
                // A continuation before any field continues nothing.
                plain &= pos > 0;
                if let Some(span) = spans.last_mut() {
                    span.end = next;
                }
                if let Some(field) = open.and_then(|i| fields.get_mut(i)) {
                    field.value = bytes
                        .get(value_start..line_end(bytes, end))
                        .unwrap_or_default();
                }
            } else if let Some((raw_name, _)) = memchr::memchr(b':', line_trimmed)
                .and_then(|colon| line_trimmed.split_at_checked(colon))
            {
                let colon = raw_name.len();
                let name = raw_name.trim_ascii();
                let valid_name = !name.is_empty()
                    && name
                        .iter()
                        .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t');
                plain &= !raw_name.is_empty() && raw_name.iter().all(u8::is_ascii_graphic);
                if valid_name {
                    spans.push(FieldSpan {
                        name,
                        field_start: pos,
                        value_start: pos + colon + 1,
                        end: next,
                    });
                }
                if valid_name && !filter.hides_trimmed(name) {
                    value_start = pos + colon + 1;
                    fields.push(RawField {
                        name,
                        space_before_colon: raw_name
                            .last()
                            .is_some_and(|b| *b == b' ' || *b == b'\t'),
                        value: bytes
                            .get(value_start..line_end(bytes, end))
                            .unwrap_or_default(),
                    });
                    open = Some(fields.len() - 1);
                } else {
                    open = None;
                }
            } else {
                plain = false;
                open = None;
            }
            pos = next;
            if end == bytes.len() {
                break;
            }
        }
        let block = HeaderBlock {
            fields,
            spans,
            plain_end: None,
        };
        (block, bytes.len())
    }

    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s RawField<'a>> + 's {
        self.fields.iter().filter(move |f| f.is(name))
    }
}

fn line_end(bytes: &[u8], newline: usize) -> usize {
    if newline > 0 && bytes.get(newline - 1) == Some(&b'\r') {
        newline - 1
    } else {
        newline
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folded_fields_and_hides_verdicts() {
        let msg = b"From: A <a@x.com>\r\nX-Spam-Status: Yes,\r\n\tscore=9\r\nSubject: hi\r\n  there\r\nFrom : B <b@y.com>\r\n\r\nbody\r\n";
        let (block, body) = HeaderBlock::read(msg, &HeaderFilter::default());
        let names: Vec<_> = block
            .fields
            .iter()
            .map(|f| String::from_utf8_lossy(f.name).to_string())
            .collect();
        assert_eq!(names, ["From", "Subject", "From"]);
        assert_eq!(block.all("from").count(), 2);
        assert!(!block.fields[0].space_before_colon);
        assert!(block.fields[2].space_before_colon);
        assert_eq!(block.fields[1].unfolded(), "hi there");
        assert_eq!(&msg[body..], b"body\r\n");
    }

    #[test]
    fn filter_matches_prefixes_and_exact_names_case_insensitively() {
        let f = HeaderFilter::default();
        assert!(f.hides("x-ms-exchange-organization-scl"));
        assert!(f.hides("Status"));
        assert!(!f.hides("Status-Extra"));
        assert!(!f.hides("From"));
        let custom = HeaderFilter::new(["X-Custom-*"]);
        assert!(custom.hides("x-custom-verdict"));
        assert!(!custom.hides("X-Spam-Flag"));
    }

    #[test]
    fn garbage_lines_do_not_panic() {
        let (block, _) = HeaderBlock::read(
            b"\xff\xfe no colon here\n: empty name\nA: b",
            &HeaderFilter::default(),
        );
        assert_eq!(block.fields.len(), 1);
        assert_eq!(block.fields[0].value, b" b");
    }
}
