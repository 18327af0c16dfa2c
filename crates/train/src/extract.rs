//! Many messages at once: read on a thread of their own, mapped on a
//! worker pool, handed on in input order a batch at a time, so memory stays
//! bounded whatever the corpus size.

use crate::feature_table::FeatureRow;
use impostor_features::sender_history::MessageFacts;
use impostor_features::{Envelope, Extractor, Inputs, MessageView};
use impostor_mailsource::{read_inputs, RawMessage, ReadOptions};
use rayon::prelude::*;
use std::path::PathBuf;

/// Messages read and scored together; bounds memory while keeping order.
const BATCH: usize = 1024;
/// A batch also closes once it holds this many bytes of messages.
const BATCH_BYTES: usize = 64 << 20;
/// Batches the reader may have ready ahead of the workers.
const BATCHES_AHEAD: usize = 2;

/// What a caller adds to a message before its features are read, after
/// it is parsed: live authentication verdicts and DNS facts
/// ([`Inputs::auth`], [`Inputs::domains`]), computed by whoever does the
/// I/O (impostor-auth); this crate does none.
pub type Enrich<'a> = dyn Fn(&[u8], &MessageView, &mut Inputs) + Sync + 'a;

/// What every message read from files gets besides its bytes: an SMTP
/// envelope given once for all (its mbox sender filled per message), and
/// an optional enrichment step.
#[derive(Clone, Copy, Default)]
pub struct FileInputs<'a> {
    /// MAIL FROM, client IP and HELO to assume for every message.
    pub envelope: Option<&'a Envelope>,
    /// Live verification, run on the parsed view before extraction.
    pub enrich: Option<&'a Enrich<'a>>,
}

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
    extract_all_with(
        paths,
        extractor,
        FileInputs::default(),
        options,
        pool,
        progress,
    )
}

/// [`extract_all`] with an envelope and an enrichment step for every
/// message.
pub fn extract_all_with(
    paths: &[PathBuf],
    extractor: &Extractor<'_>,
    inputs: FileInputs<'_>,
    options: &ReadOptions,
    pool: &rayon::ThreadPool,
    progress: &dyn Fn(u64),
) -> Vec<FeatureRow> {
    let mut rows: Vec<FeatureRow> = Vec::new();
    for_each_batch(
        paths,
        options,
        pool,
        |m| extract_one_with(extractor, inputs, m),
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

/// [`extract_one_with`], and when `facts` is set also the message's
/// history facts (for a replay: [`crate::replay`]).
pub fn extract_one_for_replay(
    extractor: &Extractor<'_>,
    inputs: FileInputs<'_>,
    facts: bool,
    m: &RawMessage,
) -> (FeatureRow, Option<MessageFacts>) {
    if !facts {
        return (extract_one_with(extractor, inputs, m), None);
    }
    let read = std::sync::Mutex::new(None);
    let enrich = |bytes: &[u8], view: &MessageView, message_inputs: &mut Inputs| {
        if let Some(enrich) = inputs.enrich {
            enrich(bytes, view, message_inputs);
        }
        let f = MessageFacts::read(view, &message_inputs.envelope, extractor.context());
        *read.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    };
    let reading = FileInputs {
        envelope: inputs.envelope,
        enrich: Some(&enrich),
    };
    let row = extract_one_with(extractor, reading, m);
    let facts = read.into_inner().unwrap_or_else(|e| e.into_inner());
    (row, facts)
}

/// One message's row: its place, and its features or its error.
pub fn extract_one(extractor: &Extractor<'_>, m: &RawMessage) -> FeatureRow {
    extract_one_with(extractor, FileInputs::default(), m)
}

/// [`extract_one`] with an envelope and an enrichment step.
pub fn extract_one_with(
    extractor: &Extractor<'_>,
    inputs: FileInputs<'_>,
    m: &RawMessage,
) -> FeatureRow {
    let mut row = FeatureRow {
        path: m.origin.path.display().to_string(),
        member: m.origin.member.clone(),
        index: m.origin.index.map(|i| i as u64),
        error: None,
        techniques: Vec::new(),
        identity: None,
        values: None,
    };
    match &m.bytes {
        Err(e) => row.error = Some(e.describe()),
        Ok(bytes) => {
            let envelope = Envelope {
                mbox_sender: m.mbox_sender.clone(),
                ..inputs.envelope.cloned().unwrap_or_default()
            };
            let mut message_inputs = Inputs::new(envelope);
            let extracted = match inputs.enrich {
                None => extractor.extract_bytes(bytes, &message_inputs),
                Some(enrich) => extractor
                    .parse(bytes, &message_inputs.envelope)
                    .and_then(|view| {
                        enrich(bytes, &view, &mut message_inputs);
                        extractor.extract_view(view, &message_inputs)
                    }),
            };
            match extracted {
                Ok((_, x)) => {
                    row.techniques = x.techniques();
                    if x.identity.disagree() {
                        row.identity = Some(x.identity);
                    }
                    row.values = Some(x.vector);
                }
                Err(e) => row.error = Some(e.to_string()),
            }
        }
    }
    row
}
