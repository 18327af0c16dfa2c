//! Attachments read end to end: real files made by real crates (zip's
//! ZipWriter, Word's own part layout), carried base64 in a MIME message and
//! read by `MessageView::parse`; then hostile archives (a bomb, a nest, a
//! directory that claims a million entries, truncated and garbage zips),
//! each of which must give its finding and return.

#[path = "support/archive_files.rs"]
mod archive_files;

use archive_files::{
    docx_with_external_template, mime_with_attachment, nested_zips, zip_bomb, zip_of,
};
use impostor_features::attachment::{Attachment, AttachmentKind, FindingCode, LinkOrigin};
use impostor_features::{Context, Envelope, MessageView, OrgProfile};
use std::io::{Cursor, Write};
use std::sync::OnceLock;

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        Context::builder(OrgProfile::default())
            .build()
            .expect("a default context builds")
    })
}

fn parse(bytes: &[u8]) -> MessageView {
    MessageView::parse(bytes, &Envelope::default(), ctx()).expect("the message parses")
}

/// The one attachment of a message made by [`mime_with_attachment`].
fn only_attachment(view: &MessageView) -> &Attachment {
    assert_eq!(view.attachments.len(), 1, "{:#?}", view.attachments);
    view.attachments.first().expect("one attachment")
}

fn codes(a: &Attachment) -> Vec<FindingCode> {
    a.findings.iter().map(|f| f.code).collect()
}

fn detail(a: &Attachment, code: FindingCode) -> &str {
    a.findings
        .iter()
        .find(|f| f.code == code)
        .map(|f| f.detail.as_str())
        .unwrap_or_else(|| panic!("no {code:?} finding in {:#?}", a.findings))
}

/// A message whose attachment part has the given Content-Type and
/// Content-Disposition fields, written as is (for names the plain helper
/// would quote).
fn mime_with_fields(fields: &str, bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(bytes);
    format!(
        "From: a@supplier.example\r\nTo: b@kestrelfoods.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
--XX\r\n{fields}\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n--XX--\r\n"
    )
    .into_bytes()
}

const CREDENTIAL_PAGE: &str = r#"<!DOCTYPE html><html><head><title>Sign in</title></head><body>
<p>Your mailbox session expired. Sign in to view the invoice.</p>
<form method="POST" action="https://m1crosoft-login.example/auth.php">
<input type="email" name="login" placeholder="Email"><input type="password" name="passwd">
<button>Next</button></form><a href="https://help.m1crosoft-login.example/faq">Help</a></body></html>"#;

// ------------------------------------------------------------ names

#[test]
fn an_rfc_2231_name_with_continuations_is_decoded() {
    let m = mime_with_fields(
        "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=utf-8''Zahlungsavis%20M%C3%A4rz;\r\n filename*1*=%202025.pdf",
        b"%PDF-1.4\n%%EOF\n",
    );
    let view = parse(&m);
    assert_eq!(
        only_attachment(&view).name.as_deref(),
        Some("Zahlungsavis März 2025.pdf")
    );
}

#[test]
fn an_encoded_word_name_is_decoded() {
    let m = mime_with_fields(
        "Content-Type: application/pdf; name=\"=?utf-8?B?UmVjaG51bmdfw5xiZXJzaWNodC5wZGY=?=\"\r\nContent-Disposition: attachment",
        b"%PDF-1.4\n%%EOF\n",
    );
    let view = parse(&m);
    assert_eq!(
        only_attachment(&view).name.as_deref(),
        Some("Rechnung_Übersicht.pdf")
    );
}

#[test]
fn a_right_to_left_override_name_is_a_bidi_control_and_a_double_extension() {
    let m = mime_with_attachment(
        "Invoice_2025\u{202E}fdp.exe",
        "application/octet-stream",
        b"MZ\x90\0\x03\0\0\0\x04\0",
    );
    let view = parse(&m);
    let a = only_attachment(&view);
    let c = codes(a);
    for code in [
        FindingCode::BidiControl,
        FindingCode::DoubleExtension,
        FindingCode::Executable,
    ] {
        assert!(c.contains(&code), "{code:?} missing from {:#?}", a.findings);
    }
    assert!(
        detail(a, FindingCode::DoubleExtension).contains("exe.pdf"),
        "{:#?}",
        a.findings
    );
    assert_eq!(a.kind, AttachmentKind::Executable);
}

