//! The hostile suite as files: every case of issue 15 (and a few more), plus
//! whatever the fuzzing setup keeps under fuzz/regressions and fuzz/seeds.
//! Shared by tests/hostile_inputs.rs and benches/hostile_scan.rs; the
//! including crate declares the feature tests' builders as `builders`:
//!
//! ```ignore
//! #[path = "../../features/tests/support/mod.rs"]
//! mod builders;
//! ```
//!
//! Each case is built when it is written, one at a time, so that the
//! suite's 200-odd MB are never in memory at once.
#![allow(dead_code)]

use crate::builders::{
    big_attachment, deep_mime, long_header, many_headers, many_links, Lcg, HEAD,
};
use std::path::{Path, PathBuf};

/// One hostile message: its file name (without `.eml`) and how to build it.
pub struct Case {
    pub name: String,
    pub build: Box<dyn Fn() -> Vec<u8>>,
}

fn case(name: impl Into<String>, build: impl Fn() -> Vec<u8> + 'static) -> Case {
    Case {
        name: name.into(),
        build: Box::new(build),
    }
}

/// Seeded random bytes that do not start like an mbox or an archive (a file
/// that did would be read as a container of several messages, not as one).
fn garbage(seed: u64, n: usize) -> Vec<u8> {
    let mut bytes = Lcg(seed).bytes(n);
    if let Some(first) = bytes.first_mut() {
        if *first == 0x1f || *first == b'F' {
            *first = 0;
        }
    }
    bytes
}

/// HEAD, then `rest` (more fields, the blank line, a body).
fn with_head(rest: &[u8]) -> Vec<u8> {
    let mut m = HEAD.as_bytes().to_vec();
    m.extend_from_slice(rest);
    m
}

/// An HTML message with one anchor to `href`, and `href` in the text too.
fn href_message(href: &str) -> Vec<u8> {
    with_head(
        format!(
            "Content-Type: text/html; charset=utf-8\r\n\r\n\
             <html><body><a href=\"{href}\">{href}</a> and {href}</body></html>\r\n"
        )
        .as_bytes(),
    )
}

