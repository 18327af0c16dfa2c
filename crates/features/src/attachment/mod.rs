//! What a message carries besides its text: every attachment and inline
//! part, read in memory within a budget. Its name (RFC 2231 and
//! encoded-words decoded), the type it declares and the type its bytes
//! say (magic numbers), its size and SHA-256, and what a reader of its kind
//! finds inside: archives' members (zip, OOXML's external links and
//! macros), HTML that posts credentials or smuggles a page, PDF text and
//! link annotations, QR codes in images and in a PDF's images. The links
//! found join the view's links with their [`LinkOrigin`], so the link and
//! lookalike features judge them as they judge a body's.
//!
//! It never writes to disk, never runs what it reads, and never reads past
//! its [`Budget`]: a bomb, a nest of archives or a giant image header is a
//! [`Finding`], never a hang. The budget counts work, not time, so the same
//! bytes always give the same findings.

mod archive;
mod cache;
mod html_doc;
mod image_qr;
mod name;
mod pdf;
mod sniff;

use crate::message::Link;
use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

pub(crate) use html_doc::inspect_html_body;

/// Where a link was found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "in", content = "attachment")]
pub enum LinkOrigin {
    /// The message's own text or HTML body.
    #[default]
    Body,
    /// Written in attachment number n (its position in
    /// [`crate::MessageView::attachments`]): an HTML page, a PDF's link
    /// annotations or text, an Office document's external links.
    Attachment(u16),
    /// Decoded from a QR code in attachment number n (an image, or an
    /// image inside a PDF).
    QrCode(u16),
}

/// The broad kind of a part, from its sniffed type first, then its
/// declared type, then its name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// An HTML page (`.html`, `.htm`, `.shtml`, `.svg` with script).
    Html,
    /// A PDF document.
    Pdf,
    /// A raster image (PNG, JPEG, GIF, BMP, WebP).
    Image,
    /// A zip archive that is not an Office document.
    Archive,
    /// An Office Open XML document (docx, xlsx, pptx and their macro forms).
    Office,
    /// A legacy Office or RTF document (OLE compound file, `{\rtf`).
    LegacyOffice,
    /// A program or script a click would run (PE, ELF, Mach-O, `.js`,
    /// `.vbs`, `.lnk`, `.hta`, `.iso`, `.scr`, …).
    Executable,
    /// A calendar invitation (`text/calendar`).
    Calendar,
    /// Plain text or anything else text-like.
    Text,
    /// Anything else.
    #[default]
    Other,
}

impl AttachmentKind {
    /// The kind's name in reports (`html`, `pdf`, …).
    pub const fn name(self) -> &'static str {
        match self {
            AttachmentKind::Html => "html",
            AttachmentKind::Pdf => "pdf",
            AttachmentKind::Image => "image",
            AttachmentKind::Archive => "archive",
            AttachmentKind::Office => "office",
            AttachmentKind::LegacyOffice => "legacy_office",
            AttachmentKind::Executable => "executable",
            AttachmentKind::Calendar => "calendar",
            AttachmentKind::Text => "text",
            AttachmentKind::Other => "other",
        }
    }
}

