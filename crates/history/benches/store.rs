//! What one message costs the history: a snapshot (what was known before
//! it) and an observation (queued, learnt after the delay), per backend.
//! Prints messages per second; Redis is left out (its cost is the
//! network's, measured where it runs).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use impostor_features::sender_history::{Flow, MessageFacts};
use impostor_history::{FileStore, History, HistoryParams, MemoryStore, Store};
use std::time::Instant;

/// Senders the synthetic mail comes from: a few hundred, as an
/// organisation's regular correspondents.
const SENDERS: u64 = 300;

fn message(n: u64) -> MessageFacts {
    let sender = format!("supplier{}.example", n % SENDERS);
    MessageFacts {
        time: Some(1_704_067_200 + i64::try_from(n).unwrap_or(i64::MAX) * 30),
        sender_key: Some(sender.clone()),
        sender_verified: true,
        flow: if n.is_multiple_of(10) {
            Flow::Outbound
        } else {
            Flow::Inbound
        },
        recipient_keys: vec![sender.clone()],
        network: Some(format!("203.0.{}.0/24", n % 7)),
        hour_of_week: Some(u16::try_from(n % 168).unwrap_or(0)),
        link_domains: vec!["docs.example".into()],
        message_id: Some(format!("{n}@{sender}")),
        references: vec![format!("{}@{sender}", n.saturating_sub(1))],
        lookalike_candidates: vec![sender],
        ..MessageFacts::default()
    }
}

fn history(store: Box<dyn Store>) -> History {
    let params = HistoryParams {
        delay_secs: 3_600,
        ..HistoryParams::default()
    }
    .check()
    .expect("parameters");
    History::new(store, params).expect("history")
}

fn per_message(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let backends: Vec<(&str, History)> = vec![
        ("memory", history(Box::new(MemoryStore::new([1; 32])))),
        (
            "file",
            history(Box::new(
                FileStore::open(&dir.path().join("bench.redb")).expect("file store"),
            )),
        ),
    ];
    let mut group = c.benchmark_group("history");
    group.throughput(Throughput::Elements(1));
    for (name, h) in &backends {
        let mut n = 0u64;
        let start = Instant::now();
        group.bench_function(format!("snapshot_and_observe/{name}"), |b| {
            b.iter(|| {
                let m = message(n);
                n += 1;
                let snap = h.snapshot(&m).expect("snapshot");
                h.observe(&m, false).expect("observe");
                snap
            })
        });
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name}: {n} messages in {secs:.1} s, {:.0} messages/s (with criterion's overhead)",
            n as f64 / secs
        );
    }
    group.finish();
}

criterion_group!(benches, per_message);
criterion_main!(benches);
