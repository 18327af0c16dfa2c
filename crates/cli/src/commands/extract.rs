//! `impostor extract`: messages → a feature table.

use crate::gateway::{FileEnvelopeArgs, LiveArgs};
use crate::org::OrgArgs;
use anyhow::{bail, Context as _, Result};
use clap::Args;
use impostor_corpus::manifest::{input_of, source_name};
use impostor_features::sender_history::MessageFacts;
use impostor_features::Extractor;
use impostor_features::{Inputs, MessageView};
use impostor_history::{replay_group, History, HistoryParams};
use impostor_mailsource::{ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_train::extract::{
    extract_all_with, extract_one_for_replay, for_each_batch, FileInputs,
};
use impostor_train::replay::replay_rows;
use impostor_train::{feature_table, FeatureRow, TableFormat};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Per-message errors listed at the end; the table holds them all.
const ERRORS_SHOWN: usize = 10;

/// Extract the named features of every message into a table.
///
/// Writes one row per message (path, member inside an archive, index inside
/// an mbox, error, techniques, identity: how each reader saw the sender
/// when they disagree, then every feature of `impostor features`).
/// The format follows OUT's extension: .parquet (polars) or .ndjson. The
/// file is written atomically: an interrupted run leaves no partial table.
///
/// PATH may be an .eml file, a directory (walked recursively, Maildirs
/// included), an mbox, or a .tar.gz/.tgz of these, read as a stream.
/// A message that cannot be read or parsed becomes a row with an error.
///
/// Authentication features read the Authentication-Results of the org's
/// trusted receivers, or with --resolver (or [dns] resolver in the org
/// profile) SPF, DKIM, DMARC and ARC verified live over DNS.
///
/// Example, a corpus into a Parquet table for training:
///
///     impostor extract --org org.toml corpus.tar.gz -o features.parquet
#[derive(Args, Debug)]
pub struct ExtractArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub envelope: FileEnvelopeArgs,
    /// Messages to read: .eml, directories, mbox, Maildir, .tar.gz.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output table: .parquet or .ndjson.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Messages larger than this many bytes become an error row.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_size: u64,
    /// Read the sender history from this store (read-only): an embedded
    /// store file or redis://HOST:PORT (see `impostor history`); the
    /// history_* features then say how each message departs from it.
    #[arg(long, value_name = "STORE", conflicts_with = "history_replay")]
    pub history: Option<String>,
    /// Give the messages a history of their own: each input's mail in
    /// date order, every message extracted with what an in-memory store
    /// knew strictly before it (after --history-delay), then learnt.
    #[arg(long)]
    pub history_replay: bool,
    /// How long after a message the replay learns it: 90s, 30m, 4h, 2d.
    #[arg(long, value_name = "DURATION", value_parser = crate::history_replay::parse_duration, default_value = "4h")]
    pub history_delay: i64,
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
    let verifier = args.live.verifier(&args.org, None)?;
    let params = HistoryParams {
        delay_secs: args.history_delay,
        ..HistoryParams::default()
    }
    .check()
    .context("--history-delay")?;
    let history = match &args.history {
        Some(spec) => Some(
            History::open(spec, params.clone())
                .with_context(|| format!("opening the history store {spec}"))?,
        ),
        None => None,
    };
    let history_errors = std::sync::atomic::AtomicU64::new(0);
    let enrich = |bytes: &[u8], view: &MessageView, inputs: &mut Inputs| {
        if let Some(v) = &verifier {
            // A verification error leaves the message in header mode: the
            // features then read what the org's trusted receivers wrote.
            if let Ok(e) = v.verify_view_blocking(bytes, view, &inputs.envelope) {
                e.apply(inputs);
            }
        }
        if let Some(h) = &history {
            let facts = MessageFacts::read(view, &inputs.envelope, &ctx);
            match h.snapshot(&facts) {
                Ok(s) => inputs.history = Some(s),
                Err(_) => {
                    history_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    };
    let envelope = args.envelope.envelope(None);
    let inputs = FileInputs {
        envelope: Some(&envelope),
        enrich: (verifier.is_some() || history.is_some()).then_some(&enrich as _),
    };
    let rows = if args.history_replay {
        let mut read = Vec::new();
        for_each_batch(
            &args.paths,
            &options,
            &pool,
            |m| extract_one_for_replay(&extractor, inputs, true, m),
            |done| {
                read.extend(done);
                progress.set_position(read.len() as u64);
            },
        );
        let (mut rows, facts): (Vec<FeatureRow>, Vec<_>) = read.into_iter().unzip();
        let groups = rows
            .iter()
            .map(|r| {
                let input = input_of(Path::new(&r.path), r.member.as_deref());
                Some(replay_group(&source_name(input), r.member.as_deref()))
            })
            .collect();
        progress.set_message("replaying sender history");
        pool.install(|| replay_rows(&mut rows, groups, facts, &ctx, &params))
            .context("replaying sender history")?;
        rows
    } else {
        extract_all_with(&args.paths, &extractor, inputs, &options, &pool, &|n| {
            progress.set_position(n)
        })
    };
    let history_errors = history_errors.into_inner();
    if history_errors > 0 {
        eprintln!(
            "warning: the history store failed for {history_errors} messages; their history_* features are zero"
        );
    }
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
