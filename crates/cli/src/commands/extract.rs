//! `impostor extract`: messages → a feature table.

use crate::org::OrgArgs;
use anyhow::{bail, Context as _, Result};
use clap::Args;
use impostor_features::{Envelope, Extractor, Inputs};
use impostor_mailsource::{read_inputs, RawMessage, ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_train::{feature_table, FeatureRow, TableFormat};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Messages read and scored together; bounds memory while keeping order.
const BATCH: usize = 1024;
/// A batch also closes once it holds this many bytes of messages.
const BATCH_BYTES: usize = 64 << 20;
/// Batches the reader may have ready ahead of the workers.
const BATCHES_AHEAD: usize = 2;
/// Per-message errors listed at the end; the table holds them all.
const ERRORS_SHOWN: usize = 10;

/// Extract the named features of every message into a table.
///
/// Writes one row per message (path, member inside an archive, index inside
/// an mbox, error, techniques, then every feature of `impostor features`).
/// The format follows OUT's extension: .parquet (polars) or .ndjson. The
/// file is written atomically: an interrupted run leaves no partial table.
///
/// PATH may be an .eml file, a directory (walked recursively, Maildirs
/// included), an mbox, or a .tar.gz/.tgz of these, read as a stream.
/// A message that cannot be read or parsed becomes a row with an error.
///
/// Example, a corpus into a Parquet table for training:
///
///     impostor extract --org org.toml corpus.tar.gz -o features.parquet
#[derive(Args, Debug)]
pub struct ExtractArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    /// Messages to read: .eml, directories, mbox, Maildir, .tar.gz.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output table: .parquet or .ndjson.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Messages larger than this many bytes become an error row.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: ExtractArgs) -> Result<ExitCode> {
    TableFormat::from_path(&args.output)?;
    for p in &args.paths {
        if !p.exists() {
            bail!("{}: no such file or directory; give .eml files, directories, mbox files or .tar.gz archives", p.display());
        }
    }
    let ctx = args.org.build()?;
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the output directory {}", dir.display()))?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let extractor = Extractor::new(&ctx);
    let options = ReadOptions {
        max_message_bytes: args.max_message_size,
    };

    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {pos} messages, {per_sec}, {elapsed} {msg}")
            .expect("static template"),
    );
    let started = Instant::now();
    let cpu_started = cpu_time::ProcessTime::try_now().ok();
    let rows = extract_all(&args.paths, &extractor, &options, &pool, &progress);
    let elapsed = started.elapsed();
    // CPU time of every thread (reader, workers, this one): the honest
    // denominator for "per core".
    let cpu = cpu_started.and_then(|t| t.try_elapsed().ok());
    // And of the workers alone, since their start: the cost of extraction
    // itself, whatever else the machine was running meanwhile.
    let worker_cpu: Option<std::time::Duration> = pool
        .broadcast(|_| {
            cpu_time::ThreadTime::try_now()
                .ok()
                .map(|t| t.as_duration())
        })
        .into_iter()
        .sum();
    progress.finish_and_clear();

    let errors: Vec<&FeatureRow> = rows.iter().filter(|r| r.error.is_some()).collect();
    feature_table::write_table(&rows, &args.output)?;
    if !args.quiet {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let threads = pool.current_num_threads();
        let rate = rows.len() as f64 / secs;
        eprintln!(
            "extracted {} messages to {} in {:.2} s: {:.0} messages/s on {} worker threads ({:.0} per worker)",
            rows.len(),
            args.output.display(),
            secs,
            rate,
            threads,
            rate / threads as f64
        );
        if let Some(cpu) = cpu.filter(|c| !c.is_zero()) {
            eprintln!(
                "CPU time {:.2} s over all threads: {:.0} messages per CPU-second",
                cpu.as_secs_f64(),
                rows.len() as f64 / cpu.as_secs_f64()
            );
        }
        if let Some(cpu) = worker_cpu.filter(|c| !c.is_zero()) {
            eprintln!(
                "workers' CPU time {:.2} s: {:.0} messages per worker CPU-second",
                cpu.as_secs_f64(),
                rows.len() as f64 / cpu.as_secs_f64()
            );
        }
        let share = if rows.is_empty() {
            0.0
        } else {
            100.0 * errors.len() as f64 / rows.len() as f64
        };
        eprintln!("per-message errors: {} ({share:.2}%)", errors.len());
        for r in errors.iter().take(ERRORS_SHOWN) {
            eprintln!("  {}: {}", locate(r), r.error.as_deref().unwrap_or(""));
        }
        if errors.len() > ERRORS_SHOWN {
            eprintln!(
                "  … {} more in the table's error column",
                errors.len() - ERRORS_SHOWN
            );
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Extracts every message of `paths` on `pool`, in input order, one row
/// each (an error row for a message that cannot be read or parsed).
pub fn extract_all(
    paths: &[PathBuf],
    extractor: &Extractor<'_>,
    options: &ReadOptions,
    pool: &rayon::ThreadPool,
    progress: &ProgressBar,
) -> Vec<FeatureRow> {
    let mut rows: Vec<FeatureRow> = Vec::new();
    for_each_batch(
        paths,
        options,
        pool,
        |m| row(extractor, m),
        |done| {
            progress.inc(done.len() as u64);
            rows.extend(done);
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

fn row(extractor: &Extractor<'_>, m: &RawMessage) -> FeatureRow {
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

fn locate(r: &FeatureRow) -> String {
    let mut s = r.path.clone();
    if let Some(m) = &r.member {
        s.push_str(&format!(" member {m}"));
    }
    if let Some(i) = r.index {
        s.push_str(&format!(" message #{i}"));
    }
    s
}
