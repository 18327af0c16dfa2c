//! What the fuzz targets share: the Context every front end builds by
//! default, a second one with tight limits, the split of an input into a
//! message and its side data, and the bounds every extraction must keep.

use impostor_features::attachment::AttachmentLimits;
use impostor_features::{
    Context, Envelope, Extraction, Feature, MessageView, OrgProfile, ParseLimits,
};
use std::path::Path;
use std::sync::OnceLock;

/// The example organisation the CLI builds in when no --org is given.
pub const EXAMPLE_ORG: &str = include_str!("../../datasets/orgs/kestrel-foods.toml");

fn example_org() -> OrgProfile {
    OrgProfile::from_toml(EXAMPLE_ORG, Path::new("kestrel-foods.toml")).expect("example org")
}

/// The default Context of `impostor scan`, `serve` and `milter`: the
/// example org, the built-in lists and limits.
pub fn default_context() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        Context::builder(example_org())
            .build()
            .expect("default context")
    })
}

/// The same org under limits small enough for fuzz-sized inputs to hit:
/// truncation at a limit is where slicing bugs live, and the default limits
/// (256 KiB of text, 500 links) are out of a fuzzer's reach.
pub fn tight_context() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let limits = ParseLimits {
            max_message_bytes: 1 << 20,
            max_text_bytes: 97,
            max_html_bytes: 311,
            max_links: 3,
            max_hops: 2,
            max_addresses: 2,
            attachments: AttachmentLimits::tight(),
        };
        Context::builder(example_org())
            .limits(limits)
            .build()
            .expect("tight context")
    })
}

/// Splits an input at its last NUL byte: the message before it, the side
/// data (envelope, chunking) after it. Real messages rarely hold a NUL, so
/// a corpus message is a seed as it is; the fuzzer adds side data by
/// inserting one.
pub fn split_side(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().rposition(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

/// An SMTP envelope from side data: `MAIL FROM` up to the first newline,
/// then optionally the HELO name and recipients, one a line. Lossy UTF-8,
/// as the milter reads them.
pub fn envelope_from(side: Option<&[u8]>) -> Envelope {
    let Some(side) = side else {
        return Envelope::default();
    };
    let text = String::from_utf8_lossy(side);
    let mut lines = text.split('\n');
    let mail_from = lines.next().map(str::to_string);
    let helo = lines.next().map(str::to_string);
    let rcpt = lines.take(4).map(str::to_string).collect();
    Envelope {
        mail_from,
        // A public address: the hop logic treats private ones differently,
        // and the seeds' own Received fields cover both.
        client_ip: Some([198, 51, 100, 23].into()),
        helo,
        rcpt,
        mbox_sender: None,
    }
}

/// Longest evidence sentence accepted (as crates/features/tests/hostile.rs).
const MAX_EVIDENCE_DETAIL: usize = 4096;

/// Everything that comes out of one message stays within the Context's
/// limits, and every feature is a finite, non-negative number (the checks
/// of crates/features/tests/hostile.rs).
pub fn assert_bounded(ctx: &Context, view: &MessageView, x: &Extraction) {
    let l = ctx.limits();
    // The body's links, then the attachments' and QR codes'.
    let max_links = l.max_links + l.attachments.max_links;
    assert!(view.links.len() <= max_links, "{} links", view.links.len());
    assert!(view.attachment_text.len() <= l.attachments.max_text_bytes);
    assert!(view.attachments.iter().all(|a| a.findings.len() <= 33));
    assert!(view.body_text.len() <= l.max_text_bytes);
    assert!(view.subject.len() <= l.max_text_bytes);
    assert!(x.vector.get(Feature::LinkCount) <= max_links as f32);
    // The intent text is the subject, a space and the body, counted at
    // most one character for each byte read (NFKC may expand them): past
    // one text limit, within both. (The fuzzer found a long subject past a
    // bound of one limit.)
    let text_bytes = view.subject.len() + 1 + view.body_text.len();
    assert!(x.vector.get(Feature::BodyTextChars) <= text_bytes as f32);
    assert!(view.hops.len() <= l.max_hops, "{} hops", view.hops.len());
    assert!(view.from_headers.len() <= l.max_addresses);
    assert!(view.from_headers.iter().all(|h| h.len() <= l.max_addresses));
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
