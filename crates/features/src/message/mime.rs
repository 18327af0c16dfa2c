//! The MIME structure of a message: mail-parser's full parse, and a faster
//! reading of the common shapes that gives the same parts and text bodies.

use super::charset::decode_charset;
use super::transfer_encoding::{decode_transfer, skip_transfer};
use crate::header_block::HeaderBlock;
use mail_parser::parsers::MessageStream;
use mail_parser::{
    ContentType, Encoding, GetHeader, Header, HeaderName, HeaderValue, Message, MessageParser,
    MessagePart, PartType,
};
use std::borrow::Cow;

/// The MIME structure of a message, as mail-parser's full parse gives it.
pub(super) fn parse_mime<'x>(
    parser: &MessageParser,
    bytes: &'x [u8],
    block: Option<&HeaderBlock<'x>>,
) -> Option<Message<'x>> {
    simple_mime(parser, bytes, block).or_else(|| parser.parse(bytes))
}

/// How the MIME parser reads a top-level field it does not skip.
#[derive(Clone, Copy)]
enum FieldKind {
    Address,
    Id,
    Text,
    ContentType,
}

/// The fields the MIME parser reads: the identities, the recipients,
/// Message-ID, Subject and the MIME fields. It skips every other.
const PARSED_FIELDS: [HeaderName<'static>; 14] = [
    HeaderName::From,
    HeaderName::Sender,
    HeaderName::ReplyTo,
    HeaderName::ResentFrom,
    HeaderName::To,
    HeaderName::Cc,
    HeaderName::MessageId,
    HeaderName::Subject,
    HeaderName::ContentType,
    HeaderName::ContentDisposition,
    HeaderName::ContentId,
    HeaderName::ContentDescription,
    HeaderName::ContentLocation,
    HeaderName::ContentTransferEncoding,
];

fn field_kind(name: &HeaderName<'_>) -> Option<FieldKind> {
    Some(match name {
        HeaderName::From
        | HeaderName::Sender
        | HeaderName::ReplyTo
        | HeaderName::ResentFrom
        | HeaderName::To
        | HeaderName::Cc => FieldKind::Address,
        HeaderName::MessageId | HeaderName::ContentId => FieldKind::Id,
        HeaderName::Subject
        | HeaderName::ContentDescription
        | HeaderName::ContentLocation
        | HeaderName::ContentTransferEncoding => FieldKind::Text,
        HeaderName::ContentType | HeaderName::ContentDisposition => FieldKind::ContentType,
        _ => return None,
    })
}

/// The MIME parser of every Context: [`PARSED_FIELDS`] read, the rest
/// skipped. [`top_headers`] reads the same fields the same way.
pub(crate) fn mime_parser() -> MessageParser {
    PARSED_FIELDS
        .iter()
        .fold(MessageParser::new(), |parser, name| {
            match field_kind(name) {
                Some(FieldKind::Address) => parser.header_address(name.clone()),
                Some(FieldKind::Id) => parser.header_id(name.clone()),
                Some(FieldKind::Text) => parser.header_text(name.clone()),
                Some(FieldKind::ContentType) => parser.header_content_type(name.clone()),
                None => parser,
            }
        })
        .default_header_ignore()
}

/// The top-level fields as the parser of [`mime_parser`] lists them, and
/// where the body starts, read from a plain header block (see
/// [`HeaderBlock::plain_end`]) we have already split into fields: only the
/// fields it reads are parsed, each from its value on with its own field
/// parser; the ones it skips are listed empty, as it lists them. Its pass
/// over every byte of every field, Received chains included, was a tenth
/// of the cost of a message. None when the block is not plain, or a field's
/// reading stops before the field ends (the parser would then read on from
/// inside it).
fn top_headers<'x>(bytes: &'x [u8], block: &HeaderBlock<'x>) -> Option<(Vec<Header<'x>>, usize)> {
    let body = block.plain_end?;
    let mut headers = Vec::with_capacity(block.spans.len());
    for span in &block.spans {
        let name = HeaderName::parse(std::str::from_utf8(span.name).ok()?)?;
        let (value, end) = match field_kind(&name) {
            Some(kind) => {
                let mut stream = MessageStream::new(bytes);
                stream.skip_bytes(span.value_start);
                let value = match kind {
                    FieldKind::Address => stream.parse_address(),
                    FieldKind::Id => stream.parse_id(),
                    FieldKind::Text => stream.parse_unstructured(),
                    FieldKind::ContentType => stream.parse_content_type(),
                };
                (value, stream.offset())
            }
            None => (HeaderValue::Empty, span.end),
        };
        if end != span.end {
            return None;
        }
        headers.push(Header {
            name,
            value,
            offset_field: span.field_start as u32,
            offset_start: span.value_start as u32,
            offset_end: end as u32,
        });
    }
    Some((headers, body))
}