/// What a reader found in an attachment, by code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// The name hides its real extension: `invoice.pdf.html`, or a
    /// right-to-left override that shows `exe.pdf` as `fdp.exe`.
    DoubleExtension,
    /// The name holds bidirectional control characters.
    BidiControl,
    /// The declared type (or extension) and the bytes disagree: a
    /// `application/pdf` that is HTML, a `.png` that is a program.
    TypeMismatch,
    /// A program or script a click would run.
    Executable,
    /// An archive with encrypted members (the password is in the text).
    EncryptedArchive,
    /// An archive inside an archive.
    NestedArchive,
    /// A form that posts a password or sign-in fields off the page.
    CredentialForm,
    /// A `<meta http-equiv="refresh">` that sends the reader elsewhere.
    MetaRefresh,
    /// A page built from `data:` or `blob:` content (HTML smuggling).
    Smuggling,
    /// Script that decodes text and writes it as the page (`atob`,
    /// `unescape`, `document.write`, `decodeURIComponent`).
    ScriptDecodes,
    /// A PDF link annotation (`/URI`) or a link in a PDF's text.
    PdfLink,
    /// A QR code whose content is a link.
    QrLink,
    /// A QR code whose content is not a link (text, a phone number).
    QrOther,
    /// An Office document with macros (`vbaProject.bin`).
    Macro,
    /// An Office document that loads something from outside
    /// (`TargetMode="External"`: remote templates, links).
    ExternalLink,
    /// A PDF with JavaScript or an open action that launches something.
    PdfScript,
    /// The reader stopped at its budget: too large, too many members,
    /// too deep, too many pixels (a bomb is reported, never followed).
    OverBudget,
    /// The reader could not read it (malformed, truncated, unsupported).
    Unreadable,
}

impl FindingCode {
    /// The code's name in scan output (`credential_form`).
    pub const fn name(self) -> &'static str {
        match self {
            FindingCode::DoubleExtension => "double_extension",
            FindingCode::BidiControl => "bidi_control",
            FindingCode::TypeMismatch => "type_mismatch",
            FindingCode::Executable => "executable",
            FindingCode::EncryptedArchive => "encrypted_archive",
            FindingCode::NestedArchive => "nested_archive",
            FindingCode::CredentialForm => "credential_form",
            FindingCode::MetaRefresh => "meta_refresh",
            FindingCode::Smuggling => "smuggling",
            FindingCode::ScriptDecodes => "script_decodes",
            FindingCode::PdfLink => "pdf_link",
            FindingCode::QrLink => "qr_link",
            FindingCode::QrOther => "qr_other",
            FindingCode::Macro => "macro",
            FindingCode::ExternalLink => "external_link",
            FindingCode::PdfScript => "pdf_script",
            FindingCode::OverBudget => "over_budget",
            FindingCode::Unreadable => "unreadable",
        }
    }
}

/// One finding: its code and a sentence for an administrator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was found.
    pub code: FindingCode,
    /// Where and what, in words (`form posts a password to
    /// https://evil.example/login`), at most a few hundred bytes.
    pub detail: String,
}

/// A member of an archive, as its directory lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Its path inside the archive (as stored; lossy UTF-8).
    pub name: String,
    /// Its kind, from its first bytes when read, else its name.
    pub kind: AttachmentKind,
    /// Uncompressed size the directory declares, in bytes.
    pub size_bytes: u64,
    /// Whether the member is encrypted.
    pub encrypted: bool,
    /// How deep it is: 1 for a member of the attachment itself.
    pub depth: u8,
}

/// One attachment or inline non-text part.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// Its file name (Content-Disposition `filename`, else Content-Type
    /// `name`), decoded; None when it has none.
    pub name: Option<String>,
    /// The Content-Type it declares, lower case (`application/pdf`).
    pub declared_type: String,
    /// The type its first bytes say (`application/pdf`), None when they
    /// say nothing known.
    pub sniffed_type: Option<String>,
    /// Its kind (sniffed, else declared, else by name).
    pub kind: AttachmentKind,
    /// Whether it is shown inline (a picture in the body) rather than
    /// attached.
    pub inline: bool,
    /// Decoded size, in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the decoded bytes, lower-case hex.
    pub sha256: String,
    /// What the readers found, in the order they found it.
    pub findings: Vec<Finding>,
    /// An archive's members (bounded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
}

impl Attachment {
    /// Whether a finding of this code was made.
    pub fn has(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    /// The name shown in reasons: the file name, else its type.
    pub fn label(&self) -> Cow<'_, str> {
        match &self.name {
            Some(n) => Cow::Borrowed(n.as_str()),
            None => Cow::Owned(format!("an unnamed {} part", self.kind.name())),
        }
    }
}

