//! The type an attachment's bytes say it is (magic numbers), beside the
//! type it declares and its name's extension.
//!
//! infer knows the magic numbers; our own checks come first for what a
//! mail reader's viewer accepts and infer does not look for: HTML after a
//! BOM or blank lines, `%PDF-` anywhere in the first kilobyte, a zip that
//! is an Office document by its `[Content_Types].xml`, SVG with script.
//! Only the first [`HEAD_BYTES`] (and, for a zip, the last
//! [`ZIP_TAIL_BYTES`], where its directory is) are looked at.

use super::name::{is_executable_extension, is_page_extension};
use super::AttachmentKind;
use memchr::memmem;

/// Bytes from the start that are looked at.
const HEAD_BYTES: usize = 8 << 10;
/// Bytes from the end of a zip searched for `[Content_Types].xml`: the
/// central directory (a comment is at most 64 KiB).
const ZIP_TAIL_BYTES: usize = 96 << 10;
/// Window, after a BOM and leading whitespace, in which HTML tags count.
const HTML_WINDOW: usize = 1024;

/// What the bytes say.
#[derive(Debug, Default)]
pub(super) struct Sniffed {
    /// The sniffed MIME type, None when the bytes say nothing known.
    pub mime: Option<&'static str>,
    /// The kind: sniffed, else declared, else by the name's extension.
    pub kind: AttachmentKind,
    /// Why the declared type or extension disagrees with the bytes.
    pub mismatch: Option<String>,
}

/// Sniffs `bytes` (their first few kilobytes suffice).
pub(super) fn sniff(bytes: &[u8], name: Option<&str>, declared: &str) -> Sniffed {
    let from_bytes = sniff_bytes(bytes, name);
    let declared_kind = kind_from_declared(declared);
    let ext = name.and_then(extension);
    let ext_kind = ext.as_deref().and_then(kind_from_extension);
    // A vague declared type (text/plain, octet-stream) says less than the
    // name: Windows opens `invoice.js` as a script whatever it declares.
    let kind = from_bytes
        .map(|(_, k)| k)
        .or(declared_kind)
        .or(ext_kind)
        .unwrap_or_else(|| {
            if declared.starts_with("text/") {
                AttachmentKind::Text
            } else {
                AttachmentKind::Other
            }
        });
    let mismatch = from_bytes.and_then(|(mime, sniffed)| {
        let says = |claimed: AttachmentKind| !compatible(claimed, sniffed, mime);
        if let Some(claimed) = declared_kind.filter(|k| says(*k)) {
            Some(format!(
                "{} is declared {declared} ({}) but its bytes are {} ({mime})",
                label(name),
                claimed.name(),
                sniffed.name()
            ))
        } else {
            ext_kind.filter(|k| says(*k)).map(|claimed| {
                format!(
                    "{} is named .{} ({}) but its bytes are {} ({mime})",
                    label(name),
                    ext.as_deref().unwrap_or_default(),
                    claimed.name(),
                    sniffed.name()
                )
            })
        }
    });
    Sniffed {
        mime: from_bytes.map(|(m, _)| m),
        kind,
        mismatch,
    }
}

fn label(name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{n:?}"),
        None => "the part".to_string(),
    }
}

/// Whether a claimed kind and the sniffed one are the same thing.
fn compatible(claimed: AttachmentKind, sniffed: AttachmentKind, mime: &str) -> bool {
    use AttachmentKind::*;
    claimed == sniffed
        // An Office document is a zip, and a zip may hold one.
        || matches!((claimed, sniffed), (Archive, Office) | (Office, Archive))
        // An SVG with script is a page, and still an SVG.
        || (mime == "image/svg+xml" && matches!(claimed, Image | Html))
        // A .msi is an OLE file; a .xlsm declared as a program is odd but
        // the bytes do not contradict a click running it.
        || (claimed == Executable && sniffed == LegacyOffice)
        // Vague claims say nothing to contradict.
        || matches!(claimed, Text | Other)
}

