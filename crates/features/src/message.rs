//! The message model: one hostile message read into every sender identity a
//! mail client or a verifier might take, the route, the trusted verdicts and
//! a bounded text view of the content.

use crate::auth_results::AuthResults;
use crate::context::Context;
use crate::domain::{address_domain, normalize_domain};
use crate::error::ParseError;
use crate::header_block::{HeaderBlock, RawField};
use crate::html::{read_html, truncate_at_char};
use crate::received::parse_received;
use mail_parser::decoders::base64::BASE64_MAP;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::HEX_MAP;
use mail_parser::parsers::MessageStream;
use mail_parser::{
    Address, ContentType, Encoding, GetHeader, Header, HeaderName, HeaderValue, Host, Message,
    MessageParser, MessagePart, PartType,
};
use serde::Serialize;
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::OnceLock;

/// How much of a message is looked at. Everything past these is ignored, so
/// time and memory stay bounded whatever the input.
#[derive(Clone, Debug)]
pub struct ParseLimits {
    /// Larger messages are refused with [`ParseError::TooLarge`].
    pub max_message_bytes: usize,
    /// Text (subject and body) kept for the intent features.
    pub max_text_bytes: usize,
    /// Bytes of each HTML part that are tokenised.
    pub max_html_bytes: usize,
    pub max_links: usize,
    pub max_hops: usize,
    /// Addresses kept per address header.
    pub max_addresses: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_message_bytes: 128 << 20,
            max_text_bytes: 256 << 10,
            max_html_bytes: 2 << 20,
            max_links: 500,
            max_hops: 64,
            max_addresses: 64,
        }
    }
}

/// What the SMTP session said, when the caller knows it (milter, HTTP,
/// an mbox separator line).
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    /// MAIL FROM as given in the SMTP session.
    pub mail_from: Option<String>,
    pub client_ip: Option<IpAddr>,
    pub helo: Option<String>,
    pub rcpt: Vec<String>,
    /// The sender of an mbox `From ` separator line. Used only when the
    /// Context allows it (corpora add these lines, so they leak the source).
    pub mbox_sender: Option<String>,
}

/// A display name and an address, as a mail client shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Display name with encoded-words decoded.
    pub name: Option<String>,
    /// The address as written (may be invalid).
    pub address: Option<String>,
    /// The address's domain, normalised (lower case, punycode).
    pub domain: Option<String>,
}

impl Identity {
    fn new(name: Option<&str>, address: Option<&str>) -> Identity {
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let address = address
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        let domain = address.as_deref().and_then(address_domain);
        Identity {
            name,
            address,
            domain,
        }
    }

    /// `Name <address>` for evidence text.
    pub fn describe(&self) -> String {
        match (&self.name, &self.address) {
            (Some(n), Some(a)) => format!("\"{n}\" <{a}>"),
            (None, Some(a)) => format!("<{a}>"),
            (Some(n), None) => format!("\"{n}\""),
            (None, None) => "(empty)".to_string(),
        }
    }
}

/// A DKIM-Signature's tags that say who signed what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimSignature {
    /// Signing domain (d=), normalised.
    pub domain: String,
    pub selector: String,
    /// Body length limit (l=); None when the whole body is signed.
    pub body_length: Option<u64>,
    /// Signed header names (h=), lower case.
    pub headers: Vec<String>,
}

/// One Received hop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The name the client gave (HELO/EHLO, or the `from` name).
    pub helo: Option<String>,
    /// Reverse DNS name the receiving server recorded.
    pub reverse_name: Option<String>,
    pub ip: Option<IpAddr>,
    /// The receiving server (`by`).
    pub by: Option<String>,
}

/// A link in the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Link {
    pub href: String,
    pub scheme: String,
    /// Host, lower case, punycode for Unicode hosts; None when unparsable.
    pub host: Option<String>,
    pub host_is_ip: bool,
    /// Text the reader sees (HTML anchors only).
    pub text: Option<String>,
}

/// Header-level tricks that make clients and verifiers disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeaderAnomalies {
    pub from_header_count: usize,
    /// Names of fields with white space before the colon.
    pub space_before_colon: Vec<String>,
    /// From values whose encoded-words hide an address or brackets.
    pub encoded_word_tricks: Vec<String>,
    /// Address headers using route syntax `<@host:user@domain>`.
    pub route_syntax: Vec<String>,
}

/// Everything the features read of one message.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MessageView {
    /// The envelope sender: SMTP MAIL FROM, else the topmost Return-Path,
    /// else (when allowed) the mbox separator's sender. None for `<>`.
    pub envelope_sender: Option<Identity>,
    /// Every From header, top first, each with all its addresses.
    pub from_headers: Vec<Vec<Identity>>,
    pub sender: Option<Identity>,
    pub resent_from: Vec<Identity>,
    pub reply_to: Vec<Identity>,
    pub dkim_signatures: Vec<DkimSignature>,
    pub auth: AuthResults,
    /// Received hops, top (most recent) first, down to and including the
    /// first external one (what lies below it is the sender's to invent).
    pub hops: Vec<Hop>,
    /// Received header fields in the message, parsed or not.
    pub received_count: usize,
    /// Index in `hops` of the first hop from outside the organisation.
    pub first_external_hop: Option<usize>,
    pub message_id_domain: Option<String>,
    /// List-Id, and the names of the List-* headers present.
    pub list_id: Option<String>,
    pub list_headers: Vec<String>,
    pub subject: String,
    /// Text view of the body: text/plain preferred, HTML reduced to text.
    pub body_text: String,
    pub body_truncated: bool,
    pub links: Vec<Link>,
    pub anomalies: HeaderAnomalies,
}