/// The common shapes of mail, read as mail-parser's full parse reads them
/// (its header parser, or [`top_headers`] given the top-level `block`; its
/// boundary search and transfer decoders; the same
/// part lists and text bodies; a test compares the two), but with the
/// charset step of [`decode_charset`], the largest single cost of a parse,
/// and base64 binary bodies left empty (see [`skip_transfer`]). Two
/// shapes: one inline text/plain or text/html part, and multiparts (nested
/// up to [`MAX_NESTED_MULTIPART`] deep) whose leaves are not messages.
/// None for every other shape, and for anything unusual on the way (an
/// encoding problem, a missing boundary, bytes left after a lone part, a
/// digest): those take the full parse.
fn simple_mime<'x>(
    parser: &MessageParser,
    bytes: &'x [u8],
    block: Option<&HeaderBlock<'x>>,
) -> Option<Message<'x>> {
    let mut stream = MessageStream::new(bytes);
    let headers = match block.and_then(|b| top_headers(bytes, b)) {
        Some((headers, body)) => {
            stream.skip_bytes(body);
            headers
        }
        None => {
            let mut headers = Vec::new();
            if !stream.parse_headers(parser, &mut headers) {
                return None;
            }
            headers
        }
    };
    let offset_body = stream.offset();
    let content_type = content_type(&headers);
    if content_type.is_some_and(|ct| ct.ctype() == "multipart") {
        let boundary = content_type.and_then(|ct| ct.attribute("boundary"))?;
        let subtype = content_type.and_then(|ct| ct.subtype());
        let container = MessagePart {
            headers: Vec::new(),
            is_encoding_problem: false,
            body: PartType::default(),
            encoding: Encoding::None,
            offset_header: 0,
            offset_body: offset_body as u32,
            offset_end: bytes.len() as u32,
        };
        let mut message = multipart(parser, stream, boundary.as_bytes(), subtype, container)?;
        message.parts.first_mut()?.headers = headers;
        message.raw_message = Cow::Borrowed(bytes);
        return Some(message);
    }
    // Only an inline text part; the rest is left to the full parse.
    let leaf = leaf_kind(content_type)?;
    if !matches!(leaf, LeafKind::TextPlain | LeafKind::TextHtml) || is_attachment(&headers) {
        return None;
    }
    let (encoding, _, decoded) = decode_transfer(&mut stream, &headers, b"")?;
    // mail-parser would read what follows as more headers and parts.
    if stream.offset() < bytes.len() {
        return None;
    }
    let text = decode_charset(decoded, content_type.and_then(|ct| ct.attribute("charset")));
    let body = if leaf == LeafKind::TextHtml {
        PartType::Html(text)
    } else {
        PartType::Text(text)
    };
    let part = MessagePart {
        headers,
        is_encoding_problem: false,
        body,
        encoding,
        offset_header: 0,
        offset_body: offset_body as u32,
        offset_end: bytes.len() as u32,
    };
    Some(Message {
        html_body: vec![0],
        text_body: vec![0],
        attachments: Vec::new(),
        parts: vec![part],
        raw_message: Cow::Borrowed(bytes),
    })
}

/// How deep multiparts may nest on the fast path; deeper structures take
/// the full parse, which keeps its own stack instead of recursing.
const MAX_NESTED_MULTIPART: usize = 8;

