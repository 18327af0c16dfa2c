//! An attachment's file name: decoded, and checked for the tricks that
//! hide a real extension.
//!
//! mail-parser already decodes RFC 2231 parameters (`filename*=utf-8''…`,
//! continuations `filename*0*=`, charsets) and encoded-words inside quoted
//! parameters (the unit tests below pin that); what it leaves, an
//! encoded-word glued to other text or split across continuations, is
//! decoded here.

use super::{Analysis, Attachment, FindingCode};
use mail_parser::MessagePart;

/// Longest name kept, in characters.
const MAX_NAME_CHARS: usize = 255;

/// Extensions of documents a reader expects to open safely: the decoy half
/// of a double extension.
const DOCUMENT_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "csv", "jpg", "jpeg", "png",
    "gif", "bmp", "tif", "tiff", "odt", "ods", "mp3", "mp4", "wav", "zip", "eml", "msg", "xml",
];

/// Extensions a click runs (or that a browser renders as a page).
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe",
    "scr",
    "com",
    "bat",
    "cmd",
    "pif",
    "js",
    "jse",
    "vbs",
    "vbe",
    "wsf",
    "wsh",
    "hta",
    "lnk",
    "msi",
    "msp",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "ps1",
    "psm1",
    "jar",
    "cpl",
    "reg",
    "dll",
    "appx",
    "msix",
    "appinstaller",
    "application",
    "gadget",
    "inf",
    "scf",
    "url",
    "chm",
    "xll",
    "library-ms",
    "settingcontent-ms",
    "one",
    "sh",
    "apk",
    "dmg",
    "pkg",
    "app",
    "xbap",
];

/// Extensions of pages a browser renders (and runs script in).
const PAGE_EXTENSIONS: &[&str] = &["html", "htm", "shtml", "xhtml", "svg", "mht", "mhtml"];

/// Bidirectional control characters: embeddings, overrides, isolates and
/// the directional marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// The part's file name, decoded: Content-Disposition `filename` (RFC 2231
/// continuations and charsets, encoded-words), else Content-Type `name`.
pub(super) fn file_name(part: &MessagePart<'_>) -> Option<String> {
    use mail_parser::MimeHeaders;
    let raw = part.attachment_name()?;
    let decoded = if raw.contains("=?") {
        decode_encoded_words(raw)
    } else {
        raw.to_string()
    };
    let name = decoded.trim_matches(|c: char| c == '"' || c.is_whitespace());
    if name.is_empty() {
        return None;
    }
    Some(truncate_chars(name, MAX_NAME_CHARS))
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => s.get(..at).unwrap_or(s).to_string(),
        None => s.to_string(),
    }
}

/// RFC 2047 encoded-words (`=?charset?B|Q?text?=`) anywhere in `s`;
/// whitespace between two encoded-words is dropped, as the RFC says. A word
/// that does not decode is kept as written.
fn decode_encoded_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        let decoded = from.get(2..).and_then(|inner| {
            // charset ? encoding ? text ?=
            let (charset, after) = inner.split_once('?')?;
            let (encoding, after) = after.split_once('?')?;
            let end = after.find("?=")?;
            let text = after.get(..end)?;
            let word = decode_word(charset, encoding, text)?;
            let consumed = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
            Some((word, consumed))
        });
        match decoded {
            Some((word, consumed)) => {
                if !(last_was_word && before.chars().all(char::is_whitespace)) {
                    out.push_str(before);
                }
                out.push_str(&word);
                rest = from.get(consumed..).unwrap_or_default();
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = from.get(2..).unwrap_or_default();
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_word(charset: &str, encoding: &str, text: &str) -> Option<String> {
    let bytes = if encoding.eq_ignore_ascii_case("b") {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim_end_matches('='))
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(text.trim_end_matches('='))
            })
            .ok()?
    } else if encoding.eq_ignore_ascii_case("q") {
        let mut out = Vec::with_capacity(text.len());
        let mut bytes = text.bytes();
        while let Some(b) = bytes.next() {
            match b {
                b'_' => out.push(b' '),
                b'=' => {
                    let hi = bytes.next().and_then(|h| (h as char).to_digit(16))?;
                    let lo = bytes.next().and_then(|l| (l as char).to_digit(16))?;
                    out.push((hi * 16 + lo) as u8);
                }
                other => out.push(other),
            }
        }
        out
    } else {
        return None;
    };
    // RFC 2231 allows a language after the charset: `utf-8*en`.
    let charset = charset.split('*').next().unwrap_or(charset);
    let latin = ["iso-8859-1", "latin1", "windows-1252", "cp1252", "us-ascii"];
    if latin.iter().any(|l| charset.eq_ignore_ascii_case(l)) && std::str::from_utf8(&bytes).is_err()
    {
        // Single-byte charsets: each byte its code point (close enough for
        // names; the characters that matter here are ASCII).
        return Some(bytes.iter().map(|&b| char::from(b)).collect());
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A name's extensions after its last dot and the one before, lower case,
/// trimmed of the spaces that push the real one out of view.
fn last_two_extensions(name: &str) -> (Option<String>, Option<String>) {
    let mut parts = name.rsplit('.');
    let last = parts.next();
    let Some(last) = last.filter(|_| name.contains('.')) else {
        return (None, None);
    };
    let clean = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        (!s.is_empty() && s.len() <= 24 && !s.contains(char::is_whitespace)).then_some(s)
    };
    let before = parts.next().and_then(|p| {
        // Only a real earlier extension counts: "a.b" has none before "b".
        if name.matches('.').count() >= 2 {
            clean(p)
        } else {
            None
        }
    });
    (clean(last), before)
}