#[test]
fn a_pdf_html_double_extension_is_reported_with_the_name() {
    let m = mime_with_attachment(
        "Remittance.pdf.html",
        "application/pdf",
        CREDENTIAL_PAGE.as_bytes(),
    );
    let view = parse(&m);
    let a = only_attachment(&view);
    assert!(detail(a, FindingCode::DoubleExtension).contains("Remittance.pdf.html"));
}

// ------------------------------------------------------------ HTML

#[test]
fn html_declared_as_pdf_is_a_mismatch_and_its_form_a_credential_form() {
    let m = mime_with_attachment("Invoice.pdf", "application/pdf", CREDENTIAL_PAGE.as_bytes());
    let view = parse(&m);
    let a = only_attachment(&view);
    assert_eq!(a.kind, AttachmentKind::Html);
    assert_eq!(a.sniffed_type.as_deref(), Some("text/html"));
    assert!(
        codes(a).contains(&FindingCode::TypeMismatch),
        "{:#?}",
        a.findings
    );
    assert!(detail(a, FindingCode::CredentialForm).contains("m1crosoft-login.example"));
    let from_attachment: Vec<_> = view
        .links
        .iter()
        .filter(|l| l.origin == LinkOrigin::Attachment(0))
        .map(|l| l.href.as_str())
        .collect();
    assert!(
        from_attachment.contains(&"https://m1crosoft-login.example/auth.php"),
        "{from_attachment:?}"
    );
    assert!(
        from_attachment.contains(&"https://help.m1crosoft-login.example/faq"),
        "{from_attachment:?}"
    );
    assert!(
        view.attachment_text.contains("session expired"),
        "{}",
        view.attachment_text
    );
}

#[test]
fn a_meta_refresh_page_links_its_target() {
    let page = r#"<html><head><meta http-equiv="refresh" content="0;url=https://docs-share.example/view?id=7"></head><body>Loading…</body></html>"#;
    let view = parse(&mime_with_attachment(
        "Statement.htm",
        "text/html",
        page.as_bytes(),
    ));
    let a = only_attachment(&view);
    assert!(detail(a, FindingCode::MetaRefresh).contains("docs-share.example"));
    assert!(view
        .links
        .iter()
        .any(|l| l.origin == LinkOrigin::Attachment(0)
            && l.host.as_deref() == Some("docs-share.example")));
}

#[test]
fn html_smuggling_with_atob_and_a_blob_is_smuggling_and_script_decoding() {
    let page = r#"<html><body><script>
var b64 = "UEsDBBQAAAAIAA==";
var raw = atob(b64);
var bytes = new Uint8Array(raw.length);
for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
var blob = new Blob([bytes], {type: "application/octet-stream"});
var a = document.createElement("a");
a.href = window.URL.createObjectURL(blob);
a.download = "Invoice.zip";
document.body.innerHTML = "<p>Downloading</p>";
a.click();
</script></body></html>"#;
    let view = parse(&mime_with_attachment(
        "Invoice.html",
        "text/html",
        page.as_bytes(),
    ));
    let a = only_attachment(&view);
    let c = codes(a);
    assert!(c.contains(&FindingCode::Smuggling), "{:#?}", a.findings);
    assert!(c.contains(&FindingCode::ScriptDecodes), "{:#?}", a.findings);
}

#[test]
fn a_credential_form_in_the_body_html_is_a_body_finding() {
    let m = format!(
        "From: a@supplier.example\r\nTo: b@kestrelfoods.example\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n{CREDENTIAL_PAGE}\r\n"
    );
    let view = parse(m.as_bytes());
    assert!(
        view.body_findings
            .iter()
            .any(|f| f.code == FindingCode::CredentialForm),
        "{:#?}",
        view.body_findings
    );
    assert!(view.attachments.is_empty());
}

// ------------------------------------------------------------ archives

