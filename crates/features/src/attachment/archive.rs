//! Zip archives and the Office Open XML documents built on them, read in
//! memory: members listed, nested archives followed within the budget.
//!
//! The directory is listed without decompressing anything; only members
//! worth reading (pages, PDFs, images, archives, and an Office document's
//! relationships and text) are inflated, each through a `take` of what the
//! budget has left. A member whose directory entry declares more than that,
//! or a compression ratio no document has, is a finding and is never
//! inflated. Before the zip crate reads the directory, the end record's
//! entry count is checked, so a directory that claims a million entries
//! costs nothing.

use super::sniff::{extension, kind_from_extension, sniff};
use super::{html_doc, Analysis, AttachmentKind, Budget, FindingCode, Member};
use std::io::{Cursor, Read};

/// Directory entries an archive may list before it is not read at all:
/// the zip crate keeps every entry in memory.
const MAX_DIRECTORY_ENTRIES: u64 = 10_000;
/// Declared inflated/compressed ratio above which a member is a bomb.
const BOMB_RATIO: u64 = 200;
/// Smallest declared size a bomb must have (small files of zeros are fine).
const BOMB_MIN_BYTES: u64 = 1 << 20;
/// Longest member name kept, in characters.
const MAX_MEMBER_NAME_CHARS: usize = 255;
/// `<Relationship` elements read per `.rels` part.
const MAX_RELATIONSHIPS: usize = 2_000;

/// Extensions of other archive formats: nested archives even unread.
const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "zipx", "rar", "7z", "gz", "tgz", "tar", "cab", "arj", "ace", "lzh", "xz", "bz2", "z",
];

/// A directory entry, as listed.
struct Entry {
    index: usize,
    name: String,
    size: u64,
    compressed: u64,
    encrypted: bool,
}

/// What to do with a member's bytes once read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// An OOXML relationships part: external targets.
    Relationships,
    /// An OOXML part whose text a reader sees.
    DocumentText,
    /// A file to sniff and read by its kind.
    File,
}

