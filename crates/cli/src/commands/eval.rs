//! `impostor eval`: a model and baseline filters on the same labelled
//! mail → a benchmark report (metrics.json, scores.csv, figures,
//! report.md, report.html).

use crate::commands::peers::PeerArgs;
use crate::gateway::ModelArgs;
use crate::org::OrgArgs;
use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use impostor_corpus::{
    generated_labels, index_inputs, read_labels, summarise, IndexOptions, Label,
};
use impostor_eval::detectors::{AuthenticationOnly, Impostor, Keywords, Part};
use impostor_eval::metrics::Item;
use impostor_eval::report::{self, Check, DataInfo, LevelInfo, ModelInfo, ReportInput};
use impostor_eval::run::Scorer;
use impostor_eval::Detector;
use impostor_features::DEFAULT_VERDICT_HEADERS;
use impostor_mailsource::{read_inputs, ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_model::artifact;
use impostor_train::training::{data_table, Role};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, HashMap, HashSet};
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
    #[arg(long, value_delimiter = ',', value_name = "FPR", default_values_t = [1e-2, 1e-3])]
    matched_fpr: Vec<f64>,
    /// The report's title.
    #[arg(long, default_value = "Impostor benchmark report")]
    title: String,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress on standard error.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    evaluate(&args, None).map(|_| ExitCode::SUCCESS)
}

