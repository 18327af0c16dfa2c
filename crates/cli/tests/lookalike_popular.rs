//! False positives of `impostor lookalike` on popular domains: every domain
//! of the Tranco top 1,000 goes through the binary against the 943 domains
//! SpamAssassin lists as common spoofing targets (given with --brands,
//! replacing the built-in brand list). At most 0.5% may be reported strong
//! (strength 0.5 or more; weaker reports are not imitations for the
//! features).
//!
//! The built-in popular-domain list is made partly from the Tranco list
//! itself, so against it the test would pass by construction. The gate is
//! therefore on a run whose popular list has every Tranco domain taken out
//! (--popular-domains FILE); the figure with the full list is printed
//! beside it. Needs ../shared/lists/top_sites; fails loudly without it.

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Most Tranco domains that may be reported strong, as a fraction.
const MAX_STRONG: f64 = 0.005;

/// This crate's directory, as cargo gives it when the test runs.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

fn repo() -> PathBuf {
    manifest_dir().join("../..")
}

fn top_sites() -> PathBuf {
    let dir = repo().join("../shared/lists/top_sites");
    assert!(
        dir.is_dir(),
        "this test needs ../shared/lists/top_sites (the shared data beside the repository); CI always has it. Looked in {}",
        dir.display()
    );
    dir
}

fn tranco() -> Vec<String> {
    let path = top_sites().join("tranco_top1000_2025-09_via_lenulus-tabtasktick.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sites: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    assert_eq!(sites.len(), 1_000, "Tranco list changed");
    sites
}

/// The registrable domain, as the Python script and the binary take it:
/// good enough to take Tranco's entries out of the popular list.
fn registrable(d: &str) -> String {
    impostor_features::normalize_domain(d)
        .and_then(|n| impostor_features::registrable_domain(&n).map(str::to_string))
        .unwrap_or_else(|| d.to_string())
}

/// (domain, target, strength) of each answer of the binary.
fn run(sites: &[String], extra: &[&Path]) -> Vec<(String, Option<String>, f64, String)> {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.toml");
    std::fs::write(
        &org,
        "name = \"Popular test\"\ninternal_domains = []\ntrusted_authserv_ids = []\nprotected_domains = []\n",
    )
    .unwrap();
    let brands = top_sites().join("spamassassin-4.0.1_welcomelist_sender_domains.txt");
    let mut args = vec![
        "--org".as_ref(),
        org.as_os_str(),
        "--brands".as_ref(),
        brands.as_os_str(),
    ];
    if let Some(popular) = extra.first() {
        args.extend(["--popular-domains".as_ref(), popular.as_os_str()]);
    }
    let domains: Vec<&str> = sites.iter().map(String::as_str).collect();
    // Exit 1 is allowed: some Tranco entries are public suffixes
    // themselves (github.io), which no one registers; each gets an error
    // line.
    let (_, answers) = support::lookalike_answers::<&std::ffi::OsStr>(&args, &domains);
    sites
        .iter()
        .zip(answers)
        .map(|(site, a)| {
            (
                site.clone(),
                a["target"].as_str().map(str::to_string),
                a["strength"].as_f64().unwrap_or(0.0),
                a["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn report(what: &str, answers: &[(String, Option<String>, f64, String)]) -> Vec<String> {
    let reported = answers.iter().filter(|a| a.1.is_some()).count();
    let strong: Vec<String> = answers
        .iter()
        .filter(|a| a.2 >= 0.5)
        .map(|(site, _, s, reason)| format!("{site}: {reason} (strength {s:.2})"))
        .collect();
    println!(
        "{what}: {} of {} Tranco domains reported at any strength, {} strong ({:.2}%; gate at most {:.1}% on the run without Tranco)",
        reported,
        answers.len(),
        strong.len(),
        strong.len() as f64 / answers.len() as f64 * 100.0,
        MAX_STRONG * 100.0
    );
    for line in &strong {
        println!("  {line}");
    }
    strong
}

#[test]
fn popular_domains_are_not_strong_lookalikes_of_spoofing_targets() {
    let sites = tranco();
    let full = run(&sites, &[]);
    report("with the built-in popular list", &full);

    // The built-in popular list without any Tranco domain.
    let tranco_regs: HashSet<String> = sites.iter().map(|d| registrable(d)).collect();
    let builtin = std::fs::read_to_string(repo().join("datasets/lookalike/popular-domains.txt"))
        .expect("datasets/lookalike/popular-domains.txt");
    let honest: String = builtin
        .lines()
        .filter(|l| l.starts_with('#') || !tranco_regs.contains(&registrable(l.trim())))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        honest.lines().count() + 900 < builtin.lines().count(),
        "the Tranco domains were taken out of the popular list"
    );
    let dir = tempfile::tempdir().unwrap();
    let popular = dir.path().join("popular-without-tranco.txt");
    std::fs::write(&popular, honest).unwrap();
    let without = run(&sites, &[&popular]);
    let strong = report("with the popular list minus Tranco", &without);

    // The run without Tranco reports more: the list is what demotes them.
    let reported =
        |a: &[(String, Option<String>, f64, String)]| a.iter().filter(|x| x.1.is_some()).count();
    assert!(reported(&without) >= reported(&full));
    assert!(
        strong.len() as f64 <= MAX_STRONG * sites.len() as f64,
        "{} of {} Tranco domains reported strong without the popular list's help:\n{}",
        strong.len(),
        sites.len(),
        strong.join("\n")
    );
}

/// The same set-up reports imitations of the targets strong: the test above
/// cannot pass by reporting nothing.
#[test]
fn the_same_brands_catch_imitations_strongly() {
    let imitations: Vec<String> = ["paypa1.com", "micros0ft.com", "amazon.xyz", "upss.com"]
        .map(str::to_string)
        .to_vec();
    let answers = run(&imitations, &[]);
    for (site, target, strength, _) in &answers {
        assert!(target.is_some(), "{site} not reported");
        if site != "upss.com" {
            assert!(*strength >= 0.5, "{site}: strength {strength}");
        }
    }
}
