//! False positives of the lookalike engine on real, popular domains: every
//! entry of the Tranco top 1,000 and the Moz top 500 is checked against the
//! 943 domains SpamAssassin lists as common spoofing targets, given as
//! brands, minus the entry itself. At most 0.5% may be flagged (reported
//! at strength 0.5 or more; weaker reports are not imitations for the
//! features); each one is printed with its reason. The built-in
//! popular-domain list is made from these very lists, so the index here
//! has none: the engine must keep them apart on its own. Needs ../shared/lists/top_sites (CI always has
//! it); fails loudly without it.

use impostor_features::{normalize_domain, registrable_domain, LookalikeIndex};
use std::path::PathBuf;

/// This crate's directory, as cargo gives it when the test runs: the
/// compile-time value names the clone the binary was built in, which a
/// shared build cache may have reused for another clone.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

const MAX_FLAGGED: f64 = 0.005;

fn top_sites() -> PathBuf {
    let dir = manifest_dir().join("../../../shared/lists/top_sites");
    assert!(
        dir.is_dir(),
        "this test needs ../shared/lists/top_sites (the shared data beside the repository); CI always has it. Looked in {}",
        dir.display()
    );
    dir
}

fn read(name: &str) -> String {
    let path = top_sites().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The 943 spoofing targets, the Tranco 1,000 and the Moz 500.
fn lists() -> (Vec<String>, Vec<String>) {
    let targets: Vec<String> = read("spamassassin-4.0.1_welcomelist_sender_domains.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut sites: Vec<String> = read("tranco_top1000_2025-09_via_lenulus-tabtasktick.csv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .map(|d| d.trim().to_string())
        .collect();
    let moz: serde_json::Value =
        serde_json::from_str(&read("npm-top-sites-1.1.222.json")).expect("Moz list is JSON");
    sites.extend(
        moz.as_array()
            .expect("Moz list is an array")
            .iter()
            .filter_map(|e| e["rootDomain"].as_str())
            .map(str::to_string),
    );
    assert_eq!(targets.len(), 943, "spoofing-target list changed");
    assert_eq!(sites.len(), 1_500, "top-site lists changed");
    (targets, sites)
}

fn registrable(d: &str) -> Option<String> {
    let norm = normalize_domain(d)?;
    registrable_domain(&norm).map(str::to_string)
}

#[test]
fn popular_domains_are_not_lookalikes_of_spoofing_targets() {
    let (targets, sites) = lists();
    let all = LookalikeIndex::builder()
        .brands(&targets)
        .popular("")
        .build();
    let mut flagged = Vec::new();
    for site in &sites {
        let reg = registrable(site);
        // A site that is itself a target is checked against the others.
        let own: Vec<&String> = targets
            .iter()
            .filter(|t| reg.is_some() && registrable(t) == reg)
            .collect();
        let found = if own.is_empty() {
            all.find(site)
        } else {
            let others = targets.iter().filter(|t| !own.contains(t));
            LookalikeIndex::builder()
                .brands(others)
                .popular("")
                .build()
                .find(site)
        };
        if let Some(m) = found.filter(|m| m.is_strong()) {
            let kinds: Vec<&str> = m.kinds.iter().map(|k| k.name()).collect();
            flagged.push(format!(
                "{site}: {} [{}]",
                m.describe_with_strength(),
                kinds.join(", ")
            ));
        }
    }
    let rate = flagged.len() as f64 / sites.len() as f64;
    println!(
        "lookalike false positives: {} of {} top sites flagged ({:.2}%; target at most {:.1}%)",
        flagged.len(),
        sites.len(),
        rate * 100.0,
        MAX_FLAGGED * 100.0
    );
    for line in &flagged {
        println!("  {line}");
    }
    assert!(
        rate <= MAX_FLAGGED,
        "{} of {} top sites flagged:\n{}",
        flagged.len(),
        sites.len(),
        flagged.join("\n")
    );
}

/// The same index flags the imitations themselves: the test above cannot
/// pass by flagging nothing.
#[test]
fn the_same_index_flags_imitations_of_the_targets() {
    let (targets, _) = lists();
    let index = LookalikeIndex::builder().brands(&targets).build();
    for (seen, target) in [
        ("paypa1.com", "paypal.com"),
        ("micros0ft.com", "microsoft.com"),
        ("docusign-secure.com", "docusign.com"),
        ("amazon.xyz", "amazon.com"),
        ("xn--pypal-4ve.com", "paypal.com"),
        ("wellsfargo.com.verify-account.net", "wellsfargo.com"),
    ] {
        let m = index
            .find(seen)
            .unwrap_or_else(|| panic!("{seen} not flagged"));
        assert_eq!(m.target, target, "{seen}");
    }
}