/// Lists a zip's members into `out` (and, for OOXML, its external links and
/// macros), following nested archives while `depth` allows.
pub(super) fn inspect_zip(bytes: &[u8], depth: u8, budget: &mut Budget, out: &mut Analysis) {
    if let Some(entries) = directory_entries(bytes) {
        if entries > MAX_DIRECTORY_ENTRIES {
            out.find(
                FindingCode::OverBudget,
                format!(
                    "the archive's directory lists {entries} entries; more than {MAX_DIRECTORY_ENTRIES} are not read"
                ),
            );
            return;
        }
    }
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            out.find(
                FindingCode::Unreadable,
                format!("the archive could not be read ({e})"),
            );
            return;
        }
    };
    let mut entries = Vec::with_capacity(archive.len().min(MAX_DIRECTORY_ENTRIES as usize));
    for index in 0..archive.len() {
        // Metadata only: neither the local header nor the data is touched.
        let Ok(e) = archive.by_index_data(index) else {
            continue;
        };
        if e.is_dir() {
            continue;
        }
        entries.push(Entry {
            index,
            name: member_name(e.name_raw()),
            size: e.size(),
            compressed: e.compressed_size(),
            encrypted: e.encrypted(),
        });
    }
    let office = entries
        .iter()
        .any(|e| e.name.eq_ignore_ascii_case("[Content_Types].xml"));
    let max_depth = budget.limits.max_depth;
    let member_depth = depth.saturating_add(1);
    for entry in &entries {
        if budget.members_left == 0 {
            out.find(
                FindingCode::OverBudget,
                format!(
                    "more than {} archive members; the rest are not listed",
                    budget.limits.max_members
                ),
            );
            break;
        }
        budget.members_left -= 1;
        let ext = extension(&entry.name);
        let by_name = ext.as_deref().and_then(kind_from_extension);
        let slot = out.members.len();
        out.members.push(Member {
            name: entry.name.clone(),
            kind: by_name.unwrap_or_default(),
            size_bytes: entry.size,
            encrypted: entry.encrypted,
            depth: member_depth,
        });
        if entry.encrypted {
            out.find(
                FindingCode::EncryptedArchive,
                format!(
                    "{:?} is encrypted (the password is usually in the message)",
                    entry.name
                ),
            );
        }
        let lower = entry.name.to_ascii_lowercase();
        if lower.ends_with("vbaproject.bin") {
            out.find(
                FindingCode::Macro,
                format!("the document holds macros ({})", entry.name),
            );
        }
        if ext
            .as_deref()
            .is_some_and(|e| ARCHIVE_EXTENSIONS.contains(&e))
        {
            out.find(
                FindingCode::NestedArchive,
                format!("{:?} is an archive inside the archive", entry.name),
            );
        }
        if by_name == Some(AttachmentKind::Executable) {
            out.find(
                FindingCode::Executable,
                format!(
                    "the archive holds {:?}, a program or script a click would run",
                    entry.name
                ),
            );
        }
        if is_bomb(entry) {
            out.find(
                FindingCode::OverBudget,
                format!(
                    "{:?} would inflate to {} bytes from {} ({}:1), a compression bomb; not read",
                    entry.name,
                    entry.size,
                    entry.compressed,
                    entry.size / entry.compressed.max(1)
                ),
            );
            continue;
        }
        let plan = if office && lower.ends_with(".rels") {
            Some(Plan::Relationships)
        } else if office && is_text_part(&lower) {
            Some(Plan::DocumentText)
        } else if matches!(
            by_name,
            Some(
                AttachmentKind::Html
                    | AttachmentKind::Pdf
                    | AttachmentKind::Image
                    | AttachmentKind::Archive
                    | AttachmentKind::Office
            )
        ) {
            Some(Plan::File)
        } else {
            None
        };
        let Some(plan) = plan else { continue };
        if entry.encrypted {
            continue;
        }
        if entry.size > budget.inflated_left as u64 {
            out.find(
                FindingCode::OverBudget,
                format!(
                    "{:?} would inflate to {} bytes, more than the {} left to read",
                    entry.name, entry.size, budget.inflated_left
                ),
            );
            continue;
        }
        if plan == Plan::File
            && matches!(
                by_name,
                Some(AttachmentKind::Archive | AttachmentKind::Office)
            )
            && depth >= max_depth
        {
            out.find(
                FindingCode::OverBudget,
                format!(
                    "archives nested deeper than {max_depth} are not read ({:?})",
                    entry.name
                ),
            );
            continue;
        }
        let Some(data) = read_member(&mut archive, entry, budget, out) else {
            continue;
        };
        match plan {
            Plan::Relationships => relationships(&data, &entry.name, budget, out),
            Plan::DocumentText => {
                let text = xml_text(&data, budget.limits.max_text_bytes);
                out.push_text(&text, &budget.limits);
            }
            Plan::File => {
                let kind = sniff(&data, Some(&entry.name), "").kind;
                if let Some(m) = out.members.get_mut(slot) {
                    m.kind = kind;
                }
                match kind {
                    AttachmentKind::Archive | AttachmentKind::Office => {
                        if kind == AttachmentKind::Archive {
                            out.find(
                                FindingCode::NestedArchive,
                                format!("{:?} is an archive inside the archive", entry.name),
                            );
                        }
                        if depth < max_depth {
                            super::inspect_bytes(&data, kind, member_depth, budget, out);
                        } else {
                            out.find(
                                FindingCode::OverBudget,
                                format!(
                                    "archives nested deeper than {max_depth} are not read ({:?})",
                                    entry.name
                                ),
                            );
                        }
                    }
                    AttachmentKind::Html | AttachmentKind::Pdf | AttachmentKind::Image => {
                        super::inspect_bytes(&data, kind, member_depth, budget, out);
                    }
                    AttachmentKind::Executable => out.find(
                        FindingCode::Executable,
                        format!(
                            "the archive holds {:?}, a program a click would run",
                            entry.name
                        ),
                    ),
                    _ => {}
                }
            }
        }
    }
}

/// A member name as stored, lossy UTF-8, at most
/// [`MAX_MEMBER_NAME_CHARS`] characters.
fn member_name(raw: &[u8]) -> String {
    let name = String::from_utf8_lossy(raw);
    match name.char_indices().nth(MAX_MEMBER_NAME_CHARS) {
        Some((at, _)) => name.get(..at).unwrap_or_default().to_string(),
        None => name.into_owned(),
    }
}

/// Whether the directory declares a ratio no real file has.
fn is_bomb(entry: &Entry) -> bool {
    entry.size >= BOMB_MIN_BYTES && entry.size / entry.compressed.max(1) >= BOMB_RATIO
}