/// The lower-case extension after the last dot, spaces trimmed.
pub(super) fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    let ext = ext.trim().trim_end_matches('"').to_ascii_lowercase();
    (!ext.is_empty() && ext.len() <= 24).then_some(ext)
}

/// The kind a name's extension claims.
pub(super) fn kind_from_extension(ext: &str) -> Option<AttachmentKind> {
    use AttachmentKind::*;
    Some(match ext {
        e if is_page_extension(e) && e != "svg" => Html,
        "svg" => Image,
        "pdf" => Pdf,
        "png" | "jpg" | "jpeg" | "gif" | "bmp" | "webp" | "tif" | "tiff" | "ico" => Image,
        "zip" => Archive,
        "docx" | "docm" | "dotx" | "dotm" | "xlsx" | "xlsm" | "xltx" | "xltm" | "pptx" | "pptm"
        | "potm" | "ppsm" | "ppsx" => Office,
        "doc" | "dot" | "xls" | "xlt" | "ppt" | "pps" | "rtf" => LegacyOffice,
        "ics" | "ical" | "vcs" => Calendar,
        "txt" | "csv" | "log" | "md" => Text,
        e if is_executable_extension(e) => Executable,
        _ => return None,
    })
}

/// The kind a declared type claims; None for the vague ones.
fn kind_from_declared(declared: &str) -> Option<AttachmentKind> {
    use AttachmentKind::*;
    let d = declared.trim();
    Some(match d {
        "text/html" | "application/xhtml+xml" | "message/rfc822-html" => Html,
        "application/pdf" | "application/x-pdf" => Pdf,
        "image/svg+xml" => Image,
        "application/zip" | "application/x-zip-compressed" | "application/x-zip" => Archive,
        "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/rtf"
        | "text/rtf" => LegacyOffice,
        "text/calendar" | "application/ics" => Calendar,
        "application/x-msdownload"
        | "application/x-msdos-program"
        | "application/x-executable"
        | "application/x-dosexec"
        | "application/vnd.microsoft.portable-executable"
        | "application/javascript"
        | "text/javascript"
        | "application/x-javascript"
        | "application/hta"
        | "application/x-ms-shortcut"
        | "application/x-msi"
        | "application/x-ms-installer"
        | "application/x-iso9660-image"
        | "text/vbscript"
        | "application/x-sh"
        | "application/java-archive" => Executable,
        d if d.starts_with("image/") => Image,
        d if d.starts_with("application/vnd.openxmlformats-officedocument.")
            || d.starts_with("application/vnd.ms-word.")
            || d.starts_with("application/vnd.ms-excel.")
            || d.starts_with("application/vnd.ms-powerpoint.") =>
        {
            Office
        }
        _ => return None,
    })
}