/// The parts of a top-level multipart (`container`, part 0, without its
/// headers) and of the multiparts nested in it, following mail-parser's
/// rules for which part is text body, HTML body or attachment.
fn multipart<'x>(
    parser: &MessageParser,
    mut stream: MessageStream<'x>,
    boundary: &[u8],
    subtype: Option<&str>,
    container: MessagePart<'x>,
) -> Option<Message<'x>> {
    // In a digest a part without Content-Type is a message.
    if subtype == Some("digest") {
        return None;
    }
    let mut message = Message {
        parts: vec![container],
        ..Message::default()
    };
    let level = Level::new(Kind::of(subtype), false, (true, true), &message);
    let children = read_level(parser, &mut stream, boundary, level, &mut message, 0)?;
    message.parts.first_mut()?.body = PartType::Multipart(children);
    Some(message)
}

/// What mail-parser keeps for one open multipart while it reads its parts.
struct Level {
    alternative: bool,
    related: bool,
    /// Inside an alternative at this level or above.
    in_alternative: bool,
    /// Whether inline parts here still join the HTML body and the text
    /// body: under an alternative, the first inline HTML part clears
    /// `need_text` and the first plain one `need_html`, for this level.
    need_html: bool,
    need_text: bool,
    /// The lengths of the HTML and text body lists when the level opened.
    html_at: usize,
    text_at: usize,
}

/// The multipart subtypes whose parts mail-parser files differently.
#[derive(Clone, Copy)]
struct Kind {
    alternative: bool,
    related: bool,
}

impl Kind {
    fn of(subtype: Option<&str>) -> Kind {
        Kind {
            alternative: subtype == Some("alternative"),
            related: subtype == Some("related"),
        }
    }
}

impl Level {
    fn new(
        Kind {
            alternative,
            related,
        }: Kind,
        in_alternative: bool,
        (need_html, need_text): (bool, bool),
        message: &Message<'_>,
    ) -> Level {
        Level {
            alternative,
            related,
            in_alternative: in_alternative || alternative,
            need_html,
            need_text,
            html_at: message.html_body.len(),
            text_at: message.text_body.len(),
        }
    }
}