impl MessageView {
    /// Reads one message. Never panics; an error is for this message only.
    pub fn parse(
        bytes: &[u8],
        envelope: &Envelope,
        ctx: &Context,
    ) -> Result<MessageView, ParseError> {
        let limits = ctx.limits();
        if bytes.len() > limits.max_message_bytes {
            return Err(ParseError::TooLarge {
                size: bytes.len(),
                limit: limits.max_message_bytes,
            });
        }
        let (bytes, mbox_line_sender) = strip_mbox_separator(bytes);
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ParseError::Empty);
        }
        let (block, _) = HeaderBlock::read(bytes, ctx.header_filter());
        if block.fields.is_empty() {
            return Err(ParseError::NoHeaders);
        }
        let message =
            parse_mime(ctx.mime_parser(), bytes, Some(&block)).ok_or(ParseError::NoHeaders)?;

        let mut view = MessageView::default();
        view.read_identities(&message, limits);
        view.read_raw_fields(&block, ctx);
        view.envelope_sender = envelope_sender(envelope, &block, mbox_line_sender, ctx);
        view.read_route(&block, ctx);
        view.message_id_domain = message
            .message_id()
            .and_then(|id| id.rsplit_once('@'))
            .and_then(|(_, d)| normalize_domain(d));
        // Subject and body share the text limit; the subject comes first.
        let subject = message.subject().unwrap_or("").trim();
        view.subject = truncate_at_char(subject, limits.max_text_bytes).to_string();
        view.read_content(&message, limits);
        Ok(view)
    }

    /// The From identity a mail client shows: the first address of the first
    /// From header.
    ///
    /// An unquoted comma in the display name ("Amazon, Inc <x@y>") splits it
    /// into a name-only entry and the real mailbox; the mailbox is what the
    /// reader's client shows, so the first entry with an address wins.
    pub fn from(&self) -> Option<&Identity> {
        let first = self.from_headers.first()?;
        first.iter().find(|i| i.address.is_some()).or(first.first())
    }

    /// The first address of the last From header (what some clients show).
    pub fn from_last(&self) -> Option<&Identity> {
        self.from_headers.last().and_then(|h| h.first())
    }

    pub fn from_domain(&self) -> Option<&str> {
        self.from().and_then(|i| i.domain.as_deref())
    }

    pub fn envelope_domain(&self) -> Option<&str> {
        self.envelope_sender
            .as_ref()
            .and_then(|i| i.domain.as_deref())
    }

    pub fn first_external(&self) -> Option<&Hop> {
        self.first_external_hop.and_then(|i| self.hops.get(i))
    }

    fn read_identities(&mut self, message: &Message<'_>, limits: &ParseLimits) {
        for header in message.headers() {
            let HeaderValue::Address(address) = &header.value else {
                continue;
            };
            let identities = identities(address, limits.max_addresses);
            match header.name {
                HeaderName::From => self.from_headers.push(identities),
                HeaderName::Sender if self.sender.is_none() => {
                    self.sender = identities.into_iter().next()
                }
                HeaderName::ResentFrom if self.resent_from.is_empty() => {
                    self.resent_from = identities
                }
                HeaderName::ReplyTo if self.reply_to.is_empty() => self.reply_to = identities,
                _ => {}
            }
        }
        self.from_headers.truncate(limits.max_addresses);
    }

    fn read_raw_fields(&mut self, block: &HeaderBlock<'_>, ctx: &Context) {
        let mut received_spf_seen = false;
        // One buffer for every field's lower-cased name, not one allocation each.
        let mut lower = String::new();
        for field in &block.fields {
            // HeaderBlock keeps only names of printable ASCII.
            let name = std::str::from_utf8(field.name).unwrap_or_default();
            if field.space_before_colon && self.anomalies.space_before_colon.len() < 16 {
                self.anomalies.space_before_colon.push(name.to_string());
            }
            lower.clear();
            lower.push_str(name);
            lower.make_ascii_lowercase();
            match lower.as_str() {
                "from" => {
                    let decoded = self.from_headers.get(self.anomalies.from_header_count);
                    self.anomalies.from_header_count += 1;
                    if has_encoded_word_trick(field, decoded) {
                        self.anomalies.encoded_word_tricks.push(field.unfolded());
                    }
                    if has_route_syntax(field) {
                        self.anomalies.route_syntax.push("From".into());
                    }
                }
                "sender" | "reply-to" | "resent-from" if has_route_syntax(field) => {
                    self.anomalies.route_syntax.push(name.to_string());
                }
                "dkim-signature" if self.dkim_signatures.len() < 16 => {
                    if let Some(sig) = dkim_signature(field) {
                        self.dkim_signatures.push(sig);
                    }
                }
                "authentication-results" => self
                    .auth
                    .merge_header(&field.unfolded(), ctx.trusted_authserv_ids()),
                "received-spf" if !received_spf_seen => {
                    received_spf_seen = true;
                    self.auth.merge_received_spf(&field.unfolded());
                }
                "list-id" if self.list_id.is_none() => self.list_id = Some(field.unfolded()),
                _ => {}
            }
            if lower.starts_with("list-")
                && !self.list_headers.contains(&lower)
                && self.list_headers.len() < 16
            {
                self.list_headers.push(lower.clone());
            }
        }
        // "From :" is not a From header to mail-parser, but some clients take it.
        if self.from_headers.is_empty() && self.anomalies.from_header_count > 0 {
            if let Some(field) = block.all("from").next() {
                let value = field.unfolded();
                let address = value
                    .rsplit_once('<')
                    .map(|(_, rest)| rest.trim_end_matches('>').trim())
                    .unwrap_or(value.as_str());
                let name = value
                    .split_once('<')
                    .map(|(n, _)| n.trim().trim_matches('"'));
                self.from_headers
                    .push(vec![Identity::new(name, Some(address))]);
            }
        }
    }

    /// Reads Received hops from the top down to the first external one and
    /// stops: below it the sending side writes whatever it likes, so no
    /// feature reads further, and parsing it would only cost time.
    fn read_route(&mut self, block: &HeaderBlock<'_>, ctx: &Context) {
        let max_hops = ctx.limits().max_hops;
        let received = block.all("received");
        for field in received {
            self.received_count += 1;
            if self.first_external_hop.is_some() || self.hops.len() >= max_hops {
                continue;
            }
            let HeaderValue::Received(r) = parse_received(field.value) else {
                continue;
            };
            let host = |h: &Option<Host<'_>>| match h {
                Some(Host::Name(n)) => normalize_domain(n),
                Some(Host::IpAddr(ip)) => Some(ip.to_string()),
                None => None,
            };
            let helo = host(&r.helo).or_else(|| host(&r.from));
            let ip = r.from_ip.or(match &r.from {
                Some(Host::IpAddr(ip)) => Some(*ip),
                _ => None,
            });
            let hop = Hop {
                helo,
                reverse_name: r.from_iprev.as_deref().and_then(normalize_domain),
                ip,
                by: host(&r.by),
            };
            if is_external_hop(&hop, ctx) {
                self.first_external_hop = Some(self.hops.len());
            }
            self.hops.push(hop);
        }
    }

    fn read_content(&mut self, message: &Message<'_>, limits: &ParseLimits) {
        // What the subject and its line break leave of the text limit.
        let max_text = limits.max_text_bytes.saturating_sub(self.subject.len() + 1);
        let mut text = String::new();
        let mut truncated = false;
        let mut anchors = Vec::new();
        // HTML-only mail lists the same part as text and HTML body: scan it once.
        let mut scanned: Vec<u32> = Vec::new();
        for id in &message.text_body {
            let Some(part) = message.parts.get(*id as usize) else {
                continue;
            };
            match &part.body {
                PartType::Text(t) => push_bounded(&mut text, t, max_text, &mut truncated),
                PartType::Html(h) => {
                    let content = read_html(h, limits.max_html_bytes, max_text, limits.max_links);
                    truncated |= h.len() > limits.max_html_bytes;
                    push_bounded(&mut text, &content.text, max_text, &mut truncated);
                    if message.html_body.contains(id) && anchors.len() < limits.max_links {
                        anchors.extend(content.anchors);
                        scanned.push(*id);
                    }
                }
                _ => {}
            }
        }
        for id in &message.html_body {
            if anchors.len() >= limits.max_links {
                break;
            }
            let Some(part) = message.parts.get(*id as usize) else {
                continue;
            };
            if let (PartType::Html(h), false) = (&part.body, scanned.contains(id)) {
                let content = read_html(h, limits.max_html_bytes, 0, limits.max_links);
                anchors.extend(content.anchors);
            }
        }
        let mut links: Vec<Link> = anchors
            .into_iter()
            .take(limits.max_links)
            .filter_map(|a| link(&a.href, Some(a.text)))
            .collect();
        if links.is_empty() {
            // Plain-text mail: URLs written in the text.
            let finder = linkify::LinkFinder::new();
            for found in finder
                .links(&text)
                .filter(|l| *l.kind() == linkify::LinkKind::Url)
            {
                if links.len() >= limits.max_links {
                    break;
                }
                if let Some(l) = link(found.as_str(), None) {
                    links.push(l);
                }
            }
        }
        self.body_text = text;
        self.body_truncated = truncated;
        self.links = links;
    }
}