/// The built-in suite, in a fixed order.
pub fn builtin() -> Vec<Case> {
    let ten = 10 << 20;
    let mut cases = vec![
        // Size: over scan's 64 MiB limit on the wire (~69 MB), and under it
        // (~55 MB); both over serve's 20 MiB default.
        case("attachment_50mb", || big_attachment(50 << 20)),
        case("attachment_40mb", || big_attachment(40 << 20)),
        // Under serve's limit: the HTTP service reads and judges this one.
        case("attachment_12mb", || big_attachment(12 << 20)),
        case("headers_10000", || many_headers(10_000)),
        case("mime_depth_1000", || deep_mime(1_000)),
        case("mime_depth_10000", || deep_mime(10_000)),
        case("links_100000", || many_links(100_000)),
    ];
    // 10 MB single-line header fields.
    for (name, field, unit) in [
        ("subject", "Subject", "A"),
        ("subject_encoded_words", "Subject", "=?utf-8?q?=41=40?= "),
        ("subject_open_encoded_word", "Subject", "=?utf-8?b?"),
        ("from_angle_at", "From", "<@"),
        ("from_encoded_word_angle", "From", "=?utf-8?q?x=40y?= <"),
        (
            "from_encoded_word_names",
            "From",
            "\"=?utf-8?q?a=40?=\" <x@y.example>, ",
        ),
        ("reply_to_route", "Reply-To", "<@a:"),
        (
            "received",
            "Received",
            "from x.example (x.example [198.51.100.1]) ",
        ),
        ("dkim_signature", "DKIM-Signature", "v=1; "),
        (
            "authentication_results",
            "Authentication-Results",
            "mx.kestrelfoods.com; dkim=pass header.d=kestrelfoods.com; ",
        ),
    ] {
        cases.push(case(format!("header_10mb_{name}"), move || {
            long_header(field, unit, ten)
        }));
    }
    cases.extend([
        // Garbage: raw, after a valid header block, and as header lines.
        case("garbage_64k", || garbage(0x5eed_0000_0000_0001, 64 << 10)),
        case("garbage_1mb", || garbage(0x5eed_0000_0000_0002, 1 << 20)),
        case("garbage_after_headers", || {
            let mut m = with_head(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n");
            m.extend(Lcg(0x5eed_0000_0000_0003).bytes(1 << 20));
            m
        }),
        case("garbage_header_lines", || {
            let mut rng = Lcg(0x5eed_0000_0000_0004);
            let mut m = b"X: y\r\n".to_vec();
            for _ in 0..2_000 {
                m.extend(rng.bytes(40).into_iter().filter(|b| *b != b'\n'));
                m.extend_from_slice(b": \xff\xfe\r\n");
            }
            m
        }),
        // Nothing, or nearly.
        case("empty", Vec::new),
        case("blank", || b"\r\n\r\n \t\n".to_vec()),
        case("one_byte", || b"x".to_vec()),
        // A header block without a body.
        case("no_body_no_newline", || {
            b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\nSubject: no body".to_vec()
        }),
        case("no_body_no_blank_line", || {
            b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\nSubject: no body\r\n".to_vec()
        }),
        case("no_body_multipart", || {
            b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\nContent-Type: multipart/mixed; boundary=z\n"
                .to_vec()
        }),
        // NUL bytes: in fields, in the body, and nothing else.
        case("nul_bytes", || {
            b"From: Daniel\0Brandt <d.brandt\0@kestrelfoods.com>\r\n\
              To: ap@kestrelfoods.com\r\nSubject: \0\0\0 wire \0 today\r\n\
              Content-Type: text/html; charset=utf-8\r\n\r\n\
              <a href=\"http://x\0y.example/\">pay\0</a>\0\0\0\r\n"
                .to_vec()
        }),
        case("nul_only", || vec![0u8; 64 << 10]),
    ]);
    // The href that once killed a whole scan (`href[..4]` inside 'é') and
    // its friends: hrefs whose 4th (5th, 7th) byte ends inside a character.
    for (name, href) in [
        ("a_e_e", "aéé"),
        ("e_e_e", "ééé"),
        ("w_euro", "w€"),
        ("www_e", "www\u{e9}.example"),
        ("www_dot_e", "WWW.é.example/€"),
        ("abc_e", "abcé"),
        ("ab_euro", "ab€"),
        ("a_4byte", "a𝕏𝕏"),
        ("emoji", "😀😀"),
        ("htt_euro", "htt€://x"),
        ("http_e", "httpé://x"),
        ("mailto_e", "mailtoé:x@y"),
        ("mailt_euro", "mailt€"),
        ("https_colon_e", "https:é"),
        ("scheme_4byte", "h𝕏tps://x.example/"),
    ] {
        cases.push(case(format!("href_{name}"), move || href_message(href)));
    }
    cases.extend([
        // Invalid UTF-8 in fields, in an encoded-word, and in a UTF-8 body.
        case("invalid_utf8_headers", || {
            b"From: \xff\xfe Brandt \xc3\x28 <d.brandt@kestrelfoods.com>\r\n\
              Reply-To: \xed\xa0\x80@kestr\xe9lfoods.com\r\n\
              To: ap@kestrelfoods.com\r\n\
              Subject: \xc3\x28 \xe2\x82 \xf0\x90\x80 =?utf-8?b?w7/+/w==?= =?utf-8?q?=C3=28?=\r\n\
              X-Mailer: \x80\x81\x82\r\n\
              \xc0\xaf\xff: value\r\n\
              Content-Type: text/plain; charset=\"\xff\"\r\n\r\n\
              wire \xc3\x28 the \xf8\x88\x80\x80\x80 money\r\n"
                .to_vec()
        }),
        // CR-only line endings, a plain message and a multipart one.
        case("cr_only", || {
            HEAD.replace("\r\n", "\r")
                .into_bytes()
                .into_iter()
                .chain(
                    b"Content-Type: multipart/alternative; boundary=\"c\"\r\r--c\r\
                      Content-Type: text/plain\r\rpay now https://pay.example/\r--c\r\
                      Content-Type: text/html\r\r<a href=\"https://x.example\">y</a>\r--c--\r"
                        .iter()
                        .copied(),
                )
                .collect()
        }),
        case("lf_cr_mixed", || {
            b"From: a@b.example\n\rSubject: x\r\r\n\n\rTo: c@d.example\r\n\n\rbody\r\r\r".to_vec()
        }),
        // One 1 MB base64 line: as the text, and as an attachment.
        case("base64_line_1mb_text", || {
            let mut m = with_head(
                b"Content-Type: text/plain; charset=utf-8\r\n\
                  Content-Transfer-Encoding: base64\r\n\r\n",
            );
            m.extend(b"d2lyZSB0aGUgbW9uZXkgaHR0cHM6Ly9wYXkuZXhhbXBsZS8g".repeat((1 << 20) / 48));
            m.extend_from_slice(b"\r\n");
            m
        }),
        case("base64_line_1mb_attachment", || {
            let mut m = with_head(
                b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
                  Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n\
                  Content-Type: application/pdf; name=\"a.pdf\"\r\n\
                  Content-Transfer-Encoding: base64\r\n\r\n",
            );
            // Not a multiple of four, with junk in it.
            m.extend(b"JVBERi0xLjQK!!==".repeat((1 << 20) / 16));
            m.extend_from_slice(b"QQ\r\n--b--\r\n");
            m
        }),
        // Multipart boundaries that never close.
        case("unterminated_boundary", || {
            with_head(
                b"Content-Type: multipart/mixed; boundary=\"u\"\r\n\r\n\
                  --u\r\nContent-Type: text/plain\r\n\r\nfirst part, never closed\r\n\
                  --u\r\nContent-Type: multipart/alternative; boundary=\"v\"\r\n\r\n\
                  --v\r\nContent-Type: text/html\r\n\r\n<a href=\"https://x.example\">x",
            )
        }),
        case("boundary_never_seen", || {
            with_head(
                b"Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n\
                  just text, no parts at all https://x.example/\r\n",
            )
        }),
        case("boundary_empty", || {
            with_head(
                b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\
                  Content-Type: text/plain\r\n\r\nx\r\n--\r\n----\r\n",
            )
        }),
        case("boundary_prefix_of_another", || {
            with_head(
                b"Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--a\r\n\
                  Content-Type: multipart/mixed; boundary=\"ab\"\r\n\r\n--ab\r\n\
                  Content-Type: text/plain\r\n\r\nx\r\n--a--\r\n--ab--\r\n",
            )
        }),
        case("mime_parts_10000", || {
            let mut m = with_head(b"Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n");
            for i in 0..10_000 {
                m.extend(
                    format!(
                        "--p\r\nContent-Type: text/plain\r\n\r\npart {i} https://p{i}.example/\r\n"
                    )
                    .bytes(),
                );
            }
            m.extend_from_slice(b"--p--\r\n");
            m
        }),
        // Quoted-printable ending in "=", alone and before a boundary (the
        // decoder once subtracted past zero there).
        case("qp_trailing_equals", || {
            with_head(
                b"Content-Type: text/plain; charset=utf-8\r\n\
                  Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                  wire the money today=",
            )
        }),
        case("qp_equals_before_boundary", || {
            with_head(
                b"Content-Type: multipart/alternative; boundary=\"q\"\r\n\r\n--q\r\n\
                  Content-Type: text/plain\r\n\
                  Content-Transfer-Encoding: quoted-printable\r\n\r\n=\r\n--q\r\n\
                  Content-Type: text/html\r\n\
                  Content-Transfer-Encoding: quoted-printable\r\n\r\n=\n--q\r\n\
                  Content-Transfer-Encoding: quoted-printable\r\n\r\n=A\r\n--q--\r\n=",
            )
        }),
        case("qp_equals_only", || {
            let mut m = with_head(
                b"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            );
            m.extend(b"=".repeat(1 << 20));
            m
        }),
        // HTML that never closes what it opens.
        case("html_unclosed", || {
            let mut m = with_head(b"Content-Type: text/html\r\n\r\n<html><body>");
            m.extend(b"<a href=\"".repeat(50_000));
            m.extend(b"<!--".repeat(50_000));
            m.extend(b"<script>".repeat(50_000));
            m
        }),
        // One field folded over 100,000 lines.
        case("folded_header_100000_lines", || {
            let mut m = b"Subject: start\r\n".to_vec();
            m.extend(b"\t=?utf-8?q?x?= wire\r\n".repeat(100_000));
            m.extend(with_head(b"Content-Type: text/plain\r\n\r\nhello\r\n"));
            m
        }),
        // Sender domains made to hurt the lookalike index and IDNA.
        case("from_domain_10000_labels", || {
            let domain = "k.".repeat(10_000) + "kestrelfoods.com";
            format!(
                "From: CEO <ceo@{domain}>\r\nReply-To: x@{domain}\r\nSubject: hi\r\n\r\nbody\r\n"
            )
            .into_bytes()
        }),
        case("from_punycode_invalid", || {
            "From: Daniel Brandt <d.brandt@xn--.xn--zzzzzzzzzzzzzz-.xn--kestrlfoods-\u{e9}.com>\r\n\
             Reply-To: x@xn--80ak6aa92e.com, y@\u{0138}estrelfoods.com, z@[300.1.1.1], w@.\r\n\
             Return-Path: <@xn--\u{202e}moc.example>\r\n\
             Subject: hi\r\n\r\nbody\r\n"
                .as_bytes()
                .to_vec()
        }),
    ]);
    cases
}

/// Every regular file below `fuzz/regressions` and `fuzz/seeds` of `repo`,
/// in name order, with a file name that says where it came from. None when
/// the repository has no fuzz/ directory.
pub fn fuzz_files(repo: &Path) -> Option<Vec<(String, PathBuf)>> {
    let fuzz = repo.join("fuzz");
    if !fuzz.is_dir() {
        return None;
    }
    let mut found = Vec::new();
    for sub in ["regressions", "seeds"] {
        let mut stack = vec![fuzz.join(sub)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() {
                    let relative = path.strip_prefix(&fuzz).unwrap_or(&path);
                    let name = format!(
                        "fuzz-{}",
                        relative
                            .to_string_lossy()
                            .replace(['/', '\\'], "__")
                            .replace(|c: char| !c.is_ascii_graphic(), "_")
                    );
                    found.push((name, path));
                }
            }
        }
    }
    found.sort();
    Some(found)
}

/// Writes every case into `dir` as NAME.eml (fuzz files as they are, under
/// their fuzz- names) and returns the file names, in order, with the number
/// of fuzz files among them (None: no fuzz/ directory).
pub fn write_suite(repo: &Path, dir: &Path) -> (Vec<String>, Option<usize>) {
    let mut names = Vec::new();
    for c in builtin() {
        let name = format!("{}.eml", c.name);
        std::fs::write(dir.join(&name), (c.build)()).expect("writing a hostile case");
        names.push(name);
    }
    let fuzz = fuzz_files(repo).map(|files| {
        for (name, path) in &files {
            std::fs::copy(path, dir.join(name)).expect("copying a fuzz file");
            names.push(name.clone());
        }
        files.len()
    });
    (names, fuzz)
}

/// How `impostor scan` reads a file that starts with these bytes: as an
/// archive or an mbox (possibly several messages), or as one message.
pub fn is_container(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || head.get(257..262) == Some(b"ustar")
        || head.starts_with(b"From ")
}
