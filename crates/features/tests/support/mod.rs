//! What the feature tests and the extraction bench share: the fictional
//! organisation (Kestrel Foods), a Context for it, a builder for small
//! hand-written messages and generators of hostile ones.
//!
//! Each test crate (and the bench, through `#[path]`) compiles this module on
//! its own and uses only part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use impostor_features::{
    Context, Evidence, Extraction, Extractor, Feature, Inputs, MessageView, OrgProfile, ParseError,
};
use std::path::Path;
use std::sync::OnceLock;

// ------------------------------------------------------------ reading results

/// An extraction's non-zero features and its evidence, one per line: what a
/// failing assertion prints.
pub fn dump(x: &Extraction) -> String {
    let mut s: String = x
        .vector
        .nonzero()
        .map(|(f, v)| format!("  {} = {v}\n", f.name()))
        .collect();
    for e in &x.evidence {
        s.push_str(&format!(
            "  [{} {:?}] {}\n",
            e.feature.name(),
            e.technique,
            e.detail
        ));
    }
    s
}

/// One feature's value.
pub fn value(x: &Extraction, f: Feature) -> f32 {
    x.vector.get(f)
}

/// The evidence about one feature.
pub fn evidence(x: &Extraction, f: Feature) -> Vec<&Evidence> {
    x.evidence.iter().filter(|e| e.feature == f).collect()
}

// ------------------------------------------------------------ organisation

/// The organisation every fixture is addressed to.
pub const ORG: &str = r#"
name = "Kestrel Foods"
internal_domains = ["kestrelfoods.com", "kestrelfoods.co.jp"]
trusted_authserv_ids = ["mx.kestrelfoods.com"]
protected_domains = ["kestrelfoods.com", "coldchain-partners.eu"]
report_mailboxes = ["security@kestrelfoods.com"]

[[vip]]
name = "Daniel Brandt"
aliases = ["Dan Brandt"]
addresses = ["d.brandt@kestrelfoods.com"]
title = "CEO"

[[vip]]
name = "山田 太郎"
addresses = ["yamada@kestrelfoods.co.jp"]
"#;

pub fn org() -> OrgProfile {
    OrgProfile::from_toml(ORG, Path::new("kestrel-test-org.toml")).expect("org loads")
}

/// A fresh Context for [`ORG`] with the default limits.
pub fn context() -> Context {
    Context::builder(org()).build().expect("context builds")
}

/// One Context for [`ORG`], built on first use and shared by the tests.
pub fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(context)
}

pub fn try_run(ctx: &Context, bytes: &[u8]) -> Result<(MessageView, Extraction), ParseError> {
    Extractor::new(ctx).extract_bytes(bytes, &Inputs::default())
}

pub fn run(ctx: &Context, bytes: &[u8]) -> (MessageView, Extraction) {
    try_run(ctx, bytes).unwrap_or_else(|e| panic!("message does not parse: {e}"))
}

// ------------------------------------------------------------ fixture messages

/// The body a fixture has unless it sets one.
pub const PLAIN: &str = "Hello,\nplease see the attached schedule.\nRegards\n";

/// An external first hop: a public IP with a name outside the organisation.
pub const EXTERNAL_HOP: &str =
    "from mail.bulk-sender.example (mail.bulk-sender.example [198.51.100.23])\n\
     \tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T1xyz;\n\
     \tTue, 2 Jan 2024 09:59:58 +0000";

/// An internal first hop: a private address.
pub const INTERNAL_HOP: &str = "from app01.corp (app01.corp [10.20.30.40])\n\
     \tby mx.kestrelfoods.com (Postfix) with ESMTP id 4T1abc;\n\
     \tTue, 2 Jan 2024 09:59:58 +0000";

/// A small hand-written message, built up field by field:
///
/// ```text
/// <trace fields, as added: Return-Path, Authentication-Results, Received, DKIM-Signature>
/// From: <from>
/// <other fields, as added>
/// Subject: <subject>            (default "hi")
/// To: Accounts Payable <ap@kestrelfoods.com>
/// Date: Tue, 2 Jan 2024 10:00:00 +0000
///
/// <body>                        (default PLAIN)
/// ```
///
/// Lines end in `\n` while building; the message comes out in CRLF.
#[derive(Clone, Debug)]
pub struct Mail {
    trace: String,
    from: Option<String>,
    fields: String,
    subject: Option<String>,
    body: String,
}

