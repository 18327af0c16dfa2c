//! Per-message extraction time (parse + every feature family), typical and
//! hostile. Targets: well under a millisecond for typical mail, under one
//! second for each hostile case.
//!
//! cargo bench -p impostor-features --bench extract -- --warm-up-time 1 --measurement-time 2

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use impostor_features::{Context, Envelope, Extractor, OrgProfile};
use std::path::Path;

const ORG: &str = r#"
name = "Kestrel Foods"
internal_domains = ["kestrelfoods.com", "kestrelfoods.co.jp"]
trusted_authserv_ids = ["mx.kestrelfoods.com"]
protected_domains = ["kestrelfoods.com", "coldchain-partners.eu"]

[[vip]]
name = "Daniel Brandt"
aliases = ["Dan Brandt"]
addresses = ["d.brandt@kestrelfoods.com"]
title = "CEO"

[[vip]]
name = "山田 太郎"
addresses = ["yamada@kestrelfoods.co.jp"]
"#;

const HEAD: &str = "Return-Path: <bounce@mail.supplier.example>\r\n\
Received: from mail.supplier.example (mail.supplier.example [198.51.100.23])\r\n\
\tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T1xyz;\r\n\
\tTue, 2 Jan 2024 09:59:58 +0000\r\n\
Authentication-Results: mx.kestrelfoods.com; spf=pass smtp.mailfrom=mail.supplier.example;\r\n\
\tdkim=pass header.d=supplier.example; dmarc=pass header.from=supplier.example\r\n\
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=supplier.example; s=sel1;\r\n\
\th=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\
\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==\r\n\
From: Jane Supplier <jane@supplier.example>\r\n\
To: Accounts Payable <ap@kestrelfoods.com>\r\n\
Subject: Invoice 4711 for December deliveries\r\n\
Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n\
Message-ID: <4711@supplier.example>\r\n\
MIME-Version: 1.0\r\n";

fn small_plain() -> Vec<u8> {
    let mut m = HEAD.to_string();
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    m.push_str(
        "Hello,\r\n\r\nplease find attached invoice 4711 for the December deliveries of \
         frozen vegetables. Payment is due within 30 days as agreed.\r\n\r\n\
         You can also download it from https://portal.supplier.example/invoices/4711\r\n\r\n\
         Kind regards,\r\nJane\r\n",
    );
    m.into_bytes()
}

fn html_newsletter() -> Vec<u8> {
    let mut m = HEAD.replace(
        "Subject: Invoice 4711 for December deliveries",
        "Subject: Supplier news - January",
    );
    m.push_str("List-Id: <news.supplier.example>\r\n");
    m.push_str("List-Unsubscribe: <https://supplier.example/unsub?u=1>\r\n");
    m.push_str("Content-Type: text/html; charset=utf-8\r\n\r\n");
    m.push_str(
        "<html><head><style>body{font-family:sans-serif}</style></head><body>\
         <table width=\"600\"><tr><td><h1>Supplier news</h1></td></tr>",
    );
    let mut i = 0;
    while m.len() < 20_000 {
        m.push_str(&format!(
            "<tr><td><h2>Story {i}: new cold-chain routes</h2>\
             <p>This month we opened a new route for chilled goods and improved \
             delivery windows for our partners across the region. \
             <a href=\"https://news.supplier.example/story/{i}?utm_source=mail\">Read more</a> \
             or see <a href=\"https://www.supplier.example/routes\">www.supplier.example/routes</a>.\
             </p></td></tr>\r\n"
        ));
        i += 1;
    }
    m.push_str(
        "<tr><td><a href=\"https://supplier.example/unsub?u=1\">Unsubscribe</a></td></tr>\
         </table></body></html>\r\n",
    );
    m.into_bytes()
}

fn big_attachment(size: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(size * 4 / 3 + size / 38 + 1024);
    m.extend_from_slice(HEAD.as_bytes());
    m.extend_from_slice(
        b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
          --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
          Please wire the payment today, see the attached invoice.\r\n\
          --b1\r\nContent-Type: application/octet-stream; name=\"invoice.bin\"\r\n\
          Content-Transfer-Encoding: base64\r\n\r\n",
    );
    let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n";
    let mut encoded = 0;
    while encoded < size * 4 / 3 {
        m.extend_from_slice(line);
        encoded += line.len() - 2;
    }
    m.extend_from_slice(b"--b1--\r\n");
    m
}

