//! Recall of `impostor lookalike` against dnstwist itself: every permutation
//! dnstwist's fuzzers make of 73 protected domains
//! (datasets/lookalike/recall-domains.txt, 15 of them short names of four
//! letters or fewer) goes through the binary. Caught: reported with the
//! right target, at any strength. The detection rate must be at least 99%
//! overall and 95% for every fuzzer; short names' recall and the share of
//! permutations reported strong (0.5 or more) are printed beside it. Needs python3 with the
//! PyPI package dnstwist (`.ci/run` installs it) and ../shared/lists/top_sites;
//! fails loudly without them.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// This crate's directory, as cargo gives it when the test runs: the
/// compile-time value names the clone the binary was built in, which a
/// shared build cache may have reused for another clone.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

/// Least recall over every permutation.
const MIN_RECALL: f64 = 0.99;
/// Least recall of each fuzzer.
const MIN_FUZZER_RECALL: f64 = 0.95;
/// Labels of this many letters or fewer are short names.
const SHORT_LABEL: usize = 4;

fn repo() -> PathBuf {
    manifest_dir().join("../..")
}

struct Protected {
    domain: String,
    source: String,
    scope: String,
}

fn recall_domains() -> Vec<Protected> {
    let text = std::fs::read_to_string(repo().join("datasets/lookalike/recall-domains.txt"))
        .expect("datasets/lookalike/recall-domains.txt");
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(cols.len(), 3, "bad line in recall-domains.txt: {l}");
            Protected {
                domain: cols[0].to_string(),
                source: cols[1].to_string(),
                scope: cols[2].to_string(),
            }
        })
        .collect()
}

/// The brands we say come from ../shared/lists/top_sites must be there.
fn check_sources(domains: &[Protected]) {
    let dir = repo().join("../shared/lists/top_sites");
    assert!(
        dir.is_dir(),
        "this test needs ../shared/lists/top_sites (the shared data beside the repository); CI always has it. Looked in {}",
        dir.display()
    );
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect(name);
    let sa: HashSet<String> = read("spamassassin-4.0.1_welcomelist_sender_domains.txt")
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    let tranco: HashSet<String> = read("tranco_top1000_2025-09_via_lenulus-tabtasktick.csv")
        .lines()
        .filter_map(|l| l.split(',').nth(1).map(str::to_string))
        .collect();
    let moz = read("npm-top-sites-1.1.222.json");
    for p in domains {
        let there = match p.source.as_str() {
            "sa" => sa.contains(&p.domain),
            "tranco" => tranco.contains(&p.domain),
            "moz" => {
                moz.contains(&format!("\"{}\"", p.domain))
                    || moz.contains(&format!("\"www.{}\"", p.domain))
            }
            "own" => true,
            other => panic!("unknown source {other} for {}", p.domain),
        };
        assert!(there, "{} is not in the {} list", p.domain, p.source);
    }
}

/// Permutations of one fuzzer: how many, caught, caught strong; and of
/// short names, how many and caught.
#[derive(Default)]
struct Row {
    n: usize,
    caught: usize,
    strong: usize,
    short_n: usize,
    short_caught: usize,
}

impl Row {
    fn add(&mut self, other: &Row) {
        self.n += other.n;
        self.caught += other.caught;
        self.strong += other.strong;
        self.short_n += other.short_n;
        self.short_caught += other.short_caught;
    }
}

/// (fuzzer, permutation, original) from dnstwist.
fn dnstwist(domains: &[&str], tlds: &Path, dir: &Path) -> Vec<(String, String, String)> {
    let list = dir.join(format!("domains-{}.txt", domains.len()));
    std::fs::write(&list, domains.join("\n")).unwrap();
    let words = repo().join("crates/features/data/lookalike_words.txt");
    let out = Command::new("python3")
        .arg(repo().join("datasets/lookalike/dnstwist_permutations.py"))
        .args([&list, &words, &tlds.to_path_buf()])
        .output()
        .unwrap_or_else(|e| panic!("this test needs python3 with the PyPI package dnstwist (pip install dnstwist; .ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "dnstwist_permutations.py failed; this test needs the PyPI package dnstwist (pip install dnstwist; .ci/run installs it):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut cols = l.split('\t').map(str::to_string);
            let mut next = || cols.next().expect("three columns");
            (next(), next(), next())
        })
        .collect()
}

