//! Hostile input: every message here must finish without a panic, and what
//! comes out must stay within the configured limits. No timing is asserted
//! (see benches/extract.rs for that).

use impostor_features::{
    Context, Envelope, Extraction, Extractor, Feature, MessageView, OrgProfile, ParseError,
    ParseLimits,
};
use std::path::Path;
use std::sync::OnceLock;

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
"#;

/// Longest evidence sentence we accept: it is shown to people.
const MAX_EVIDENCE_DETAIL: usize = 4096;

fn org() -> OrgProfile {
    OrgProfile::from_toml(ORG, Path::new("hostile-org.toml")).expect("org loads")
}

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| Context::builder(org()).build().expect("context builds"))
}

fn try_run(ctx: &Context, bytes: &[u8]) -> Result<(MessageView, Extraction), ParseError> {
    Extractor::new(ctx).extract_bytes(bytes, &Envelope::default())
}

fn run(ctx: &Context, bytes: &[u8]) -> (MessageView, Extraction) {
    try_run(ctx, bytes).unwrap_or_else(|e| panic!("should parse: {e}"))
}

/// Everything that comes out stays within the Context's limits.
fn assert_bounded(ctx: &Context, view: &MessageView, x: &Extraction) {
    let l = ctx.limits();
    assert!(
        view.links.len() <= l.max_links,
        "{} links",
        view.links.len()
    );
    assert!(x.vector.get(Feature::LinkCount) <= l.max_links as f32);
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
        x.vector.get(Feature::BodyTextChars) <= (l.max_text_bytes + 1) as f32,
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

/// A fixed linear congruential generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 33) as u8).collect()
    }
}

const HEAD: &str = "From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\n\
                    To: ap@kestrelfoods.com\r\n\
                    Subject: Hostile\r\n\
                    Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n\
                    Message-ID: <hostile@kestrelfoods.com>\r\n\
                    MIME-Version: 1.0\r\n";

/// multipart/mixed: a text part and a base64 attachment of `size` bytes.
fn big_attachment(size: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(size * 4 / 3 + size / 38 + 1024);
    m.extend_from_slice(HEAD.as_bytes());
    m.extend_from_slice(
        b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
          --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
          Please wire the payment today, see the attached invoice. https://pay.example/inv\r\n\
          --b1\r\nContent-Type: application/octet-stream; name=\"invoice.bin\"\r\n\
          Content-Disposition: attachment; filename=\"invoice.bin\"\r\n\
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
            3 => format!("Authentication-Results: mx.kestrelfoods.com; dkim=fail header.d=d{i}.example\r\n"),
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

/// multipart/mixed inside multipart/mixed, `depth` levels, a text part inside.
fn deep_mime(depth: usize) -> Vec<u8> {
    let mut m = String::new();
    m.push_str(HEAD);
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
    let mut m = String::with_capacity(n * 60);
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

/// A `bytes`-long `name` field first, then HEAD without its own `name` field.
fn long_header(name: &str, unit: &str, bytes: usize) -> Vec<u8> {
    let mut m = String::with_capacity(bytes + 1024);
    m.push_str(&format!("{name}: "));
    m.push_str(&unit.repeat(bytes / unit.len()));
    m.push_str("\r\n");
    for line in HEAD.split_inclusive("\r\n") {
        if !line.starts_with(&format!("{name}:")) {
            m.push_str(line);
        }
    }
    m.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    m.into_bytes()
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
