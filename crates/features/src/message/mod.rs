//! The message model: one hostile message read into every sender identity a
//! mail client or a verifier might take, the route, the trusted verdicts and
//! a bounded text view of the content.
//!
//! This module holds the view and the reading of the header block; the
//! others read the body:
//! - `mime`: the MIME structure (mail-parser's, with a faster path for the
//!   common shapes),
//! - `transfer_encoding`: base64 and quoted-printable, decoded or skipped,
//! - `charset`: a text part's bytes as a string,
//! - `content`: the bounded text view of the body and its links,
//! - `trust`: which verdict headers the org's own servers wrote,
//! - `signed_body`: how much of the body a DKIM `l=` leaves unsigned.

mod charset;
mod content;
mod mime;
mod signed_body;
mod transfer_encoding;
pub(crate) use transfer_encoding::{b64_two_groups, b64_value, B64_OTHER, B64_PAD};
mod trust;

pub(crate) use content::link_from;
pub use content::Link;
pub(crate) use mime::mime_parser;

use crate::auth_results::AuthResults;
use crate::context::Context;
use crate::domain::{address_domain, normalize_domain};
use crate::error::ParseError;
use crate::header_block::{HeaderBlock, RawField};
use crate::html::truncate_at_char;
use crate::received::parse_received;
use mail_parser::{Address, HeaderName, HeaderValue, Host, Message};
use mime::parse_mime;
use serde::Serialize;
use std::net::IpAddr;

/// How much of a message is looked at. Everything past these is ignored, so
/// time and memory stay bounded whatever the input.
#[derive(Clone, Debug)]
pub struct ParseLimits {
    /// Largest message read, in bytes; larger ones are refused with
    /// [`ParseError::TooLarge`].
    pub max_message_bytes: usize,
    /// Text (subject and body) kept for the intent features, in bytes.
    pub max_text_bytes: usize,
    /// Bytes of each HTML part that are tokenised.
    pub max_html_bytes: usize,
    /// Links kept from the body.
    pub max_links: usize,
    /// Received hops read, from the top.
    pub max_hops: usize,
    /// Addresses kept per address header, and From headers kept.
    pub max_addresses: usize,
    /// What reading the attachments may do.
    pub attachments: crate::attachment::AttachmentLimits,
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
            attachments: crate::attachment::AttachmentLimits::default(),
        }
    }
}

/// What the SMTP session said, when the caller knows it (milter, HTTP,
/// an mbox separator line).
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    /// MAIL FROM as given in the SMTP session.
    pub mail_from: Option<String>,
    /// The connecting client's IP address.
    pub client_ip: Option<IpAddr>,
    /// The name the client gave in HELO or EHLO.
    pub helo: Option<String>,
    /// The RCPT TO addresses.
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
    /// The key's selector (s=).
    pub selector: String,
    /// Body length limit (l=); None when the whole body is signed.
    pub body_length: Option<u64>,
    /// Signed header names (h=), lower case.
    pub headers: Vec<String>,
    /// The body is canonicalised `relaxed` (c=x/relaxed), not `simple`.
    pub relaxed_body: bool,
    /// With l=: body bytes past it, after canonicalisation (approximated,
    /// see `signed_body`): content added after signing. None without l=.
    pub unsigned_body_bytes: Option<u64>,
    /// The unsigned lines themselves (lossy UTF-8) when they are short
    /// enough to be a mailing list's footer (`signed_body::FOOTER_MAX_BYTES`);
    /// None otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned_tail: Option<String>,
}

impl DkimSignature {
    /// How many times `name` (lower case) is listed in h=.
    pub fn signed_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|h| *h == name).count()
    }
}

/// One Received hop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The name the client gave (HELO/EHLO, or the `from` name).
    pub helo: Option<String>,
    /// Reverse DNS name the receiving server recorded.
    pub reverse_name: Option<String>,
    /// The client's IP address the receiving server recorded.
    pub ip: Option<IpAddr>,
    /// The receiving server (`by`).
    pub by: Option<String>,
}

