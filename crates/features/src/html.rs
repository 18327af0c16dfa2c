//! HTML reduced to what a reader sees: its text, and its anchors with the
//! text they show. Tokenised with html5gum, bounded in input and output.

use html5gum::{DefaultEmitter, Token, Tokenizer};

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

/// Tags whose content is never shown.
const HIDDEN: &[&[u8]] = &[b"script", b"style", b"head", b"title", b"template"];
/// Tags that break a line, so words on either side do not run together.
const BREAKS: &[&[u8]] = &[
    b"br",
    b"p",
    b"div",
    b"tr",
    b"td",
    b"li",
    b"h1",
    b"h2",
    b"h3",
    b"h4",
    b"h5",
    b"h6",
    b"table",
    b"blockquote",
];

/// Reads at most `max_input` bytes of `html`, keeps at most `max_text` bytes
/// of text and `max_anchors` anchors.
pub(crate) fn read_html(
    html: &str,
    max_input: usize,
    max_text: usize,
    max_anchors: usize,
) -> HtmlContent {
    let html = truncate_at_char(html, max_input);
    let mut emitter = DefaultEmitter::default();
    // Treat script/style content as raw text, as a browser would.
    emitter.naively_switch_states(true);
    let mut out = HtmlContent::default();
    let mut hidden_depth = 0usize;
    let mut open: Option<Anchor> = None;
    for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
        match token {
            Token::StartTag(tag) => {
                let name = tag.name.as_slice();
                if HIDDEN.contains(&name) && !tag.self_closing {
                    hidden_depth += 1;
                } else if BREAKS.contains(&name) {
                    push_text(&mut out.text, "\n", max_text);
                } else if name == b"a" {
                    if let Some(a) = open.take() {
                        finish(&mut out, a, max_anchors);
                    }
                    if let Some(href) = tag.attributes.get(b"href".as_slice()) {
                        open = Some(Anchor {
                            href: String::from_utf8_lossy(&href.value).trim().to_string(),
                            text: String::new(),
                        });
                    }
                }
            }
            Token::EndTag(tag) => {
                let name = tag.name.as_slice();
                if HIDDEN.contains(&name) {
                    hidden_depth = hidden_depth.saturating_sub(1);
                } else if name == b"a" {
                    if let Some(a) = open.take() {
                        finish(&mut out, a, max_anchors);
                    }
                } else if BREAKS.contains(&name) {
                    push_text(&mut out.text, "\n", max_text);
                }
            }
            Token::String(s) if hidden_depth == 0 => {
                let s = String::from_utf8_lossy(&s.value);
                push_text(&mut out.text, &s, max_text);
                if let Some(a) = open.as_mut() {
                    push_text(&mut a.text, &s, 1024);
                }
            }
            _ => {}
        }
        if out.text.len() >= max_text && out.anchors.len() >= max_anchors {
            break;
        }
    }
    if let Some(a) = open.take() {
        finish(&mut out, a, max_anchors);
    }
    out
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
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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
        ] {
            let _ = read_html(html, 1000, 1000, 10);
        }
    }
}