/// Reads the parts of one multipart, from before its first boundary to
/// after its closing one, into `message`; returns their part ids. A nested
/// multipart is read by a call of its own, after which the stream is moved
/// on to this level's next boundary, as mail-parser moves it. None for
/// every shape the full parse must take (a digest, a message/rfc822 part,
/// a multipart without a boundary, an encoding problem, a missing
/// boundary, nesting deeper than [`MAX_NESTED_MULTIPART`]).
fn read_level<'x>(
    parser: &MessageParser,
    stream: &mut MessageStream<'x>,
    boundary: &[u8],
    mut level: Level,
    message: &mut Message<'x>,
    depth: usize,
) -> Option<Vec<u32>> {
    if !stream.seek_next_part(boundary) {
        return None;
    }
    stream.skip_crlf();
    let mut children = Vec::new();
    loop {
        let offset_header = stream.offset();
        let mut headers = Vec::new();
        if !stream.parse_headers(parser, &mut headers) {
            return None;
        }
        let offset_body = stream.offset();
        let id = message.parts.len() as u32;
        children.push(id);
        let content_type = content_type(&headers);
        if let Some(ct) = content_type.filter(|ct| ct.ctype() == "multipart") {
            let subtype = ct.subtype();
            if depth + 1 >= MAX_NESTED_MULTIPART || subtype == Some("digest") {
                return None;
            }
            let kind = Kind::of(subtype);
            let inner = ct.attribute("boundary")?.as_bytes().to_vec();
            message.parts.push(MessagePart {
                headers,
                is_encoding_problem: false,
                body: PartType::default(),
                encoding: Encoding::None,
                offset_header: offset_header as u32,
                offset_body: offset_body as u32,
                offset_end: 0,
            });
            let needs = (level.need_html, level.need_text);
            let nested = Level::new(kind, level.in_alternative, needs, message);
            let grandchildren = read_level(parser, stream, &inner, nested, message, depth + 1)?;
            let offset_end = stream.seek_next_part_offset(boundary)?;
            let part = message.parts.get_mut(id as usize)?;
            part.body = PartType::Multipart(grandchildren);
            part.offset_end = offset_end as u32;
        } else {
            let leaf = leaf_kind(content_type)?;
            let is_text = matches!(
                leaf,
                LeafKind::TextPlain | LeafKind::TextHtml | LeafKind::TextOther
            );
            let (encoding, offset_end, decoded) = if is_text {
                decode_transfer(stream, &headers, boundary)?
            } else {
                skip_transfer(stream, &headers, boundary)?
            };
            let is_inline = !matches!(leaf, LeafKind::TextOther | LeafKind::Other)
                && !is_attachment(&headers)
                && (children.len() == 1
                    || !level.related
                        && (leaf == LeafKind::Inline
                            || content_type.is_none_or(|ct| !ct.has_attribute("name"))));
            let (to_html, to_text) = match (level.alternative, leaf) {
                (true, LeafKind::TextHtml) => (true, false),
                (true, LeafKind::TextPlain) => (false, true),
                (true, _) => (false, false),
                (false, _) if is_inline => {
                    // The first kind an alternative above offers settles
                    // which body list its later inline parts join.
                    if level.in_alternative && (level.need_html || level.need_text) {
                        match leaf {
                            LeafKind::TextHtml => level.need_text = false,
                            LeafKind::TextPlain => level.need_html = false,
                            _ => {}
                        }
                    }
                    (level.need_html, level.need_text)
                }
                (false, _) => (false, false),
            };
            if to_html {
                message.html_body.push(id);
            }
            if to_text {
                message.text_body.push(id);
            }
            let is_html = leaf == LeafKind::TextHtml;
            let body = if is_text {
                if !to_html && is_html || !to_text && !is_html {
                    message.attachments.push(id);
                }
                let text =
                    decode_charset(decoded, content_type.and_then(|ct| ct.attribute("charset")));
                if is_html {
                    PartType::Html(text)
                } else {
                    PartType::Text(text)
                }
            } else {
                message.attachments.push(id);
                if is_inline {
                    PartType::InlineBinary(decoded)
                } else {
                    PartType::Binary(decoded)
                }
            };
            message.parts.push(MessagePart {
                headers,
                is_encoding_problem: false,
                body,
                encoding,
                offset_header: offset_header as u32,
                offset_body: offset_body as u32,
                offset_end: offset_end as u32,
            });
        }
        if stream.is_multipart_end() {
            break;
        }
    }
    // An alternative with only HTML, or only plain text, offers it as both.
    if level.alternative && level.need_html && level.need_text {
        let html = message.html_body.get(level.html_at..).unwrap_or_default();
        let text = message.text_body.get(level.text_at..).unwrap_or_default();
        if text.is_empty() && !html.is_empty() {
            let html = html.to_vec();
            message.text_body.extend(html);
        } else if html.is_empty() && !text.is_empty() {
            let text = text.to_vec();
            message.html_body.extend(text);
        }
    }
    Some(children)
}

/// A leaf part's type as mail-parser classifies it; None for a part that
/// holds other parts (multipart, message/rfc822).
#[derive(Clone, Copy, PartialEq, Eq)]
enum LeafKind {
    TextPlain,
    TextHtml,
    TextOther,
    /// image, audio, video.
    Inline,
    Other,
}

fn leaf_kind(content_type: Option<&ContentType<'_>>) -> Option<LeafKind> {
    let Some(ct) = content_type else {
        return Some(LeafKind::TextPlain);
    };
    Some(match (ct.ctype(), ct.subtype()) {
        ("multipart", _) | ("message", Some("rfc822" | "global")) => return None,
        ("text", Some("plain")) => LeafKind::TextPlain,
        ("text", Some("html")) => LeafKind::TextHtml,
        ("text", _) => LeafKind::TextOther,
        ("image" | "audio" | "video", _) => LeafKind::Inline,
        _ => LeafKind::Other,
    })
}

fn content_type<'a, 'x>(headers: &'a impl GetHeader<'x>) -> Option<&'a ContentType<'x>> {
    headers
        .header_value(&HeaderName::ContentType)
        .and_then(|c| c.as_content_type())
}

