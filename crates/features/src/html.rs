//! HTML reduced to what a reader sees: its text, and its anchors with the
//! text they show.
//!
//! A single forward scan, no recursion and no tree: hostile HTML (a tag with
//! a million attributes, unclosed comments, endless nesting) costs time
//! linear in the bounded input and constant stack. We only need text and
//! anchors, so a full HTML5 tree builder would buy nothing here; entities
//! are decoded by the `html-escape` crate.

use std::borrow::Cow;

/// An anchor as the reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anchor {
    pub href: String,
    pub text: String,
}

#[derive(Debug, Default)]
pub(crate) struct HtmlContent {
    pub text: String,
    pub anchors: Vec<Anchor>,
}

/// Tags whose content is never shown: skipped up to their end tag.
const HIDDEN: &[&str] = &["script", "style", "head", "title", "template", "noscript"];
/// Tags that break a line, so words on either side do not run together.
const BREAKS: &[&str] = &[
    "br",
    "p",
    "div",
    "tr",
    "td",
    "th",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "blockquote",
    "hr",
];
/// Longest tag name worth reading.
const MAX_TAG_NAME: usize = 16;

/// A tag as the scanner saw it.
struct Tag<'a> {
    /// As written (any case); compare with `eq_ignore_ascii_case`.
    name: &'a str,
    closing: bool,
    /// The bytes between the name and the closing '>'.
    attributes: &'a str,
    /// Index just past the tag.
    end: usize,
}

/// Reads the tag starting at `start` (a '<'); None when it is not a tag and
/// the '<' is text.
fn read_tag(html: &str, start: usize) -> Option<Tag<'_>> {
    let b = html.as_bytes();
    let mut i = start + 1;
    let closing = b.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_start = i;
    while b
        .get(i)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'-')
    {
        i += 1;
    }
    // ASCII on either side: both ends are char boundaries.
    let name = html.get(name_start..i.min(name_start + MAX_TAG_NAME))?;
    let attr_start = i;
    // To the first '>' outside quotes, jumping from one quote or '>' to the
    // next rather than stepping through every byte of the attributes.
    while let Some(off) = memchr::memchr3(b'"', b'\'', b'>', b.get(i..).unwrap_or_default()) {
        i += off;
        let Some(&q) = b.get(i) else { break };
        if q == b'>' {
            break;
        }
        let after = b.get(i + 1..).unwrap_or_default();
        i = memchr::memchr(q, after).map_or(b.len(), |close| i + 1 + close + 1);
    }
    if b.get(i).is_some_and(|&c| c != b'>') {
        i = b.len();
    }
    Some(Tag {
        name,
        closing,
        // Ends after a name, a quote or at a '>': char boundaries.
        attributes: html.get(attr_start..i.min(b.len())).unwrap_or_default(),
        end: (i + 1).min(b.len()),
    })
}