#[test]
fn a_zip_lists_stored_and_deflated_members_and_reads_the_page_inside() {
    let inner = zip_of(&[("readme.txt", b"nothing here")]);
    let z = zip_of(&[
        ("notes.txt", b"quarterly figures, see the page".as_slice()),
        ("portal/login.html", CREDENTIAL_PAGE.as_bytes()),
        ("old.zip", &inner),
    ]);
    let view = parse(&mime_with_attachment("docs.zip", "application/zip", &z));
    let a = only_attachment(&view);
    assert_eq!(a.kind, AttachmentKind::Archive);
    assert_eq!(a.sniffed_type.as_deref(), Some("application/zip"));
    let members: Vec<_> = a
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.kind, m.depth))
        .collect();
    assert_eq!(
        members,
        vec![
            ("notes.txt", AttachmentKind::Text, 1),
            ("portal/login.html", AttachmentKind::Html, 1),
            ("old.zip", AttachmentKind::Archive, 1),
            ("readme.txt", AttachmentKind::Text, 2),
        ]
    );
    assert_eq!(
        a.members.get(1).map(|m| m.size_bytes),
        Some(CREDENTIAL_PAGE.len() as u64)
    );
    let c = codes(a);
    assert!(
        c.contains(&FindingCode::CredentialForm),
        "{:#?}",
        a.findings
    );
    assert!(c.contains(&FindingCode::NestedArchive), "{:#?}", a.findings);
    assert!(view
        .links
        .iter()
        .any(|l| l.origin == LinkOrigin::Attachment(0)
            && l.href == "https://m1crosoft-login.example/auth.php"));
}

#[test]
fn a_zipcrypto_encrypted_member_is_an_encrypted_archive() {
    use zip::unstable::write::FileOptionsExt;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .with_deprecated_encryption(b"Invoice2025")
        .expect("ZipCrypto options");
    w.start_file("Invoice.js", options).expect("start");
    w.write_all(b"WScript.Shell.Run('calc')").expect("write");
    let z = w.finish().expect("finish").into_inner();
    let view = parse(&mime_with_attachment("Invoice.zip", "application/zip", &z));
    let a = only_attachment(&view);
    assert!(detail(a, FindingCode::EncryptedArchive).contains("Invoice.js"));
    assert!(
        codes(a).contains(&FindingCode::Executable),
        "{:#?}",
        a.findings
    );
    assert_eq!(a.members.first().map(|m| m.encrypted), Some(true));
}

#[test]
fn a_docx_with_a_remote_template_is_an_external_link() {
    let url = "http://198.51.100.7/templates/invoice.dotm";
    let view = parse(&mime_with_attachment(
        "Remittance.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &docx_with_external_template(url),
    ));
    let a = only_attachment(&view);
    assert_eq!(a.kind, AttachmentKind::Office);
    assert_eq!(
        a.sniffed_type.as_deref(),
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    );
    let d = detail(a, FindingCode::ExternalLink);
    assert!(d.contains("attachedTemplate") && d.contains(url), "{d}");
    assert!(!codes(a).contains(&FindingCode::Macro));
    assert!(
        view.links
            .iter()
            .any(|l| l.href == url && l.origin == LinkOrigin::Attachment(0) && l.host_is_ip),
        "{:#?}",
        view.links
    );
    assert!(
        view.attachment_text.contains("enable editing"),
        "{}",
        view.attachment_text
    );
}

#[test]
fn a_docm_with_a_vba_project_is_a_macro_document() {
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"#;
    let doc = r#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Enable content</w:t></w:r></w:p></w:body></w:document>"#;
    let z = zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("word/document.xml", doc.as_bytes()),
        (
            "word/vbaProject.bin",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 not really a project",
        ),
    ]);
    let view = parse(&mime_with_attachment(
        "Order.docm",
        "application/vnd.ms-word.document.macroEnabled.12",
        &z,
    ));
    let a = only_attachment(&view);
    assert_eq!(a.kind, AttachmentKind::Office);
    assert!(detail(a, FindingCode::Macro).contains("word/vbaProject.bin"));
    assert!(
        !codes(a).contains(&FindingCode::TypeMismatch),
        "{:#?}",
        a.findings
    );
}

// ------------------------------------------------------------ hostile archives

#[test]
fn a_gibibyte_zip_bomb_is_reported_and_never_inflated() {
    let bomb = zip_bomb(1 << 30);
    assert!(bomb.len() < 4 << 20, "the bomb is {} bytes", bomb.len());
    let view = parse(&mime_with_attachment(
        "report.zip",
        "application/zip",
        &bomb,
    ));
    let a = only_attachment(&view);
    let d = detail(a, FindingCode::OverBudget);
    assert!(d.contains("1073741824"), "{d}");
    assert_eq!(a.members.first().map(|m| m.size_bytes), Some(1 << 30));
}

