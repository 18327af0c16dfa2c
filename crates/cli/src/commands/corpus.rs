//! `impostor corpus`: index corpora into a manifest and split it.

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use impostor_corpus::{
    assign, index_inputs, read_labels, read_manifest, summarise, write_manifest, write_split,
    IndexOptions, Side, SplitRule,
};
use impostor_features::DEFAULT_VERDICT_HEADERS;
use impostor_mailsource::{ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Index labelled corpora and split them without leakage.
#[derive(Args, Debug)]
pub struct CorpusArgs {
    #[command(subcommand)]
    command: CorpusCommand,
}

#[derive(Subcommand, Debug)]
enum CorpusCommand {
    Index(IndexArgs),
    Split(SplitArgs),
}

/// Index messages into a manifest (Parquet) and a summary (JSON).
///
/// One row per message: id, source, path, member, index, label, technique,
/// synthetic, date (the Date header, UTC), SHA-1 of the bytes, Message-ID,
/// a hash of the body's letters, size, duplicate group and error. Labels
/// come from folder names (ham/, spam/, phish/, bec/, easy_ham/, hard_ham/,
/// spam-2/ …) unless --labels gives them. Copies (same bytes, same
/// Message-ID, or the same body up to case, spacing, digits and MIME
/// boundaries)
/// share a group, and splits keep groups whole.
///
/// The summary (OUT with .summary.json) counts messages per source and
/// label, lists the leakage controls in force, and runs the source probe: a
/// logistic regression over surface features (size, header order, MIME
/// layout) that tries to tell the sources of one label apart. An AUC over
/// 0.7 is printed as a warning: a model could learn the source.
///
/// Example:
///
///     impostor corpus index ../shared/corpora/*.tar.gz -o manifest.parquet
#[derive(Args, Debug)]
struct IndexArgs {
    /// Messages: .eml, directories, mbox, Maildir, .tar.gz.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The manifest to write (.parquet).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Source name for every input (default: each input's file name
    /// without .tar.gz).
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Labels file: tab-separated, a header naming member and label, and
    /// optionally technique and synthetic (as `impostor gen` writes).
    #[arg(long, value_name = "TSV")]
    labels: Option<PathBuf>,
    /// Seed of the source probe's folds.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress and no summary on standard error.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SplitBy {
    /// Test = groups with a message dated on or after --date.
    Time,
    /// Test = every message of --source (leave one source out).
    Source,
    /// Test = a seeded --fraction of the groups.
    Hash,
}

/// Split a manifest into train and test, keeping duplicate groups whole.
///
/// Writes OUT (.parquet) with columns id, group, split (train or test) and
/// rule (the rule in words), and prints the counts per side and label.
///
/// Examples:
///
///     impostor corpus split manifest.parquet --by time --date 2025-01-01 -o split.parquet
///
///     impostor corpus split manifest.parquet --by source --source csdmc2010-a -o split.parquet
///
///     impostor corpus split manifest.parquet --by hash --fraction 0.2 --seed 7 -o split.parquet
#[derive(Args, Debug)]
struct SplitArgs {
    /// A manifest written by `impostor corpus index`.
    #[arg(value_name = "MANIFEST")]
    manifest: PathBuf,
    #[arg(long, value_enum)]
    by: SplitBy,
    /// With --by time: the first day of the test side (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", required_if_eq("by", "time"))]
    date: Option<String>,
    /// With --by source: the source held out for test.
    #[arg(long, value_name = "NAME", required_if_eq("by", "source"))]
    source: Option<String>,
    /// With --by hash: the share of groups for test.
    #[arg(long, default_value_t = 0.2)]
    fraction: f64,
    /// With --by hash: the seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The split to write (.parquet).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
}

pub fn run(args: CorpusArgs) -> Result<ExitCode> {
    match args.command {
        CorpusCommand::Index(a) => index(a),
        CorpusCommand::Split(a) => split(a),
    }
}

fn require_parquet(path: &Path) -> Result<()> {
    if path.extension().and_then(|e| e.to_str()) != Some("parquet") {
        bail!("{}: name the output .parquet", path.display());
    }
    Ok(())
}

fn index(args: IndexArgs) -> Result<ExitCode> {
    require_parquet(&args.output)?;
    for p in &args.paths {
        if !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let labels = match &args.labels {
        Some(p) => read_labels(p)?,
        None => Default::default(),
    };
    let options = IndexOptions {
        source: args.source.clone(),
        labels,
        labels_by_input: impostor_corpus::generated_labels(&args.paths)?,
        read: ReadOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        },
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} indexing: {pos} messages, {per_sec}, {elapsed}")
            .expect("static template"),
    );
    let started = Instant::now();
    let cpu_started = cpu_time::ProcessTime::try_now().ok();
    let index = pool.install(|| index_inputs(&args.paths, &options, &|n| progress.set_position(n)));
    let elapsed = started.elapsed();
    let cpu = cpu_started.and_then(|t| t.try_elapsed().ok());
    progress.finish_and_clear();

    write_manifest(&index.rows, &args.output)?;
    let hidden: Vec<String> = DEFAULT_VERDICT_HEADERS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let summary = summarise(&index, &hidden, args.seed);
    let summary_path = args.output.with_extension("summary.json");
    let mut json = serde_json::to_vec_pretty(&summary).context("serialising the summary")?;
    json.push(b'\n');
    impostor_model::atomic::write_bytes(&summary_path, &json)?;
    if !args.quiet {
        let n = index.rows.len();
        eprintln!(
            "indexed {n} messages into {} in {:.2} s: {:.0} messages/s on {} threads",
            args.output.display(),
            elapsed.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64().max(1e-9),
            pool.current_num_threads()
        );
        if let Some(cpu) = cpu.filter(|c| !c.is_zero()) {
            eprintln!(
                "CPU time {:.2} s over all threads: {:.0} messages per CPU-second",
                cpu.as_secs_f64(),
                n as f64 / cpu.as_secs_f64()
            );
        }
        for (source, labels) in &summary.counts {
            let parts: Vec<String> = labels.iter().map(|(l, n)| format!("{l} {n}")).collect();
            eprintln!("  {source}: {}", parts.join(", "));
        }
        eprintln!(
            "duplicates: {} groups holding {} messages (same bytes {}, same Message-ID {}, same body {}, attack with its carrier {}); errors: {}",
            summary.duplicate_groups,
            summary.messages_in_duplicate_groups,
            summary.duplicates.same_bytes,
            summary.duplicates.same_message_id,
            summary.duplicates.same_body,
            summary.duplicates.same_carrier,
            summary.errors
        );
        for p in &summary.source_probe {
            eprintln!(
                "source probe, {}: {} vs {}: AUC {:.2}, balanced accuracy {:.2} ({} and {} messages)",
                p.label, p.source_a, p.source_b, p.result.auc, p.result.balanced_accuracy, p.result.count_a, p.result.count_b
            );
        }
        for w in &summary.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("summary written to {}", summary_path.display());
    }
    Ok(if summary.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn split(args: SplitArgs) -> Result<ExitCode> {
    require_parquet(&args.output)?;
    let rows = read_manifest(&args.manifest)?;
    let rule = match args.by {
        SplitBy::Time => SplitRule::Time {
            date: args.date.clone().unwrap_or_default(),
        },
        SplitBy::Source => {
            let source = args.source.clone().unwrap_or_default();
            if !rows.iter().any(|r| r.source == source) {
                let mut known: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
                known.dedup();
                bail!(
                    "{}: no source {source:?}; it has {known:?}",
                    args.manifest.display()
                );
            }
            SplitRule::Source { source }
        }
        SplitBy::Hash => SplitRule::Hash {
            fraction: args.fraction,
            seed: args.seed,
        },
    };
    let sides = assign(&rows, &rule)?;
    write_split(&rows, &sides, &rule, &args.output)?;
    eprintln!("{rule}");
    for side in [Side::Train, Side::Test] {
        let mut counts = std::collections::BTreeMap::new();
        for (r, s) in rows.iter().zip(&sides) {
            if *s == side {
                *counts
                    .entry(r.label.map_or("unlabelled", impostor_corpus::Label::as_str))
                    .or_insert(0) += 1;
            }
        }
        let parts: Vec<String> = counts.iter().map(|(l, n)| format!("{l} {n}")).collect();
        eprintln!("  {}: {}", side.as_str(), parts.join(", "));
    }
    eprintln!("written to {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