/// Runs an evaluation; `selection` overrides how the report describes the
/// data (the bench command knows its splits). Returns the metrics.
pub fn evaluate(args: &EvalArgs, selection: Option<String>) -> Result<report::MetricsFile> {
    let say = |line: &str| {
        if !args.quiet {
            eprintln!("{line}");
        }
    };
    for p in &args.paths {
        if !p.exists() {
            bail!(
                "{}: no such file or directory; give .eml files, directories, mbox files or .tar.gz archives",
                p.display()
            );
        }
    }
    for r in &args.matched_fpr {
        if !(*r > 0.0 && *r < 1.0) {
            bail!("--matched-fpr {r}: give rates between 0 and 1, e.g. 1e-2,1e-3");
        }
    }
    let threads = args.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting worker threads")?;
    let artifact = args.model.load()?;
    let ctx = args.org.build()?;

    // What the model has seen, by SHA-1.
    let data = artifact::read_file(&artifact, data_table::FILE).map_err(|e| anyhow!("{e}"))?;
    let seen: HashMap<String, Role> = data_table::from_parquet(
        &data,
        &artifact.dir.join(data_table::FILE).display().to_string(),
    )?
    .into_iter()
    .filter_map(|e| Some((e.sha1?, e.role)))
    .collect();

    let labels = match &args.labels {
        Some(p) => read_labels(p)?,
        None => Default::default(),
    };
    let options = IndexOptions {
        source: None,
        labels,
        labels_by_input: generated_labels(&args.paths)?,
        read: ReadOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        },
    };
    let progress = crate::commands::spinner(args.quiet, "indexing");
    let index = pool.install(|| index_inputs(&args.paths, &options, &|n| progress.set_position(n)));
    progress.finish_and_clear();
    let hidden: Vec<String> = DEFAULT_VERDICT_HEADERS
        .iter()
        .map(|s| s.to_string())
        .chain(args.org.hide_headers.iter().cloned())
        .collect();
    let summary = summarise(&index, &hidden, 1);

    // Groups holding a message the model trained or chose levels on.
    let fitted = |sha1: &Option<String>| {
        sha1.as_ref()
            .and_then(|s| seen.get(s))
            .is_some_and(|r| *r != Role::Test)
    };
    let tainted: HashSet<&str> = index
        .rows
        .iter()
        .filter(|r| fitted(&r.sha1))
        .map(|r| r.group.as_str())
        .collect();
    let mut excluded: BTreeMap<String, u64> = BTreeMap::new();
    let mut count = |why: &str| *excluded.entry(why.to_string()).or_default() += 1;
    let mut items = Vec::new();
    let mut wanted: HashMap<(String, Option<String>, Option<u64>), usize> = HashMap::new();
    let (mut in_test_role, mut new_to_model, mut trained_included) = (0u64, 0u64, 0u64);
    for r in &index.rows {
        let label = match r.label {
            None => {
                count("unlabelled");
                continue;
            }
            Some(Label::Spam) => {
                count("spam (the detectors are judged on ham against phishing and BEC)");
                continue;
            }
            Some(l) => l,
        };
        if r.error.is_some() {
            count("unreadable");
            continue;
        }
        let role = r.sha1.as_ref().and_then(|s| seen.get(s)).copied();
        if !args.all {
            match role {
                Some(Role::Train) => {
                    count("in the model's train role");
                    continue;
                }
                Some(Role::Validation) => {
                    count("in the model's validation role (its levels were chosen on it)");
                    continue;
                }
                _ if tainted.contains(r.group.as_str()) => {
                    count("a copy of a message the model trained on (same duplicate group)");
                    continue;
                }
                _ => {}
            }
        }
        match role {
            Some(Role::Test) => in_test_role += 1,
            None => new_to_model += 1,
            Some(_) => trained_included += 1,
        }
        wanted.insert((r.path.clone(), r.member.clone(), r.index), items.len());
        items.push(Item {
            id: r.id.clone(),
            source: r.source.clone(),
            label: label.as_str().to_string(),
            attack: label.is_attack(),
            technique: r.technique.clone(),
            synthetic: r.synthetic,
        });
    }
    if items.is_empty() {
        bail!(
            "no message to evaluate in {}: every labelled message was left out ({}); give mail the model has not trained on, or --all",
            args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            excluded.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        );
    }
    say(&format!(
        "{} messages to evaluate ({} of the model's test role, {} new to it); left out: {}",
        items.len(),
        in_test_role,
        new_to_model,
        if excluded.is_empty() {
            "none".to_string()
        } else {
            excluded
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));

    let model_id = artifact.manifest_sha256.clone();
    let mut detectors: Vec<Box<dyn Detector>> = vec![
        Box::new(Impostor::new(artifact.model.clone(), Part::Full, &model_id)),
        Box::new(Impostor::new(
            artifact.model.clone(),
            Part::RulesOnly,
            &model_id,
        )),
        Box::new(Impostor::new(
            artifact.model.clone(),
            Part::ClassifierOnly,
            &model_id,
        )),
        Box::new(AuthenticationOnly),
        Box::new(Keywords),
    ];
    let mut skipped = Vec::new();
    let (peers, peer_skips) = args.peers.connect();
    for s in &peer_skips {
        eprintln!("{}: skipped: {}", s.detector, s.reason);
    }
    detectors.extend(peers);
    skipped.extend(peer_skips);

    // Score: read the inputs again, in batches of the wanted messages.
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(items.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} messages scored by every detector, {per_sec}, eta {eta}",
        )
        .expect("static template"),
    );
    let mut scorer = Scorer::new(&detectors, &ctx);
    let mut order: Vec<usize> = Vec::with_capacity(items.len());
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let flush = |batch: &mut Vec<Vec<u8>>, scorer: &mut Scorer| {
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        pool.install(|| scorer.score(&refs));
        bar.inc(batch.len() as u64);
        batch.clear();
    };
    for m in read_inputs(&args.paths, &options.read) {
        let key = (
            m.origin.path.display().to_string(),
            m.origin.member.clone(),
            m.origin.index.map(|i| i as u64),
        );
        let (Some(&at), Ok(bytes)) = (wanted.get(&key), m.bytes) else {
            continue;
        };
        order.push(at);
        batch.push(bytes);
        if batch.len() >= 64 {
            flush(&mut batch, &mut scorer);
        }
    }
    flush(&mut batch, &mut scorer);
    bar.finish_and_clear();
    let scores = scorer.finish();
    if order.len() != items.len() {
        bail!(
            "{} of {} messages could be read again for scoring; did the inputs change during the run?",
            order.len(),
            items.len()
        );
    }
    // Scores come in reading order; put items in the same order.
    let items: Vec<Item> = order.iter().map(|&i| items[i].clone()).collect();

    let levels = &artifact.model.params().levels;
    let level_infos: Vec<LevelInfo> = [
        ("low", &levels.low),
        ("medium", &levels.medium),
        ("high", &levels.high),
    ]
    .into_iter()
    .map(|(name, p)| LevelInfo {
        name: name.into(),
        threshold: p.threshold,
        target_fpr: p.target_fpr,
        resolvable: p.resolvable,
    })
    .collect();
    let mut leakage = vec![Check {
        name: "model's own data".into(),
        result: if trained_included == 0 {
            format!(
                "no evaluated message is in the model's train or validation role ({} of its test role, {} new to it)",
                in_test_role, new_to_model
            )
        } else {
            format!("{trained_included} evaluated messages were in the model's train or validation role (--all): these numbers flatter the model")
        },
        passed: trained_included == 0,
    }];
    leakage.push(Check {
        name: "copies across the split".into(),
        result: format!(
            "{} duplicate groups; {} messages left out as copies of training messages; injected attacks share their carrier's group ({} joined)",
            summary.duplicate_groups,
            excluded.get("a copy of a message the model trained on (same duplicate group)").copied().unwrap_or(0),
            summary.duplicates.same_carrier
        ),
        passed: true,
    });
    for p in &summary.source_probe {
        let strong = p.result.auc >= 0.9;
        leakage.push(Check {
            name: format!("source probe, {} of {} vs {}", p.label.as_str(), p.source_a, p.source_b),
            result: format!(
                "surface features alone tell the two sources apart with AUC {:.2}{}",
                p.result.auc,
                if strong {
                    ": a model can learn where mail comes from; read the per-source tables, not only the totals"
                } else {
                    ""
                }
            ),
            passed: !strong,
        });
    }
    let input = ReportInput {
        title: args.title.clone(),
        command: command_line(),
        model: Some(ModelInfo {
            source: artifact.dir.display().to_string(),
            manifest_sha256: model_id.clone(),
            default_level: levels.default_level.as_str().into(),
            levels: level_infos.clone(),
        }),
        data: DataInfo {
            selection: selection.unwrap_or_else(|| {
                format!(
                    "Labelled ham, phishing and BEC from {}, less what the model trained on or chose its levels on.",
                    args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )
            }),
            excluded,
            notes: summary.warnings.clone(),
        },
        leakage,
        skipped,
        points: report::standard_points(&level_infos, &args.matched_fpr),
        items,
        scores,
        concurrency: pool.current_num_threads(),
    };
    let metrics = report::write(&args.output, &input)?;
    if !args.quiet {
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
        eprintln!("wrote {}/report.html and report.md", args.output.display());
    }
    Ok(metrics)
}

/// The command as run, output included (a report names where it lives),
/// the binary named `impostor` wherever it was built.
fn command_line() -> String {
    std::iter::once("impostor".to_string())
        .chain(
            std::env::args()
                .skip(1)
                .map(|a| crate::commands::shell_word(&a)),
        )
        .collect::<Vec<_>>()
        .join(" ")
}