/// How a name shows in a left-to-right file list: the text after a
/// right-to-left override (up to the next pop or isolate end) is shown
/// reversed; every bidi control itself is invisible.
fn displayed(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut reversed: Option<Vec<char>> = None;
    for c in name.chars() {
        match c {
            '\u{202E}' | '\u{2067}' => {
                if let Some(run) = reversed.take() {
                    out.extend(run.into_iter().rev());
                }
                reversed = Some(Vec::new());
            }
            '\u{202C}' | '\u{2069}' | '\u{202D}' | '\u{2066}' => {
                if let Some(run) = reversed.take() {
                    out.extend(run.into_iter().rev());
                }
            }
            c if is_bidi_control(c) => {}
            c => match reversed.as_mut() {
                Some(run) => run.push(c),
                None => out.push(c),
            },
        }
    }
    if let Some(run) = reversed {
        out.extend(run.into_iter().rev());
    }
    out
}

/// Findings about the name: double extensions, bidi controls, executable
/// extensions.
pub(super) fn inspect_name(attachment: &mut Attachment, out: &mut Analysis) {
    let Some(name) = attachment.name.as_deref() else {
        return;
    };
    let has_bidi = name.chars().any(is_bidi_control);
    // The name as stored, controls removed: what the system opens it as.
    let real: String = name.chars().filter(|c| !is_bidi_control(*c)).collect();
    let (real_ext, before_ext) = last_two_extensions(&real);
    let dangerous =
        |ext: &str| EXECUTABLE_EXTENSIONS.contains(&ext) || PAGE_EXTENSIONS.contains(&ext);
    if has_bidi {
        let shown = displayed(name);
        out.find(
            FindingCode::BidiControl,
            format!(
                "the name {real:?} holds bidirectional control characters; it shows as {shown:?}"
            ),
        );
        let (shown_ext, _) = last_two_extensions(&shown);
        if let (Some(real_ext), Some(shown_ext)) = (&real_ext, &shown_ext) {
            if shown_ext != real_ext && dangerous(real_ext) {
                out.find(
                    FindingCode::DoubleExtension,
                    format!(
                        "{shown:?} shows as a .{shown_ext} file but is a .{real_ext} ({real:?})"
                    ),
                );
            }
        }
    }
    if let (Some(real_ext), Some(before)) = (&real_ext, &before_ext) {
        if DOCUMENT_EXTENSIONS.contains(&before.as_str()) && dangerous(real_ext) {
            out.find(
                FindingCode::DoubleExtension,
                format!("{real:?} looks like a .{before} file but is a .{real_ext}"),
            );
        }
    }
    if let Some(ext) = &real_ext {
        if EXECUTABLE_EXTENSIONS.contains(&ext.as_str()) {
            out.find(
                FindingCode::Executable,
                format!("{real:?} is a .{ext}, a program or script a click would run"),
            );
        }
    }
}