/// The MIME structure of a message, as mail-parser's full parse gives it.
fn parse_mime<'x>(
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

/// The fields the MIME parser reads: the identities, Message-ID, Subject
/// and the MIME fields. It skips every other.
const PARSED_FIELDS: [HeaderName<'static>; 12] = [
    HeaderName::From,
    HeaderName::Sender,
    HeaderName::ReplyTo,
    HeaderName::ResentFrom,
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
        HeaderName::From | HeaderName::Sender | HeaderName::ReplyTo | HeaderName::ResentFrom => {
            FieldKind::Address
        }
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
/// shapes: one inline text/plain or text/html part, and one multipart whose
/// parts are all leaves. None for every other shape, and for anything
/// unusual on the way (an encoding problem, a missing boundary, bytes left
/// after a lone part): those take the full parse.
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
        message.parts[0].headers = headers;
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

/// The parts of a top-level multipart (`container`, part 0, without its
/// headers) when every one of them is a leaf, following mail-parser's
/// rules for which part is text body, HTML body or attachment.
fn multipart<'x>(
    parser: &MessageParser,
    mut stream: MessageStream<'x>,
    boundary: &[u8],
    subtype: Option<&str>,
    container: MessagePart<'x>,
) -> Option<Message<'x>> {
    let alternative = subtype == Some("alternative");
    let related = subtype == Some("related");
    // In a digest a part without Content-Type is a message.
    if subtype == Some("digest") || !stream.seek_next_part(boundary) {
        return None;
    }
    stream.skip_crlf();
    let mut message = Message {
        parts: vec![container],
        ..Message::default()
    };
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
        let leaf = leaf_kind(content_type)?;
        let is_text = matches!(
            leaf,
            LeafKind::TextPlain | LeafKind::TextHtml | LeafKind::TextOther
        );
        let (encoding, offset_end, decoded) = if is_text {
            decode_transfer(&mut stream, &headers, boundary)?
        } else {
            skip_transfer(&mut stream, &headers, boundary)?
        };
        let is_inline = !matches!(leaf, LeafKind::TextOther | LeafKind::Other)
            && !is_attachment(&headers)
            && (children.len() == 1
                || !related
                    && (leaf == LeafKind::Inline
                        || content_type.is_none_or(|ct| !ct.has_attribute("name"))));
        let (to_html, to_text) = match (alternative, leaf) {
            (true, LeafKind::TextHtml) => (true, false),
            (true, LeafKind::TextPlain) => (false, true),
            (true, _) => (false, false),
            (false, _) => (is_inline, is_inline),
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
            let text = decode_charset(decoded, content_type.and_then(|ct| ct.attribute("charset")));
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
        if stream.is_multipart_end() {
            break;
        }
    }
    // An alternative with only HTML, or only plain text, offers it as both.
    if alternative {
        if message.text_body.is_empty() && !message.html_body.is_empty() {
            message.text_body = message.html_body.clone();
        }
        if message.html_body.is_empty() && !message.text_body.is_empty() {
            message.html_body = message.text_body.clone();
        }
    }
    message.parts[0].body = PartType::Multipart(children);
    Some(message)
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

