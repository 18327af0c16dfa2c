//! `impostor train`: labelled mail → a verified model artifact.

use crate::commands::extract::extract_all;
use crate::org::OrgArgs;
use anyhow::{bail, Context as _, Result};
use clap::{Args, ValueEnum};
use impostor_corpus::{
    assign, generated_labels, index_inputs, read_labels, IndexOptions, Label, SplitRule,
};
use impostor_features::Extractor;
use impostor_mailsource::{ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_model::artifact;
use impostor_model::{Level, Model, RuleSet, BUILTIN_RULES};
use impostor_train::training::export::{write_artifact, RunSettings};
use impostor_train::training::{
    self, data_manifest_sha256, data_table, held_out_metrics, roles_from_split, Example,
    HeldOutMetrics, Role, TrainParams,
};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum HoldOut {
    /// Held out: groups with a message dated on or after --date.
    Time,
    /// Held out: every message of --source.
    Source,
    /// Held out: a seeded --fraction of the duplicate groups.
    Hash,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LevelArg {
    Low,
    Medium,
    High,
}

/// Train rule weights and a classifier on labelled mail, calibrate them,
/// choose the detection levels, and write a verified model artifact.
///
/// The messages are indexed (labels from --labels, else, for a generated
/// corpus's DIR/messages, from DIR/labels.tsv, else from folder names such
/// as ham/, easy_ham/, phish/, bec/; duplicate groups; dates) and their
/// features extracted, as `impostor corpus index` and `impostor
/// extract` do. Phishing and BEC are attacks; ham is not; spam, unlabelled
/// messages and messages that cannot be read are left out and counted.
///
/// Roles: --hold-out picks the held-out groups (by time, by source, or a
/// seeded hash); they are halved into a validation role, on which the
/// levels low / medium / high are chosen at their target false-positive
/// rates, and a test role that nothing is fitted or chosen on: the fixed
/// regression set. The rest trains, with k-fold cross-validation by
/// duplicate group: the per-fold AUC is printed, and the Platt calibration
/// is fitted on the out-of-fold scores.
///
/// The artifact (OUT/manifest.json, SHA256SUMS, MODEL_CARD.md,
/// training.parquet) is written whole or not at all. The same inputs,
/// options and seed give the same bytes.
///
/// Retraining: --base ARTIFACT --add PATH... trains on the base's data
/// (kept in its training.parquet) plus the new labelled messages (all in
/// the train role), prints before / after metrics on the base's test role,
/// and refuses to write when, at the default level, the false-positive rate
/// rose above or the detection rate fell below the base's 95% interval,
/// unless --force.
///
/// Examples:
///
///     impostor gen -o corpus/default
///     impostor train corpus/default/messages -o models/mine
///
///     impostor train --base models/mine --add new-bec/ -o models/mine-2
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// Labelled messages: .eml, directories, mbox, Maildir, .tar.gz.
    #[arg(
        value_name = "PATH",
        required_unless_present = "base",
        conflicts_with = "base"
    )]
    paths: Vec<PathBuf>,
    /// Labels file: tab-separated, a header naming member and label, and
    /// optionally technique and synthetic (as `impostor gen` writes).
    /// Applies to PATH and to --add, and wins over a generated corpus's own
    /// labels.tsv.
    #[arg(long, value_name = "TSV")]
    labels: Option<PathBuf>,
    /// The artifact directory to write.
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Rule file (default: datasets/rules.toml, built in; with --base, the
    /// base's rules).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Cross-validation folds [default: 5, or the base's].
    #[arg(long, value_name = "K")]
    folds: Option<usize>,
    /// Seed of the folds and of the validation / test halves [default: 1,
    /// or the base's].
    #[arg(long)]
    seed: Option<u64>,
    /// How to choose the held-out groups.
    #[arg(long, value_enum, default_value = "hash")]
    hold_out: HoldOut,
    /// With --hold-out time: the first held-out day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", required_if_eq("hold_out", "time"))]
    date: Option<String>,
    /// With --hold-out source: the source held out.
    #[arg(long, value_name = "NAME", required_if_eq("hold_out", "source"))]
    source: Option<String>,
    /// Hold out SOURCE's messages dated on or after the day instead, and
    /// apply --hold-out to the other sources only (repeatable). For
    /// corpora of different eras: e.g. real phishing by time, the ham of
    /// 2002 by hash.
    #[arg(long, value_name = "SOURCE=YYYY-MM-DD", value_parser = parse_cut)]
    hold_out_after: Vec<(String, String)>,
    /// With --hold-out hash: the share of groups held out.
    #[arg(long, default_value_t = 0.4, value_name = "SHARE")]
    fraction: f64,
    /// Target false-positive rates of low, medium and high.
    #[arg(long, value_delimiter = ',', num_args = 3, value_name = "FPR",
          default_values_t = [1e-2, 1e-3, 1e-4])]
    targets: Vec<f64>,
    /// The level at and above which a message is flagged.
    #[arg(long, value_enum, default_value = "medium")]
    default_level: LevelArg,
    /// Retrain this artifact's data plus --add.
    #[arg(long, value_name = "ARTIFACT", requires = "add")]
    base: Option<PathBuf>,
    /// New labelled messages to add to the base's data.
    #[arg(long, value_name = "PATH", num_args = 1.., requires = "base")]
    add: Vec<PathBuf>,
    /// Write even if the false-positive rate at the default level got worse.
    #[arg(long)]
    force: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress and no report on standard error.
    #[arg(short, long)]
    quiet: bool,
}

