//! Identity readings: the sender a message shows, as several readers see
//! it, and the header tricks that make them disagree.
//!
//! Forged mail wins when the sender a person sees is not the one a verifier
//! checked. Clients, verifiers and libraries parse the same From bytes
//! differently (Chen et al., "Composition Kills", USENIX Security 2020):
//! which of two From headers counts, whether Sender stands in for an empty
//! From, whether an encoded-word, a comment, a quoted local part or a route
//! holds the address, where a C client stops at a NUL, what a bidi override
//! reorders. Each [`Reader`] here is one of those readings; when they name
//! different registrable domains the message is ambiguous, whatever else
//! it shows.
//!
//! - `strict`: a strict RFC 5322 reader (no obsolete syntax);
//! - `lenient`: the careless readings.
//!
//! Readers use the raw From, Sender and Resent-From fields the view keeps
//! and mail-parser's identities; nothing is parsed twice but the From
//! value, which is at most `MAX_IDENTITY_FIELD_BYTES`.

mod lenient;
mod strict;

use crate::auth_results::{AuthResults, AuthVerdict};
use crate::context::Context;
use crate::domain::{address_domain, normalize_domain, organisational_domain, relaxed_aligned};
use crate::evidence::{EvidenceLog, Technique};
use crate::html::truncate_at_char;
use crate::message::{Identity, MessageView, RawIdentityField};
use crate::schema::{Feature, FeatureVector};
use lenient::{is_bidi_control, is_forbidden_control, unfold};
use serde::Serialize;

/// Most readings kept for one message (one per reader, and there are fewer).
pub const MAX_READINGS: usize = 12;
/// Longest display name or address kept in a reading, in bytes.
pub const MAX_READING_BYTES: usize = 256;

/// Who read the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    /// mail-parser, as the rest of Impostor reads the message: the first
    /// From header (one it can read: not "From :"), its first mailbox with
    /// an address.
    MailParser,
    /// A strict RFC 5322 reader: exactly one From field, no obsolete syntax
    /// (route, unquoted '.' in names, white space before the colon), no
    /// control characters; several mailboxes only with a Sender.
    StrictRfc5322,
    /// The `mailparse` crate's address parser on the first From field: an
    /// independent second library.
    Mailparse,
    /// The first From field, "From :" ones included, read forgivingly.
    FirstFromField,
    /// The last From field, read forgivingly: what some clients show.
    LastFromField,
    /// The last mailbox of a From field holding several: some clients
    /// show the first, others the last.
    LastMailbox,
    /// Sender, else Resent-From: what some clients show when From is
    /// missing or holds no address.
    SenderOrResentFrom,
    /// The last of several Sender (else Resent-From) fields, when From is
    /// missing or holds no address: a header an attacker adds above or
    /// below the first one is what some clients show.
    LastSenderField,
    /// A client that decodes encoded-words before it parses the address.
    DecodedEncodedWords,
    /// A reader that takes the first '@' of a route address
    /// (`<@a,@b:user@c>`) for the domain.
    RouteFirstHost,
    /// A reader that takes an address written in a comment.
    CommentAddress,
    /// A reader that takes a quoted local part holding an address
    /// (`"ceo@kestrelfoods.com"@evil.example`) for the address.
    QuotedLocalPart,
    /// A C client that stops at the first NUL byte.
    NulTerminated,
    /// A client that renders Unicode bidi overrides (RLO, RLE, RLI …).
    BidiRendered,
}