/// A part's body undone from its Content-Transfer-Encoding up to the
/// boundary (empty: to the end), by mail-parser's decoders. None when they
/// report an encoding problem.
fn decode_transfer<'x, 'h>(
    stream: &mut MessageStream<'x>,
    headers: &impl GetHeader<'h>,
    boundary: &[u8],
) -> Option<(Encoding, usize, Cow<'x, [u8]>)> {
    let (encoding, (offset_end, decoded)) =
        match headers.header_value(&HeaderName::ContentTransferEncoding) {
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => {
                (Encoding::Base64, stream.decode_base64_mime(boundary))
            }
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => (
                Encoding::QuotedPrintable,
                decode_quoted_printable(stream, boundary),
            ),
            _ => (Encoding::None, stream.mime_part(boundary)),
        };
    (offset_end != usize::MAX).then_some((encoding, offset_end, decoded))
}

/// [`decode_transfer`] for a part whose content is never read (images,
/// documents): base64, by far their most common encoding, is checked and
/// measured as mail-parser's decoder would, but not decoded. The body is left
/// empty.
fn skip_transfer<'x, 'h>(
    stream: &mut MessageStream<'x>,
    headers: &impl GetHeader<'h>,
    boundary: &[u8],
) -> Option<(Encoding, usize, Cow<'x, [u8]>)> {
    match headers.header_value(&HeaderName::ContentTransferEncoding) {
        Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => {
            let offset_end = skip_base64(stream, boundary);
            (offset_end != usize::MAX).then_some((Encoding::Base64, offset_end, Cow::Borrowed(&[])))
        }
        _ => decode_transfer(stream, headers, boundary),
    }
}

/// Where mail-parser's `decode_base64_mime` ends a part, or usize::MAX where
/// it reports a problem, rule for rule (a test compares the two) but without
/// decoding: which bytes it accepts does not depend on its decoding state.
/// The stream is left where mail-parser leaves it.
fn skip_base64(stream: &mut MessageStream<'_>, boundary: &[u8]) -> usize {
    let is_base64 = |b: u8| BASE64_MAP[0][usize::from(b)] < 0x01ff_ffff;
    let start = stream.offset();
    let data = stream.bytes(start..stream.len());
    stream.checkpoint();
    let mut last_ch = b'\n';
    let mut before_last_ch = 0u8;
    let mut end_pos = start;
    for (i, &ch) in data.iter().enumerate() {
        // As in mail-parser, `start + i + 1` is now the stream's offset.
        if !is_base64(ch) {
            match ch {
                b'=' | b' ' | b'\t' | b'\r' => {}
                b'\n' if last_ch == b'\r' => end_pos = start + i - 1,
                b'\n' => end_pos = start + i,
                b'-' if last_ch == b'-' => {
                    if boundary.is_empty() || !data[i + 1..].starts_with(boundary) {
                        return usize::MAX;
                    }
                    stream.skip_bytes(i + 1 + boundary.len());
                    return if before_last_ch == b'\n' {
                        end_pos
                    } else {
                        start + i - 1
                    };
                }
                b'-' => {}
                _ => return usize::MAX,
            }
        }
        before_last_ch = last_ch;
        last_ch = ch;
    }
    if boundary.is_empty() {
        stream.seek_end();
        stream.len()
    } else {
        usize::MAX
    }
}

