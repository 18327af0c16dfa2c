//! The corpus layer on the real corpora of ../shared: indexing, duplicate
//! groups, and attacks injected into SpamAssassin ham.
//!
//! These tests need ../shared/corpora (CI always has it) and fail, saying
//! so, when it is missing.

use impostor_corpus::gen::Generator;
use impostor_corpus::{index_inputs, IndexOptions, Label};
use impostor_features::{Context, Extractor, Inputs, OrgProfile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

fn corpora() -> PathBuf {
    let dir = manifest_dir().join("../../../shared/corpora");
    assert!(
        dir.join("spamassassin-2002.tar.gz").is_file(),
        "these tests need ../shared/corpora beside the repository (looked in {}); CI provides it",
        dir.display()
    );
    dir
}

/// (source label) → count, from a corpus's .tsv index.
fn tsv_counts(path: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut counts = BTreeMap::new();
    for line in text.lines().skip(1) {
        let label = line.split('\t').nth(2).unwrap();
        *counts.entry(label.to_string()).or_default() += 1;
    }
    counts
}

#[test]
fn indexing_the_shared_corpora_gives_their_tsv_counts_with_duplicates_grouped() {
    let dir = corpora();
    let names = ["spamassassin-2002", "phishing-pot-2022-2025", "csdmc2010-a"];
    let paths: Vec<PathBuf> = names
        .iter()
        .map(|n| dir.join(format!("{n}.tar.gz")))
        .collect();
    let index = index_inputs(&paths, &IndexOptions::default(), &|_| {});
    for name in names {
        let want = tsv_counts(&dir.join(format!("{name}.tsv")));
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for r in index.rows.iter().filter(|r| r.source == name) {
            let label = r.label.map_or("unlabelled", Label::as_str);
            *got.entry(label.to_string()).or_default() += 1;
        }
        assert_eq!(
            got, want,
            "{name}: labels counted from folders against its .tsv"
        );
    }
    let errors: Vec<_> = index.rows.iter().filter(|r| r.error.is_some()).collect();
    assert!(
        errors.len() * 200 < index.rows.len(),
        "{} errors: {:?}",
        errors.len(),
        errors.first()
    );
    // Duplicates: every member of a group points at the group's first
    // message, and groups exist (phishing campaigns reuse their bodies).
    let ids: std::collections::HashSet<&str> = index.rows.iter().map(|r| r.id.as_str()).collect();
    assert!(index.rows.iter().all(|r| ids.contains(r.group.as_str())));
    let grouped = index.rows.iter().filter(|r| r.group != r.id).count();
    assert!(
        grouped > 100,
        "only {grouped} messages joined a duplicate group"
    );
    for r in index.rows.iter().filter(|r| r.group != r.id) {
        let first = index.rows.iter().position(|x| x.id == r.group).unwrap();
        let me = index.rows.iter().position(|x| x.id == r.id).unwrap();
        assert!(first < me, "a group's id is its first message");
    }
    let dated = index.rows.iter().filter(|r| r.date.is_some()).count();
    assert!(
        dated * 100 > index.rows.len() * 95,
        "dates read for {dated} of {}",
        index.rows.len()
    );
}

fn example_context() -> Context {
    let text =
        std::fs::read_to_string(manifest_dir().join("../../datasets/orgs/kestrel-foods.toml"))
            .unwrap();
    let org = OrgProfile::from_toml(&text, Path::new("kestrel-foods.toml")).unwrap();
    Context::builder(org).build().unwrap()
}

#[test]
fn five_thousand_attacks_injected_into_spamassassin_ham_each_show_their_technique() {
    let dir = corpora();
    let mut carriers = Vec::new();
    let options = impostor_mailsource::ReadOptions::default();
    for m in impostor_mailsource::read_inputs(&[dir.join("spamassassin-2002.tar.gz")], &options) {
        let member = m.origin.member.clone().unwrap_or_default();
        if impostor_corpus::label::label_from_member(&member) == Some(Label::Ham) {
            carriers.push(m.bytes.unwrap());
        }
    }
    assert_eq!(carriers.len(), 4150);
    let attacks = Generator::new(11).unwrap().inject_into(&carriers, 5000);
    assert_eq!(attacks.len(), 5000);
    let ctx = example_context();
    let extractor = Extractor::new(&ctx);
    let mut per_technique: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut missing_by_variant: BTreeMap<String, usize> = BTreeMap::new();
    for a in &attacks {
        let technique = a
            .technique
            .expect("every injected message names its technique");
        let (_, x) = extractor
            .extract_bytes(&a.bytes, &Inputs::default())
            .unwrap_or_else(|e| panic!("{}: {e}", a.member));
        let entry = per_technique.entry(technique.code()).or_default();
        entry.0 += 1;
        if x.techniques().contains(&technique) {
            entry.1 += 1;
        } else {
            missing.push(a.member.clone());
            *missing_by_variant.entry(a.variant.clone()).or_default() += 1;
        }
    }
    for (t, (n, _)) in &per_technique {
        assert_eq!(*n, 1000, "{t}: about equal per technique");
    }
    assert!(
        missing.is_empty(),
        "{} injected messages lack their technique's evidence, e.g. {:?}; per technique (total, shown): {per_technique:?}; missing by variant: {missing_by_variant:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}