impl Reader {
    /// The snake_case code used in output.
    pub const fn code(self) -> &'static str {
        match self {
            Reader::MailParser => "mail_parser",
            Reader::StrictRfc5322 => "strict_rfc5322",
            Reader::Mailparse => "mailparse",
            Reader::FirstFromField => "first_from_field",
            Reader::LastFromField => "last_from_field",
            Reader::LastMailbox => "last_mailbox",
            Reader::SenderOrResentFrom => "sender_or_resent_from",
            Reader::LastSenderField => "last_sender_field",
            Reader::DecodedEncodedWords => "decoded_encoded_words",
            Reader::RouteFirstHost => "route_first_host",
            Reader::CommentAddress => "comment_address",
            Reader::QuotedLocalPart => "quoted_local_part",
            Reader::NulTerminated => "nul_terminated",
            Reader::BidiRendered => "bidi_rendered",
        }
    }

    /// Who reads, in words, for evidence sentences.
    pub const fn label(self) -> &'static str {
        match self {
            Reader::MailParser => "mail-parser",
            Reader::StrictRfc5322 => "the strict RFC 5322 reading",
            Reader::Mailparse => "mailparse",
            Reader::FirstFromField => "the first From field",
            Reader::LastFromField => "the last From field",
            Reader::LastMailbox => "a client showing the last mailbox of the From list",
            Reader::SenderOrResentFrom => "a client falling back to Sender/Resent-From",
            Reader::LastSenderField => "a client falling back to the last Sender/Resent-From field",
            Reader::DecodedEncodedWords => "a client decoding encoded-words first",
            Reader::RouteFirstHost => "a reader taking the route's first host",
            Reader::CommentAddress => "a reader taking the address in a comment",
            Reader::QuotedLocalPart => "a reader taking the quoted local part",
            Reader::NulTerminated => "a C client stopping at NUL",
            Reader::BidiRendered => "a client rendering bidi controls",
        }
    }
}

/// The sender as one reader sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// Who read it.
    pub reader: Reader,
    /// The display name, if the reader shows one (at most
    /// [`MAX_READING_BYTES`]).
    pub name: Option<String>,
    /// The address the reader takes, as written (at most
    /// [`MAX_READING_BYTES`]); None when it finds none.
    pub address: Option<String>,
    /// The domain the reader takes, normalised (lower case, punycode).
    pub domain: Option<String>,
    /// Why the reader shows no sender (the strict reader's refusals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl Reading {
    fn new(reader: Reader, name: Option<&str>, address: Option<&str>) -> Reading {
        let address = address.map(str::trim).filter(|a| !a.is_empty());
        let domain = address.and_then(address_domain);
        Reading {
            reader,
            name: name.map(str::trim).filter(|n| !n.is_empty()).map(bounded),
            address: address.map(bounded),
            domain,
            refused: None,
        }
    }

    fn of_identity(reader: Reader, identity: &Identity) -> Reading {
        Reading::new(
            reader,
            identity.name.as_deref(),
            identity.address.as_deref(),
        )
    }

    fn refused(reader: Reader, why: &str) -> Reading {
        Reading {
            reader,
            name: None,
            address: None,
            domain: None,
            refused: Some(why.to_string()),
        }
    }

    /// `mail-parser shows "CEO" <ceo@kestrelfoods.com>`, control and bidi
    /// characters written as `\u{…}`.
    pub fn describe(&self) -> String {
        let shown = match (&self.name, &self.address) {
            (Some(n), Some(a)) => format!("\"{}\" <{}>", visible(n), visible(a)),
            (None, Some(a)) => format!("<{}>", visible(a)),
            (Some(n), None) => format!("\"{}\" and no address", visible(n)),
            (None, None) => match &self.refused {
                Some(why) => format!("no sender ({why})"),
                None => "no sender".into(),
            },
        };
        let domain = match (&self.domain, &self.address) {
            (Some(d), Some(a)) if !a.to_ascii_lowercase().ends_with(d.as_str()) => {
                format!(" (domain {d})")
            }
            _ => String::new(),
        };
        format!("{} shows {shown}{domain}", self.reader.label())
    }
}

/// Every reading of one message's sender, mail-parser's first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IdentityReadings {
    /// At most [`MAX_READINGS`], in [`Reader`] order.
    pub readings: Vec<Reading>,
}

impl IdentityReadings {
    /// The reading of `reader`, if it read anything.
    pub fn get(&self, reader: Reader) -> Option<&Reading> {
        self.readings.iter().find(|r| r.reader == reader)
    }

