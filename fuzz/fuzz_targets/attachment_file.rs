//! Attachment bytes → `attachment::read_file` under the default limits and
//! under tight ones: name checks, sniffing, zip and OOXML, HTML pages, PDF,
//! images and QR codes. The first byte picks the declared type (so every
//! reader is reached whatever the bytes sniff as); the rest is the file.

#![no_main]

use impostor_features::attachment::{read_file, AttachmentLimits};
use libfuzzer_sys::fuzz_target;

const DECLARED: [(&str, &str); 8] = [
    ("invoice.pdf", "application/pdf"),
    ("scan.png", "image/png"),
    ("photo.jpg", "image/jpeg"),
    ("archive.zip", "application/zip"),
    (
        "report.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("remittance.html", "text/html"),
    ("\u{202e}fdp.exe", "application/octet-stream"),
    ("", ""),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let (name, declared) = DECLARED[usize::from(pick) % DECLARED.len()];
    let tight = AttachmentLimits::tight();
    for limits in [AttachmentLimits::default(), tight] {
        let reading = read_file(
            Some(name).filter(|n| !n.is_empty()),
            declared,
            bytes,
            &limits,
        );
        assert!(
            reading.links.len() <= limits.max_links,
            "{} links",
            reading.links.len()
        );
        assert!(
            reading.text.len() <= limits.max_text_bytes,
            "{} text bytes",
            reading.text.len()
        );
        assert!(reading.attachment.members.len() <= limits.max_members);
        assert_eq!(reading.attachment.size_bytes, bytes.len() as u64);
    }
});
