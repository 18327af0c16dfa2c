//! Raw message bytes → sender identities, route, authentication verdicts and
//! content → a named, schema-versioned feature vector with evidence.
//!
//! What it does:
//! - [`MessageView::parse`] reads one hostile message (on `mail-parser`) into
//!   the identities a mail client or a verifier might take: envelope sender,
//!   every From, Sender, Resent-From, Reply-To, DKIM signatures, the
//!   Authentication-Results and Received-SPF the organisation's own
//!   receivers wrote above the trust boundary (`message/trust.rs`), the
//!   Received chain, a text view of the body and its links, and every
//!   attachment ([`attachment`]): its decoded name, the type its bytes say,
//!   archives' members, HTML pages' forms and smuggling, PDF text and
//!   links, QR codes in images and PDFs, Office macros and external links;
//!   links found there join the body's, marked with their origin.
//! - [`Extractor::extract`] turns a view and a [`Context`] (the org profile and
//!   the world's lists) into a [`FeatureVector`] and [`Evidence`] sentences.
//!   The same bytes and the same Context always give the same vector.
//! - [`LookalikeIndex::find`] says whether a domain imitates a protected one,
//!   which and how (dnstwist's kind names); [`permutations`] lists a
//!   domain's imitations by kind, for attack injection.
//! - [`reported`] takes the forwarded messages out of a user's report and
//!   reads a Message-ID the one way reports and verdict lines are matched.
//! - [`sender_history`] reads a message's facts for a history store
//!   ([`sender_history::MessageFacts::read`]) and turns what the store
//!   knew ([`Inputs::history`], a [`sender_history::HistorySnapshot`])
//!   into the `history_*` features.
//!
//! What it deliberately does not do: read messages out of files, archives
//! or corpora (see `impostor-mailsource`), train or score (see
//! `impostor-train` and `impostor-serve`), verify signatures or look
//! anything up, or keep a sender history (see `impostor-history`): it
//! never touches the network or a store, and believes only the
//! verdicts the organisation's own servers wrote. Attachments are read in
//! memory, within counted bounds: never written to disk, never run, never
//! rendered (a QR code drawn as PDF vector graphics is not seen). Receiving filters'
//! verdict headers (`X-Spam-*`, `X-MS-Exchange-*`, …) are never read: they
//! would leak labels. It never panics on a message, and its work on one is
//! bounded by [`ParseLimits`].
//!
//! Where things are: `message/` is the message model (`mod.rs` the view
//! and the header block's identities, route and anomalies; `mime.rs` the
//! MIME structure; `transfer_encoding.rs` base64 and quoted-printable;
//! `charset.rs` text in its charset; `content.rs` the body's text and
//! links; `trust.rs` which verdict headers are believed; `signed_body.rs`
//! how much of the body a DKIM `l=` leaves unsigned), with
//! `header_block.rs`, `received.rs`, `auth_results.rs` and `html.rs`
//! beneath it. `context.rs` holds the org profile and the lists,
//! `domain.rs` registrable domains, `schema.rs` the feature list; one module
//! per feature family (`sender_path.rs` with `dkim_coverage.rs` and
//! `sender_dns.rs`, `identity/`, `display_name.rs`, `lookalike/`,
//! `intent.rs`, `links.rs`, `callback.rs`, `sender_history/`), run by
//! `extract.rs`.
//! `identity/` reads the sender as several readers would (mail-parser, a
//! strict RFC 5322 reader, the `mailparse` crate and lenient readings:
//! first and last From, Sender fallback, encoded-words, routes, comments,
//! quoted local parts, NUL, bidi controls): [`IdentityReadings`], in
//! [`Extraction::identity`], and the header-ambiguity features.
//!
//! ```
//! use impostor_features::{Context, Envelope, Extractor, Feature, MessageView, OrgProfile};
//! use std::path::Path;
//!
//! let org = OrgProfile::from_toml(
//!     r#"
//!     name = "Kestrel Foods"
//!     internal_domains = ["kestrelfoods.com"]
//!     [[vip]]
//!     name = "Daniel Brandt"
//!     addresses = ["d.brandt@kestrelfoods.com"]
//!     "#,
//!     Path::new("kestrel.toml"),
//! )?;
//! // The built-in lists (free-mail, disposable, shorteners, brands) and limits.
//! let ctx = Context::builder(org).build()?;
//! let raw = b"From: Daniel Brandt <dan.brandt.ceo@gmail.com>\r\n\
//!             Subject: quick favour\r\n\r\n\
//!             Are you at your desk? I need gift cards for a client today.\r\n";
//! let view = MessageView::parse(raw, &Envelope::default(), &ctx)?;
//! let features = Extractor::new(&ctx).extract(&view);
//! // The CEO's name on a free-mail address, asking for gift cards.
//! assert_eq!(features.vector.get(Feature::VipNameFreemail), 1.0);
//! assert_eq!(features.vector.get(Feature::IntentGiftCardCount), 1.0);
//! assert!(features.evidence.iter().any(|e| e.feature == Feature::VipNameFreemail));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Every message is hostile, and one panic ends a whole scan: outside tests,
// bytes and strings are read through `get` and the like, never by an index
// or a slice that could fall outside them or inside a character.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]
#![deny(missing_docs)]

