//! Domain text → `normalize_domain`, `registrable_domain` and
//! `LookalikeIndex::find` on the default Context's index (the org scope)
//! and on an index of brands (the brand scope), one query a line.

#![no_main]

use impostor_features::{
    display_domain, is_mixed_script_domain, normalize_domain, registrable_domain, LookalikeIndex,
};
use impostor_fuzz::default_context;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Brands as `--protected` adds them: names of every length, suffixes of
/// one and two labels.
fn brands() -> &'static LookalikeIndex {
    static INDEX: OnceLock<LookalikeIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        LookalikeIndex::builder()
            .brands([
                "paypal.com",
                "microsoft.com",
                "apple.com",
                "ups.com",
                "amazon.co.jp",
                "dhl.de",
            ])
            .build()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let org = default_context().lookalike();
    // Bounded: a query per line, and a fuzz input holds only so many.
    for raw in text.lines().take(64) {
        let _ = display_domain(raw);
        let _ = is_mixed_script_domain(raw);
        let Some(domain) = normalize_domain(raw) else {
            continue;
        };
        assert!(domain.len() <= 253, "{} bytes", domain.len());
        if let Some(registrable) = registrable_domain(&domain) {
            assert!(
                domain == registrable || domain.ends_with(&format!(".{registrable}")),
                "{registrable} is not a parent of {domain}"
            );
        }
        for index in [org, brands()] {
            if let Some(m) = index.find(&domain) {
                assert!(!m.kinds.is_empty(), "{domain}: a match of no kind");
                // What it imitates is protected, and not a lookalike itself.
                assert!(
                    index.find(&m.target).is_none(),
                    "{domain}: the target {} is a lookalike",
                    m.target
                );
                let _ = m.describe();
            }
        }
        let _ = is_mixed_script_domain(&domain);
    }
});