/// How much work reading one message's attachments may do. Counts, not a
/// clock, so that the same bytes give the same findings.
#[derive(Clone, Debug)]
pub struct AttachmentLimits {
    /// Attachments read per message; the rest are listed with no findings.
    pub max_attachments: usize,
    /// Bytes of one attachment that are decoded and read; a larger one is
    /// read only this far (its hash and size still cover the whole).
    pub max_attachment_bytes: usize,
    /// Bytes decompressed from archives and PDF streams in one message.
    pub max_inflated_bytes: usize,
    /// Archive members listed per message.
    pub max_members: usize,
    /// How deep archives inside archives are followed.
    pub max_depth: u8,
    /// Pixels decoded per image; a larger image is not decoded.
    pub max_image_pixels: u64,
    /// Images searched for QR codes per message.
    pub max_qr_images: usize,
    /// PDF objects read per document.
    pub max_pdf_objects: usize,
    /// Text kept from attachments (PDF text, HTML text), in bytes.
    pub max_text_bytes: usize,
    /// Links kept from attachments and QR codes.
    pub max_links: usize,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits {
            max_attachments: 32,
            max_attachment_bytes: 16 << 20,
            max_inflated_bytes: 32 << 20,
            max_members: 1_000,
            max_depth: 3,
            max_image_pixels: 16_000_000,
            max_qr_images: 8,
            max_pdf_objects: 20_000,
            max_text_bytes: 64 << 10,
            max_links: 200,
        }
    }
}

impl AttachmentLimits {
    /// Limits small enough for fuzz-sized inputs to reach (the fuzz targets
    /// and the hostile tests): truncation at a limit is where slicing bugs
    /// live, and the defaults are out of a fuzzer's reach.
    pub fn tight() -> AttachmentLimits {
        AttachmentLimits {
            max_attachments: 2,
            max_attachment_bytes: 4096,
            max_inflated_bytes: 8192,
            max_members: 5,
            max_depth: 2,
            max_image_pixels: 4096,
            max_qr_images: 1,
            max_pdf_objects: 50,
            max_text_bytes: 101,
            max_links: 3,
        }
    }
}

/// The work left while one message is read: every reader draws on it.
#[derive(Debug)]
pub(crate) struct Budget {
    pub limits: AttachmentLimits,
    /// Bytes still allowed out of decompression (archives, PDF streams).
    pub inflated_left: usize,
    /// Archive members still to be listed.
    pub members_left: usize,
    /// Images still to be searched for QR codes.
    pub qr_images_left: usize,
}

impl Budget {
    /// The whole budget of one message.
    pub(crate) fn new(limits: &AttachmentLimits) -> Budget {
        Budget {
            limits: limits.clone(),
            inflated_left: limits.max_inflated_bytes,
            members_left: limits.max_members,
            qr_images_left: limits.max_qr_images,
        }
    }
}

/// What the readers of one attachment report besides its findings.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub findings: Vec<Finding>,
    pub members: Vec<Member>,
    /// Links found, each with whether it came from a QR code.
    pub urls: Vec<FoundUrl>,
    /// Text a reader sees (PDF text, an HTML page's text).
    pub text: String,
}

/// A link a reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundUrl {
    pub url: String,
    /// Decoded from a QR code rather than written.
    pub from_qr: bool,
}

impl Analysis {
    pub(crate) fn find(&mut self, code: FindingCode, detail: impl Into<String>) {
        // One finding of a code per attachment is enough to explain it;
        // a hostile file could otherwise repeat one a million times.
        if self.findings.len() < 32 && !self.findings.iter().any(|f| f.code == code) {
            let detail = detail.into();
            let detail = crate::html::truncate_at_char(&detail, 300).to_string();
            self.findings.push(Finding { code, detail });
        }
    }

