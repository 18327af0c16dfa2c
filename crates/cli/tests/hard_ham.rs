//! The gate on generated hard ham: honest mail that looks like an attack
//! (SaaS notifications carrying executives' names, internal IT and HR
//! notices with lure words, wire approvals and bank changes in known
//! threads, namesakes on free-mail in lists, forwards to the security
//! mailbox, DMARC p=none failures from lists). Of each kind's messages
//! that models/default never fitted on (its validation and test roles),
//! at most 1% may be flagged at the default level.

use impostor_corpus::gen::template::HARD_HAM_KINDS;
use impostor_corpus::gen::{GenConfig, Generator};
use impostor_train::training::{data_table, Role};
use std::collections::{BTreeMap, HashMap};

mod support;
use support::repo;

#[test]
fn held_out_generated_hard_ham_is_flagged_at_most_once_in_a_hundred_per_kind() {
    let dir = repo().join("models/default");
    let artifact = impostor_model::artifact::load(&dir).unwrap();
    let model = impostor_model::Model::new(artifact.manifest.model.clone()).unwrap();
    let threshold = model
        .params()
        .levels
        .point(model.default_level())
        .unwrap()
        .threshold;
    // The default corpus as models/train-default.sh generates it: the
    // member names of kestrel-generated give each row its kind.
    let defaults = GenConfig::default();
    let generator = Generator::new(defaults.seed).unwrap();
    let kind_of: HashMap<String, String> = generator
        .default_corpus(defaults.ham, defaults.attacks)
        .into_iter()
        .map(|m| (m.member, m.kind))
        .collect();
    let bytes = std::fs::read(dir.join(data_table::FILE)).unwrap();
    let rows = data_table::from_parquet(&bytes, "models/default/training.parquet").unwrap();
    let mut by_kind: BTreeMap<&str, (u32, u32, Vec<String>)> = BTreeMap::new();
    for e in rows
        .iter()
        .filter(|e| e.source == "kestrel-generated" && !e.is_attack() && e.role != Role::Train)
        // The timeline's hard ham has its own gate (history_timeline.rs).
        .filter(|e| !e.id.contains(":timeline/"))
    {
        let member = e.id.rsplit('/').next().unwrap_or("");
        let Some(kind) = kind_of.get(&format!("ham/{member}")) else {
            panic!(
                "{} is not in the default corpus: regenerate models/default",
                e.id
            )
        };
        let Some(kind) = HARD_HAM_KINDS.iter().find(|k| **k == kind.as_str()) else {
            continue;
        };
        let entry = by_kind.entry(kind).or_default();
        entry.0 += 1;
        // As a gateway judges: the score with floors and ceilings applied.
        let mut fired = Vec::new();
        let score = model.score_with(&e.values, &mut fired);
        let (probability, _) = model.floored(score.probability, &fired);
        if probability >= threshold {
            entry.1 += 1;
            entry.2.push(e.id.clone());
        }
    }
    assert_eq!(
        by_kind.len(),
        HARD_HAM_KINDS.len(),
        "every hard-ham kind has held-out rows: {by_kind:?}"
    );
    let over: Vec<String> = by_kind
        .iter()
        .filter(|(_, (n, flagged, _))| *flagged as f64 > 0.01 * *n as f64)
        .map(|(k, (n, flagged, ids))| format!("{k}: {flagged}/{n} flagged ({ids:?})"))
        .collect();
    assert!(over.is_empty(), "hard ham flagged above 1%: {over:#?}");
}
