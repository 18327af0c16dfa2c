//! Rule file text → `RuleSet::from_toml` (parse, then resolve every
//! condition against the feature schema), as `impostor train --rules` and
//! an artifact's rules are read.

#![no_main]

use impostor_features::{Feature, FeatureVector};
use impostor_model::rules::{RuleSet, RuleText};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = RuleSet::from_toml(text, "fuzz.toml") else {
        return;
    };
    let mut codes = std::collections::HashSet::new();
    for rule in set.rules() {
        assert!(codes.insert(&rule.text.code), "{} twice", rule.text.code);
        assert!(
            !rule.features.is_empty(),
            "{} reads nothing",
            rule.text.code
        );
    }
    // Evaluation terminates on any vector (nesting is bounded at load).
    let zero = FeatureVector::default();
    let mut ones = FeatureVector::default();
    for f in Feature::ALL {
        ones.set(*f, 1.0);
    }
    let _ = set.hits(&zero);
    let _ = set.hits(&ones);
    // An artifact stores the rules as JSON: read back, they resolve to the
    // same conditions.
    let texts: Vec<RuleText> = set.rules().iter().map(|r| r.text.clone()).collect();
    let json = serde_json::to_string(&texts).expect("rules serialise");
    let back: Vec<RuleText> = serde_json::from_str(&json).expect("rules read back");
    let back = RuleSet::from_texts(back).expect("rules resolve again");
    for (a, b) in set.rules().iter().zip(back.rules()) {
        assert_eq!(a.condition, b.condition, "{}", a.text.code);
    }
});