#[test]
fn every_dnstwist_fuzzer_is_caught() {
    let protected = recall_domains();
    assert!(protected.len() >= 50, "at least 50 protected domains");
    check_sources(&protected);
    let dir = tempfile::tempdir().unwrap();
    let of = |scope: &str| -> Vec<&str> {
        protected
            .iter()
            .filter(|p| p.scope == scope)
            .map(|p| p.domain.as_str())
            .collect()
    };
    let (brands, org) = (of("brand"), of("org"));
    let data = repo().join("crates/features/data");
    let mut perms = dnstwist(&brands, &data.join("lookalike_tlds.txt"), dir.path());
    perms.extend(dnstwist(
        &org,
        &data.join("lookalike_swap_tlds.txt"),
        dir.path(),
    ));

    let org_file = dir.path().join("org.toml");
    let quoted: Vec<String> = org.iter().map(|d| format!("{d:?}")).collect();
    std::fs::write(
        &org_file,
        format!(
            "name = \"Recall test\"\ninternal_domains = []\ntrusted_authserv_ids = []\nprotected_domains = [{}]\n",
            quoted.join(", ")
        ),
    )
    .unwrap();
    let brands_file = dir.path().join("brands.txt");
    std::fs::write(&brands_file, brands.join("\n")).unwrap();

    let domains: Vec<&str> = perms.iter().map(|(_, d, _)| d.as_str()).collect();
    let args = [
        "--org".as_ref(),
        org_file.as_os_str(),
        "--brands".as_ref(),
        brands_file.as_os_str(),
    ];
    let (_, answers) = support::lookalike_answers::<&std::ffi::OsStr>(&args, &domains);

    let label = |d: &str| d.split('.').next().unwrap_or("").to_string();
    let all: HashSet<&str> = protected.iter().map(|p| p.domain.as_str()).collect();
    // fuzzer → counts over all names and over short names
    let mut table: BTreeMap<String, Row> = BTreeMap::new();
    let mut misses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut own, mut unregistrable) = (0, 0);
    for ((fuzzer, domain, original), answer) in perms.iter().zip(&answers) {
        if all.contains(domain.as_str()) {
            own += 1; // another protected domain, not an imitation
            continue;
        }
        if answer.get("error").is_some() {
            unregistrable += 1; // a public suffix itself (github.io): no one can register it
            continue;
        }
        let target = answer["target"].as_str().unwrap_or("");
        let right = target == original
            || (matches!(fuzzer.as_str(), "tld-swap" | "various")
                && label(target) == label(original));
        let strong = right && answer["strength"].as_f64().unwrap_or(0.0) >= 0.5;
        let short = label(original).chars().count() <= SHORT_LABEL;
        let row = table.entry(fuzzer.clone()).or_default();
        row.n += 1;
        row.caught += right as usize;
        row.strong += strong as usize;
        if short {
            row.short_n += 1;
            row.short_caught += right as usize;
        }
        if !right {
            misses
                .entry(fuzzer.clone())
                .or_default()
                .push(format!("{domain} (of {original}) → {answer}"));
        }
    }
    println!(
        "lookalike recall against dnstwist: {} protected domains ({} brands, {} org; {} with labels of {SHORT_LABEL} letters or fewer), {} permutations; left out: {own} that are protected domains themselves, {unregistrable} that are public suffixes",
        protected.len(),
        brands.len(),
        org.len(),
        protected.iter().filter(|p| label(&p.domain).chars().count() <= SHORT_LABEL).count(),
        perms.len()
    );
    println!(
        "{:<14} {:>8} {:>9} {:>9} {:>8} {:>9}",
        "fuzzer", "domains", "caught", "strong", "short", "short cgt"
    );
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            a as f64 / b as f64 * 100.0
        }
    };
    let mut failed = Vec::new();
    let mut total = Row::default();
    for (fuzzer, row) in &table {
        println!(
            "{fuzzer:<14} {:>8} {:>8.2}% {:>8.2}% {:>8} {:>8.2}%",
            row.n,
            pct(row.caught, row.n),
            pct(row.strong, row.n),
            row.short_n,
            pct(row.short_caught, row.short_n),
        );
        if (row.caught as f64) < MIN_FUZZER_RECALL * row.n as f64 {
            failed.push(fuzzer.clone());
        }
        total.add(row);
    }
    println!(
        "{:<14} {:>8} {:>8.2}% {:>8.2}% {:>8} {:>8.2}%",
        "all",
        total.n,
        pct(total.caught, total.n),
        pct(total.strong, total.n),
        total.short_n,
        pct(total.short_caught, total.short_n),
    );
    println!(
        "(caught: reported with the right target at any strength; strong: caught at strength 0.5 or more; short: permutations of names of {SHORT_LABEL} letters or fewer. Target: caught at least {:.0}% overall and {:.0}% for every fuzzer)",
        MIN_RECALL * 100.0,
        MIN_FUZZER_RECALL * 100.0
    );
    for (fuzzer, list) in &misses {
        println!(
            "missed {fuzzer} ({}): {}",
            list.len(),
            list.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
        );
    }
    for expected in [
        "addition",
        "bitsquatting",
        "cyrillic",
        "dictionary",
        "homoglyph",
        "hyphenation",
        "insertion",
        "omission",
        "plural",
        "repetition",
        "replacement",
        "subdomain",
        "tld-swap",
        "transposition",
        "vowel-swap",
    ] {
        assert!(
            table.contains_key(expected),
            "dnstwist made no {expected} permutations"
        );
    }
    assert!(
        failed.is_empty(),
        "fuzzers below {MIN_FUZZER_RECALL}: {failed:?}"
    );
    assert!(
        total.caught as f64 >= MIN_RECALL * total.n as f64,
        "overall recall {:.4} below {MIN_RECALL}",
        total.caught as f64 / total.n as f64
    );
}