    pub(crate) fn url(&mut self, url: &str, from_qr: bool, limits: &AttachmentLimits) {
        if self.urls.len() < limits.max_links && !self.urls.iter().any(|u| u.url == url) {
            self.urls.push(FoundUrl {
                url: crate::html::truncate_at_char(url.trim(), 2048).to_string(),
                from_qr,
            });
        }
    }

    pub(crate) fn push_text(&mut self, text: &str, limits: &AttachmentLimits) {
        let room = limits.max_text_bytes.saturating_sub(self.text.len());
        if room > 1 && !text.trim().is_empty() {
            if !self.text.is_empty() {
                self.text.push('\n');
            }
            self.text
                .push_str(crate::html::truncate_at_char(text, room - 1));
        }
    }
}

/// Reads the content of one attachment (already decoded from its transfer
/// encoding) by kind, recursing into archives within the budget.
pub(crate) fn inspect_bytes(
    bytes: &[u8],
    kind: AttachmentKind,
    depth: u8,
    budget: &mut Budget,
    out: &mut Analysis,
) {
    match kind {
        AttachmentKind::Html => {
            let html = String::from_utf8_lossy(bytes);
            html_doc::inspect_html(&html, budget, out);
        }
        AttachmentKind::Pdf => pdf::inspect_pdf(bytes, budget, out),
        AttachmentKind::Image => image_qr::inspect_image(bytes, budget, out),
        AttachmentKind::Archive | AttachmentKind::Office => {
            archive::inspect_zip(bytes, depth, budget, out)
        }
        AttachmentKind::Executable => out.find(
            FindingCode::Executable,
            "a program or script a click would run",
        ),
        _ => {}
    }
}

/// One file read as an attachment would be: what `impostor scan` reports
/// of it, the links found in it and the text a reader sees. For tools and
/// fuzzing; messages are read by [`crate::MessageView::parse`].
#[derive(Clone, Debug, Default)]
pub struct FileReading {
    /// The attachment: name, types, size, hash, findings, members.
    pub attachment: Attachment,
    /// Links found: (URL, whether it was decoded from a QR code).
    pub links: Vec<(String, bool)>,
    /// Text a reader sees in it (bounded).
    pub text: String,
}

/// Reads `bytes` as an attachment named `name` declared as `declared_type`
/// (`application/pdf`; empty when unknown), within `limits`.
pub fn read_file(
    name: Option<&str>,
    declared_type: &str,
    bytes: &[u8],
    limits: &AttachmentLimits,
) -> FileReading {
    let mut attachment = Attachment {
        name: name.map(|n| crate::html::truncate_at_char(n, 255).to_string()),
        declared_type: declared_type.to_ascii_lowercase(),
        size_bytes: bytes.len() as u64,
        sha256: hex(&Sha256::digest(bytes)),
        ..Attachment::default()
    };
    let bytes = bytes
        .get(..limits.max_attachment_bytes.min(bytes.len()))
        .unwrap_or_default();
    let analysis = read_one(&mut attachment, bytes, &mut Budget::new(limits));
    FileReading {
        attachment,
        links: analysis
            .urls
            .into_iter()
            .map(|u| (u.url, u.from_qr))
            .collect(),
        text: analysis.text,
    }
}