/// What was left out of the data, by reason.
#[derive(Default, Debug, serde::Serialize)]
struct Excluded {
    spam: usize,
    unlabelled: usize,
    unreadable: usize,
    already_in_base: usize,
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let say = |line: &str| {
        if !args.quiet {
            eprintln!("{line}");
        }
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    for p in args.paths.iter().chain(&args.add) {
        if !p.exists() {
            bail!(
                "{}: no such file or directory; give .eml files, directories, mbox files or .tar.gz archives",
                p.display()
            );
        }
    }
    let base = match &args.base {
        Some(dir) => Some(artifact::load(dir).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    let base_settings = base
        .as_ref()
        .map(|b| b.manifest.training.details["settings"].clone());
    let setting_u64 = |key: &str| base_settings.as_ref().and_then(|s| s[key].as_u64());
    let rules = match (&args.rules, &base) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the rule file {}", path.display()))?;
            RuleSet::from_toml(&text, &path.display().to_string())?
        }
        (None, Some(b)) => RuleSet::from_texts(
            b.manifest
                .model
                .rules
                .rules
                .iter()
                .map(|r| r.rule.clone())
                .collect(),
        )?,
        (None, None) => RuleSet::from_toml(BUILTIN_RULES, "datasets/rules.toml (built in)")?,
    };
    let rules_text =
        serde_json::to_string(&rules.rules().iter().map(|r| &r.text).collect::<Vec<_>>())?;
    let targets: [f64; 3] = args
        .targets
        .clone()
        .try_into()
        .map_err(|_| anyhow::anyhow!("--targets takes three rates: low,medium,high"))?;
    let params = TrainParams {
        folds: args
            .folds
            .or(setting_u64("folds").map(|v| v as usize))
            .unwrap_or(5),
        seed: args.seed.or(setting_u64("seed")).unwrap_or(1),
        targets,
        default_level: match args.default_level {
            LevelArg::Low => Level::Low,
            LevelArg::Medium => Level::Medium,
            LevelArg::High => Level::High,
        },
        ..TrainParams::default()
    };
    params.check()?;
    let ctx = args.org.build()?;
    let labels = match &args.labels {
        Some(p) => read_labels(p)?,
        None => Default::default(),
    };

    let mut excluded = Excluded::default();
    let new_paths = if base.is_some() {
        &args.add
    } else {
        &args.paths
    };
    let mut new = read_examples(new_paths, &labels, &ctx, &pool, args.quiet, &mut excluded)?;
    let (examples, validation_rule) = match &base {
        None => {
            let rule = match args.hold_out {
                HoldOut::Time => SplitRule::Time {
                    date: args.date.clone().unwrap_or_default(),
                },
                HoldOut::Source => SplitRule::Source {
                    source: args.source.clone().unwrap_or_default(),
                },
                HoldOut::Hash => SplitRule::Hash {
                    fraction: args.fraction,
                    seed: params.seed,
                },
            };
            let mut known: Vec<&str> = new.0.iter().map(|e| e.source.as_str()).collect();
            known.sort_unstable();
            known.dedup();
            let named = args
                .hold_out_after
                .iter()
                .map(|(s, _)| ("--hold-out-after", s))
                .chain(args.source.iter().map(|s| ("--source", s)));
            for (option, source) in named {
                if !known.contains(&source.as_str()) {
                    bail!(
                        "{option} {source}: no labelled message comes from a source of that name; the sources are: {}",
                        known.join(", ")
                    );
                }
            }
            let rule = if args.hold_out_after.is_empty() {
                rule
            } else {
                SplitRule::TimeFor {
                    cuts: args.hold_out_after.clone(),
                    otherwise: Box::new(rule),
                }
            };
            let sides = assign(&new.1, &rule)?;
            let groups: Vec<&str> = new.1.iter().map(|r| r.group.as_str()).collect();
            let roles = roles_from_split(&groups, &sides, params.seed);
            for (e, r) in new.0.iter_mut().zip(roles) {
                e.role = r;
            }
            (new.0, rule.to_string())
        }
        Some(b) => {
            let path = b.dir.join(data_table::FILE);
            let bytes = std::fs::read(&path)
                .with_context(|| format!("reading the base's data {}", path.display()))?;
            let mut all = data_table::from_parquet(&bytes, &path.display().to_string())?;
            let known: HashSet<String> = all.iter().filter_map(|e| e.sha1.clone()).collect();
            let before = new.0.len();
            new.0
                .retain(|e| e.sha1.as_ref().is_none_or(|s| !known.contains(s)));
            excluded.already_in_base = before - new.0.len();
            say(&format!(
                "base {}: {} examples; adding {} new ones to the train role ({} already in the base)",
                b.dir.display(),
                all.len(),
                new.0.len(),
                excluded.already_in_base
            ));
            all.extend(new.0);
            let rule = base_settings
                .as_ref()
                .and_then(|s| s["validation_rule"].as_str())
                .unwrap_or("as the base's")
                .to_string();
            (
                all,
                format!("{rule} (the base's roles; added samples train)"),
            )
        }
    };
    say(&format!(
        "{} examples; left out: {} spam, {} unlabelled, {} unreadable",
        examples.len(),
        excluded.spam,
        excluded.unlabelled,
        excluded.unreadable
    ));

    let fit_started = Instant::now();
    let trained = pool.install(|| {
        training::train(&examples, &rules, &params, &mut |line| {
            if !args.quiet {
                eprintln!("{line}");
            }
        })
    })?;
    let fit_secs = fit_started.elapsed().as_secs_f64();
    let model = Model::new(trained.params.clone())?;
    if !args.quiet {
        print_levels(&trained.params);
        print_metrics("validation", &trained.report.validation);
        print_metrics("test", &trained.report.test);
    }

    if let Some(b) = &base {
        let test: Vec<&Example> = examples.iter().filter(|e| e.role == Role::Test).collect();
        let y: Vec<bool> = test.iter().map(|e| e.is_attack()).collect();
        let score = |m: &Model| -> Vec<f64> {
            test.par_iter()
                .map(|e| m.score(&e.values).probability)
                .collect()
        };
        let before = held_out_metrics(&b.model, Role::Test, &score(&b.model), &y);
        let after = held_out_metrics(&model, Role::Test, &score(&model), &y);
        let level = model.default_level();
        if !args.quiet {
            eprintln!(
                "regression set (the base's test role: {} ham, {} attacks):",
                before.ham, before.attacks
            );
            eprintln!("  AUC {} → {}", fmt_opt(before.auc), fmt_opt(after.auc));
            for (x, y) in before.levels.iter().zip(&after.levels) {
                eprintln!(
                    "  {:?}: false positives {} → {}, detection {} → {}",
                    x.level,
                    fmt_rate(&x.false_positive_rate),
                    fmt_rate(&y.false_positive_rate),
                    fmt_rate(&x.detection_rate),
                    fmt_rate(&y.detection_rate)
                );
            }
        }
        let worse = training::regressions(&before, &after, level);
        if !worse.is_empty() {
            let message = worse.join("; ");
            if !args.force {
                bail!("on the regression set, {message}. Nothing written: check the added samples' labels, or pass --force to write anyway");
            }
            say(&format!(
                "warning: on the regression set, {message}; writing anyway (--force)"
            ));
        }
    }

    let date = card_date(&examples);
    let settings = RunSettings {
        seed: params.seed,
        folds: params.folds,
        validation_rule,
        targets: params.targets,
        rules_sha256: artifact::sha256_hex(rules_text.as_bytes()),
        excluded: serde_json::to_value(&excluded)?,
    };
    write_artifact(
        &args.output,
        &trained,
        &examples,
        &settings,
        command_line(),
        date,
        data_manifest_sha256(&examples),
    )?;
    // Read back through the serving code: what was written must load.
    artifact::load(&args.output).map_err(|e| anyhow::anyhow!("{e}"))?;
    say(&format!(
        "wrote {} ({} rules, {} classifier inputs); fitting took {:.1} s, the whole run {:.1} s",
        args.output.display(),
        trained.params.rules.rules.len(),
        trained.params.classifier.inputs.len(),
        fit_secs,
        started.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `SOURCE=YYYY-MM-DD` of --hold-out-after.
pub(crate) fn parse_cut(text: &str) -> Result<(String, String), String> {
    let (source, date) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: write SOURCE=YYYY-MM-DD"))?;
    let b = date.as_bytes();
    if source.is_empty() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(format!("{text:?}: write SOURCE=YYYY-MM-DD"));
    }
    Ok((source.to_string(), date.to_string()))
}

/// Indexes and extracts `paths`; returns the labelled examples (role
/// train for now) and their manifest rows, in the same order.
fn read_examples(
    paths: &[PathBuf],
    labels: &HashMap<String, impostor_corpus::manifest::LabelEntry>,
    ctx: &impostor_features::Context,
    pool: &rayon::ThreadPool,
    quiet: bool,
    excluded: &mut Excluded,
) -> Result<(Vec<Example>, Vec<impostor_corpus::ManifestRow>)> {
    let bar = |what: &str| crate::commands::spinner(quiet, what);
    let options = IndexOptions {
        source: None,
        labels: labels.clone(),
        labels_by_input: generated_labels(paths)?,
        read: ReadOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        },
    };
    let progress = bar("indexing");
    let index = pool.install(|| index_inputs(paths, &options, &|n| progress.set_position(n)));
    progress.finish_and_clear();
    let progress = bar("extracting");
    let extractor = Extractor::new(ctx);
    let rows = extract_all(paths, &extractor, &options.read, pool, &progress);
    progress.finish_and_clear();

    let key = |path: &str, member: &Option<String>, index: Option<u64>| {
        (path.to_string(), member.clone(), index)
    };
    let mut features: HashMap<_, _> = rows
        .into_iter()
        .map(|r| (key(&r.path, &r.member, r.index), r))
        .collect();
    let mut examples = Vec::new();
    let mut kept = Vec::new();
    for m in index.rows {
        let Some(label) = m.label else {
            excluded.unlabelled += 1;
            continue;
        };
        if label == Label::Spam {
            excluded.spam += 1;
            continue;
        }
        let row = features.remove(&key(&m.path, &m.member, m.index));
        let Some(values) = row.and_then(|r| r.values).filter(|_| m.error.is_none()) else {
            excluded.unreadable += 1;
            continue;
        };
        examples.push(Example {
            id: m.id.clone(),
            source: m.source.clone(),
            group: m.group.clone(),
            label,
            technique: m.technique.clone(),
            synthetic: m.synthetic,
            timestamp: m.timestamp,
            sha1: m.sha1.clone(),
            role: Role::Train,
            values,
        });
        kept.push(m);
    }
    Ok((examples, kept))
}

/// The card's date: SOURCE_DATE_EPOCH when set (reproducible builds'
/// convention), else the day by which 99% of the messages were dated (a
/// few forged Date headers lie years ahead); never the clock, so a rerun
/// gives the same bytes.
fn card_date(examples: &[Example]) -> String {
    let mut dates: Vec<i64> = examples.iter().filter_map(|e| e.timestamp).collect();
    dates.sort_unstable();
    let ts = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or_else(|| {
            dates
                .get((dates.len() * 99 / 100).min(dates.len().saturating_sub(1)))
                .copied()
        });
    match ts {
        Some(ts) => {
            let d = mail_parser::DateTime::from_timestamp(ts);
            format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
        }
        None => "unknown (no dated message)".into(),
    }
}

/// The arguments as given, the output directory left out: the same
/// training written elsewhere is the same artifact.
fn command_line() -> String {
    let mut out: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1).peekable();
    while let Some(a) = args.next() {
        if a == "-o" || a == "--output" {
            args.next();
            continue;
        }
        if a.starts_with("--output=")
            || (a.starts_with("-o") && a.len() > 2 && !a.starts_with("--"))
        {
            continue;
        }
        out.push(crate::commands::shell_word(&a));
    }
    out.join(" ")
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.4}"))
}

