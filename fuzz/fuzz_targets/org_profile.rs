//! Org profile TOML → `OrgProfile::from_toml` → `Context` built with it,
//! then the example messages extracted under that Context. Text after NUL
//! bytes replaces, in turn, the lookalike words, the brand TLDs, the brand
//! tokens and the free-mail list (what `--lookalike-words` and the other
//! list options read).

#![no_main]

use impostor_features::{normalize_domain, Context, Extractor, Inputs, OrgProfile};
use impostor_fuzz::assert_bounded;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// Messages that reach every family of features: VIP names, lookalikes,
/// free-mail, authentication.
const EXAMPLES: [&[u8]; 4] = [
    include_bytes!("../../datasets/examples/01-internal-ham.eml"),
    include_bytes!("../../datasets/examples/02-freemail-ceo.eml"),
    include_bytes!("../../datasets/examples/03-lookalike-partner.eml"),
    include_bytes!("../../datasets/examples/04-header-spoof-ja.eml"),
];

fuzz_target!(|data: &[u8]| {
    // A profile is read with read_to_string: anything but UTF-8 is refused
    // before the parser sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let toml = parts.next().unwrap_or("");
    let Ok(org) = OrgProfile::from_toml(toml, Path::new("fuzz.toml")) else {
        return;
    };
    let mut builder = Context::builder(org.clone());
    if let Some(words) = parts.next() {
        builder = builder.lookalike_words_list(words.to_string());
    }
    if let Some(tlds) = parts.next() {
        builder = builder.brand_tlds_list(tlds.to_string());
    }
    if let Some(brands) = parts.next() {
        builder = builder.brands_list(brands.to_string());
    }
    if let Some(freemail) = parts.next() {
        builder = builder.freemail_list(freemail.to_string());
    }
    let Ok(ctx) = builder.build() else {
        return;
    };
    // The profile's own domains are what they were declared to be, and
    // never a lookalike of themselves.
    for d in &org.internal_domains {
        let d = normalize_domain(d).expect("from_toml checked it");
        assert!(ctx.is_internal(&d), "{d} is not internal");
    }
    for d in org.internal_domains.iter().chain(&org.protected_domains) {
        let d = normalize_domain(d).expect("from_toml checked it");
        assert!(ctx.protected_domains().contains(&d), "{d} is not protected");
        let found = ctx.lookalike().find(&d);
        assert!(found.is_none(), "{d} imitates itself: {found:?}");
    }
    let extractor = Extractor::new(&ctx);
    for message in EXAMPLES {
        let (view, x) = extractor
            .extract_bytes(message, &Inputs::default())
            .expect("the examples parse under any profile");
        assert_bounded(&ctx, &view, &x);
    }
});