/// What the first bytes (and a zip's directory) say, with the kind.
fn sniff_bytes(bytes: &[u8], name: Option<&str>) -> Option<(&'static str, AttachmentKind)> {
    use AttachmentKind::*;
    let head = bytes.get(..HEAD_BYTES.min(bytes.len())).unwrap_or(bytes);
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(sniff_zip(bytes));
    }
    if head.starts_with(b"MZ") {
        return Some(("application/vnd.microsoft.portable-executable", Executable));
    }
    if head.starts_with(b"\x7fELF") {
        return Some(("application/x-executable", Executable));
    }
    if [
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
    ]
    .iter()
    .any(|m| head.starts_with(*m))
    {
        return Some(("application/x-mach-binary", Executable));
    }
    if head.starts_with(b"L\0\0\0\x01\x14\x02\0") {
        // A Windows shortcut (.lnk): its header and CLSID start.
        return Some(("application/x-ms-shortcut", Executable));
    }
    if head.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        let msi = name
            .and_then(extension)
            .is_some_and(|e| e == "msi" || e == "msp");
        return Some(if msi {
            ("application/x-msi", Executable)
        } else {
            ("application/x-ole-storage", LegacyOffice)
        });
    }
    if head.starts_with(b"{\\rtf") {
        return Some(("application/rtf", LegacyOffice));
    }
    let first_kb = head.get(..1024.min(head.len())).unwrap_or(head);
    if memmem::find(first_kb, b"%PDF-").is_some() {
        return Some(("application/pdf", Pdf));
    }
    if let Some(found) = sniff_markup(head) {
        return Some(found);
    }
    let text = skip_bom_and_space(head);
    if starts_with_ignore_case(text, b"BEGIN:VCALENDAR") {
        return Some(("text/calendar", Calendar));
    }
    let t = infer::get(head)?;
    let kind = match t.matcher_type() {
        infer::MatcherType::Image => Image,
        // infer's "app" matchers include certificates (`---` reads as DER's
        // armour: PGP signatures) and browser extensions: programs only.
        infer::MatcherType::App => match t.mime_type() {
            "application/vnd.microsoft.portable-executable"
            | "application/x-executable"
            | "application/x-mach-binary"
            | "application/vnd.android.dex"
            | "application/vnd.android.dey"
            | "application/wasm" => Executable,
            _ => Other,
        },
        infer::MatcherType::Doc => match t.extension() {
            "doc" | "xls" | "ppt" | "rtf" => LegacyOffice,
            _ => Other,
        },
        _ => Other,
    };
    if matches!(kind, Other) && matches!(t.matcher_type(), infer::MatcherType::Text) {
        // infer's text matchers (html, xml, shell) are looser than ours.
        return None;
    }
    Some((t.mime_type(), kind))
}

/// A zip: an Office document when its directory lists
/// `[Content_Types].xml`, else an archive.
fn sniff_zip(bytes: &[u8]) -> (&'static str, AttachmentKind) {
    let head = bytes.get(..HEAD_BYTES.min(bytes.len())).unwrap_or(bytes);
    let tail = bytes
        .get(bytes.len().saturating_sub(ZIP_TAIL_BYTES)..)
        .unwrap_or(bytes);
    let listed = |needle: &[u8]| {
        memmem::find(head, needle).is_some() || memmem::find(tail, needle).is_some()
    };
    if listed(b"[Content_Types].xml") {
        let mime = if listed(b"word/") {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        } else if listed(b"xl/") {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        } else if listed(b"ppt/") {
            "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        } else {
            "application/vnd.openxmlformats-officedocument"
        };
        return (mime, AttachmentKind::Office);
    }
    match infer::get(head).map(|t| t.extension()) {
        Some("docx") => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            AttachmentKind::Office,
        ),
        Some("xlsx") => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            AttachmentKind::Office,
        ),
        Some("pptx") => (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            AttachmentKind::Office,
        ),
        _ => ("application/zip", AttachmentKind::Archive),
    }
}

fn skip_bom_and_space(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    b.get(start..).unwrap_or_default()
}

