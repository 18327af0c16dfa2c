//! Per-message extraction time (parse + every feature family), typical and
//! hostile. Targets: well under a millisecond for typical mail, under one
//! second for each hostile case.
//!
//! cargo bench -p impostor-features --bench extract -- --warm-up-time 1 --measurement-time 2

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use impostor_features::{Extractor, Inputs};
use support::{big_attachment, deep_mime, long_header, many_headers, many_links, Mail};

/// A supplier's invoice mail as it arrives: routed, authenticated, signed.
fn supplier(subject: &str) -> Mail {
    Mail::from("Jane Supplier <jane@supplier.example>")
        .return_path("<bounce@mail.supplier.example>")
        .received(
            "from mail.supplier.example (mail.supplier.example [198.51.100.23])\n\
             \tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T1xyz;\n\
             \tTue, 2 Jan 2024 09:59:58 +0000",
        )
        .auth(
            "mx.kestrelfoods.com; spf=pass smtp.mailfrom=mail.supplier.example;\n\
             \tdkim=pass header.d=supplier.example; dmarc=pass header.from=supplier.example",
        )
        .dkim("supplier.example")
        .field("Message-ID", "<4711@supplier.example>")
        .subject(subject)
}

fn small_plain() -> Vec<u8> {
    supplier("Invoice 4711 for December deliveries")
        .mime("text/plain; charset=utf-8")
        .body(
            "Hello,\n\nplease find attached invoice 4711 for the December deliveries of \
             frozen vegetables. Payment is due within 30 days as agreed.\n\n\
             You can also download it from https://portal.supplier.example/invoices/4711\n\n\
             Kind regards,\nJane\n",
        )
        .bytes()
}

fn html_newsletter() -> Vec<u8> {
    let mut body = String::from(
        "<html><head><style>body{font-family:sans-serif}</style></head><body>\
         <table width=\"600\"><tr><td><h1>Supplier news</h1></td></tr>",
    );
    let mut i = 0;
    while body.len() < 20_000 {
        body.push_str(&format!(
            "<tr><td><h2>Story {i}: new cold-chain routes</h2>\
             <p>This month we opened a new route for chilled goods and improved \
             delivery windows for our partners across the region. \
             <a href=\"https://news.supplier.example/story/{i}?utm_source=mail\">Read more</a> \
             or see <a href=\"https://www.supplier.example/routes\">www.supplier.example/routes</a>.\
             </p></td></tr>\n"
        ));
        i += 1;
    }
    body.push_str(
        "<tr><td><a href=\"https://supplier.example/unsub?u=1\">Unsubscribe</a></td></tr>\
         </table></body></html>\n",
    );
    supplier("Supplier news - January")
        .field("List-Id", "<news.supplier.example>")
        .field("List-Unsubscribe", "<https://supplier.example/unsub?u=1>")
        .mime("text/html; charset=utf-8")
        .body(&body)
        .bytes()
}

fn bench(c: &mut Criterion, group: &str, sample_size: usize, cases: &[(&str, Vec<u8>)]) {
    let ctx = support::context();
    let extractor = Extractor::new(&ctx);
    let inputs = Inputs::default();
    let mut g = c.benchmark_group(group);
    g.sample_size(sample_size);
    for (name, bytes) in cases {
        // Each case must be one the extractor accepts, or the figure is moot.
        extractor
            .extract_bytes(bytes, &inputs)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| extractor.extract_bytes(black_box(bytes), &inputs))
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
            ("header_line_10mb", long_header("X-Long", "word ", 10 << 20)),
        ],
    );
}

criterion_group!(benches, typical, hostile);
criterion_main!(benches);