/// Every attachment and inline non-text part of `message`, read; links
/// found are pushed to `links` (with their origin) and text to `text`.
pub(crate) fn read_attachments(
    message: &Message<'_>,
    limits: &AttachmentLimits,
    links: &mut Vec<Link>,
    text: &mut String,
) -> Vec<Attachment> {
    let mut budget = Budget::new(limits);
    let mut attachments = Vec::new();
    // Links from attachments and QR codes, after the body's.
    let mut links_left = limits.max_links;
    for (n, id) in message.attachments.iter().enumerate() {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        // Nested messages are read as messages by the MIME parser; their
        // parts are not this message's attachments.
        if matches!(part.body, PartType::Message(_) | PartType::Multipart(_)) {
            continue;
        }
        let index = attachments.len();
        let (mut attachment, whole) = describe_part(message, part);
        if n < limits.max_attachments {
            let bytes = whole
                .get(..limits.max_attachment_bytes.min(whole.len()))
                .unwrap_or_default();
            if whole.len() > limits.max_attachment_bytes {
                // Read as far as the limit; the rest is not looked at.
                attachment.findings.push(Finding {
                    code: FindingCode::OverBudget,
                    detail: format!(
                        "only the first {} bytes were read",
                        limits.max_attachment_bytes
                    ),
                });
            }
            let analysis = read_one(&mut attachment, bytes, &mut budget);
            let index = u16::try_from(index).unwrap_or(u16::MAX);
            for found in analysis.urls {
                let origin = if found.from_qr {
                    LinkOrigin::QrCode(index)
                } else {
                    LinkOrigin::Attachment(index)
                };
                if links_left == 0 {
                    break;
                }
                if let Some(link) = crate::message::link_from(&found.url, None, origin) {
                    links.push(link);
                    links_left -= 1;
                }
            }
            if !analysis.text.is_empty() {
                let room = limits.max_text_bytes.saturating_sub(text.len());
                if room > 1 {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(crate::html::truncate_at_char(&analysis.text, room - 1));
                }
            }
        }
        attachments.push(attachment);
    }
    attachments
}

/// Reads one attachment's name and bytes: its kind, findings and members
/// go into `attachment`; links and text are returned.
fn read_one(attachment: &mut Attachment, bytes: &[u8], budget: &mut Budget) -> Analysis {
    let mut analysis = Analysis::default();
    name::inspect_name(attachment, &mut analysis);
    let sniffed = sniff::sniff(bytes, attachment.name.as_deref(), &attachment.declared_type);
    attachment.sniffed_type = sniffed.mime.map(str::to_string);
    attachment.kind = sniffed.kind;
    if let Some(mismatch) = sniffed.mismatch {
        analysis.find(FindingCode::TypeMismatch, mismatch);
    }
    // The readers' part, which repeats across messages, is read fresh (or
    // taken from the thread's cache) and then merged: the same path either
    // way, so a cached result is exactly a read one.
    let kind = attachment.kind;
    let read = cache::inspect_cached(&attachment.sha256, bytes, kind, budget, |budget, out| {
        inspect_bytes(bytes, kind, 0, budget, out)
    });
    for finding in read.findings {
        analysis.find(finding.code, finding.detail);
    }
    // Name checks and sniffing give findings only: links, text and
    // members are the readers' alone.
    analysis.members = read.members;
    analysis.urls = read.urls;
    analysis.text = read.text;
    attachment.findings.append(&mut analysis.findings);
    attachment.members = std::mem::take(&mut analysis.members);
    analysis
}

/// The part's name, declared type, size and hash (the whole part), and its
/// decoded bytes.
fn describe_part<'x>(
    message: &'x Message<'_>,
    part: &'x MessagePart<'_>,
) -> (Attachment, Cow<'x, [u8]>) {
    let declared_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_default()
        .to_ascii_lowercase();
    let whole = part_bytes(message, part, usize::MAX);
    let attachment = Attachment {
        name: name::file_name(part),
        declared_type,
        inline: matches!(part.body, PartType::InlineBinary(_)),
        size_bytes: whole.len() as u64,
        sha256: hex(&Sha256::digest(&whole)),
        ..Attachment::default()
    };
    (attachment, whole)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A part's decoded bytes, at most `max`. The fast MIME reading leaves
/// base64 binary bodies empty (see `message/mime.rs`): those are decoded
/// here from the raw part.
fn part_bytes<'x>(
    message: &'x Message<'_>,
    part: &'x MessagePart<'_>,
    max: usize,
) -> Cow<'x, [u8]> {
    let body: &[u8] = match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => b,
        PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
        _ => &[],
    };
    if !body.is_empty() || part.encoding != Encoding::Base64 {
        return Cow::Borrowed(body.get(..max.min(body.len())).unwrap_or(body));
    }
    let raw = message
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or_default();
    Cow::Owned(decode_base64_lenient(raw, max))
}