fn starts_with_ignore_case(b: &[u8], prefix: &[u8]) -> bool {
    b.get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

/// HTML (a tag a browser acts on in the first kilobyte after a BOM and
/// whitespace), or SVG (a page when it carries script).
fn sniff_markup(head: &[u8]) -> Option<(&'static str, AttachmentKind)> {
    let text = skip_bom_and_space(head);
    if !text.starts_with(b"<") {
        return None;
    }
    let window = text.get(..HTML_WINDOW.min(text.len())).unwrap_or(text);
    let lower = window.to_ascii_lowercase();
    if memmem::find(&lower, b"<svg").is_some() {
        let all = head.to_ascii_lowercase();
        let scripted = [
            &b"<script"[..],
            b"onload=",
            b"javascript:",
            b"<foreignobject",
        ]
        .iter()
        .any(|n| memmem::find(&all, n).is_some());
        return Some(if scripted {
            ("image/svg+xml", AttachmentKind::Html)
        } else {
            ("image/svg+xml", AttachmentKind::Image)
        });
    }
    const TAGS: [&[u8]; 8] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<form",
        b"<meta",
        b"<iframe",
    ];
    TAGS.iter()
        .any(|t| memmem::find(&lower, t).is_some())
        .then_some(("text/html", AttachmentKind::Html))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttachmentKind::*;

    #[test]
    fn html_declared_as_pdf_is_a_mismatch() {
        let s = sniff(
            b"\xef\xbb\xbf\r\n  <!DOCTYPE html><html><body>hi",
            Some("invoice.pdf"),
            "application/pdf",
        );
        assert_eq!(s.kind, Html);
        assert_eq!(s.mime, Some("text/html"));
        let m = s.mismatch.expect("a mismatch");
        assert!(
            m.contains("application/pdf") && m.contains("invoice.pdf"),
            "{m}"
        );
    }

    #[test]
    fn a_png_that_is_a_program_is_a_mismatch_by_name() {
        let s = sniff(
            b"MZ\x90\0\x03\0\0\0",
            Some("photo.png"),
            "application/octet-stream",
        );
        assert_eq!(s.kind, Executable);
        assert!(s.mismatch.expect("a mismatch").contains(".png"));
    }

    #[test]
    fn octet_stream_is_never_a_mismatch() {
        let s = sniff(b"%PDF-1.7\n", None, "application/octet-stream");
        assert_eq!((s.kind, s.mismatch), (Pdf, None));
    }

    #[test]
    fn pdf_is_found_anywhere_in_the_first_kilobyte() {
        let mut b = vec![b' '; 900];
        b.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(sniff(&b, Some("a.pdf"), "application/pdf").kind, Pdf);
        let mut late = vec![b'x'; 2000];
        late.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(sniff(&late, None, "application/octet-stream").mime, None);
    }

    #[test]
    fn a_zip_listing_content_types_is_office() {
        let s = sniff(
            b"PK\x03\x04....[Content_Types].xml....word/document.xml",
            Some("a.zip"),
            "application/zip",
        );
        assert_eq!((s.kind, s.mismatch.is_none()), (Office, true));
        assert_eq!(sniff(b"PK\x03\x04....a.txt", None, "").kind, Archive);
    }

    #[test]
    fn svg_with_script_is_a_page_and_without_is_an_image() {
        let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(sniff(svg, Some("a.svg"), "image/svg+xml").kind, Html);
        assert!(sniff(svg, Some("a.svg"), "image/svg+xml")
            .mismatch
            .is_none());
        assert_eq!(
            sniff(b"<svg><rect/></svg>", Some("a.svg"), "image/svg+xml").kind,
            Image
        );
    }

    #[test]
    fn the_kind_falls_back_to_the_declared_type_then_the_extension() {
        assert_eq!(sniff(b"plain words", Some("a.bin"), "text/html").kind, Html);
        assert_eq!(
            sniff(b"var a = 1;", Some("pay.js"), "text/plain").kind,
            Executable
        );
        assert_eq!(
            sniff(b"var a = 1;", Some("pay.js"), "application/octet-stream").kind,
            Executable
        );
        assert_eq!(sniff(b"words", None, "text/plain").kind, Text);
        assert_eq!(
            sniff(b"words", None, "application/octet-stream").kind,
            Other
        );
        assert_eq!(
            sniff(b"BEGIN:VCALENDAR\r\n", None, "application/octet-stream").kind,
            Calendar
        );
    }

    #[test]
    fn images_ole_and_rtf_are_recognised() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", None, "").kind,
            Image
        );
        assert_eq!(
            sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", Some("a.doc"), "").kind,
            LegacyOffice
        );
        assert_eq!(
            sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", Some("a.msi"), "").kind,
            Executable
        );
        assert_eq!(sniff(b"{\\rtf1\\ansi", None, "").kind, LegacyOffice);
        assert_eq!(sniff(b"\x7fELF\x02\x01", None, "").kind, Executable);
        // A PGP signature's armour is not a program (infer calls it a DER
        // certificate).
        let pgp = sniff(
            b"-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG v1\n",
            Some("signature.asc"),
            "application/pgp-signature",
        );
        assert_ne!(pgp.kind, Executable);
        assert!(pgp.mismatch.is_none());
    }
}