/// Whether an extension (lower case, no dot) is one a click runs.
pub(super) fn is_executable_extension(ext: &str) -> bool {
    EXECUTABLE_EXTENSIONS.contains(&ext)
}

/// Whether an extension is a page a browser renders.
pub(super) fn is_page_extension(ext: &str) -> bool {
    PAGE_EXTENSIONS.contains(&ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn name_of(headers: &str) -> Option<String> {
        let raw = format!(
            "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B\r\n{headers}\r\n\r\nAAAA\r\n--B--\r\n"
        );
        let message = MessageParser::new().parse(raw.as_bytes()).expect("parses");
        let id = *message.attachments.first().expect("an attachment");
        file_name(message.parts.get(id as usize).expect("part"))
    }

    fn findings(name: &str) -> Vec<FindingCode> {
        let mut attachment = Attachment {
            name: Some(name.to_string()),
            ..Attachment::default()
        };
        let mut out = Analysis::default();
        inspect_name(&mut attachment, &mut out);
        out.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn rfc_2231_names_with_a_charset_are_decoded() {
        let n = name_of(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf",
        );
        assert_eq!(n.as_deref(), Some("Rechnung März.pdf"));
    }

    #[test]
    fn rfc_2231_continuations_are_joined_in_order() {
        let n = name_of(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*1*=%20M%C3%A4rz.pdf;\r\n filename*0*=utf-8''Rechnung",
        );
        assert_eq!(n.as_deref(), Some("Rechnung März.pdf"));
    }

    #[test]
    fn encoded_word_names_are_decoded() {
        let n = name_of(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?utf-8?B?RmFjdHVyZV/DqXTDqS5wZGY=?=\"",
        );
        assert_eq!(n.as_deref(), Some("Facture_été.pdf"));
    }

    #[test]
    fn an_encoded_word_glued_to_text_is_decoded_here() {
        assert_eq!(
            decode_encoded_words("pay=?utf-8?Q?_m=C3=A4rz?=.pdf"),
            "pay märz.pdf"
        );
        assert_eq!(
            decode_encoded_words("=?utf-8?B?YQ==?= =?utf-8?B?Yg==?="),
            "ab"
        );
        assert_eq!(decode_encoded_words("=?broken"), "=?broken");
    }

    #[test]
    fn the_content_type_name_is_the_fallback() {
        let n = name_of("Content-Type: application/pdf; name=\"scan.pdf\"");
        assert_eq!(n.as_deref(), Some("scan.pdf"));
    }

    #[test]
    fn long_names_are_cut_to_255_characters() {
        let long = "é".repeat(400);
        let n = name_of(&format!(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{long}.pdf\""
        ))
        .expect("a name");
        assert_eq!(n.chars().count(), 255);
    }

    #[test]
    fn a_right_to_left_override_is_a_bidi_control_and_a_double_extension() {
        let f = findings("invoice\u{202E}fdp.exe");
        assert!(f.contains(&FindingCode::BidiControl), "{f:?}");
        assert!(f.contains(&FindingCode::DoubleExtension), "{f:?}");
        assert!(f.contains(&FindingCode::Executable), "{f:?}");
        assert_eq!(displayed("invoice\u{202E}fdp.exe"), "invoiceexe.pdf");
    }

    #[test]
    fn document_then_page_or_program_extensions_are_double() {
        for n in [
            "invoice.pdf.html",
            "scan.docx.exe",
            "pay.pdf     .js",
            "Remit.PDF.Htm",
        ] {
            assert!(findings(n).contains(&FindingCode::DoubleExtension), "{n}");
        }
        for n in [
            "report.final.pdf",
            "archive.tar.gz",
            "photo.jpg",
            "v1.2.docx",
        ] {
            assert!(!findings(n).contains(&FindingCode::DoubleExtension), "{n}");
        }
    }

    #[test]
    fn programs_are_named_by_extension() {
        for n in ["setup.exe", "a.JS", "x.lnk", "disk.iso", "run.ps1", "h.hta"] {
            assert_eq!(findings(n), vec![FindingCode::Executable], "{n}");
        }
        assert!(findings("invoice.pdf").is_empty());
        assert!(findings("noextension").is_empty());
    }
}