/// mail-parser's `decode_quoted_printable_mime`, rule for rule (a test
/// compares the two on generated input), reading a slice rather than its
/// byte iterator and copying runs of ordinary bytes at once: it was the
/// largest cost left in reading a body. The stream is left where
/// mail-parser leaves it.
fn decode_quoted_printable<'x>(
    stream: &mut MessageStream<'x>,
    boundary: &[u8],
) -> (usize, Cow<'x, [u8]>) {
    #[derive(PartialEq)]
    enum State {
        None,
        Eq,
        Hex1,
    }
    // Bytes that, outside an escape, are copied and reset the white-space count.
    let plain = |b: u8| !matches!(b, b'=' | b'-') && !b.is_ascii_whitespace();
    let start = stream.offset();
    let data = stream.bytes(start..stream.len());
    stream.checkpoint();
    let mut buf = Vec::with_capacity(128);
    let mut state = State::None;
    let mut hex1: i8 = 0;
    let mut last_ch = 0u8;
    let mut before_last_ch = 0u8;
    let mut ws_count = 0usize;
    let mut end_pos = start;
    let mut crlf: &[u8] = b"\n";
    let mut i = 0;
    while i < data.len() {
        let ch = data[i];
        if state == State::None && plain(ch) {
            let run = data[i..]
                .iter()
                .position(|&b| !plain(b))
                .unwrap_or(data.len() - i);
            buf.extend_from_slice(&data[i..i + run]);
            ws_count = 0;
            before_last_ch = if run >= 2 { data[i + run - 2] } else { last_ch };
            last_ch = data[i + run - 1];
            i += run;
            continue;
        }
        // As in mail-parser, `start + i` is now the stream's offset.
        i += 1;
        match ch {
            b'=' => {
                if state == State::None {
                    state = State::Eq;
                } else {
                    stream.restore();
                    return (usize::MAX, Cow::Borrowed(b""));
                }
            }
            b'\n' => {
                end_pos = if last_ch == b'\r' {
                    start + i - 2
                } else {
                    start + i - 1
                };
                if state == State::Eq {
                    state = State::None;
                } else {
                    if ws_count > 0 {
                        buf.truncate(buf.len() - ws_count);
                    }
                    buf.extend_from_slice(crlf);
                }
                ws_count = 0;
            }
            b'\r' => crlf = b"\r\n",
            b'-' if !boundary.is_empty() && last_ch == b'-' && data[i..].starts_with(boundary) => {
                i += boundary.len();
                stream.skip_bytes(i);
                // mail-parser's arithmetic, which wraps in a release build
                // (after "=\n--boundary") and so truncates nothing.
                if before_last_ch == b'\n' {
                    buf.truncate(buf.len().wrapping_sub(crlf.len() + 1));
                } else {
                    buf.truncate(buf.len().wrapping_sub(1));
                    end_pos = start + i - boundary.len() - 2;
                }
                return (end_pos, buf.into());
            }
            _ => match state {
                State::None => {
                    if ch.is_ascii_whitespace() {
                        ws_count += 1;
                    } else {
                        ws_count = 0;
                    }
                    buf.push(ch);
                }
                State::Eq => {
                    hex1 = HEX_MAP[usize::from(ch)];
                    if hex1 != -1 {
                        state = State::Hex1;
                    } else if !ch.is_ascii_whitespace() {
                        state = State::None;
                        buf.push(b'=');
                        buf.push(ch);
                        ws_count = 0;
                    }
                }
                State::Hex1 => {
                    let hex2 = HEX_MAP[usize::from(ch)];
                    state = State::None;
                    if hex2 != -1 {
                        buf.push(((hex1 as u8) << 4) | hex2 as u8);
                    } else {
                        buf.push(b'=');
                        buf.push(last_ch);
                        buf.push(ch);
                    }
                    ws_count = 0;
                }
            },
        }
        before_last_ch = last_ch;
        last_ch = ch;
    }
    if boundary.is_empty() {
        stream.seek_end();
        (stream.len(), buf.into())
    } else {
        stream.restore();
        (usize::MAX, buf.into())
    }
}

/// Names mail-parser decodes as windows-1252 (us-ascii and latin-1 among
/// them), written as its charset table writes them: lower case, '_' for '-'.
const WINDOWS_1252_NAMES: &[&str] = &[
    "ansi_x3.4_1968",
    "ascii",
    "cp1252",
    "cp819",
    "csisolatin1",
    "cswindows1252",
    "ibm819",
    "iso88591",
    "iso8859_1",
    "iso_8859_1",
    "iso_8859_1:1987",
    "iso_ir_100",
    "l1",
    "latin1",
    "us_ascii",
    "windows_1252",
    "x_cp1252",
];