    /// Two readings that name different registrable domains, the first one
    /// with a domain (mail-parser's when it has one) against the first
    /// that differs from it; None when every reader that found a domain
    /// found the same organisation.
    pub fn domain_disagreement(&self) -> Option<(&Reading, &Reading)> {
        let mut with_domain = self
            .readings
            .iter()
            .filter_map(|r| r.domain.as_deref().map(|d| (r, organisational_domain(d))));
        let (first, org) = with_domain.next()?;
        with_domain
            .find(|(_, o)| *o != org)
            .map(|(other, _)| (first, other))
    }

    /// Two readings that name different addresses (case-insensitively),
    /// as [`IdentityReadings::domain_disagreement`] does for domains.
    pub fn address_disagreement(&self) -> Option<(&Reading, &Reading)> {
        let mut with_address = self
            .readings
            .iter()
            .filter_map(|r| r.address.as_deref().map(|a| (r, a)));
        let (first, address) = with_address.next()?;
        with_address
            .find(|(_, a)| !a.eq_ignore_ascii_case(address))
            .map(|(other, _)| (first, other))
    }

    /// Whether the readers disagree on the sender's address or its
    /// registrable domain.
    pub fn disagree(&self) -> bool {
        self.domain_disagreement().is_some() || self.address_disagreement().is_some()
    }

    fn push(&mut self, reading: Reading) {
        if self.readings.len() < MAX_READINGS {
            self.readings.push(reading);
        }
    }
}

fn bounded(s: &str) -> String {
    truncate_at_char(s, MAX_READING_BYTES).to_string()
}

/// Text with control and bidi characters made visible as `\u{…}`.
fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_forbidden_control(c) || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// What the raw From fields show, computed once for the readers and the
/// features.
struct RawFrom<'v> {
    fields: &'v [RawIdentityField],
    /// The first field mailparse reads (no space before the colon: it
    /// takes "From " for another header's name), unfolded.
    first_plain: Option<String>,
    /// The first field of all, unfolded.
    first: Option<String>,
}