/// The value of `href` among a tag's attributes, entities decoded.
fn href(attributes: &str) -> Option<String> {
    let b = attributes.as_bytes();
    let at = |i: usize| b.get(i).copied();
    // Every cut below is next to an ASCII byte, so on a char boundary.
    let text = |from: usize, to: usize| attributes.get(from..to).unwrap_or_default();
    let mut i = 0;
    while i < b.len() {
        while at(i).is_some_and(|c| c.is_ascii_whitespace() || c == b'/') {
            i += 1;
        }
        let name_start = i;
        while at(i).is_some_and(|c| !c.is_ascii_whitespace() && c != b'=' && c != b'/') {
            i += 1;
        }
        let name = text(name_start, i);
        while at(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        let mut value = "";
        if at(i) == Some(b'=') {
            i += 1;
            while at(i).is_some_and(|c| c.is_ascii_whitespace()) {
                i += 1;
            }
            if let Some(q) = at(i).filter(|&c| c == b'"' || c == b'\'') {
                let v_start = i + 1;
                i = v_start;
                while at(i).is_some_and(|c| c != q) {
                    i += 1;
                }
                value = text(v_start, i);
                i += 1;
            } else {
                let v_start = i;
                while at(i).is_some_and(|c| !c.is_ascii_whitespace()) {
                    i += 1;
                }
                value = text(v_start, i);
            }
        }
        if name.eq_ignore_ascii_case("href") {
            return Some(decode_entities(value).trim().to_string());
        }
        if name.is_empty() && i < b.len() {
            // One character on, not one byte: after `="x"` the next byte
            // may begin a multi-byte character, and the next name would
            // start inside it.
            i += attributes
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
        }
    }
    None
}

/// Index of the first case-insensitive `</name` at or after `from`.
fn find_end_tag(html: &str, from: usize, name: &str) -> Option<usize> {
    let b = html.as_bytes();
    let mut i = from;
    while let Some(off) = memchr::memchr(b'<', b.get(i..)?) {
        let at = i + off;
        let rest = b.get(at + 1..).unwrap_or_default();
        if rest.first() == Some(&b'/')
            && rest
                .get(1..=name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Reads at most `max_input` bytes of `html`, keeps at most `max_text` bytes
/// of text and `max_anchors` anchors.
pub(crate) fn read_html(
    html: &str,
    max_input: usize,
    max_text: usize,
    max_anchors: usize,
) -> HtmlContent {
    let html = truncate_at_char(html, max_input);
    let b = html.as_bytes();
    // Text runs start and end next to '<' or '>', ASCII: char boundaries.
    let text = |from: usize, to: usize| html.get(from..to).unwrap_or_default();
    let mut out = HtmlContent::default();
    let mut open: Option<Anchor> = None;
    let mut text_start = 0;
    let mut i = 0;
    while i < b.len() {
        let Some(off) = memchr::memchr(b'<', b.get(i..).unwrap_or_default()) else {
            break;
        };
        let lt = i + off;
        let emit = |out: &mut HtmlContent, open: &mut Option<Anchor>, raw: &str| {
            // Text with nowhere to go (the limit reached, no anchor open) is
            // not decoded: the anchor-only pass over HTML is mostly that.
            if raw.is_empty() || out.text.len() >= max_text && open.is_none() {
                return;
            }
            let decoded = decode_entities(raw);
            push_text(&mut out.text, &decoded, max_text);
            if let Some(a) = open.as_mut() {
                push_text(&mut a.text, &decoded, 1024);
            }
        };
        let from_lt = b.get(lt..).unwrap_or_default();
        if from_lt.starts_with(b"<!--") {
            emit(&mut out, &mut open, text(text_start, lt));
            i = find(b, lt + 4, b"-->").map_or(b.len(), |e| e + 3);
            text_start = i;
            continue;
        }
        if matches!(b.get(lt + 1), Some(b'!') | Some(b'?')) {
            emit(&mut out, &mut open, text(text_start, lt));
            i = from_lt
                .iter()
                .position(|&c| c == b'>')
                .map_or(b.len(), |e| lt + e + 1);
            text_start = i;
            continue;
        }
        let Some(tag) = read_tag(html, lt) else {
            i = lt + 1;
            continue;
        };
        emit(&mut out, &mut open, text(text_start, lt));
        i = tag.end;
        let name = tag.name;
        let is = |list: &[&str]| list.iter().any(|t| t.eq_ignore_ascii_case(name));
        if !tag.closing && is(HIDDEN) && !tag.attributes.trim_end().ends_with('/') {
            i = find_end_tag(html, i, name)
                .and_then(|at| {
                    let rest = b.get(at..).unwrap_or_default();
                    rest.iter().position(|&c| c == b'>').map(|e| at + e + 1)
                })
                .unwrap_or(b.len());
        } else if name.eq_ignore_ascii_case("a") {
            if let Some(a) = open.take() {
                finish(&mut out, a, max_anchors);
            }
            if !tag.closing {
                open = href(tag.attributes).map(|href| Anchor {
                    href,
                    text: String::new(),
                });
            }
        } else if is(BREAKS) {
            push_text(&mut out.text, "\n", max_text);
        }
        text_start = i;
        if out.text.len() >= max_text && out.anchors.len() >= max_anchors {
            break;
        }
    }
    if text_start < b.len() && out.text.len() < max_text {
        let raw = text(text_start, b.len());
        let decoded = decode_entities(raw);
        push_text(&mut out.text, &decoded, max_text);
        if let Some(a) = open.as_mut() {
            push_text(&mut a.text, &decoded, 1024);
        }
    }
    if let Some(a) = open.take() {
        finish(&mut out, a, max_anchors);
    }
    out
}

/// html-escape's decoding; text without a '&', most of it, is returned as it
/// is without the byte-by-byte search for an entity.
fn decode_entities(raw: &str) -> Cow<'_, str> {
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    html_escape::decode_html_entities(raw)
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|p| from + p)
}

fn finish(out: &mut HtmlContent, mut anchor: Anchor, max_anchors: usize) {
    if out.anchors.len() < max_anchors && !anchor.href.is_empty() {
        anchor.text = anchor.text.split_whitespace().collect::<Vec<_>>().join(" ");
        out.anchors.push(anchor);
    }
}

fn push_text(buf: &mut String, s: &str, max: usize) {
    if buf.len() < max {
        buf.push_str(truncate_at_char(s, max - buf.len()));
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub(crate) fn truncate_at_char(s: &str, max: usize) -> &str {
    s.get(..s.floor_char_boundary(max)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_visible_text_and_anchors() {
        let html = r#"<html><head><style>p{color:red}</style><title>T</title></head><body>
            <p>Dear&nbsp;user,</p><script>var x = "<a href='http://hidden'>";</script>
            <a href="http://evil.example/login">https://www.paypal.com</a><br>Bye</body></html>"#;
        let c = read_html(html, 1 << 20, 1 << 20, 10);
        assert!(c.text.contains("Dear\u{a0}user,"), "{:?}", c.text);
        assert!(!c.text.contains("color"));
        assert!(!c.text.contains("var x"));
        assert!(c.text.contains("Bye"));
        assert_eq!(
            c.anchors,
            vec![Anchor {
                href: "http://evil.example/login".into(),
                text: "https://www.paypal.com".into()
            }]
        );
    }

    #[test]
    fn bounds_input_text_and_anchors() {
        let html = "<a href=x>é</a>".repeat(10_000);
        let c = read_html(&html, 5_001, 100, 3);
        assert_eq!(c.anchors.len(), 3);
        assert!(c.text.len() <= 100);
    }

    #[test]
    fn unclosed_and_broken_markup_does_not_panic() {
        for html in [
            "<a href='x'>open",
            "<<<>>>",
            "<a href=\"",
            "</a></a><a>",
            "<script>",
            "<!--",
            "<!",
            "a < b > c",
            "<a href=x",
            "é<é>é",
        ] {
            let _ = read_html(html, 1000, 1000, 10);
        }
        let c = read_html("a < b and 3<4 <b>bold</b> &amp; more", 1000, 1000, 10);
        assert_eq!(c.text, "a < b and 3<4 bold & more");
    }

    #[test]
    fn a_tag_with_a_million_attributes_is_linear_and_flat() {
        let mut html = String::from("<div ");
        for i in 0..1_000_000 {
            html.push_str(&format!("a{i}=\"x\" "));
        }
        html.push_str(">hi</div><a href=\"http://x.example/?a=1&amp;b=2\">go</a>");
        let c = read_html(&html, usize::MAX, 1000, 10);
        assert!(c.text.contains("hi"));
        assert_eq!(c.anchors[0].href, "http://x.example/?a=1&b=2");
        assert_eq!(c.anchors[0].text, "go");
    }
}