#[test]
fn zips_nested_thirty_deep_stop_at_the_depth_limit() {
    let view = parse(&mime_with_attachment(
        "nest.zip",
        "application/zip",
        &nested_zips(30),
    ));
    let a = only_attachment(&view);
    let max_depth = ctx().limits().attachments.max_depth;
    assert!(
        detail(a, FindingCode::OverBudget).contains(&format!("nested deeper than {max_depth}")),
        "{:#?}",
        a.findings
    );
    assert!(codes(a).contains(&FindingCode::NestedArchive));
    let deepest = a.members.iter().map(|m| m.depth).max();
    assert_eq!(deepest, Some(max_depth + 1), "{:#?}", a.members);
    // The page at the bottom is never reached.
    assert!(!codes(a).contains(&FindingCode::CredentialForm));
}

#[test]
fn a_directory_claiming_a_million_entries_is_not_read() {
    // A real one-member zip whose end record is replaced by a zip64 end
    // record, its locator and a classic record that defers to it, all
    // claiming 1,000,000 entries.
    let z = zip_of(&[("a.txt", b"a")]);
    let eocd_at = z.len() - 22;
    assert_eq!(z.get(eocd_at..eocd_at + 4), Some(&b"PK\x05\x06"[..]));
    let cd_size = u32::from_le_bytes(z[eocd_at + 12..eocd_at + 16].try_into().expect("4 bytes"));
    let cd_offset = u32::from_le_bytes(z[eocd_at + 16..eocd_at + 20].try_into().expect("4 bytes"));
    let mut crafted = z[..eocd_at].to_vec();
    let zip64_at = crafted.len() as u64;
    crafted.extend_from_slice(b"PK\x06\x06");
    crafted.extend_from_slice(&44u64.to_le_bytes()); // size of the rest
    crafted.extend_from_slice(&45u16.to_le_bytes()); // made by
    crafted.extend_from_slice(&45u16.to_le_bytes()); // needed
    crafted.extend_from_slice(&0u32.to_le_bytes()); // this disk
    crafted.extend_from_slice(&0u32.to_le_bytes()); // directory disk
    crafted.extend_from_slice(&1_000_000u64.to_le_bytes()); // entries here
    crafted.extend_from_slice(&1_000_000u64.to_le_bytes()); // entries in all
    crafted.extend_from_slice(&u64::from(cd_size).to_le_bytes());
    crafted.extend_from_slice(&u64::from(cd_offset).to_le_bytes());
    crafted.extend_from_slice(b"PK\x06\x07");
    crafted.extend_from_slice(&0u32.to_le_bytes());
    crafted.extend_from_slice(&zip64_at.to_le_bytes());
    crafted.extend_from_slice(&1u32.to_le_bytes());
    crafted.extend_from_slice(
        b"PK\x05\x06\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\0\0",
    );
    let view = parse(&mime_with_attachment(
        "many.zip",
        "application/zip",
        &crafted,
    ));
    let a = only_attachment(&view);
    assert!(
        detail(a, FindingCode::OverBudget).contains("1000000 entries"),
        "{:#?}",
        a.findings
    );
    assert!(a.members.is_empty());
}

#[test]
fn a_truncated_zip_is_unreadable() {
    let z = zip_of(&[
        ("page.html", CREDENTIAL_PAGE.as_bytes()),
        ("b.txt", b"bbbb"),
    ]);
    let half = z.get(..z.len() / 2).expect("half");
    let view = parse(&mime_with_attachment("cut.zip", "application/zip", half));
    let a = only_attachment(&view);
    assert_eq!(codes(a), vec![FindingCode::Unreadable], "{:#?}", a.findings);
}

#[test]
fn garbage_after_a_zip_signature_is_unreadable() {
    let mut junk = b"PK\x03\x04".to_vec();
    let mut x: u32 = 12345;
    for _ in 0..100_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        junk.push((x >> 16) as u8);
    }
    // A stray end-of-directory signature pointing nowhere.
    junk.extend_from_slice(b"PK\x05\x06\0\0\0\0\x05\0\x05\0\xff\xff\0\0\xff\xff\xff\x7f\0\0");
    let view = parse(&mime_with_attachment("junk.zip", "application/zip", &junk));
    let a = only_attachment(&view);
    assert_eq!(codes(a), vec![FindingCode::Unreadable], "{:#?}", a.findings);
}