pub mod attachment;
mod auth_results;
mod callback;
mod carrier;
mod context;
mod display_name;
mod dkim_coverage;
mod domain;
mod error;
mod evidence;
mod extract;
mod header_block;
mod html;
mod identity;
mod inputs;
mod intent;
mod links;
mod lookalike;
mod message;
mod received;
pub mod reported;
mod schema;
mod sender_dns;
pub mod sender_history;
mod sender_path;

pub use auth_results::{
    AuthResult, AuthResults, AuthSource, AuthSummary, AuthVerdict, DkimResult, DkimSummary,
    DmarcPolicy, DmarcSummary,
};
pub use carrier::{AttachmentSummary, LureCarrier};
pub use context::{
    parse_brand_list, Brand, Context, ContextBuilder, DnsProfile, DnsSettings, OrgProfile, Vip,
    DEFAULT_BRAND_LIST,
};
pub use domain::{normalize_domain, registrable_domain, DomainSet};
pub use error::{contain_panic, FeatureError, ParseError};
pub use evidence::{Evidence, Technique};
pub use extract::{Extraction, Extractor, FAULT_INJECTION, FAULT_MARKER};
pub use header_block::{HeaderFilter, DEFAULT_VERDICT_HEADERS};
pub use identity::{
    read as identity_readings, IdentityReadings, Reader, Reading, MAX_READINGS, MAX_READING_BYTES,
};
pub use inputs::{DomainStatus, Inputs};
pub use intent::IntentCategory;
pub use lookalike::permutation::{
    keyboard_neighbours, permutations, Permutation, DEFAULT_TLDS as DEFAULT_SWAP_TLDS,
};
pub use lookalike::{
    display_domain, is_mixed_script_domain, LookalikeIndex, LookalikeIndexBuilder, LookalikeKind,
    LookalikeMatch, Scope as LookalikeScope, DEFAULT_BRAND_TLDS, DEFAULT_POPULAR_DOMAINS,
    DEFAULT_WORDS as DEFAULT_LOOKALIKE_WORDS, STRONG_LOOKALIKE,
};
pub use message::{Envelope, Hop, Identity, Link, MessageView, ParseLimits};
pub use schema::{Direction, Family, Feature, FeatureVector, FEATURE_COUNT, SCHEMA_VERSION};

/// The three archives of ../shared/corpora, for the tests that read every
/// message of them; they fail loudly without ../shared.
#[cfg(test)]
pub(crate) fn shared_archives() -> [std::path::PathBuf; 3] {
    // Cargo's value at run time: a shared build cache may have built
    // the test binary in another clone.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    let corpora = manifest_dir.join("../../../shared/corpora");
    assert!(
        corpora.is_dir(),
        "this test needs ../shared (the shared corpora)"
    );
    [
        "spamassassin-2002.tar.gz",
        "phishing-pot-2022-2025.tar.gz",
        "csdmc2010-a.tar.gz",
    ]
    .map(|name| corpora.join(name))
}

/// The next step of the fixed pseudo-random walks that tests take over
/// pieces of hostile input: an index below `n`.
#[cfg(test)]
pub(crate) fn pick(state: &mut u32, n: usize) -> usize {
    *state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
    (*state >> 16) as usize % n
}
