//! Raw message bytes → `MessageView::parse` → `Extractor::extract`, as
//! `impostor scan` runs them under its default Context, then the sender
//! history's reading (`MessageFacts::read`: thread ids, clients, bank
//! accounts, quoted header blocks) and its features against a warm
//! history made of the message itself. Side data after the last NUL byte
//! is the SMTP envelope (see `impostor_fuzz::envelope_from`).

#![no_main]

use impostor_features::sender_history::{HistorySnapshot, MessageFacts, SenderProfile};
use impostor_features::{Extractor, MessageView};
use impostor_fuzz::{assert_bounded, default_context, envelope_from, split_side, tight_context};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (message, side) = split_side(data);
    let envelope = envelope_from(side);
    // A third of the inputs under tight limits, chosen by length so that
    // the same input always takes the same path.
    let ctx = if data.len().is_multiple_of(3) {
        tight_context()
    } else {
        default_context()
    };
    let Ok(view) = MessageView::parse(message, &envelope, ctx) else {
        return;
    };
    let extractor = Extractor::new(ctx);
    let x = extractor.extract(&view);
    assert_bounded(ctx, &view, &x);
    // Same view, same Context: same vector and evidence (the lookalike
    // index keeps per-thread scratch space that must not leak state).
    // Checked on one input in eight, by length: a second extraction costs
    // a third of the throughput.
    if data.len().is_multiple_of(8) {
        let again = extractor.extract(&view);
        assert_eq!(x.vector.values(), again.vector.values());
        assert_eq!(x.evidence, again.evidence);
    }
    let facts = MessageFacts::read(&view, &envelope, ctx);
    let mut profile = SenderProfile::new("fuzz", 0);
    for _ in 0..25 {
        profile.learn_sent(&facts, &[], false);
    }
    // A habit the message departs from on every count.
    profile.networks.clear();
    profile.networks.insert("192.0.2.0/24".into(), 25);
    let snapshot = HistorySnapshot {
        learned_messages: 1_000,
        sender: Some(profile),
        reply_to_known: vec![false; facts.reply_to_keys.len()],
        thread_known: (!facts.references.is_empty()).then_some(false),
        bank_accounts_known: vec![false; facts.bank_accounts.len()],
        imitated_correspondents: Vec::new(),
    };
    let mut with_history = x.clone();
    with_history.apply_history(&facts, &snapshot, ctx);
    assert!(with_history.evidence.len() <= x.evidence.len() + 32);
    assert!(with_history
        .evidence
        .iter()
        .all(|e| e.detail.len() <= 4 * 1024));
});
