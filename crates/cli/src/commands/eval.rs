//! `impostor eval`: a model and baseline filters on the same labelled
//! mail → a benchmark report (metrics.json, scores.csv, figures,
//! report.md, report.html).

use crate::commands::peers::PeerArgs;
use crate::commands::Console;
use crate::gateway::ModelArgs;
use crate::history_replay::ReplayArgs;
use crate::org::OrgArgs;
use anyhow::{anyhow, Result};
use clap::Args;
use impostor_eval::evaluation::DEFAULT_TITLE;
use impostor_eval::report::{self, MetricsFile};
use impostor_eval::{EvalConfig, EvalError, MatchedFprs};
use impostor_model::artifact::Artifact;
use std::path::PathBuf;
use std::process::ExitCode;

/// Evaluate a model against baseline filters on labelled mail, and write a
/// benchmark report.
///
/// The messages are indexed as `impostor train` indexes them (labels from
/// --labels, a generated corpus's labels.tsv, or folder names; duplicate
/// groups). Ham, phishing and BEC are evaluated; spam and unlabelled
/// messages are left out and counted. Messages the model was trained on or
/// chose its levels on (its training.parquet's train and validation roles,
/// matched by SHA-1), and any message in a duplicate group with one of
/// them, are left out too: a model is measured on mail it has not seen.
/// Messages of its test role, and messages new to it, are evaluated.
///
/// Detectors, all on the same messages in one run: Impostor (the serve
/// crate's Detector: what `scan` reports), its rules alone and its
/// classifier alone (the ablation), authentication only (SPF or DMARC
/// fail), a keyword filter (urgency and money words), and the peers:
/// SpamAssassin through spamd and Rspamd through /checkv2, when they
/// answer at --spamd and --rspamd (start both on loopback with
/// `scripts/baselines.sh start DIR`); a peer that does not answer is
/// skipped and the report says why.
///
/// The report (OUT/report.md, report.html, metrics.json, scores.csv, and
/// each figure as PNG and SVG) is written whole or not at all; an existing
/// report in OUT is replaced.
///
/// Examples:
///
///     impostor eval --model out/model out/default/messages -o out/report
///
///     scripts/baselines.sh start /tmp/peers
///
///     impostor eval --model models/default corpus/ -o report
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    org: OrgArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Labelled messages: .eml, directories, mbox, Maildir, .tar.gz.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Labels file (member, label, technique, synthetic), as for `train`.
    #[arg(long, value_name = "TSV")]
    labels: Option<PathBuf>,
    /// The report directory to write.
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Evaluate every labelled message, also those the model trained on
    /// (the report's leakage check then fails, loudly).
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    peers: PeerArgs,
    /// False-positive rates at which every detector's detection rate is
    /// compared.
    #[arg(long, value_delimiter = ',', value_name = "FPR",
          default_values_t = MatchedFprs::default().rates().to_vec())]
    matched_fpr: Vec<f64>,
    /// The report's title.
    #[arg(long, default_value = DEFAULT_TITLE)]
    title: String,
    /// Also measure transfer: retrain on the model's own training data
    /// (its training.parquet; no mail is read again) without each real
    /// source in turn (a source with no synthetic row; a source of
    /// per-list folders, one list at a time), and measure the retrained
    /// model on the source left out beside the model's own figure on that
    /// source's test role; then train on mail dated before 2015 and test
    /// on the real mail from 2015 on, and the other way round. Adds the
    /// section "Transfer: out-of-source and cross-era" to the report and
    /// `transfer` to metrics.json. Each is a full training fit, one after
    /// another: one per source (or list) left out and two for the eras;
    /// on the shared corpora (27,000 rows, two cores) 5 to 10 s each.
    #[arg(long)]
    transfer: bool,
    #[command(flatten)]
    history: ReplayArgs,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress on standard error.
    #[arg(short, long)]
    quiet: bool,
}

impl EvalArgs {
    /// The evaluation these flags ask for; `command` is what the report
    /// records as the command that made it.
    fn config(&self, command: String) -> Result<EvalConfig> {
        let matched_fpr = MatchedFprs::new(self.matched_fpr.clone()).map_err(|e| match e {
            EvalError::NotARate(r) => {
                anyhow!("--matched-fpr {r}: give rates between 0 and 1, e.g. 1e-2,1e-3")
            }
            e => e.into(),
        })?;
        Ok(EvalConfig {
            paths: self.paths.clone(),
            labels: self.labels.clone(),
            output: self.output.clone(),
            keep_seen: self.all,
            peers: self.peers.config(),
            matched_fpr,
            title: self.title.clone(),
            threads: self.threads,
            hide_headers: self.org.hide_headers.clone(),
            selection: None,
            command,
            transfer: self.transfer,
            history: self.history.params(),
        })
    }
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let config = args.config(format!("impostor {}", crate::commands::arguments(false)))?;
    let artifact = args.model.load()?;
    evaluate(&config, &artifact, &args.org, args.quiet)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs an evaluation of `artifact` for the organisation of `org`, its
/// account on standard error unless `quiet` (skipped peers always), and
/// then how each detector did. Returns the metrics.
pub fn evaluate(
    config: &EvalConfig,
    artifact: &Artifact,
    org: &OrgArgs,
    quiet: bool,
) -> Result<MetricsFile> {
    let ctx = org.build()?;
    let metrics = impostor_eval::evaluate(config, artifact, &ctx, &Console::new(quiet)).map_err(
        |e| match e {
            EvalError::NothingToEvaluate { .. } => anyhow!("{e}, or --all"),
            e => e.into(),
        },
    )?;
    if !quiet {
        for d in &metrics.detectors {
            let native = d.points.iter().find(|p| p.name == "native");
            eprintln!(
                "  {:<26} AUC {}  {}",
                d.name,
                d.ranking
                    .roc_auc
                    .map_or("n/a".into(), |a| format!("{a:.4}")),
                native.map_or(String::new(), |p| format!(
                    "false positives {}, detection {}",
                    report::rate_cell(&p.overall.false_positive_rate),
                    report::rate_cell(&p.overall.detection_rate)
                ))
            );
        }
        eprintln!(
            "wrote {}/report.html and report.md",
            config.output.display()
        );
    }
    Ok(metrics)
}
