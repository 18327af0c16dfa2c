//! Hostile input: every message here must finish without a panic, and what
//! comes out must stay within the configured limits. No timing is asserted
//! (see benches/extract.rs for that).

mod support;

use impostor_features::attachment::AttachmentLimits;
use impostor_features::{Context, Extraction, Feature, MessageView, ParseError, ParseLimits};
use support::{
    big_attachment, ctx, deep_mime, long_header, many_headers, many_links, org, run, try_run, Lcg,
    HEAD,
};

/// Longest evidence sentence we accept: it is shown to people.
const MAX_EVIDENCE_DETAIL: usize = 4096;

/// Everything that comes out stays within the Context's limits.
fn assert_bounded(ctx: &Context, view: &MessageView, x: &Extraction) {
    let l = ctx.limits();
    // The body's links, then the attachments' and QR codes'.
    let max_links = l.max_links + l.attachments.max_links;
    assert!(view.links.len() <= max_links, "{} links", view.links.len());
    assert!(x.vector.get(Feature::LinkCount) <= max_links as f32);
    assert!(view.attachment_text.len() <= l.attachments.max_text_bytes);
    assert!(
        view.body_text.len() <= l.max_text_bytes,
        "{} bytes of body text",
        view.body_text.len()
    );
    assert!(
        view.subject.len() <= l.max_text_bytes,
        "{} bytes of subject",
        view.subject.len()
    );
    assert!(
        // The subject, a space and the body: at most one character for
        // each byte read, however NFKC expands them.
        x.vector.get(Feature::BodyTextChars)
            <= (view.subject.len() + 1 + view.body_text.len()) as f32,
        "body_text_chars {}",
        x.vector.get(Feature::BodyTextChars)
    );
    assert!(view.hops.len() <= l.max_hops, "{} hops", view.hops.len());
    assert!(view.from_headers.len() <= l.max_addresses);
    for h in &view.from_headers {
        assert!(h.len() <= l.max_addresses);
    }
    assert!(view.reply_to.len() <= l.max_addresses);
    assert!(view.resent_from.len() <= l.max_addresses);
    assert!(view.dkim_signatures.len() <= 16);
    assert!(view.anomalies.space_before_colon.len() <= 16);
    assert!(view.list_headers.len() <= 16);
    for (f, v) in x.vector.nonzero() {
        assert!(v.is_finite() && v >= 0.0, "{} = {v}", f.name());
    }
    assert!(
        x.evidence.len() <= 128,
        "{} evidence items",
        x.evidence.len()
    );
    for e in &x.evidence {
        assert!(
            e.detail.len() <= MAX_EVIDENCE_DETAIL,
            "evidence for {} is {} bytes",
            e.feature.name(),
            e.detail.len()
        );
    }
}

#[test]
fn fifty_megabyte_attachment() {
    let bytes = big_attachment(50 << 20);
    assert!(bytes.len() > 50 << 20);
    let (view, x) = run(ctx(), &bytes);
    assert_bounded(ctx(), &view, &x);
    assert!(view.body_text.contains("Please wire the payment today"));
    assert!(
        !view.body_text.contains("QUJD"),
        "the attachment is not body text"
    );
    assert_eq!(x.vector.get(Feature::LinkCount), 1.0);
    assert!(x.vector.get(Feature::IntentPaymentCount) >= 1.0);
}

#[test]
fn over_the_size_limit_is_refused() {
    let limits = ParseLimits {
        max_message_bytes: 1 << 20,
        ..ParseLimits::default()
    };
    let ctx = Context::builder(org()).limits(limits).build().unwrap();
    let bytes = big_attachment(2 << 20);
    assert!(matches!(
        try_run(&ctx, &bytes),
        Err(ParseError::TooLarge { size, limit }) if size == bytes.len() && limit == 1 << 20
    ));
}