fn is_attachment<'x>(headers: &impl GetHeader<'x>) -> bool {
    headers
        .header_value(&HeaderName::ContentDisposition)
        .is_some_and(|d| d.as_content_type().is_some_and(|ct| ct.is_attachment()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header_block::HeaderFilter;
    use crate::message::strip_mbox_separator;

    fn parser() -> MessageParser {
        mime_parser()
    }

    /// Calls `each` with every readable message of the shared corpora (its
    /// mbox separator stripped), its top-level header block and where it
    /// came from; returns how many there were.
    fn each_corpus_message(mut each: impl FnMut(&[u8], &HeaderBlock<'_>, &str)) -> usize {
        let archives = crate::shared_archives();
        let options = impostor_mailsource::ReadOptions::default();
        let filter =
            HeaderFilter::new(crate::header_block::DEFAULT_VERDICT_HEADERS.iter().copied());
        let mut messages = 0;
        for message in impostor_mailsource::read_inputs(&archives, &options) {
            let Ok(bytes) = message.bytes else {
                continue;
            };
            messages += 1;
            let (bytes, _) = strip_mbox_separator(&bytes);
            let (block, _) = HeaderBlock::read(bytes, &filter);
            each(bytes, &block, &message.origin.to_string());
        }
        messages
    }

    /// Whether a message holds a multipart inside another.
    fn is_nested(message: &Message<'_>) -> bool {
        let containers = message
            .parts
            .iter()
            .filter(|p| matches!(p.body, PartType::Multipart(_)));
        containers.count() > 1
    }

    /// Every top-level header block of the shared corpora that is plain
    /// reads as mail-parser's header parser reads it, and most are plain.
    #[test]
    fn corpus_header_blocks_read_as_mail_parser_reads_them() {
        let parser = parser();
        let mut plain = 0;
        let messages = each_corpus_message(|bytes, block, _| {
            let Some((mine, body)) = top_headers(bytes, block) else {
                return;
            };
            plain += 1;
            let mut stream = MessageStream::new(bytes);
            let mut theirs = Vec::new();
            assert!(stream.parse_headers(&parser, &mut theirs));
            assert_eq!(mine, theirs, "{}", String::from_utf8_lossy(bytes));
            assert_eq!(body, stream.offset());
        });
        assert!(messages > 12_000, "{messages}");
        assert!(
            plain * 10 > messages * 9,
            "only {plain} of {messages} plain"
        );
    }

    /// `simple_mime` both ways: with mail-parser's header parser, and from
    /// our header block where it is plain (None when the two disagree).
    fn simple_both<'x>(parser: &MessageParser, raw: &'x [u8]) -> Option<Message<'x>> {
        let (block, _) = HeaderBlock::read(raw, &HeaderFilter::new(["X-Spam-*"]));
        let mine = simple_mime(parser, raw, None);
        let from_block = simple_mime(parser, raw, Some(&block));
        assert_eq!(mine, from_block, "{}", String::from_utf8_lossy(raw));
        mine
    }

    /// The full parse as `simple_mime` gives it: base64 binary bodies empty.
    fn without_base64_binary(mut message: Message<'_>) -> Message<'_> {
        for part in &mut message.parts {
            if part.encoding == Encoding::Base64 {
                if let PartType::Binary(b) | PartType::InlineBinary(b) = &mut part.body {
                    *b = Cow::Borrowed(&[]);
                }
            }
        }
        message
    }

    #[test]
    fn multipart_reading_matches_the_full_parse() {
        let containers = [
            "multipart/mixed",
            "multipart/alternative",
            "multipart/related",
            "multipart/signed",
            "multipart/digest",
            "MULTIPART/Alternative",
        ];
        let parts = [
            "Content-Type: text/plain; charset=us-ascii\n\nplain text\n",
            "Content-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n<p>caf=E9</p>\n",
            "\nno headers at all\n",
            "Content-Type: text/plain; name=notes.txt\n\nnamed\n",
            "Content-Type: text/plain\nContent-Disposition: attachment\n\nattached\n",
            "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n",
            "Content-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n",
            "Content-Type: text/calendar\n\nBEGIN:VCALENDAR\n",
            "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n!!! not base64 !!!\n",
            "Content-Type: message/rfc822\n\nFrom: x@y\n\ninner\n",
            "Content-Type: multipart/alternative; boundary=inner\n\n--inner\n\ni\n--inner--\n",
            "Content-Type: message/delivery-status\n\nStatus: 5.0.0\n",
            "Content-Type: multipart/alternative; boundary=alt\n\n--alt\nContent-Type: text/plain\n\nplain\n--alt\nContent-Type: text/html\n\n<p>html</p>\n--alt--\n",
            "Content-Type: multipart/alternative; boundary=alt2\n\npreamble\n--alt2\nContent-Type: text/html\n\n<p>only html</p>\n--alt2--\nepilogue\n",
            "Content-Type: multipart/related; boundary=rel\n\n--rel\nContent-Type: text/html\n\n<img src=cid:x>\n--rel\nContent-Type: image/png; name=x.png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--rel\nContent-Type: text/plain\n\nafter\n--rel--\n",
            "Content-Type: multipart/alternative; boundary=alt3\n\n--alt3\nContent-Type: multipart/related; boundary=rel3\n\n--rel3\nContent-Type: text/html\n\n<p>deep</p>\n--rel3\nContent-Type: image/gif\n\nGIF\n--rel3\nContent-Type: text/plain\n\nlate\n--rel3--\n--alt3\nContent-Type: text/plain\n\nflat\n--alt3--\n",
            "Content-Type: multipart/alternative; boundary=alt4\n\n--alt4\nContent-Type: text/plain\n\nfirst\n--alt4\nContent-Type: multipart/mixed; boundary=mix4\n\n--mix4\nContent-Type: text/plain\n\nin mixed\n--mix4\nContent-Type: text/html\n\n<b>h</b>\n--mix4\nContent-Type: application/zip; name=z.zip\nContent-Transfer-Encoding: base64\n\nUEsFBg==\n--mix4--\nmix epilogue\n--alt4--\n",
            "Content-Type: multipart/mixed; boundary=open\n\n--open\n\nnever closed\n",
            "Content-Type: multipart/mixed\n\nno boundary\n",
            "Content-Type: multipart/digest; boundary=dg\n\n--dg\n\nFrom: d@e\n\ndigested\n--dg--\n",
            "Content-Type: multipart/mixed; boundary=m5\n\n--m5\nContent-Type: multipart/alternative; boundary=a5\n\n--a5\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<p>=E9</p>\n--a5--\n--m5\nContent-Type: text/plain; charset=koi8-r\n\nпри\n--m5--\n",
        ];
        let parser = parser();
        let (mut fast, mut nested) = (0, 0);
        let mut state: u32 = 7;
        for container in containers {
            for round in 0..120 {
                let mut raw = format!(
                    "From: a@example.com\nSubject: s\nMIME-Version: 1.0\nContent-Type: {container}; boundary=\"b0\"\n\npreamble\n"
                );
                for _ in 0..(1 + round % 4) {
                    raw.push_str("--b0\n");
                    raw.push_str(parts[crate::pick(&mut state, parts.len())]);
                }
                match round % 5 {
                    0 => raw.push_str("--b0--\nepilogue\n"),
                    1 => raw.push_str("--b0--"),
                    2 => {}
                    3 => raw.push_str("--b0--\r\n"),
                    _ => raw.push_str("--b0 \n"),
                }
                let raw = raw.into_bytes();
                let full = parser.parse(&raw[..]).map(without_base64_binary);
                if let Some(mine) = simple_both(&parser, &raw) {
                    fast += 1;
                    nested += usize::from(is_nested(&mine));
                    assert_eq!(Some(mine), full, "{}", String::from_utf8_lossy(&raw));
                }
            }
        }
        assert!(fast >= 120, "only {fast} messages took the multipart path");
        assert!(nested >= 60, "only {nested} nested multiparts took it");
    }

    /// Multiparts nested as deep as the fast reading goes read as the full
    /// parse reads them; one level deeper, and a thousand deeper, it hands
    /// them to the full parse.
    #[test]
    fn nesting_beyond_the_limit_takes_the_full_parse() {
        let parser = parser();
        let nest = |depth: usize| {
            let mut raw = String::from("From: a@example.com\nSubject: s\n");
            for d in 0..depth {
                raw.push_str(&format!(
                    "Content-Type: multipart/mixed; boundary=\"b{d}\"\n\n--b{d}\n"
                ));
            }
            raw.push_str("Content-Type: text/plain\n\ninnermost\n");
            for d in (0..depth).rev() {
                raw.push_str(&format!("--b{d}--\n"));
            }
            raw.into_bytes()
        };
        let within = nest(MAX_NESTED_MULTIPART);
        let mine = simple_both(&parser, &within);
        assert!(
            mine.is_some(),
            "{MAX_NESTED_MULTIPART} deep took the full parse"
        );
        assert_eq!(mine, parser.parse(&within[..]));
        for depth in [MAX_NESTED_MULTIPART + 1, 1_000] {
            assert_eq!(simple_both(&parser, &nest(depth)), None, "{depth} deep");
        }
    }

    /// Every message of the shared corpora that the fast reading takes
    /// (most of them, nested multiparts included) reads as the full parse
    /// reads it, base64 binary bodies aside.
    #[test]
    fn corpus_messages_read_as_the_full_parse_reads_them() {
        let parser = parser();
        let (mut fast, mut nested) = (0, 0);
        let messages = each_corpus_message(|bytes, block, origin| {
            let Some(mine) = simple_mime(&parser, bytes, Some(block)) else {
                return;
            };
            fast += 1;
            nested += usize::from(is_nested(&mine));
            let full = parser.parse(bytes).map(without_base64_binary);
            assert!(Some(&mine) == full.as_ref(), "{origin} reads differently");
        });
        assert!(messages > 12_000, "{messages}");
        assert!(fast * 10 > messages * 9, "only {fast} of {messages} fast");
        assert!(nested > 300, "only {nested} nested multiparts read fast");
    }

    /// The single-part reading gives what the full parse gives, or nothing.
    #[test]
    fn single_text_part_matches_the_full_parse() {
        let heads = [
            "",
            "Content-Type: text/plain\n",
            "Content-Type: text/plain; charset=us-ascii\n",
            "Content-Type: TEXT/PLAIN; charset=\"ISO-8859-1\"\n",
            "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n",
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
            "Content-Type: text/plain; charset=koi8-r\n",
            "Content-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: base64\n",
            "Content-Type: text/html\nContent-Transfer-Encoding: Quoted-Printable\n",
            "Content-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n",
            "Content-Type: text/enriched\n",
            "Content-Type: image/gif\nContent-Transfer-Encoding: base64\n",
            "Content-Type: message/rfc822\n",
            "Content-Type: multipart/mixed; boundary=b\n",
            "Content-Transfer-Encoding: base64\n",
        ];
        let bodies: [&[u8]; 9] = [
            b"",
            b"Hello there,\r\nplease pay.\r\n",
            b"caf\xe9 =E9t=E9 \x80 soft=\r\nbreak\n",
            b"SGVsbG8gd29ybGQ=\n",
            b"SGVsbG8*** broken base64 !!!\n",
            b"<p>Dear&nbsp;user</p>\n--b\nContent-Type: text/plain\n\nsecond\n--b--\n",
            b"\xff\xfe\xc3\x28 bad utf-8\n",
            b"line\n\nFrom: not a header\n\nmore\n",
            b"=?utf-8?B?w6k=?= =3D=\n",
        ];
        let parser = parser();
        let mut fast = 0;
        for head in heads {
            for body in bodies {
                let mut raw = format!("From: a@example.com\nSubject: s\n{head}\n").into_bytes();
                raw.extend_from_slice(body);
                let full = parser.parse(&raw[..]);
                if let Some(mine) = simple_both(&parser, &raw) {
                    fast += 1;
                    assert_eq!(Some(mine), full, "{head}");
                }
            }
        }
        assert!(fast >= 50, "only {fast} messages took the single-part path");
    }
}
