//! The sender-history gate (issue 18's must-show): on generated mailbox
//! timelines of organisations models/default never trained on (other
//! seeds than the default corpus's), replayed in date order so each
//! message is judged with what the store knew strictly before it, the
//! default model at its default level detects at least 90% of the
//! account-compromise attacks and flags at most 1% of the hard ham with
//! the same words (IT notices, HR gift-card programmes, forwards to the
//! security desk, genuine vendor bank changes, CFO approvals in threads).

use impostor_corpus::gen::timeline::HARD_HAM_KINDS;
use impostor_corpus::gen::{Generated, Generator};
use impostor_features::sender_history::MessageFacts;
use impostor_features::{Context, Envelope, Extractor, Inputs, OrgProfile, Technique};
use impostor_history::{replay, HistoryParams, ReplayItem};
use std::collections::BTreeMap;

mod support;
use support::repo;

/// Timelines of organisations the default model never saw (it trained on
/// seed 1's).
const SEEDS: [u64; 2] = [1_001, 1_002];

/// Whether each message of one timeline is flagged at the default level,
/// judged in date order with a replayed history (`history`) or alone.
fn judge(messages: &[Generated], history: bool) -> Vec<bool> {
    let org_path = repo().join("datasets/orgs/kestrel-foods.toml");
    let org =
        OrgProfile::from_toml(&std::fs::read_to_string(&org_path).unwrap(), &org_path).unwrap();
    let ctx = Context::builder(org).build().unwrap();
    let extractor = Extractor::new(&ctx);
    let artifact = impostor_model::artifact::load(&repo().join("models/default")).unwrap();
    let model = impostor_model::Model::new(artifact.manifest.model.clone()).unwrap();
    let threshold = model
        .params()
        .levels
        .point(model.default_level())
        .unwrap()
        .threshold;
    let flagged = |inputs: &Inputs, bytes: &[u8]| {
        let (_, x) = extractor.extract_bytes(bytes, inputs).unwrap();
        let mut fired = Vec::new();
        let score = model.score_with(&x.vector, &mut fired);
        model.floored(score.probability, &fired).0 >= threshold
    };
    if !history {
        return messages
            .iter()
            .map(|m| flagged(&Inputs::default(), &m.bytes))
            .collect();
    }
    let items: Vec<ReplayItem> = messages
        .iter()
        .map(|m| {
            let view = extractor.parse(&m.bytes, &Envelope::default()).unwrap();
            ReplayItem {
                group: "timeline".into(),
                facts: Some(MessageFacts::read(&view, &Envelope::default(), &ctx)),
            }
        })
        .collect();
    let params = HistoryParams::default().check().unwrap();
    replay(&items, &params, &|i, _, snapshot| {
        let mut inputs = Inputs::default();
        inputs.history = Some(snapshot.clone());
        flagged(&inputs, &messages[i].bytes)
    })
    .unwrap()
    .into_iter()
    .map(|f| f.unwrap())
    .collect()
}

#[test]
fn replayed_timelines_show_account_compromise_caught_and_internal_notices_spared() {
    let mut by_kind: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let (mut compromise, mut compromise_caught) = (0, 0);
    let (mut notices, mut notices_flagged) = (0, 0);
    let mut without_history = 0;
    for seed in SEEDS {
        let messages = Generator::new(seed).unwrap().timeline(3_000);
        let verdicts = judge(&messages, true);
        let alone = judge(&messages, false);
        for ((m, flagged), alone) in messages.iter().zip(verdicts).zip(alone) {
            let entry = by_kind.entry(m.kind.clone()).or_default();
            entry.0 += 1;
            entry.1 += u32::from(flagged);
            if m.technique == Some(Technique::AccountCompromise) {
                compromise += 1;
                compromise_caught += u32::from(flagged);
                without_history += u32::from(alone);
            }
            if HARD_HAM_KINDS.contains(&m.kind.as_str()) {
                notices += 1;
                notices_flagged += u32::from(flagged);
            }
        }
    }
    let table: Vec<String> = by_kind
        .iter()
        .map(|(k, (n, f))| format!("{k}: {f}/{n}"))
        .collect();
    eprintln!(
        "account compromise {compromise_caught}/{compromise} with history, {without_history}/{compromise} without; internal notices flagged {notices_flagged}/{notices}\n{table:#?}"
    );
    assert!(compromise >= 200 && notices >= 300, "{table:#?}");
    assert!(
        f64::from(compromise_caught) >= 0.90 * f64::from(compromise),
        "account compromise detected {compromise_caught}/{compromise} (< 90%): {table:#?}"
    );
    assert!(
        f64::from(notices_flagged) <= 0.01 * f64::from(notices),
        "internal notices flagged {notices_flagged}/{notices} (> 1%): {table:#?}"
    );
}