/// Every reading of the sender of `view`.
pub fn read(view: &MessageView) -> IdentityReadings {
    let fields = &view.identity_fields;
    let raw = RawFrom {
        fields: &fields.from,
        first_plain: fields
            .from
            .iter()
            .find(|f| !f.space_before_colon)
            .map(|f| unfold(&f.value)),
        first: fields.from.first().map(|f| unfold(&f.value)),
    };
    let mut out = IdentityReadings::default();

    // mail-parser: the view's identities (it reads "From :" as From too).
    out.push(match (raw.fields.is_empty(), view.from()) {
        (true, _) => Reading::refused(Reader::MailParser, "no From header"),
        (false, Some(i)) => Reading::of_identity(Reader::MailParser, i),
        (false, None) => Reading::refused(Reader::MailParser, "an unreadable From"),
    });
    out.push(strict_reading(&raw, fields.sender.is_some()));
    out.push(mailparse_reading(raw.first_plain.as_deref()));

    let several = raw.fields.len() > 1;
    if several || raw.fields.iter().any(|f| f.space_before_colon) {
        if let Some(first) = &raw.first {
            let (name, address) = lenient::loose_mailbox(first);
            out.push(Reading::new(
                Reader::FirstFromField,
                name.as_deref(),
                address.as_deref(),
            ));
        }
        if let Some(last) = raw.fields.last().filter(|_| several) {
            let (name, address) = lenient::loose_mailbox(&unfold(&last.value));
            out.push(Reading::new(
                Reader::LastFromField,
                name.as_deref(),
                address.as_deref(),
            ));
        }
    }
    // Several mailboxes in one From: the last one with an address.
    if let Some(list) = view.from_headers.first().filter(|l| l.len() > 1) {
        if let Some(last) = list.iter().rev().find(|i| i.address.is_some()) {
            out.push(Reading::of_identity(Reader::LastMailbox, last));
        }
    }
    let from_has_address = view.from().is_some_and(|i| i.address.is_some());
    if !from_has_address {
        let fallback = view.sender.as_ref().or(view.resent_from.first());
        if let Some(identity) = fallback {
            out.push(Reading::of_identity(Reader::SenderOrResentFrom, identity));
        }
        let last = if view.sender.is_some() {
            fields.sender_last.as_ref()
        } else {
            fields.resent_from_last.as_ref()
        };
        if let Some(last) = last {
            let (name, address) = lenient::loose_mailbox(&unfold(&last.value));
            out.push(Reading::new(
                Reader::LastSenderField,
                name.as_deref(),
                address.as_deref(),
            ));
        }
    }
    let Some(first) = raw.first.as_deref() else {
        return out;
    };
    if first.contains("=?") {
        if let Some(reading) = decoded_encoded_words(first) {
            out.push(reading);
        }
    }
    if let Some((host, inside)) = lenient::route_first_host(first) {
        let mut reading = Reading::new(Reader::RouteFirstHost, None, Some(&inside));
        reading.domain = normalize_domain(&host);
        out.push(reading);
    }
    if first.contains('(') {
        let comment_address = lenient::comments(first, 8)
            .iter()
            .find_map(|c| lenient::first_address_word(c).map(str::to_string));
        if let Some(address) = comment_address {
            out.push(Reading::new(Reader::CommentAddress, None, Some(&address)));
        }
    }
    if let Some(address) = lenient::quoted_local_part_address(first) {
        out.push(Reading::new(Reader::QuotedLocalPart, None, Some(&address)));
    }
    if let Some((before, _)) = first.split_once('\0') {
        let (name, address) = lenient::loose_mailbox(before);
        out.push(Reading::new(
            Reader::NulTerminated,
            name.as_deref(),
            address.as_deref(),
        ));
    }
    // Bidi controls written plainly, or hidden in an encoded-word.
    let decoded = first.contains("=?").then(|| decode_words(first)).flatten();
    let shown = [Some(first), decoded.as_deref()]
        .into_iter()
        .flatten()
        .find(|t| t.chars().any(is_bidi_control));
    if let Some(text) = shown {
        let rendered = lenient::bidi_rendered(text);
        let address = lenient::first_address_word(&rendered);
        out.push(Reading::new(Reader::BidiRendered, None, address));
    }
    out
}

fn strict_reading(raw: &RawFrom<'_>, has_sender: bool) -> Reading {
    let refuse = |why: &str| Reading::refused(Reader::StrictRfc5322, why);
    let [field] = raw.fields else {
        return refuse(if raw.fields.is_empty() {
            "no From header"
        } else {
            "several From headers"
        });
    };
    if field.space_before_colon {
        return refuse("white space before the colon (obsolete)");
    }
    if field.truncated {
        return refuse("a From longer than the readers look at");
    }
    let Some(value) = raw.first.as_deref() else {
        return refuse("no From header");
    };
    match strict::mailbox_list(value) {
        Ok(list) if list.len() > 1 && !has_sender => refuse("several mailboxes and no Sender"),
        Ok(list) => match list.into_iter().next() {
            Some(m) => {
                let mut r =
                    Reading::new(Reader::StrictRfc5322, m.name.as_deref(), Some(&m.address));
                r.domain = normalize_domain(&m.domain);
                r
            }
            None => refuse("an empty From"),
        },
        Err(why) => refuse(why),
    }
}

fn mailparse_reading(first_plain: Option<&str>) -> Reading {
    let Some(value) = first_plain else {
        return Reading::refused(Reader::Mailparse, "no From header it reads");
    };
    // Without encoded-words the header's own decoding changes nothing:
    // parse the address list directly and save a copy.
    let parsed = if value.contains("=?") {
        let line = header_line(value);
        mailparse::parse_header(&line)
            .ok()
            .and_then(|(header, _)| mailparse::addrparse_header(&header).ok())
    } else {
        mailparse::addrparse(value).ok()
    };
    match parsed.and_then(first_single) {
        Some(s) => Reading::new(Reader::Mailparse, s.display_name.as_deref(), Some(&s.addr)),
        None if parsed_is_empty(value) => Reading::refused(Reader::Mailparse, "an empty From"),
        None => Reading::refused(Reader::Mailparse, "a From it cannot parse"),
    }
}