/// Header-level tricks that make clients and verifiers disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeaderAnomalies {
    /// From fields in the header block, "From :" ones included.
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
    /// The first Sender header's first address.
    pub sender: Option<Identity>,
    /// The first Resent-From header's addresses.
    pub resent_from: Vec<Identity>,
    /// The first Reply-To header's addresses.
    pub reply_to: Vec<Identity>,
    /// Who the message is for, lower-cased: the SMTP RCPT TO addresses
    /// when the gateway gave them, else the To and Cc headers' (bounded).
    pub recipients: Vec<String>,
    /// DKIM-Signature fields that parse (at most 16), top first. Not
    /// verified: what a trusted server found is in `auth`.
    pub dkim_signatures: Vec<DkimSignature>,
    /// The verdicts of the organisation's trusted servers.
    pub auth: AuthResults,
    /// Received hops, top (most recent) first, down to and including the
    /// first external one (what lies below it is the sender's to invent).
    pub hops: Vec<Hop>,
    /// Received header fields in the message, parsed or not.
    pub received_count: usize,
    /// Index in `hops` of the first hop from outside the organisation.
    pub first_external_hop: Option<usize>,
    /// Index in `hops` of the trust boundary: the first hop from outside,
    /// when a trusted receiver wrote it. Verdict headers count only above
    /// it; its client (IP, HELO) is the one SPF is about.
    pub trust_boundary_hop: Option<usize>,
    /// The domain after the '@' of Message-ID, normalised.
    pub message_id_domain: Option<String>,
    /// The Message-ID without angle brackets (at most 256 bytes).
    pub message_id: Option<String>,
    /// The Date field as seconds since 1970 (UTC); `None` when absent or
    /// unreadable.
    pub date: Option<i64>,
    /// Message ids of In-Reply-To, then References (at most 32).
    pub references: Vec<String>,
    /// The mail client (X-Mailer, else User-Agent), as written.
    pub client: Option<String>,
    /// List-Id, and the names of the List-* headers present.
    pub list_id: Option<String>,
    /// The names of the List-* fields present, lower case (at most 16).
    pub list_headers: Vec<String>,
    /// Subject, encoded-words decoded, within the text limit.
    pub subject: String,
    /// Text view of the body: text/plain preferred, HTML reduced to text.
    pub body_text: String,
    /// Whether some text or HTML was left out for the limits.
    pub body_truncated: bool,
    /// Web links: HTML anchors, or URLs in plain text when there are none.
    pub links: Vec<Link>,
    /// Every attachment and inline non-text part, read.
    pub attachments: Vec<crate::attachment::Attachment>,
    /// Text a reader sees in the attachments (PDF text, HTML pages), within
    /// the attachment text limit.
    pub attachment_text: String,
    /// What the HTML reader found in the body itself (a credential form, a
    /// meta refresh, smuggling).
    pub body_findings: Vec<crate::attachment::Finding>,
    /// Header tricks that make clients and verifiers see different senders.
    pub anomalies: HeaderAnomalies,
    /// What DNS said of the sender domains ([`crate::Inputs::domains`]).
    pub domain_status: Vec<crate::inputs::DomainStatus>,
    /// The From, Sender and Resent-From fields as written, for the
    /// identity readers (`crate::identity`), which must see what a forgiving
    /// parser smooths over.
    #[serde(skip)]
    pub(crate) identity_fields: IdentityFields,
}

/// Longest identity field value kept for the readers, in bytes: a From
/// longer than this is hostile, and the readers' work stays bounded.
pub(crate) const MAX_IDENTITY_FIELD_BYTES: usize = 2048;
/// From fields kept for the readers.
pub(crate) const MAX_IDENTITY_FROM_FIELDS: usize = 8;

/// One identity field as written: its value (folding kept, cut at
/// [`MAX_IDENTITY_FIELD_BYTES`]) and whether white space stood before its
/// colon.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawIdentityField {
    pub value: Vec<u8>,
    pub space_before_colon: bool,
    /// The value was longer than the limit and was cut.
    pub truncated: bool,
}

