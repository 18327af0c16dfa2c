//! `impostor-fuzz-hostile DIR`: writes the hostile messages the feature
//! tests build in code (crates/features/tests/support) into DIR, one file
//! each, scaled down to what a fuzzer mutates (a few KiB to 60 KiB).

#[path = "../../../crates/features/tests/support/mod.rs"]
mod support;

use support::{big_attachment, deep_mime, long_header, many_headers, many_links, Mail, HEAD};

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .expect("usage: impostor-fuzz-hostile DIR");
    std::fs::create_dir_all(&dir).expect("create the seed directory");
    let mut seeds: Vec<(String, Vec<u8>)> = vec![
        ("big_attachment".into(), big_attachment(16 << 10)),
        ("many_headers".into(), many_headers(200)),
        ("deep_mime_64".into(), deep_mime(64)),
        ("deep_mime_600".into(), deep_mime(600)),
        ("many_links".into(), many_links(300)),
    ];
    // hostile.rs's ten-megabyte single-line fields, at 8 KiB.
    let long = [
        ("Subject", "A"),
        ("X-Long", "word "),
        ("From", "a"),
        ("From", "<@"),
        ("From", "=?utf-8?q?x=40y?= <"),
        ("Reply-To", "<@a:"),
        (
            "Authentication-Results",
            "mx.kestrelfoods.com; dkim=pass header.d=kestrelfoods.com; ",
        ),
        ("Received", "from x.example (x.example [198.51.100.1]) "),
        ("DKIM-Signature", "v=1; "),
        ("List-Id", "<x>"),
        ("From", "\"=?utf-8?q?a=40?=\" <x@y.example>, "),
    ];
    for (i, (name, unit)) in long.iter().enumerate() {
        seeds.push((
            format!("long_header_{i:02}"),
            long_header(name, unit, 8 << 10),
        ));
    }
    // hostile.rs's small ones: no body, an href split inside a character.
    for (i, m) in [
        &b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\nSubject: no body"[..],
        b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\nContent-Type: multipart/mixed; boundary=z\n",
        b"From MAILER-DAEMON Tue Jan  2 10:00:00 2024\n",
    ]
    .iter()
    .enumerate()
    {
        seeds.push((format!("small_{i}"), m.to_vec()));
    }
    for (i, href) in ["a\u{e9}\u{e9}", "w\u{20ac}", "WWW.\u{e9}.example/\u{20ac}"]
        .iter()
        .enumerate()
    {
        let html = format!("<html><body><a href=\"{href}\">x</a> and {href}</body></html>");
        let m = format!("{HEAD}Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n");
        seeds.push((format!("href_{i}"), m.into_bytes()));
    }
    // The fixture builder's message, with every kind of trace field.
    let fixture = Mail::from("Daniel Brandt <d.brandt@kestrelfoods.com>")
        .return_path("<bounce@kestrelfoods-secure.com>")
        .auth("mx.kestrelfoods.com; spf=fail smtp.mailfrom=kestrelfoods-secure.com; dkim=none")
        .received(support::EXTERNAL_HOP)
        .dkim("kestrelfoods-secure.com")
        .field("Reply-To", "Dan <dan.brandt.ceo@gmail.com>")
        .subject("Urgent wire transfer")
        .body("Please process the payment today and keep this confidential.\n");
    seeds.push(("fixture".into(), fixture.bytes()));
    for (name, bytes) in seeds {
        std::fs::write(dir.join(format!("hostile-{name}.eml")), bytes).expect("write a seed");
    }
}
