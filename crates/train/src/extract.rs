//! Many messages at once: read on a thread of their own, mapped on a
//! worker pool, handed on in input order a batch at a time, so memory stays
//! bounded whatever the corpus size.

use crate::feature_table::FeatureRow;
use impostor_features::{Envelope, Extractor, Inputs};
use impostor_mailsource::{read_inputs, RawMessage, ReadOptions};
use rayon::prelude::*;
use std::path::PathBuf;

/// Messages read and scored together; bounds memory while keeping order.
const BATCH: usize = 1024;
/// A batch also closes once it holds this many bytes of messages.
const BATCH_BYTES: usize = 64 << 20;
/// Batches the reader may have ready ahead of the workers.
const BATCHES_AHEAD: usize = 2;

/// Extracts every message of `paths` on `pool`, in input order, one row
/// each (an error row for a message that cannot be read or parsed);
/// `progress` hears how many are done after each batch.
pub fn extract_all(
    paths: &[PathBuf],
    extractor: &Extractor<'_>,
    options: &ReadOptions,
    pool: &rayon::ThreadPool,
    progress: &dyn Fn(u64),
) -> Vec<FeatureRow> {
    let mut rows: Vec<FeatureRow> = Vec::new();
    for_each_batch(
        paths,
        options,
        pool,
        |m| extract_one(extractor, m),
        |done| {
            rows.extend(done);
            progress(rows.len() as u64);
        },
    );
    rows
}

/// Reads every message of `paths`, maps each on `pool`, and hands the
/// results to `sink` a batch at a time, in input order. Reading (gunzip,
/// tar, mbox splitting) runs on its own thread and fills the next batch
/// while the workers work on this one; a small channel of byte-capped
/// batches bounds memory.
pub fn for_each_batch<T: Send>(
    paths: &[PathBuf],
    options: &ReadOptions,
    pool: &rayon::ThreadPool,
    map: impl Fn(&RawMessage) -> T + Sync,
    mut sink: impl FnMut(Vec<T>),
) {
    let messages = read_inputs(paths, options);
    let (batches, incoming) = std::sync::mpsc::sync_channel::<Vec<RawMessage>>(BATCHES_AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut messages = messages;
            loop {
                let batch = next_batch(&mut messages);
                if batch.is_empty() || batches.send(batch).is_err() {
                    break;
                }
            }
        });
        for batch in incoming {
            let done: Vec<T> = pool.install(|| batch.par_iter().map(&map).collect());
            sink(done);
        }
    });
}

/// The next batch: up to [`BATCH`] messages or [`BATCH_BYTES`] bytes.
fn next_batch(messages: &mut impl Iterator<Item = RawMessage>) -> Vec<RawMessage> {
    let mut batch = Vec::with_capacity(BATCH);
    let mut bytes = 0;
    for m in messages.by_ref() {
        bytes += m.bytes.as_ref().map_or(0, Vec::len);
        batch.push(m);
        if batch.len() >= BATCH || bytes >= BATCH_BYTES {
            break;
        }
    }
    batch
}

/// One message's row: its place, and its features or its error.
pub fn extract_one(extractor: &Extractor<'_>, m: &RawMessage) -> FeatureRow {
    let mut row = FeatureRow {
        path: m.origin.path.display().to_string(),
        member: m.origin.member.clone(),
        index: m.origin.index.map(|i| i as u64),
        error: None,
        techniques: Vec::new(),
        values: None,
    };
    match &m.bytes {
        Err(e) => row.error = Some(e.describe()),
        Ok(bytes) => {
            let envelope = Envelope {
                mbox_sender: m.mbox_sender.clone(),
                ..Envelope::default()
            };
            match extractor.extract_bytes(bytes, &Inputs::new(envelope)) {
                Ok((_, x)) => {
                    row.techniques = x.techniques();
                    row.values = Some(x.vector);
                }
                Err(e) => row.error = Some(e.to_string()),
            }
        }
    }
    row
}