impl RawIdentityField {
    fn of(field: &RawField<'_>) -> RawIdentityField {
        let keep = field.value.len().min(MAX_IDENTITY_FIELD_BYTES);
        RawIdentityField {
            value: field.value.get(..keep).unwrap_or_default().to_vec(),
            space_before_colon: field.space_before_colon,
            truncated: keep < field.value.len(),
        }
    }
}

/// The raw From (every one, top first, at most
/// [`MAX_IDENTITY_FROM_FIELDS`]), first Sender and first Resent-From fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IdentityFields {
    pub from: Vec<RawIdentityField>,
    pub sender: Option<RawIdentityField>,
    pub resent_from: Option<RawIdentityField>,
    /// The last Sender / Resent-From field when there are several.
    pub sender_last: Option<RawIdentityField>,
    pub resent_from_last: Option<RawIdentityField>,
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
        let (block, body_start) = HeaderBlock::read(bytes, ctx.header_filter());
        if block.fields.is_empty() {
            return Err(ParseError::NoHeaders);
        }
        let message =
            parse_mime(ctx.mime_parser(), bytes, Some(&block)).ok_or(ParseError::NoHeaders)?;

        let mut view = MessageView::default();
        view.read_identities(&message, limits);
        view.read_raw_fields(&block);
        view.envelope_sender = envelope_sender(envelope, &block, mbox_line_sender, ctx);
        if !envelope.rcpt.is_empty() {
            // The MTA accepted these: who the message really goes to.
            view.recipients = envelope
                .rcpt
                .iter()
                .take(limits.max_addresses)
                .map(|r| r.trim_matches(['<', '>']).to_ascii_lowercase())
                .collect();
        }
        let route = view.read_route(&block, ctx);
        view.auth = trust::believed_verdicts(&block, &route, ctx);
        if view.dkim_signatures.iter().any(|s| s.body_length.is_some()) {
            let body = bytes.get(body_start..).unwrap_or_default();
            signed_body::measure(&mut view.dkim_signatures, body);
        }
        view.message_id = message
            .message_id()
            .map(|id| truncate_at_char(id.trim(), 256).to_string())
            .filter(|id| !id.is_empty());
        view.message_id_domain = message
            .message_id()
            .and_then(|id| id.rsplit_once('@'))
            .and_then(|(_, d)| normalize_domain(d));
        // Subject and body share the text limit; the subject comes first.
        let subject = message.subject().unwrap_or("").trim();
        view.subject = truncate_at_char(subject, limits.max_text_bytes).to_string();
        view.read_content(&message, limits);
        view.attachments = crate::attachment::read_attachments(
            &message,
            &limits.attachments,
            &mut view.links,
            &mut view.attachment_text,
        );
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

    /// The domain of [`MessageView::from`], normalised.
    pub fn from_domain(&self) -> Option<&str> {
        self.from().and_then(|i| i.domain.as_deref())
    }

    /// The domain of the envelope sender, normalised.
    pub fn envelope_domain(&self) -> Option<&str> {
        self.envelope_sender
            .as_ref()
            .and_then(|i| i.domain.as_deref())
    }

    /// The first Received hop from outside the organisation.
    pub fn first_external(&self) -> Option<&Hop> {
        self.first_external_hop.and_then(|i| self.hops.get(i))
    }

    /// The trust boundary's hop: where a trusted receiver took the message
    /// from outside.
    pub fn boundary_hop(&self) -> Option<&Hop> {
        self.trust_boundary_hop.and_then(|i| self.hops.get(i))
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
                HeaderName::To | HeaderName::Cc => {
                    for address in identities.into_iter().filter_map(|i| i.address) {
                        if self.recipients.len() < limits.max_addresses {
                            self.recipients.push(address.to_ascii_lowercase());
                        }
                    }
                }
                _ => {}
            }
        }
        self.from_headers.truncate(limits.max_addresses);
    }

    fn read_raw_fields(&mut self, block: &HeaderBlock<'_>) {
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
                    if self.identity_fields.from.len() < MAX_IDENTITY_FROM_FIELDS {
                        self.identity_fields.from.push(RawIdentityField::of(field));
                    }
                    let decoded = self.from_headers.get(self.anomalies.from_header_count);
                    self.anomalies.from_header_count += 1;
                    if has_encoded_word_trick(field, decoded) {
                        self.anomalies.encoded_word_tricks.push(field.unfolded());
                    }
                    if has_route_syntax(field) {
                        self.anomalies.route_syntax.push("From".into());
                    }
                }
                "sender" | "resent-from" => {
                    let fields = &mut self.identity_fields;
                    let (slot, last) = if lower == "sender" {
                        (&mut fields.sender, &mut fields.sender_last)
                    } else {
                        (&mut fields.resent_from, &mut fields.resent_from_last)
                    };
                    if slot.is_none() {
                        *slot = Some(RawIdentityField::of(field));
                    } else {
                        *last = Some(RawIdentityField::of(field));
                    }
                    if has_route_syntax(field) {
                        self.anomalies.route_syntax.push(name.to_string());
                    }
                }
                "reply-to" if has_route_syntax(field) => {
                    self.anomalies.route_syntax.push(name.to_string());
                }
                "dkim-signature" if self.dkim_signatures.len() < 16 => {
                    if let Some(sig) = dkim_signature(field) {
                        self.dkim_signatures.push(sig);
                    }
                }
                "list-id" if self.list_id.is_none() => self.list_id = Some(field.unfolded()),
                "date" if self.date.is_none() => {
                    self.date = mail_parser::DateTime::parse_rfc822(field.unfolded().trim())
                        .filter(|d| d.is_valid())
                        .map(|d| d.to_timestamp());
                }
                "in-reply-to" | "references" => {
                    let value = field.unfolded();
                    for id in message_ids(&value) {
                        if self.references.len() >= MAX_REFERENCES {
                            break;
                        }
                        if !self.references.contains(&id) {
                            self.references.push(id);
                        }
                    }
                }
                "x-mailer" => self.client = Some(field.unfolded().trim().to_string()),
                "user-agent" if self.client.is_none() => {
                    self.client = Some(field.unfolded().trim().to_string())
                }
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
    /// feature reads further, and parsing it would only cost time. Returns
    /// where the trusted zone ends for [`trust::believed_verdicts`].
    fn read_route(&mut self, block: &HeaderBlock<'_>, ctx: &Context) -> trust::Route {
        let max_hops = ctx.limits().max_hops;
        let mut route = trust::Route::default();
        // The walk stops at the first hop from outside, at a field that does
        // not parse (nothing below it can be attributed) or at the limit.
        let mut walking = true;
        for (index, field) in block.fields.iter().enumerate() {
            if !field.is("received") {
                continue;
            }
            self.received_count += 1;
            route.any_received = true;
            if !walking || self.hops.len() >= max_hops {
                continue;
            }
            let HeaderValue::Received(r) = parse_received(field.value) else {
                route.received.push((index, None));
                walking = false;
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
            let by_trusted = hop
                .by
                .as_deref()
                .is_some_and(|b| ctx.is_trusted_receiver(b));
            route.received.push((index, hop.by.clone()));
            let lookup_failed = memchr::memmem::find(field.value, b"unknown").is_some();
            if is_external_hop(&hop, ctx, lookup_failed) {
                walking = false;
                self.first_external_hop = Some(self.hops.len());
                if by_trusted {
                    self.trust_boundary_hop = Some(self.hops.len());
                    route.zone_end = Some(index);
                }
            } else if by_trusted {
                route.zone_end = Some(index);
            }
            self.hops.push(hop);
        }
        route
    }
}