#[test]
fn ten_thousand_header_fields() {
    let bytes = many_headers(10_000);
    let (view, x) = run(ctx(), &bytes);
    assert_bounded(ctx(), &view, &x);
    // Hops are read down to the first external one, all are counted.
    assert_eq!(view.first_external_hop, Some(view.hops.len() - 1));
    assert!(
        view.received_count >= 1_250,
        "{} Received fields",
        view.received_count
    );
    assert_eq!(x.vector.get(Feature::FromHeaderMultiple), 1.0);
    assert_eq!(x.vector.get(Feature::HeaderSpaceBeforeColon), 1.0);
    assert_eq!(view.dkim_signatures.len(), 16);
}

#[test]
fn mime_nested_a_thousand_levels() {
    let bytes = deep_mime(1_000);
    // Either way is fine; a panic or a stack overflow is not.
    if let Ok((view, x)) = try_run(ctx(), &bytes) {
        assert_bounded(ctx(), &view, &x);
    }
    // And ten thousand.
    if let Ok((view, x)) = try_run(ctx(), &deep_mime(10_000)) {
        assert_bounded(ctx(), &view, &x);
    }
}

#[test]
fn empty_and_blank_input_is_refused() {
    assert_eq!(try_run(ctx(), b"").unwrap_err(), ParseError::Empty);
    assert_eq!(
        try_run(ctx(), b"\r\n\r\n \t\n").unwrap_err(),
        ParseError::Empty
    );
    // An mbox separator and nothing else is empty too.
    assert_eq!(
        try_run(ctx(), b"From MAILER-DAEMON Tue Jan  2 10:00:00 2024\n").unwrap_err(),
        ParseError::Empty
    );
}

#[test]
fn binary_garbage() {
    let mut rng = Lcg(0x5eed_1234_abcd_0001);
    for size in [1, 2, 7, 64, 1_000, 65_536, 1 << 20] {
        for _ in 0..4 {
            let bytes = rng.bytes(size);
            if let Ok((view, x)) = try_run(ctx(), &bytes) {
                assert_bounded(ctx(), &view, &x);
            }
        }
    }
    // Garbage after a valid header block, and a header block of garbage lines.
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n");
    bytes.extend(rng.bytes(1 << 20));
    let (view, x) = run(ctx(), &bytes);
    assert_bounded(ctx(), &view, &x);
    let mut lines = Vec::new();
    for _ in 0..2_000 {
        lines.extend(rng.bytes(40).into_iter().filter(|b| *b != b'\n'));
        lines.extend_from_slice(b": \xff\xfe\r\n");
    }
    if let Ok((view, x)) = try_run(ctx(), &lines) {
        assert_bounded(ctx(), &view, &x);
    }
}

#[test]
fn header_block_without_a_body() {
    for bytes in [
        &b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\nSubject: no body"[..],
        &b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\nSubject: no body\r\n"[..],
        &b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\nSubject: no body\r\n\r\n"[..],
        &b"From: Daniel Brandt <d.brandt@kestrelfoods.com>\nContent-Type: multipart/mixed; boundary=z\n"[..],
    ] {
        let (view, x) = run(ctx(), bytes);
        assert_bounded(ctx(), &view, &x);
        assert_eq!(view.from_domain(), Some("kestrelfoods.com"));
        assert!(view.body_text.trim().is_empty(), "{:?}", view.body_text);
        assert_eq!(x.vector.get(Feature::LinkCount), 0.0);
    }
}

#[test]
fn a_hundred_thousand_links() {
    let bytes = many_links(100_000);
    let (view, x) = run(ctx(), &bytes);
    assert_bounded(ctx(), &view, &x);
    let max = ctx().limits().max_links as f32;
    assert_eq!(x.vector.get(Feature::LinkCount), max);
    assert_eq!(x.vector.get(Feature::LinkTextDomainMismatchCount), max);
    assert_eq!(x.vector.get(Feature::LinkHttpOnlyCount), max);
    // Tighter limits are followed too.
    let limits = ParseLimits {
        max_links: 7,
        max_text_bytes: 1_000,
        max_html_bytes: 50_000,
        ..ParseLimits::default()
    };
    let small = Context::builder(org()).limits(limits).build().unwrap();
    let (view, x) = run(&small, &bytes);
    assert_bounded(&small, &view, &x);
    assert_eq!(view.links.len(), 7);
    assert!(view.body_truncated);
}