impl Mail {
    /// From `from` (a display name and address, as written after "From: ").
    pub fn from(from: &str) -> Mail {
        Mail {
            trace: String::new(),
            from: Some(from.to_owned()),
            fields: String::new(),
            subject: Some("hi".to_owned()),
            body: PLAIN.to_owned(),
        }
    }

    /// A header block written out in full (no From or Subject of its own):
    /// for fixtures where the order or the spelling of the fields is the point.
    pub fn headers(block: &str) -> Mail {
        Mail {
            trace: block.to_owned(),
            from: None,
            fields: String::new(),
            subject: None,
            body: PLAIN.to_owned(),
        }
    }

    fn push(to: &mut String, name: &str, value: &str) {
        to.push_str(name);
        to.push_str(": ");
        to.push_str(value);
        if !value.ends_with('\n') {
            to.push('\n');
        }
    }

    /// A field above From, after the ones added before it.
    pub fn trace(mut self, name: &str, value: &str) -> Mail {
        Self::push(&mut self.trace, name, value);
        self
    }

    pub fn return_path(self, value: &str) -> Mail {
        self.trace("Return-Path", value)
    }

    pub fn auth(self, value: &str) -> Mail {
        self.trace("Authentication-Results", value)
    }

    pub fn received(self, value: &str) -> Mail {
        self.trace("Received", value)
    }

    /// A DKIM-Signature that parses; only the signing domain `d` varies.
    pub fn dkim(self, d: &str) -> Mail {
        self.trace(
            "DKIM-Signature",
            &format!(
                "v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s=sel1;\n\
                 \th=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n\
                 \tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ=="
            ),
        )
    }

    /// A field below From (Reply-To, Sender, a second From, List-Id, ...).
    pub fn field(mut self, name: &str, value: &str) -> Mail {
        Self::push(&mut self.fields, name, value);
        self
    }

    pub fn subject(mut self, subject: &str) -> Mail {
        self.subject = Some(subject.to_owned());
        self
    }

    pub fn body(mut self, body: &str) -> Mail {
        self.body = body.to_owned();
        self
    }

    /// A MIME-Version 1.0 message of `content_type`.
    pub fn mime(self, content_type: &str) -> Mail {
        self.field("MIME-Version", "1.0")
            .field("Content-Type", content_type)
    }

    /// The message in CRLF.
    pub fn bytes(&self) -> Vec<u8> {
        let mut m = self.trace.clone();
        if let Some(from) = &self.from {
            Self::push(&mut m, "From", from);
        }
        m.push_str(&self.fields);
        if let Some(subject) = &self.subject {
            Self::push(&mut m, "Subject", subject);
        }
        m.push_str("To: Accounts Payable <ap@kestrelfoods.com>\n");
        m.push_str("Date: Tue, 2 Jan 2024 10:00:00 +0000\n");
        m.push('\n');
        m.push_str(&self.body);
        m.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
    }

    /// Parsed and extracted with the shared Context.
    pub fn run(&self) -> (MessageView, Extraction) {
        run(ctx(), &self.bytes())
    }

    pub fn extract(&self) -> Extraction {
        self.run().1
    }
}

// ------------------------------------------------------------ hostile messages

/// The header block the hostile generators start from (CRLF, no blank line).
pub const HEAD: &str = "From: Daniel Brandt <d.brandt@kestrelfoods.com>\r\n\
                        To: ap@kestrelfoods.com\r\n\
                        Subject: Hostile\r\n\
                        Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n\
                        Message-ID: <hostile@kestrelfoods.com>\r\n\
                        MIME-Version: 1.0\r\n";

/// multipart/mixed: a text part with one link and a base64 attachment of
/// `size` bytes.
pub fn big_attachment(size: usize) -> Vec<u8> {
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

/// `n` header fields of eight kinds (Received, From, DKIM-Signature,
/// Authentication-Results, "Name :", List-*, Reply-To, folded) after HEAD.
pub fn many_headers(n: usize) -> Vec<u8> {
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

/// multipart/mixed inside multipart/mixed, `depth` levels, a text part inside.
pub fn deep_mime(depth: usize) -> Vec<u8> {
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

/// An HTML body of `n` anchors whose text shows another domain than the href.
pub fn many_links(n: usize) -> Vec<u8> {
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

/// A `bytes`-long `name` field (`unit` repeated) first, then HEAD without its
/// own `name` field.
pub fn long_header(name: &str, unit: &str, bytes: usize) -> Vec<u8> {
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

/// A fixed linear congruential generator (Knuth's MMIX constants): the
/// same garbage on every run.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next 64 bits of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }

    /// `n` bytes of the sequence (its high bits).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 33) as u8).collect()
    }
}