/// Most In-Reply-To and References ids kept.
const MAX_REFERENCES: usize = 32;

/// The `<id>` tokens of an In-Reply-To or References value, brackets off;
/// each at most 256 bytes.
fn message_ids(value: &str) -> Vec<String> {
    value
        .split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(id, _)| id.trim()))
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .map(str::to_string)
        .collect()
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
    let Some(rest) = bytes.strip_prefix(b"From ") else {
        return (bytes, None);
    };
    // "From : x@y" is a From header with white space before its colon.
    let first_word = rest.iter().find(|b| **b != b' ' && **b != b'\t');
    if first_word == Some(&b':') {
        return (bytes, None);
    }
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .map_or(rest.len(), |i| i + 1);
    let (line, after) = rest.split_at_checked(end).unwrap_or((rest, &[]));
    let line = String::from_utf8_lossy(line);
    let sender = line.split_whitespace().next().map(str::to_string);
    (after, sender)
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

/// Whether a hop's client is outside the organisation: not a private
/// address, and no internal or trusted receiver's name recorded by the
/// receiving server (its reverse lookup). The client's own HELO name is its
/// word, not the receiver's; it counts only where nothing else can:
/// - with no address and no reverse name recorded at all, or
/// - for a handover between two `trusted_receivers` hosts that records an
///   address but no reverse name (Microsoft 365's internal hops), unless
///   the receiver wrote that the lookup failed ("unknown", Postfix's
///   mark). An attacker who names itself after a listed shared host (a
///   Microsoft front end) passes this: the profile's docs say to list
///   shared infrastructure narrowly.
fn is_external_hop(hop: &Hop, ctx: &Context, lookup_failed: bool) -> bool {
    if let Some(ip) = hop.ip {
        if is_private(ip) {
            return false;
        }
    }
    let ours = |n: &str| ctx.is_internal(n) || ctx.is_trusted_receiver(n) || n == "localhost";
    if hop.reverse_name.as_deref().is_some_and(ours) {
        return false;
    }
    if hop.ip.is_none() && hop.reverse_name.is_none() && hop.helo.as_deref().is_some_and(ours) {
        return false;
    }
    let listed = |n: &Option<String>| n.as_deref().is_some_and(|n| ctx.is_listed_receiver(n));
    if hop.reverse_name.is_none() && !lookup_failed && listed(&hop.helo) && listed(&hop.by) {
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
        // Read from the tag itself: mail-auth keeps l=0 (no body signed at
        // all, the widest replay) as 0, which also stands for "no l=".
        body_length: dkim_tag(field.value, b"l").and_then(|l| l.parse().ok()),
        headers: sig
            .h
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
        relaxed_body: sig.cb == mail_auth::dkim::Canonicalization::Relaxed,
        unsigned_body_bytes: None,
        unsigned_tail: None,
    })
}