/// A text part's bytes as a string, exactly as mail-parser decodes them.
/// Its windows-1252 decoder (us-ascii and latin-1 among its names) builds
/// the string a char at a time: ASCII text is the same string, taken as it
/// is, and other text is decoded here by the same table.
fn decode_charset<'x>(bytes: Cow<'x, [u8]>, charset: Option<&str>) -> Cow<'x, str> {
    if charset.is_some_and(is_windows_1252) {
        if !bytes.is_ascii() {
            return Cow::Owned(decode_windows_1252(&bytes));
        }
        return match bytes {
            Cow::Borrowed(b) => {
                std::str::from_utf8(b).map_or_else(|_| String::from_utf8_lossy(b), Cow::Borrowed)
            }
            Cow::Owned(v) => Cow::Owned(
                String::from_utf8(v)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        };
    }
    let decoder = charset.and_then(|c| charset_decoder(c.as_bytes()));
    match (bytes, decoder) {
        (Cow::Owned(vec), Some(decode)) => decode(&vec).into(),
        (Cow::Owned(vec), None) => String::from_utf8(vec)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            .into(),
        (Cow::Borrowed(bytes), Some(decode)) => decode(bytes).into(),
        // The same string as from_utf8_lossy, whose validation is slower
        // on the valid text nearly all mail is.
        (Cow::Borrowed(bytes), None) => std::str::from_utf8(bytes)
            .map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed),
    }
}