fn parsed_is_empty(value: &str) -> bool {
    value.trim().is_empty()
}

/// `From: VALUE\r\n`, for mailparse's header parser.
fn header_line(value: &str) -> Vec<u8> {
    let mut line = Vec::with_capacity(value.len() + 8);
    line.extend_from_slice(b"From: ");
    line.extend_from_slice(value.as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// The first mailbox of a list, a group's first member included.
fn first_single(list: mailparse::MailAddrList) -> Option<mailparse::SingleInfo> {
    list.into_inner().into_iter().find_map(|a| match a {
        mailparse::MailAddr::Single(s) => Some(s),
        mailparse::MailAddr::Group(g) => g.addrs.into_iter().next(),
    })
}

/// The value with its encoded-words decoded; None when nothing decoded.
/// RFC 2047 allows them only as whole words, so mailparse leaves one glued
/// to an address (`=?utf-8?b?…?=@host`) alone; a careless client decodes
/// it anyway, so each such word is decoded on its own too.
fn decode_words(value: &str) -> Option<String> {
    let decode = |text: &str| -> Option<String> {
        let line = header_line(text);
        let (header, _) = mailparse::parse_header(&line).ok()?;
        Some(header.get_value())
    };
    let whole = decode(value)?;
    if whole.trim() != value.trim() {
        return Some(whole);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut changed = false;
    // At most a few dozen words: a header is bounded, and so is this.
    for _ in 0..64 {
        let Some((before, after)) = rest.split_once("=?") else {
            break;
        };
        out.push_str(before);
        // `charset?e?text?=`: otherwise not an encoded-word, kept as it is.
        let word = after.split_once('?').and_then(|(charset, r)| {
            let (encoding, r) = r.split_once('?')?;
            let (text, tail) = r.split_once("?=")?;
            (encoding.len() == 1).then(|| (format!("=?{charset}?{encoding}?{text}?="), tail))
        });
        let Some((word, tail)) = word else {
            out.push_str("=?");
            rest = after;
            continue;
        };
        match decode(&word) {
            Some(d) if d != word => {
                out.push_str(&d);
                changed = true;
            }
            _ => out.push_str(&word),
        }
        rest = tail;
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Encoded-words decoded first, then the whole re-read as an address list:
/// an encoded `<ceo@kestrelfoods.com>` becomes a mailbox of its own. None
/// when nothing decoded.
fn decoded_encoded_words(value: &str) -> Option<Reading> {
    let decoded = decode_words(value)?;
    // A client showing the decoded text as a C string stops at NUL.
    let decoded = decoded.split('\0').next().unwrap_or_default();
    let reading = mailparse::addrparse(decoded).ok().and_then(first_single);
    Some(match reading {
        Some(s) => Reading::new(
            Reader::DecodedEncodedWords,
            s.display_name.as_deref(),
            Some(&s.addr),
        ),
        None => {
            let (name, address) = lenient::loose_mailbox(decoded);
            Reading::new(
                Reader::DecodedEncodedWords,
                name.as_deref(),
                address.as_deref(),
            )
        }
    })
}

/// The header-ambiguity features: tricks that make clients and verifiers
/// see different senders, and whether the readers disagree. Returns the
/// readings.
pub(crate) fn extract(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) -> IdentityReadings {
    let readings = read(view);
    header_tricks(view, ctx, &readings, v, log);
    let shown = readings
        .get(Reader::MailParser)
        .map(Reading::describe)
        .unwrap_or_default();
    let against = |readers: &[Reader]| contrast(&readings, readers);

    if let Some((a, b)) = readings.domain_disagreement() {
        v.set_flag(Feature::IdentityReadersDisagree, true);
        log.add(
            Feature::IdentityReadersDisagree,
            Some(Technique::HeaderFromSpoof),
            // The rule's sentence already says readers disagree: the
            // detail names the two readings.
            format!("{}, {}", a.describe(), b.describe()),
        );
    }

    let fields = &view.identity_fields;
    if !fields.from.is_empty() && view.from().is_none_or(|i| i.address.is_none()) {
        v.set_flag(Feature::FromEmpty, true);
        log.add(
            Feature::FromEmpty,
            Some(Technique::HeaderFromSpoof),
            format!(
                "From holds no address: {}",
                against(&[Reader::SenderOrResentFrom])
            ),
        );
    }

    let identity_fields = fields
        .from
        .iter()
        .map(|f| ("From", f))
        .chain(fields.sender.iter().map(|f| ("Sender", f)))
        .chain(fields.resent_from.iter().map(|f| ("Resent-From", f)));
    let mut control: Option<(&str, char)> = None;
    let mut bidi: Option<(&str, char)> = None;
    for (which, field) in identity_fields {
        let text = String::from_utf8_lossy(&field.value);
        // Folding line breaks are not control characters; bare ones are.
        let unfolded = unfold(&field.value);
        if control.is_none() {
            if let Some(c) = unfolded.chars().find(|c| is_forbidden_control(*c)) {
                control = Some((which, c));
            }
        }
        if bidi.is_none() {
            if let Some(c) = text.chars().find(|c| is_bidi_control(*c)) {
                bidi = Some((which, c));
            }
        }
    }
    if let Some((which, c)) = control {
        v.set_flag(Feature::IdentityHeaderControlChar, true);
        let what = if c == '\0' {
            "a NUL byte".to_string()
        } else {
            format!("control character U+{:04X}", c as u32)
        };
        log.add(
            Feature::IdentityHeaderControlChar,
            Some(Technique::HeaderFromSpoof),
            format!(
                "{which} holds {what}: {}",
                against(&[Reader::NulTerminated, Reader::StrictRfc5322])
            ),
        );
    }
    if let Some((which, c)) = bidi {
        v.set_flag(Feature::IdentityBidiControl, true);
        log.add(
            Feature::IdentityBidiControl,
            Some(Technique::HeaderFromSpoof),
            format!(
                "{which} holds bidi control U+{:04X}, which reorders what the reader sees: {}",
                c as u32,
                against(&[Reader::BidiRendered])
            ),
        );
    }

    if let Some(r) = readings.get(Reader::QuotedLocalPart) {
        v.set_flag(Feature::FromQuotedLocalPartAddress, true);
        log.add(
            Feature::FromQuotedLocalPartAddress,
            Some(Technique::HeaderFromSpoof),
            format!(
                "the From address's quoted local part is itself an address: {shown}, {}",
                r.describe()
            ),
        );
    }
    let real = view.from_domain();
    if let Some(r) = readings.get(Reader::CommentAddress) {
        let other = match (r.domain.as_deref(), real) {
            (Some(c), Some(f)) => !relaxed_aligned(c, f),
            (Some(_), None) => true,
            _ => false,
        };
        if other {
            v.set_flag(Feature::FromCommentAddress, true);
            log.add(
                Feature::FromCommentAddress,
                Some(Technique::HeaderFromSpoof),
                format!(
                    "a comment in From holds another address: {shown}, {}",
                    r.describe()
                ),
            );
        }
    }

    let spaced = fields
        .from
        .iter()
        .map(|f| ("From", f))
        .chain(fields.sender.iter().map(|f| ("Sender", f)))
        .chain(fields.resent_from.iter().map(|f| ("Resent-From", f)))
        .find(|(_, f)| f.space_before_colon);
    if let Some((which, _)) = spaced {
        v.set_flag(Feature::IdentityHeaderSpaceBeforeColon, true);
        log.add(
            Feature::IdentityHeaderSpaceBeforeColon,
            Some(Technique::HeaderFromSpoof),
            format!(
                "\"{which} :\" has white space before its colon, which some readers skip: {}",
                against(&[
                    Reader::Mailparse,
                    Reader::FirstFromField,
                    Reader::LastFromField,
                ])
            ),
        );
    }

    if let Some(detail) = authenticated_elsewhere(&view.auth, real, &readings, &shown) {
        v.set_flag(Feature::FromDomainNotAuthenticatedDomain, true);
        log.add(
            Feature::FromDomainNotAuthenticatedDomain,
            Some(Technique::HeaderFromSpoof),
            detail,
        );
    }
    readings
}

/// mail-parser's reading against the first of `readers` that sees another
/// address (else the first of them that read anything), for evidence.
fn contrast(readings: &IdentityReadings, readers: &[Reader]) -> String {
    let mail_parser = readings.get(Reader::MailParser);
    let shown = mail_parser.map(Reading::describe).unwrap_or_default();
    let seen = mail_parser.map(|r| (r.address.as_deref(), r.domain.as_deref()));
    let present = || readers.iter().filter_map(|r| readings.get(*r));
    let other = present()
        .find(|r| r.address.is_some() && Some((r.address.as_deref(), r.domain.as_deref())) != seen)
        .or_else(|| present().next());
    match other {
        Some(r) => format!("{shown}, {}", r.describe()),
        None => shown,
    }
}

/// Whether authentication was about another From than the one shown: the
/// trusted DMARC verdict names a header.from the displayed From domain is
/// not aligned with, or an SPF or DKIM pass vouches for a domain another
/// reader takes for the sender while the displayed one it does not.
///
/// A pass for an unrelated domain alone (a bulk sender's own DKIM, an
/// ESP's bounce domain) is not this: that is ordinary, and the
/// alignment features weigh it.
fn authenticated_elsewhere(
    auth: &AuthResults,
    shown_domain: Option<&str>,
    readings: &IdentityReadings,
    shown: &str,
) -> Option<String> {
    let shown_domain = shown_domain?;
    if let Some(evaluated) = auth.dmarc_header_from.as_deref() {
        let evaluated = normalize_domain(evaluated)?;
        if relaxed_aligned(&evaluated, shown_domain) {
            return None;
        }
        return Some(format!(
            "DMARC was evaluated on header.from={evaluated} but {shown}"
        ));
    }
    let vouched: Vec<String> = auth
        .dkim
        .iter()
        .filter(|r| r.verdict() == AuthVerdict::Pass)
        .filter_map(|r| r.domain.as_deref().and_then(normalize_domain))
        .chain(
            (auth.spf.verdict() == AuthVerdict::Pass)
                .then_some(auth.spf_mailfrom.as_deref())
                .flatten()
                .and_then(|m| {
                    if m.contains('@') {
                        address_domain(m)
                    } else {
                        normalize_domain(m)
                    }
                }),
        )
        .collect();
    if vouched.iter().any(|d| relaxed_aligned(d, shown_domain)) {
        return None;
    }
    readings.readings.iter().find_map(|r| {
        let d = r.domain.as_deref()?;
        let vouched_for = vouched.iter().find(|v| relaxed_aligned(v, d))?;
        Some(format!(
            "authentication passed for {vouched_for}, the sender {} takes, but {shown}",
            r.reader.label()
        ))
    })
}

/// The header tricks read from the view's anomalies and identities (the
/// older, single-feature signs of ambiguity).
fn header_tricks(
    view: &MessageView,
    ctx: &Context,
    readings: &IdentityReadings,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    let from = view.from();
    let from_domain = view.from_domain();
    let anomalies = &view.anomalies;
    if anomalies.from_header_count > 1 {
        v.set_flag(Feature::FromHeaderMultiple, true);
        let shown: Vec<String> = view
            .from_headers
            .iter()
            .filter_map(|h| h.first())
            .map(|i| i.describe())
            .collect();
        log.add(
            Feature::FromHeaderMultiple,
            Some(Technique::HeaderFromSpoof),
            format!(
                "{} From headers: {}",
                anomalies.from_header_count,
                shown.join(" / ")
            ),
        );
    }
    if view.from_headers.first().is_some_and(|h| h.len() > 1) {
        v.set_flag(Feature::FromAddressMultiple, true);
        log.add(
            Feature::FromAddressMultiple,
            Some(Technique::HeaderFromSpoof),
            "one From header holds several addresses".into(),
        );
    }
    if let (Some(from), Some(f)) = (from, from_domain) {
        let embedded = from.name.as_deref().and_then(|n| {
            n.split(|c: char| c.is_whitespace() || "<>\"'()[],;".contains(c))
                .filter(|t| t.contains('@'))
                .find_map(address_domain)
        });
        if let Some(e) = embedded.filter(|e| !relaxed_aligned(e, f)) {
            v.set_flag(Feature::DisplayNameEmbeddedAddressMismatch, true);
            log.add(
                Feature::DisplayNameEmbeddedAddressMismatch,
                Some(Technique::HeaderFromSpoof),
                format!("display name shows an address on {e}, the real address is on {f}"),
            );
        }
    }
    if let Some(raw) = anomalies.encoded_word_tricks.first() {
        v.set_flag(Feature::FromEncodedWordTrick, true);
        log.add(
            Feature::FromEncodedWordTrick,
            Some(Technique::HeaderFromSpoof),
            match readings.get(Reader::DecodedEncodedWords) {
                Some(_) => format!(
                    "From hides an address in an encoded-word: {}; {}",
                    visible(raw),
                    contrast(readings, &[Reader::DecodedEncodedWords])
                ),
                None => format!("From hides an address in an encoded-word: {}", visible(raw)),
            },
        );
    }
    if let Some(name) = anomalies.route_syntax.first() {
        v.set_flag(Feature::FromRouteSyntax, true);
        log.add(
            Feature::FromRouteSyntax,
            Some(Technique::HeaderFromSpoof),
            match readings.get(Reader::RouteFirstHost) {
                Some(_) => format!(
                    "{name} uses obsolete route syntax (<@host:address>): {}",
                    contrast(readings, &[Reader::RouteFirstHost])
                ),
                None => format!("{name} uses obsolete route syntax (<@host:address>)"),
            },
        );
    }
    if anomalies.from_header_count == 0 && (view.sender.is_some() || !view.resent_from.is_empty()) {
        v.set_flag(Feature::SenderWithoutFrom, true);
        log.add(
            Feature::SenderWithoutFrom,
            Some(Technique::HeaderFromSpoof),
            "Sender or Resent-From present without a From header".into(),
        );
    }
    if let Some(name) = anomalies.space_before_colon.first() {
        v.set_flag(Feature::HeaderSpaceBeforeColon, true);
        let identity = ["from", "sender", "reply-to", "resent-from", "return-path"]
            .contains(&name.to_ascii_lowercase().as_str());
        log.add(
            Feature::HeaderSpaceBeforeColon,
            identity.then_some(Technique::HeaderFromSpoof),
            format!("header \"{name} :\" has white space before its colon"),
        );
    }
    let others = [
        (
            "Sender",
            view.sender.as_ref(),
            Feature::SenderDomainMismatch,
        ),
        (
            "Resent-From",
            view.resent_from.first(),
            Feature::ResentFromDomainMismatch,
        ),
    ];
    for (which, identity, feature) in others {
        let Some(d) = identity.and_then(|i| i.domain.as_deref()) else {
            continue;
        };
        if from_domain.is_some_and(|f| !relaxed_aligned(f, d)) {
            v.set_flag(feature, true);
            // Our domain in Sender or Resent-From is a claim only from
            // outside and unauthenticated: an internal user forwarding or
            // sending on behalf of someone comes over the org's own route.
            let ours = ctx.is_internal(d) || ctx.is_protected(d);
            let internal_route = !view.hops.is_empty() && view.first_external_hop.is_none();
            let claim = ours
                && !internal_route
                && !crate::sender_path::authenticated_for(&view.auth, d, from_domain);
            log.add(
                feature,
                claim.then_some(Technique::HeaderFromSpoof),
                format!("{which} is on {d}, From on {}", from_domain.unwrap_or("")),
            );
        }
    }
}