/// Base64 with line breaks and stray bytes skipped, as mail readers decode
/// it, stopping after `max` decoded bytes.
///
/// Whole groups of four alphabet bytes are decoded at once while no bits
/// are pending and the limit is more than a group away; every other byte
/// takes the byte-at-a-time rule, so the output is that rule's (a test
/// compares the two).
fn decode_base64_lenient(raw: &[u8], max: usize) -> Vec<u8> {
    use crate::message::{b64_two_groups, b64_value, B64_OTHER, B64_PAD};
    let mut out = Vec::with_capacity((raw.len() / 4 * 3).min(max));
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut i = 0;
    while i < raw.len() {
        // Two groups at once where both fit (most of a line), then one:
        // what the byte-at-a-time rule gives, in fewer steps.
        if bits == 0 && out.len().saturating_add(6) < max {
            let eight = raw.get(i..i + 8).and_then(|e| <[u8; 8]>::try_from(e).ok());
            if let Some(six) = eight.and_then(b64_two_groups) {
                out.extend_from_slice(&six);
                i += 8;
                continue;
            }
        }
        if bits == 0 && out.len().saturating_add(3) < max {
            if let Some(&[a, b, c, d]) = raw.get(i..i + 4) {
                let (a, b, c, d) = (b64_value(a), b64_value(b), b64_value(c), b64_value(d));
                if (a | b | c | d) < 64 {
                    let group = (u32::from(a) << 18)
                        | (u32::from(b) << 12)
                        | (u32::from(c) << 6)
                        | u32::from(d);
                    out.extend_from_slice(&[(group >> 16) as u8, (group >> 8) as u8, group as u8]);
                    i += 4;
                    continue;
                }
            }
        }
        let Some(&byte) = raw.get(i) else { break };
        i += 1;
        let v = b64_value(byte);
        if v == B64_PAD {
            break;
        }
        if v == B64_OTHER {
            continue;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_across_line_breaks_and_stops_at_the_limit() {
        assert_eq!(decode_base64_lenient(b"SGVs\r\nbG8=", 100), b"Hello");
        assert_eq!(decode_base64_lenient(b"SGVsbG8=", 3), b"Hel");
    }

    /// The byte-at-a-time rule the fast decoder must give byte for byte.
    fn decode_base64_reference(raw: &[u8], max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0u32);
        for &b in raw {
            let v = match b {
                b'A'..=b'Z' => b - b'A',
                b'a'..=b'z' => b - b'a' + 26,
                b'0'..=b'9' => b - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => break,
                _ => continue,
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                if out.len() >= max {
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn group_at_a_time_base64_matches_the_byte_at_a_time_rule() {
        let pieces: [&[u8]; 14] = [
            b"QUJD",
            b"SGVs",
            b"bG8=",
            b"QQ==",
            b"\r\n",
            b"\n",
            b" ",
            b"=",
            b"-",
            b"Q",
            b"QU",
            b"+/9z",
            b"\xff\x00",
            b"!*",
        ];
        let mut state: u32 = 11;
        let mut compared = 0;
        for round in 0..6000 {
            let mut raw = Vec::new();
            for _ in 0..(round % 24) {
                raw.extend_from_slice(pieces[crate::pick(&mut state, pieces.len())]);
            }
            for max in [0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 40, usize::MAX] {
                assert_eq!(
                    decode_base64_lenient(&raw, max),
                    decode_base64_reference(&raw, max),
                    "{:?} {max}",
                    String::from_utf8_lossy(&raw)
                );
                compared += 1;
            }
        }
        assert!(compared > 50_000, "{compared}");
    }
}