fn many_headers(n: usize) -> Vec<u8> {
    let mut m = String::with_capacity(n * 80);
    m.push_str(HEAD);
    for i in 0..n {
        let field = match i % 8 {
            0 => format!(
                "Received: from h{i}.relay.example (h{i}.relay.example [198.51.100.{}]) by mx.kestrelfoods.com; Tue, 2 Jan 2024 10:00:00 +0000\r\n",
                i % 250
            ),
            1 => format!("From: Sender {i} <s{i}@evil{i}.example>\r\n"),
            2 => format!(
                "DKIM-Signature: v=1; a=rsa-sha256; d=d{i}.example; s=s; h=from; bh=YQ==; b=YQ==\r\n"
            ),
            3 => format!(
                "Authentication-Results: mx.kestrelfoods.com; dkim=fail header.d=d{i}.example\r\n"
            ),
            4 => format!("X-Filler-{i} : value {i}\r\n"),
            5 => format!("List-Custom-{i}: x\r\n"),
            6 => format!("Reply-To: r{i}@gmail.com\r\n"),
            _ => format!("X-Folded-{i}: first\r\n\tsecond {i}\r\n"),
        };
        m.push_str(&field);
    }
    m.push_str("Content-Type: text/plain\r\n\r\nbody https://example.com/\r\n");
    m.into_bytes()
}

fn deep_mime(depth: usize) -> Vec<u8> {
    let mut m = String::from(HEAD);
    m.push_str("Content-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n");
    for i in 1..depth {
        m.push_str(&format!(
            "--d{}\r\nContent-Type: multipart/mixed; boundary=\"d{i}\"\r\n\r\n",
            i - 1
        ));
    }
    m.push_str(&format!(
        "--d{}\r\nContent-Type: text/plain\r\n\r\nurgent wire transfer https://deep.example/\r\n",
        depth - 1
    ));
    for i in (0..depth).rev() {
        m.push_str(&format!("--d{i}--\r\n"));
    }
    m.into_bytes()
}

fn many_links(n: usize) -> Vec<u8> {
    let mut m = String::with_capacity(n * 80);
    m.push_str(HEAD);
    m.push_str("Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
    for i in 0..n {
        m.push_str(&format!(
            "<a href=\"http://l{i}.paypal-login.example/x\">https://www.paypal.com</a>\r\n"
        ));
    }
    m.push_str("</body></html>\r\n");
    m.into_bytes()
}

fn long_header(bytes: usize) -> Vec<u8> {
    let mut m = format!("X-Long: {}\r\n", "word ".repeat(bytes / 5));
    m.push_str(HEAD);
    m.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    m.into_bytes()
}

fn context() -> Context {
    let org = OrgProfile::from_toml(ORG, Path::new("bench-org.toml")).expect("org loads");
    Context::builder(org).build().expect("context builds")
}

fn bench(c: &mut Criterion, group: &str, sample_size: usize, cases: &[(&str, Vec<u8>)]) {
    let ctx = context();
    let extractor = Extractor::new(&ctx);
    let envelope = Envelope::default();
    let mut g = c.benchmark_group(group);
    g.sample_size(sample_size);
    for (name, bytes) in cases {
        // Each case must be one the extractor accepts, or the figure is moot.
        extractor
            .extract_bytes(bytes, &envelope)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| extractor.extract_bytes(black_box(bytes), &envelope))
        });
    }
    g.finish();
}

fn typical(c: &mut Criterion) {
    bench(
        c,
        "extract/typical",
        100,
        &[
            ("small_plain", small_plain()),
            ("html_newsletter_20k", html_newsletter()),
        ],
    );
}

fn hostile(c: &mut Criterion) {
    bench(
        c,
        "extract/hostile",
        10,
        &[
            ("attachment_50mb", big_attachment(50 << 20)),
            ("headers_10000", many_headers(10_000)),
            ("mime_depth_1000", deep_mime(1_000)),
            ("html_links_100000", many_links(100_000)),
            ("header_line_10mb", long_header(10 << 20)),
        ],
    );
}

criterion_group!(benches, typical, hostile);
criterion_main!(benches);
