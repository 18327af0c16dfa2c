//! A 3,000-message timeline read back as the detector reads it: every
//! scenario appears, attacks come after the store is warm, and what the
//! sender-history facts say of each message is what its scenario meant.

use impostor_corpus::gen::timeline::{timeline, ATTACK_KINDS, HARD_HAM_KINDS, ORDINARY_KINDS};
use impostor_corpus::gen::{template::Templates, world::World, Generated};
use impostor_corpus::Label;
use impostor_features::sender_history::{Flow, MessageFacts};
use impostor_features::{Context, Envelope, MessageView, OrgProfile};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

fn messages() -> &'static [Generated] {
    static M: OnceLock<Vec<Generated>> = OnceLock::new();
    M.get_or_init(|| {
        let world = World::builtin().unwrap();
        let templates = Templates::builtin().unwrap();
        timeline(&world, &templates, 11, 3000)
    })
}

fn context() -> Context {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/orgs/kestrel-foods.toml"),
    )
    .unwrap();
    let org = OrgProfile::from_toml(&text, Path::new("kestrel-foods.toml")).unwrap();
    Context::builder(org).build().unwrap()
}

fn facts(ctx: &Context) -> Vec<MessageFacts> {
    messages()
        .iter()
        .map(|m| {
            let view = MessageView::parse(&m.bytes, &Envelope::default(), ctx)
                .unwrap_or_else(|e| panic!("{}: {e}", m.member));
            MessageFacts::read(&view, &Envelope::default(), ctx)
        })
        .collect()
}

#[test]
fn every_scenario_appears_and_attacks_come_after_the_first_third() {
    let msgs = messages();
    assert_eq!(msgs.len(), 3000);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in msgs {
        *counts.entry(m.kind.as_str()).or_default() += 1;
    }
    eprintln!("{counts:?}");
    for kind in ATTACK_KINDS
        .iter()
        .chain(HARD_HAM_KINDS)
        .chain(ORDINARY_KINDS)
    {
        assert!(
            counts.get(kind).copied().unwrap_or(0) > 0,
            "{kind} missing: {counts:?}"
        );
    }
    let attacks = msgs.iter().filter(|m| m.label.is_attack()).count();
    assert!((150..=240).contains(&attacks), "{attacks} attacks");
    for (n, m) in msgs.iter().enumerate() {
        let is_attack_kind = ATTACK_KINDS.contains(&m.kind.as_str());
        assert_eq!(
            m.label.is_attack(),
            is_attack_kind,
            "{} {}",
            m.member,
            m.kind
        );
        if is_attack_kind {
            assert!(
                n >= msgs.len() / 3,
                "{} ({}) in the first third",
                m.member,
                m.kind
            );
            assert!(m.technique.is_some(), "{}", m.member);
        } else {
            assert_eq!(m.label, Label::Ham);
        }
    }
}

#[test]
fn the_facts_of_each_message_are_what_its_scenario_means() {
    let ctx = context();
    let all = facts(&ctx);
    let mut networks: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen_ids: BTreeSet<String> = BTreeSet::new();
    let (mut takeovers, mut outbound, mut vendor, mut replies) = (0, 0, 0, 0);
    for (m, f) in messages().iter().zip(&all) {
        let key = f.sender_key.clone().unwrap_or_default();
        assert!(f.time.is_some(), "{}: a Date", m.member);
        match m.kind.as_str() {
            "takeover_new_network" => {
                let net = f.network.clone().expect("a submission network");
                let used = networks.get(&key).cloned().unwrap_or_default();
                assert!(
                    used.len() >= 5 || !used.is_empty(),
                    "{}: a known sender",
                    m.member
                );
                assert!(
                    !used.contains(&net),
                    "{}: {net} used before by {key}",
                    m.member
                );
                assert!(
                    f.sender_internal && f.asks_payment | f.asks_credentials,
                    "{}",
                    m.member
                );
                takeovers += 1;
            }
            "outbound" => {
                assert_eq!(f.flow, Flow::Outbound, "{}", m.member);
                outbound += 1;
            }
            "vendor" | "vendor_bank_change_genuine" => {
                assert!(
                    f.sender_verified,
                    "{}: genuine vendor mail verified",
                    m.member
                );
                vendor += 1;
            }
            "internal_phish_wave" => {
                assert!(f.internal_recipients >= 10, "{}", m.member);
            }
            "vendor_compromise_bank_change" | "vendor_lookalike_thread" => {
                assert!(
                    f.asks_bank_change && !f.bank_accounts.is_empty(),
                    "{}",
                    m.member
                );
            }
            _ => {}
        }
        if m.label == Label::Ham && !f.references.is_empty() {
            for r in &f.references {
                assert!(
                    seen_ids.contains(r),
                    "{}: {r} names no earlier message",
                    m.member
                );
            }
            replies += 1;
        }
        if m.kind == "vendor_lookalike_thread" {
            for r in &f.references {
                assert!(
                    !seen_ids.contains(r),
                    "{}: the lookalike names a real id",
                    m.member
                );
            }
        }
        if let Some(net) = &f.network {
            networks.entry(key).or_default().insert(net.clone());
        }
        if let Some(id) = &f.message_id {
            seen_ids.insert(id.clone());
        }
    }
    assert!(
        takeovers >= 20 && outbound >= 300 && vendor >= 200 && replies >= 500,
        "{takeovers} takeovers, {outbound} outbound, {vendor} vendor, {replies} replies"
    );
}

#[test]
fn internal_mailboxes_keep_their_habits_before_the_attacks() {
    // Most internal mailboxes write from at most three networks and two
    // clients: habits a store can learn, which takeovers then break.
    let ctx = context();
    let all = facts(&ctx);
    let mut nets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (m, f) in messages().iter().zip(&all) {
        if !f.sender_internal || m.label.is_attack() {
            continue;
        }
        let key = f.sender_key.clone().unwrap();
        *count.entry(key.clone()).or_default() += 1;
        if let Some(n) = &f.network {
            nets.entry(key).or_default().insert(n.clone());
        }
    }
    let busy: Vec<&String> = count
        .iter()
        .filter(|(_, n)| **n >= 20)
        .map(|(k, _)| k)
        .collect();
    assert!(busy.len() >= 15, "{count:?}");
    let settled = busy.iter().filter(|k| nets[**k].len() <= 3).count();
    assert!(settled * 10 >= busy.len() * 8, "{nets:?}");
}