/// OOXML parts whose text a reader sees.
fn is_text_part(lower: &str) -> bool {
    lower == "word/document.xml"
        || lower == "xl/sharedstrings.xml"
        || (lower.starts_with("ppt/slides/slide") && lower.ends_with(".xml"))
}

/// A member's bytes, inflated through a `take` of what the budget has left
/// (the declared size may lie), the budget charged for what came out.
fn read_member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    entry: &Entry,
    budget: &mut Budget,
    out: &mut Analysis,
) -> Option<Vec<u8>> {
    let limit = entry.size.min(budget.inflated_left as u64);
    let file = match archive.by_index(entry.index) {
        Ok(f) => f,
        Err(e) => {
            out.find(
                FindingCode::Unreadable,
                format!("{:?} could not be read ({e})", entry.name),
            );
            return None;
        }
    };
    let mut data = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
    let result = file.take(limit).read_to_end(&mut data);
    budget.inflated_left = budget.inflated_left.saturating_sub(data.len());
    if let Err(e) = result {
        out.find(
            FindingCode::Unreadable,
            format!("{:?} could not be inflated ({e})", entry.name),
        );
        return None;
    }
    Some(data)
}

/// An OOXML relationships part: every `TargetMode="External"` target is an
/// external link (a remote template, a linked object, a hyperlink).
fn relationships(data: &[u8], part: &str, budget: &Budget, out: &mut Analysis) {
    let xml = String::from_utf8_lossy(data);
    let mut rest: &str = &xml;
    for _ in 0..MAX_RELATIONSHIPS {
        let Some(start) = rest.find("<Relationship ") else {
            break;
        };
        let from = rest.get(start..).unwrap_or_default();
        let end = from.find('>').unwrap_or(from.len());
        let tag = from.get(..end).unwrap_or_default();
        rest = from.get(end..).unwrap_or_default();
        let external = html_doc::attr(tag, "TargetMode")
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("external"));
        if !external {
            continue;
        }
        let Some(target) = html_doc::attr(tag, "Target") else {
            continue;
        };
        let target = target.trim();
        let kind = html_doc::attr(tag, "Type")
            .map(|t| t.rsplit('/').next().unwrap_or_default().to_string())
            .unwrap_or_default();
        let what = if kind.is_empty() {
            "link".to_string()
        } else {
            kind
        };
        out.find(
            FindingCode::ExternalLink,
            format!("{part} loads an external {what} from {target}"),
        );
        out.url(target, false, &budget.limits);
    }
}