fn fmt_rate(r: &impostor_train::training::Rate) -> String {
    match (r.value, r.ci95) {
        (Some(v), Some(c)) => format!(
            "{}/{} = {:.3}% [{:.3}–{:.3}%]",
            r.count,
            r.total,
            100.0 * v,
            100.0 * c.low,
            100.0 * c.high
        ),
        _ => format!("{}/{}", r.count, r.total),
    }
}

fn print_levels(params: &impostor_model::ModelParams) {
    let l = &params.levels;
    eprintln!(
        "levels (chosen on the validation role; default flagging level {:?}):",
        l.default_level
    );
    for (name, p) in [("low", &l.low), ("medium", &l.medium), ("high", &l.high)] {
        eprintln!(
            "  {name:<6} score ≥ {:.6}  target FPR {:.0e}: {}/{} validation ham flagged, 95% CI [{:.3}%, {:.3}%]{}",
            p.threshold,
            p.target_fpr,
            p.validation_ham_flagged,
            p.validation_ham,
            100.0 * p.validation_fpr_ci95.low,
            100.0 * p.validation_fpr_ci95.high,
            if p.resolvable {
                ""
            } else {
                " (too few validation ham to resolve the target)"
            }
        );
    }
}

fn print_metrics(role: &str, m: &HeldOutMetrics) {
    eprintln!(
        "{role} role: {} ham, {} attacks, AUC {}",
        m.ham,
        m.attacks,
        fmt_opt(m.auc)
    );
    for l in &m.levels {
        eprintln!(
            "  {:?}: false positives {}, detection {}",
            l.level,
            fmt_rate(&l.false_positive_rate),
            fmt_rate(&l.detection_rate)
        );
    }
}