/// Bytes as mail-parser's windows-1252 decoder reads them: ASCII as it is,
/// each other byte as the char its table gives (taken from the decoder
/// itself, one byte at a time, once).
fn decode_windows_1252(bytes: &[u8]) -> String {
    static HIGH_HALF: OnceLock<Vec<char>> = OnceLock::new();
    let high = HIGH_HALF.get_or_init(|| {
        let decode = charset_decoder(b"windows-1252");
        (0x80..=0xffu8)
            .map(|b| {
                decode
                    .and_then(|d| d(&[b]).chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect()
    });
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for chunk in bytes.split_inclusive(|b| !b.is_ascii()) {
        let (last, ascii) = match chunk.split_last() {
            Some((&last, ascii)) if !last.is_ascii() => (Some(last), ascii),
            _ => (None, chunk),
        };
        // Only ASCII bytes here, so always valid.
        out.push_str(std::str::from_utf8(ascii).unwrap_or_default());
        if let Some(b) = last {
            let c = high.get(usize::from(b - 0x80)).copied();
            out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        }
    }
    out
}

fn is_windows_1252(charset: &str) -> bool {
    charset.len() <= 45
        && WINDOWS_1252_NAMES.iter().any(|name| {
            name.len() == charset.len()
                && name.bytes().zip(charset.bytes()).all(|(n, c)| {
                    n == match c {
                        b'-' => b'_',
                        c => c.to_ascii_lowercase(),
                    }
                })
        })
}

fn identities(address: &Address<'_>, max: usize) -> Vec<Identity> {
    match address {
        Address::List(list) => list
            .iter()
            .take(max)
            .map(|a| Identity::new(a.name.as_deref(), a.address.as_deref()))
            .collect(),
        Address::Group(groups) => groups
            .iter()
            .flat_map(|g| g.addresses.iter())
            .take(max)
            .map(|a| Identity::new(a.name.as_deref(), a.address.as_deref()))
            .collect(),
    }
}

/// Removes a leading mbox `From ` line; returns the rest and its sender.
fn strip_mbox_separator(bytes: &[u8]) -> (&[u8], Option<String>) {
    if !bytes.starts_with(b"From ") {
        return (bytes, None);
    }
    // "From : x@y" is a From header with white space before its colon.
    let first_word = bytes[5..].iter().find(|b| **b != b' ' && **b != b'\t');
    if first_word == Some(&b':') {
        return (bytes, None);
    }
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    let line = String::from_utf8_lossy(&bytes[5..end]);
    let sender = line.split_whitespace().next().map(str::to_string);
    (&bytes[end..], sender)
}

fn envelope_sender(
    envelope: &Envelope,
    block: &HeaderBlock<'_>,
    mbox_line_sender: Option<String>,
    ctx: &Context,
) -> Option<Identity> {
    let from_smtp = envelope.mail_from.clone();
    let from_header = || {
        block.all("return-path").next().map(|f| {
            let v = f.unfolded();
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
                .to_string()
        })
    };
    let from_mbox = || {
        ctx.trusts_mbox_envelope()
            .then(|| envelope.mbox_sender.clone().or(mbox_line_sender))
            .flatten()
            .filter(|s| s != "MAILER-DAEMON" && s != "-")
    };
    let address = from_smtp.or_else(from_header).or_else(from_mbox)?;
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    if address.is_empty() {
        return None;
    }
    Some(Identity::new(None, Some(address)))
}

fn is_external_hop(hop: &Hop, ctx: &Context) -> bool {
    if let Some(ip) = hop.ip {
        if is_private(ip) {
            return false;
        }
    }
    let named_internal = [hop.reverse_name.as_deref(), hop.helo.as_deref()]
        .into_iter()
        .flatten()
        .any(|n| ctx.is_internal(n) || n == "localhost");
    if named_internal {
        return false;
    }
    hop.ip.is_some() || hop.helo.is_some() || hop.reverse_name.is_some()
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn dkim_signature(field: &RawField<'_>) -> Option<DkimSignature> {
    let sig = mail_auth::dkim::Signature::parse(field.value).ok()?;
    Some(DkimSignature {
        domain: normalize_domain(&sig.d)?,
        selector: sig.s,
        body_length: (sig.l > 0).then_some(sig.l),
        headers: sig.h.iter().map(|h| h.to_ascii_lowercase()).collect(),
    })
}

/// An encoded-word in From that stands inside the address itself, or whose
/// decoded display name (as mail-parser decoded it) gains an '@', angle
/// brackets or control characters the raw text did not show.
fn has_encoded_word_trick(field: &RawField<'_>, decoded: Option<&Vec<Identity>>) -> bool {
    let raw = String::from_utf8_lossy(field.value);
    if !raw.contains("=?") {
        return false;
    }
    let in_address = raw
        .rsplit_once('<')
        .is_some_and(|(_, addr)| addr.split('>').next().is_some_and(|a| a.contains("=?")));
    if in_address {
        return true;
    }
    let raw_display = raw.rsplit_once('<').map_or(raw.as_ref(), |(d, _)| d);
    let count = |s: &str, c: char| s.chars().filter(|x| *x == c).count();
    // Counted once: the raw text may be megabytes and hold many names.
    let special = ['@', '<', '>'];
    let raw_counts = special.map(|c| count(raw_display, c));
    decoded
        .into_iter()
        .flatten()
        .filter_map(|i| i.name.as_deref())
        .any(|name| {
            special
                .iter()
                .zip(raw_counts)
                .any(|(c, n)| count(name, *c) > n)
                || name.chars().any(|c| c.is_control() && c != '\t')
        })
}

/// `<@relay.example:user@domain>`: obsolete source routes.
fn has_route_syntax(field: &RawField<'_>) -> bool {
    let raw = field.value;
    raw.iter().enumerate().any(|(i, &b)| {
        b == b'<'
            && raw[i + 1..]
                .iter()
                .find(|c| !c.is_ascii_whitespace())
                .is_some_and(|c| *c == b'@')
            // Up to the next bracket only, so "<@<@<@…" stays linear.
            && raw[i + 1..]
                .iter()
                .take_while(|c| **c != b'>' && **c != b'<')
                .any(|c| *c == b':')
    })
}

fn push_bounded(buf: &mut String, s: &str, max: usize, truncated: &mut bool) {
    if buf.len() >= max {
        *truncated |= !s.is_empty();
        return;
    }
    if !buf.is_empty() {
        buf.push('\n');
    }
    let room = max.saturating_sub(buf.len());
    let piece = truncate_at_char(s, room);
    *truncated |= piece.len() < s.len();
    buf.push_str(piece);
}

/// A link from an href or a URL in text; None for schemes that are not web
/// links (mailto:, tel:, cid:, fragments).
fn link(href: &str, text: Option<String>) -> Option<Link> {
    let href = href.trim();
    // Bytes, not a str slice: an attacker's href may end its first four
    // bytes inside a multi-byte character.
    let candidate = if href.len() > 4 && href.as_bytes()[..4].eq_ignore_ascii_case(b"www.") {
        format!("http://{href}")
    } else {
        href.to_string()
    };
    let url = url::Url::parse(&candidate).ok()?;
    let scheme = url.scheme().to_string();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (host, host_is_ip) = match url.host() {
        Some(url::Host::Domain(d)) => (Some(d.trim_end_matches('.').to_ascii_lowercase()), false),
        Some(url::Host::Ipv4(ip)) => (Some(ip.to_string()), true),
        Some(url::Host::Ipv6(ip)) => (Some(ip.to_string()), true),
        None => (None, false),
    };
    Some(Link {
        href: truncate_at_char(href, 2048).to_string(),
        scheme,
        host,
        host_is_ip,
        text: text.filter(|t| !t.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header_block::HeaderFilter;

    fn parser() -> MessageParser {
        mime_parser()
    }

    /// Every top-level header block of the shared corpora that is plain
    /// reads as mail-parser's header parser reads it, and most are plain.
    #[test]
    fn corpus_header_blocks_read_as_mail_parser_reads_them() {
        let archives = crate::shared_archives();
        let options = impostor_mailsource::ReadOptions::default();
        let filter =
            HeaderFilter::new(crate::header_block::DEFAULT_VERDICT_HEADERS.iter().copied());
        let parser = parser();
        let (mut messages, mut plain) = (0, 0);
        for message in impostor_mailsource::read_inputs(&archives, &options) {
            let Ok(bytes) = message.bytes else {
                continue;
            };
            messages += 1;
            let (bytes, _) = strip_mbox_separator(&bytes);
            let (block, _) = HeaderBlock::read(bytes, &filter);
            let Some((mine, body)) = top_headers(bytes, &block) else {
                continue;
            };
            plain += 1;
            let mut stream = MessageStream::new(bytes);
            let mut theirs = Vec::new();
            assert!(stream.parse_headers(&parser, &mut theirs));
            assert_eq!(mine, theirs, "{}", String::from_utf8_lossy(bytes));
            assert_eq!(body, stream.offset());
        }
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
    fn base64_skipping_matches_mail_parsers_decoder() {
        // Which bytes the decoder takes does not depend on its state.
        for table in BASE64_MAP.iter() {
            for b in 0..=255usize {
                assert_eq!(
                    table[b] < 0x01ff_ffff,
                    BASE64_MAP[0][b] < 0x01ff_ffff,
                    "{b}"
                );
            }
        }
        let pieces: [&[u8]; 16] = [
            b"QUJD", b"QQ==", b"QUI=", b"=", b"\n", b"\r\n", b" ", b"\t", b"-", b"--", b"--b",
            b"--b--", b"!", b"_", b"\xff", b"--bb",
        ];
        let mut state: u32 = 5;
        let mut compared = 0;
        for round in 0..4000 {
            let mut raw = b"H: v\n\n".to_vec();
            for _ in 0..(round % 12) {
                raw.extend_from_slice(pieces[crate::pick(&mut state, pieces.len())]);
            }
            for boundary in [&b""[..], b"b", b"bb"] {
                let mut theirs = MessageStream::new(&raw);
                theirs.skip_bytes(6);
                let mut mine = MessageStream::new(&raw);
                mine.skip_bytes(6);
                let (expected, _) = theirs.decode_base64_mime(boundary);
                let got = skip_base64(&mut mine, boundary);
                let what = String::from_utf8_lossy(&raw);
                assert_eq!(got, expected, "{what:?} {boundary:?}");
                if got != usize::MAX {
                    compared += 1;
                    assert_eq!(mine.offset(), theirs.offset(), "{what:?} {boundary:?}");
                    assert_eq!(mine.is_multipart_end(), theirs.is_multipart_end());
                }
            }
        }
        assert!(compared > 2_000, "{compared}");
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
        ];
        let parser = parser();
        let mut fast = 0;
        let mut state: u32 = 7;
        for container in containers {
            for round in 0..60 {
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
                    assert_eq!(Some(mine), full, "{}", String::from_utf8_lossy(&raw));
                }
            }
        }
        assert!(fast >= 60, "only {fast} messages took the multipart path");
    }

    #[test]
    fn quoted_printable_matches_mail_parsers_decoder() {
        let pieces: [&[u8]; 24] = [
            b"=",
            b"=3D",
            b"=3d",
            b"=\n",
            b"=\r\n",
            b"==",
            b"=G1",
            b"=4",
            b"= \n",
            b" ",
            b"\t",
            b"\n",
            b"\r\n",
            b"\r",
            b"-",
            b"--",
            b"--b",
            b"--b--",
            b"abc",
            b"x-y",
            b"\xc3\xa9",
            b"=E9",
            b"  \r\n",
            b"--bb",
        ];
        let mut state: u32 = 3;
        let mut compared = 0;
        for round in 0..4000 {
            let mut raw = b"H: v\n\n".to_vec();
            for _ in 0..(round % 12) {
                raw.extend_from_slice(pieces[crate::pick(&mut state, pieces.len())]);
            }
            for boundary in [&b""[..], b"b", b"bb"] {
                let mut theirs = MessageStream::new(&raw);
                theirs.skip_bytes(6);
                let mut mine = MessageStream::new(&raw);
                mine.skip_bytes(6);
                // mail-parser's subtraction overflows on "=\n--boundary" in
                // a debug build (a release build wraps, as ours does): such
                // input is compared only in release builds.
                let Ok(expected) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    theirs.decode_quoted_printable_mime(boundary)
                })) else {
                    continue;
                };
                compared += 1;
                let got = decode_quoted_printable(&mut mine, boundary);
                let what = String::from_utf8_lossy(&raw);
                assert_eq!(got, expected, "{what:?} {boundary:?}");
                assert_eq!(mine.offset(), theirs.offset(), "{what:?} {boundary:?}");
                assert_eq!(
                    mine.is_multipart_end(),
                    theirs.is_multipart_end(),
                    "{what:?}"
                );
                assert_eq!(mine.offset(), theirs.offset(), "{what:?} {boundary:?}");
            }
        }
        assert!(compared > 10_000, "{compared}");
    }

    #[test]
    fn windows_1252_names_are_mail_parsers() {
        let all: Vec<u8> = (0..=255).collect();
        let reference = charset_decoder(b"windows-1252").unwrap()(&all);
        let ascii: String = (0..128u8).map(char::from).collect();
        for name in WINDOWS_1252_NAMES {
            let decode = charset_decoder(name.as_bytes()).unwrap();
            assert_eq!(decode(&all), reference, "{name}");
            assert_eq!(decode(ascii.as_bytes()), ascii, "{name}");
        }
        assert_eq!(decode_windows_1252(&all), reference);
        let mixed = b"caf\xe9 \x80uro \x81\x8d\x9d \xff plain tail";
        assert_eq!(
            decode_windows_1252(mixed),
            charset_decoder(b"latin1").unwrap()(mixed)
        );
        assert!(is_windows_1252("US-ASCII") && is_windows_1252("ISO-8859-1"));
        assert!(!is_windows_1252("utf-8") && !is_windows_1252("iso-8859-2"));
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