#[test]
fn ten_megabyte_single_line_headers() {
    let ten = 10 << 20;
    let cases = [
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
        // Many names, each hiding an '@' in an encoded-word.
        ("From", "\"=?utf-8?q?a=40?=\" <x@y.example>, "),
    ];
    for (name, unit) in cases {
        let bytes = long_header(name, unit, ten);
        match try_run(ctx(), &bytes) {
            Ok((view, x)) => assert_bounded(ctx(), &view, &x),
            Err(e) => panic!("{name}: {unit:?} did not parse: {e}"),
        }
    }
}

#[test]
fn an_href_whose_fourth_byte_is_inside_a_character_is_read() {
    // Found in the field: `href[..4]` on "aéé" split the second 'é' and
    // panicked, killing a whole scan.
    for href in ["aéé", "ééé", "w€", "www\u{e9}.example", "WWW.é.example/€"] {
        let html = format!("<html><body><a href=\"{href}\">x</a> and {href}</body></html>");
        let bytes = format!("{HEAD}Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n");
        let (view, x) = run(ctx(), bytes.as_bytes());
        assert_bounded(ctx(), &view, &x);
    }
}

/// An HTML part as the body of the [`HEAD`] fixture.
fn html_message(html: &str) -> String {
    format!("{HEAD}Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n")
}

#[test]
fn an_anchor_with_a_character_right_after_a_nameless_quoted_value_is_read() {
    // `<a ="x"é …>`: the attribute scan stepped one byte past the value and
    // began the next attribute name inside 'é'.
    for attributes in [
        "=\"x\"é",
        "='x'€ href=\"http://evil.example/\"",
        "=\"\"日本 href=http://evil.example/",
    ] {
        let html = format!("<html><body><a {attributes}>pay here</a></body></html>");
        let (view, x) = run(ctx(), html_message(&html).as_bytes());
        assert_bounded(ctx(), &view, &x);
        assert!(view.body_text.contains("pay here"), "{:?}", view.body_text);
        if attributes.contains("href") {
            assert_eq!(view.links.len(), 1, "{attributes}");
            assert_eq!(view.links[0].host.as_deref(), Some("evil.example"));
        }
    }
}

#[test]
fn what_the_fuzzer_found_stays_bounded_under_tight_limits() {
    // fuzz/regressions/message_features: inputs that broke an invariant of
    // the message_features target, replayed under its tight limits (the
    // first: a subject and a body both at a 97-byte text limit took the
    // intent text past a bound of one limit; the bound was wrong).
    let limits = ParseLimits {
        max_message_bytes: 1 << 20,
        max_text_bytes: 97,
        max_html_bytes: 311,
        max_links: 3,
        max_hops: 2,
        max_addresses: 2,
        attachments: AttachmentLimits::tight(),
    };
    let tight = Context::builder(org()).limits(limits).build().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/message_features");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for ctx in [&tight, ctx()] {
            if let Ok((view, x)) = try_run(ctx, &bytes) {
                assert_bounded(ctx, &view, &x);
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no regression input in {}", dir.display());
}

#[test]
fn characters_that_normalise_into_many_stay_within_the_text_limit() {
    // Found by fuzzing (fuzz/regressions/message_features): NFKC turns
    // U+FDFA into eighteen characters and ½ into three, so the characters
    // counted after normalising escaped the text limit.
    let limits = ParseLimits {
        max_text_bytes: 97,
        ..ParseLimits::default()
    };
    let small = Context::builder(org()).limits(limits).build().unwrap();
    for unit in ["\u{fdfa}", "½", "\u{337f} ", "x\u{fdfa}"] {
        let body = unit.repeat(200);
        let bytes = format!("{HEAD}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n");
        for ctx in [&small, ctx()] {
            let (view, x) = run(ctx, bytes.as_bytes());
            assert_bounded(ctx, &view, &x);
        }
    }
}