/// The text of an OOXML part: tags dropped, paragraphs on their own lines,
/// entities decoded, at most `max` bytes.
fn xml_text(data: &[u8], max: usize) -> String {
    let xml = String::from_utf8_lossy(data);
    let mut text = String::new();
    let mut rest: &str = &xml;
    while text.len() < max {
        let Some(open) = rest.find('<') else {
            text.push_str(rest);
            break;
        };
        text.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open..).unwrap_or_default();
        let close = after.find('>').unwrap_or(after.len());
        let tag = after.get(..close).unwrap_or_default();
        if tag.starts_with("</w:p") || tag.starts_with("</a:p") || tag.starts_with("</si") {
            text.push('\n');
        } else if tag.starts_with("<w:tab") || tag.starts_with("<w:br") {
            text.push(' ');
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    let decoded = html_escape::decode_html_entities(&text);
    crate::html::truncate_at_char(&decoded, max).to_string()
}

/// The entry count the end-of-central-directory record (or its zip64
/// form) declares; None when there is no record to read.
fn directory_entries(bytes: &[u8]) -> Option<u64> {
    let from = bytes.len().saturating_sub(22 + 0xFFFF);
    let tail = bytes.get(from..)?;
    let at = memchr::memmem::rfind(tail, b"PK\x05\x06")?;
    let eocd = tail.get(at..at + 22)?;
    let total = u16::from_le_bytes([*eocd.get(10)?, *eocd.get(11)?]);
    if total != 0xFFFF {
        return Some(u64::from(total));
    }
    // Zip64: a locator just before the record points at the zip64 record.
    let locator_at = (from + at).checked_sub(20)?;
    let locator = bytes.get(locator_at..locator_at + 20)?;
    if !locator.starts_with(b"PK\x06\x07") {
        return Some(u64::from(total));
    }
    let offset = usize::try_from(u64::from_le_bytes(locator.get(8..16)?.try_into().ok()?)).ok()?;
    let record = bytes.get(offset..offset.checked_add(56)?)?;
    if !record.starts_with(b"PK\x06\x06") {
        return Some(u64::from(total));
    }
    Some(u64::from_le_bytes(record.get(32..40)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachment::AttachmentLimits;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in members {
            w.start_file(*name, SimpleFileOptions::default())
                .expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    fn read(bytes: &[u8], limits: &AttachmentLimits) -> (Analysis, Budget) {
        let mut budget = Budget::new(limits);
        let mut out = Analysis::default();
        inspect_zip(bytes, 0, &mut budget, &mut out);
        (out, budget)
    }

    fn codes(a: &Analysis) -> Vec<FindingCode> {
        a.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn members_are_listed_with_their_sizes_and_kinds() {
        let z = zip_of(&[
            ("a.txt", b"hello"),
            ("page.html", b"<html><body>x</body></html>"),
        ]);
        let (a, budget) = read(&z, &AttachmentLimits::default());
        let names: Vec<_> = a
            .members
            .iter()
            .map(|m| (m.name.as_str(), m.kind, m.size_bytes))
            .collect();
        assert_eq!(
            names,
            vec![
                ("a.txt", AttachmentKind::Text, 5),
                ("page.html", AttachmentKind::Html, 27)
            ]
        );
        assert_eq!(budget.members_left, 998);
        // Only the page was inflated.
        assert_eq!(budget.inflated_left, (32 << 20) - 27);
    }

    #[test]
    fn the_member_budget_stops_the_listing() {
        let z = zip_of(&[("1.txt", b"a"), ("2.txt", b"b"), ("3.txt", b"c")]);
        let limits = AttachmentLimits {
            max_members: 2,
            ..AttachmentLimits::default()
        };
        let (a, _) = read(&z, &limits);
        assert_eq!(a.members.len(), 2);
        assert_eq!(codes(&a), vec![FindingCode::OverBudget]);
    }

    #[test]
    fn a_member_larger_than_the_inflate_budget_is_not_read() {
        let big = vec![b'<'; 4096];
        let z = zip_of(&[("big.html", &big)]);
        let limits = AttachmentLimits {
            max_inflated_bytes: 1000,
            ..AttachmentLimits::default()
        };
        let (a, budget) = read(&z, &limits);
        let f = a.findings.first().expect("a finding");
        assert_eq!(f.code, FindingCode::OverBudget);
        assert!(f.detail.contains("4096"), "{}", f.detail);
        assert_eq!(budget.inflated_left, 1000);
    }

    #[test]
    fn garbage_is_unreadable() {
        let (a, _) = read(
            b"PK\x03\x04 this is not a zip at all",
            &AttachmentLimits::default(),
        );
        assert_eq!(codes(&a), vec![FindingCode::Unreadable]);
    }

    #[test]
    fn the_end_record_entry_count_is_read_without_the_zip_crate() {
        let z = zip_of(&[("1.txt", b"a"), ("2.txt", b"b")]);
        assert_eq!(directory_entries(&z), Some(2));
        assert_eq!(directory_entries(b"no record"), None);
    }

    #[test]
    fn relationships_with_external_targets_are_links() {
        let rels = br#"<?xml version="1.0"?><Relationships><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="https://tpl.example/t.dotm?a=1&amp;b=2" TargetMode="External"/><Relationship Id="r2" Type="x/styles" Target="styles.xml"/></Relationships>"#;
        let budget = Budget::new(&AttachmentLimits::default());
        let mut out = Analysis::default();
        relationships(rels, "word/_rels/settings.xml.rels", &budget, &mut out);
        let f = out.findings.first().expect("a finding");
        assert_eq!(f.code, FindingCode::ExternalLink);
        assert!(f.detail.contains("attachedTemplate"), "{}", f.detail);
        assert_eq!(out.urls.len(), 1);
        assert_eq!(
            out.urls.first().map(|u| u.url.as_str()),
            Some("https://tpl.example/t.dotm?a=1&b=2")
        );
    }

    #[test]
    fn document_text_keeps_runs_and_paragraphs() {
        let xml = br#"<w:document><w:body><w:p><w:r><w:t>Pay the </w:t></w:r><w:r><w:t>invoice &amp; call</w:t></w:r></w:p><w:p><w:r><w:t>Bye</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(xml_text(xml, 1000), "Pay the invoice & call\nBye\n");
        assert_eq!(xml_text(xml, 5), "Pay t");
    }
}