/// The value of tag `name` in a DKIM-Signature (`tag=value;` list), white
/// space removed.
fn dkim_tag(value: &[u8], name: &[u8]) -> Option<String> {
    value.split(|&b| b == b';').find_map(|part| {
        let eq = memchr::memchr(b'=', part)?;
        let (key, rest) = part.split_at_checked(eq)?;
        if !key.trim_ascii().eq_ignore_ascii_case(name) {
            return None;
        }
        let v: String = String::from_utf8_lossy(rest.get(1..)?)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        Some(v)
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
        // A name that shows the sender's own address hides nothing.
        .filter(|i| !name_is_own_address(i))
        .filter_map(|i| i.name.as_deref())
        .any(|name| {
            special
                .iter()
                .zip(raw_counts)
                .any(|(c, n)| count(name, *c) > n)
                || name.chars().any(|c| c.is_control() && c != '\t')
        })
}

/// Whether the display name is the address itself ("a@x.com" <a@x.com>),
/// brackets and quotes aside, case-insensitively.
fn name_is_own_address(identity: &Identity) -> bool {
    let (Some(name), Some(address)) = (identity.name.as_deref(), identity.address.as_deref())
    else {
        return false;
    };
    let bare = name.trim_matches(|c: char| c.is_whitespace() || "<>\"'".contains(c));
    bare.eq_ignore_ascii_case(address.trim())
}

/// `<@relay.example:user@domain>`: obsolete source routes.
fn has_route_syntax(field: &RawField<'_>) -> bool {
    // What follows each '<', up to the next '<' (and below, the next '>'):
    // up to the next bracket only, so "<@<@<@…" stays linear.
    field.value.split(|&b| b == b'<').skip(1).any(|after| {
        after
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|c| *c == b'@')
            && after.iter().take_while(|c| **c != b'>').any(|c| *c == b':')
    })
}
