//! `impostor bench`: the main job. Data → features → model → report, in
//! one command: generate (or gather) labelled mail, train a model on part
//! of it, and evaluate that model and the baselines on the rest.

use crate::commands::peers::PeerArgs;
use crate::commands::{eval, gen, train};
use crate::history_replay::ReplayArgs;
use crate::org::OrgArgs;
use anyhow::{bail, Context as _, Result};
use clap::Args;
use impostor_corpus::gen::GenConfig;
use impostor_corpus::manifest::source_name;
use impostor_eval::EvalConfig;
use impostor_model::artifact;
use impostor_train::{HoldOut, TrainConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Run the whole pipeline: data → features → model → benchmark report.
///
/// Without --corpora, on the embedded default corpus, with no data from
/// outside: `impostor gen` writes the example organisation's ham and the
/// five techniques injected into more of it (OUT/data/kestrel-generated);
/// `impostor train` holds out a seeded share of the duplicate groups and
/// trains on the rest (OUT/model); `impostor eval` scores the model's test
/// role with the model, its ablations and the baselines (OUT/report).
///
/// With --corpora DIR, on real corpora (every .tar.gz, .tgz, .mbox and
/// directory in DIR, labelled by folder names) plus attacks injected into
/// their ham (OUT/data/injected-into-real-ham) and the embedded default
/// corpus, as models/train-default.sh trains the default model. Held out:
/// a seeded share of the ham's duplicate groups (an injected attack shares
/// its carrier's group, so attacks are injected into held-out ham only on
/// the held-out side), and each --time-split source from its date on
/// (default: a phishing-pot source from 2025-01-01, its latest months).
///
/// The report measures transfer too (as `impostor eval --transfer`): the
/// model retrained without each real corpus (lists-2019-2026 one list at a
/// time) and across eras, a full training fit each (5 to 10 s each on the
/// shared corpora with two cores); --no-transfer skips it. The embedded corpus alone
/// has no real source, and the section says so.
///
/// The peers, SpamAssassin and Rspamd, are used when they answer at
/// --spamd and --rspamd (`scripts/baselines.sh start DIR` runs both on
/// loopback); otherwise the report says they were skipped and why.
///
/// Every step prints its progress; OUT/report/report.html is the result.
/// OUT's data is regenerated on each run; the model and the report are
/// replaced whole.
///
/// Examples:
///
///     impostor bench
///
///     scripts/baselines.sh start /tmp/peers
///
///     impostor bench --corpora ../shared/corpora -o out/bench-real
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The output directory: data/, model/ and report/ inside.
    #[arg(short, long, value_name = "OUT", default_value = "out/bench")]
    output: PathBuf,
    /// Where to write the report [default: OUT/report].
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// A directory of real corpora to add to the embedded default corpus.
    #[arg(long, value_name = "DIR")]
    corpora: Option<PathBuf>,
    /// Attacks injected into the corpora's ham (with --corpora).
    #[arg(long, value_name = "N", default_value_t = 3000)]
    attacks: usize,
    /// Hold out SOURCE's messages dated on or after the day (repeatable).
    #[arg(long, value_name = "SOURCE=YYYY-MM-DD", value_parser = crate::commands::train::parse_cut)]
    time_split: Vec<(String, String)>,
    /// Give one folder of a source (a list of a list archive) a whole role
    /// (repeatable), as `impostor train --hold-out-folder`. Default with
    /// --corpora holding lists-2019-2026: its jailhouse-dev list chooses
    /// the levels, as models/train-default.sh does.
    #[arg(long, value_name = "SOURCE/FOLDER=ROLE", value_parser = crate::commands::train::parse_folder_role)]
    hold_out_folder: Vec<(String, String, impostor_train::training::Role)>,
    /// Seed of the generator, the splits and the folds.
    #[arg(long, default_value_t = GenConfig::default().seed)]
    seed: u64,
    #[command(flatten)]
    peers: PeerArgs,
    /// Leave the transfer section (retraining without each real corpus and
    /// across eras) out of the report.
    #[arg(long)]
    no_transfer: bool,
    #[command(flatten)]
    history: ReplayArgs,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Less output: the steps, skipped peers and the result only.
    #[arg(short, long)]
    quiet: bool,
}

/// The corpora in DIR: archives, mbox files and directories, by name.
fn corpora_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("reading the corpora directory {}", dir.display()))?
    {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let usable = path.is_dir()
            || [".tar.gz", ".tgz", ".tar", ".mbox"]
                .iter()
                .any(|ext| name.ends_with(ext));
        if usable && !name.starts_with('.') {
            out.push(path);
        }
    }
    out.sort();
    if out.is_empty() {
        bail!(
            "{}: no corpus found; put .tar.gz archives, mbox files or directories of mail (labelled by ham/, phish/, bec/ folders) in it",
            dir.display()
        );
    }
    Ok(out)
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let out = &args.output;
    const MARKER: &str = ".impostor-bench";
    let marker = out.join(MARKER);
    let replaceable = impostor_model::atomic::replaceable(out, MARKER)
        .with_context(|| format!("reading {}", out.display()))?;
    if !replaceable {
        bail!(
            "{} exists and was not written by `impostor bench`; choose another directory with -o",
            out.display()
        );
    }
    let data = out.join("data");
    if data.exists() {
        std::fs::remove_dir_all(&data)
            .with_context(|| format!("removing the previous run's {}", data.display()))?;
    }
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    impostor_model::atomic::write_bytes(
        &marker,
        b"written by impostor bench; its data/ is regenerated on every run\n",
    )?;
    let step = |n: u32, what: &str| {
        eprintln!(
            "== step {n}/4: {what} ({:.0} s)",
            started.elapsed().as_secs_f64()
        )
    };

    // 1. Data.
    let generated = data.join("kestrel-generated");
    let mut inputs: Vec<PathBuf> = Vec::new();
    let mut cuts = args.time_split.clone();
    let mut folders = args.hold_out_folder.clone();
    step(1, "data");
    if let Some(dir) = &args.corpora {
        let corpora = corpora_in(dir)?;
        eprintln!(
            "corpora: {}",
            corpora
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let injected = data.join("injected-into-real-ham");
        gen::generate(
            &GenConfig {
                output: injected.clone(),
                seed: args.seed,
                attacks: args.attacks,
                carriers: corpora.clone(),
                timeline: 0,
                ..GenConfig::default()
            },
            args.quiet,
        )?;
        if folders.is_empty() && corpora.iter().any(|p| source_name(p) == "lists-2019-2026") {
            folders.push((
                "lists-2019-2026".into(),
                "jailhouse-dev.googlegroups.com".into(),
                impostor_train::training::Role::Validation,
            ));
        }
        if cuts.is_empty() {
            if let Some(p) = corpora
                .iter()
                .find(|p| source_name(p).starts_with("phishing-pot"))
            {
                cuts.push((source_name(p), "2025-01-01".into()));
            }
        }
        inputs.extend(corpora);
        inputs.push(injected.join("messages"));
    }
    gen::generate(
        &GenConfig {
            output: generated.clone(),
            seed: args.seed,
            ..GenConfig::default()
        },
        args.quiet,
    )?;
    inputs.push(generated.join("messages"));
    // A second organisation's timeline, never trained on: the sender
    // history measured on mail of senders the model never saw.
    let heldout_timeline = data.join("kestrel-timeline-heldout");
    gen::generate(
        &GenConfig {
            output: heldout_timeline.clone(),
            seed: args.seed.wrapping_add(1),
            ham: 0,
            attacks: 0,
            ..GenConfig::default()
        },
        args.quiet,
    )?;

    // 2 and 3. Features and model. The artifact records this bench run as
    // the command that made it, its output left out as train's is.
    step(2, "features and model (impostor train)");
    let model = out.join("model");
    let training = TrainConfig {
        paths: inputs.clone(),
        output: model.clone(),
        seed: Some(args.seed),
        hold_out_after: cuts.clone(),
        hold_out_folders: folders.clone(),
        threads: args.threads,
        history: args.history.params(),
        command: crate::commands::arguments(true),
        ..TrainConfig::default()
    };
    let held_out = held_out_text(&training);
    let org = OrgArgs::default();
    train::train(training, &org, args.quiet)?;

    // 4. Evaluation and report.
    step(3, "evaluation against the baselines (impostor eval)");
    let report = args.report.clone().unwrap_or_else(|| out.join("report"));
    let selection = format!(
        "The test role of the model trained in this run: duplicate groups held out {held_out}, then halved by a seeded hash into validation (the levels were chosen on it; not evaluated) and test (evaluated here); and, whole, kestrel-timeline-heldout: another seed's mailbox timeline, never trained on, replayed in date order for its sender history. Inputs: {}.",
        inputs.iter().map(|p| source_name(p)).collect::<Vec<_>>().join(", ")
    );
    let mut evaluated = inputs.clone();
    evaluated.push(heldout_timeline.join("messages"));
    let evaluation = EvalConfig {
        paths: evaluated,
        output: report.clone(),
        peers: args.peers.config(),
        title: if args.corpora.is_some() {
            "Impostor benchmark: real corpora and injected attacks"
        } else {
            "Impostor benchmark: the embedded default corpus"
        }
        .into(),
        threads: args.threads,
        selection: Some(selection),
        command: format!("impostor {}", crate::commands::arguments(false)),
        transfer: !args.no_transfer,
        history: args.history.params(),
        ..EvalConfig::default()
    };
    let artifact = artifact::load(&model)?;
    eval::evaluate(&evaluation, &artifact, &org, args.quiet)?;
    step(4, "done");
    eprintln!(
        "model: {}\nreport: {}\nin {:.0} s",
        model.display(),
        report.join("report.html").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// How a training run holds out its groups, for the report's account of
/// the data.
fn held_out_text(training: &TrainConfig) -> String {
    let rest = match &training.hold_out {
        HoldOut::Hash { fraction } => {
            format!("by a seeded hash ({:.0}% of the groups)", 100.0 * fraction)
        }
        HoldOut::Time { date } => format!("by date (from {date})"),
        HoldOut::Source { source } => format!("by source ({source})"),
    };
    let folders: Vec<String> = training
        .hold_out_folders
        .iter()
        .map(|(s, f, r)| format!("{s}/{f} = {}", r.as_str()))
        .collect();
    let rest = if folders.is_empty() {
        rest
    } else {
        format!("{rest}; by folder: {}", folders.join(", "))
    };
    if training.hold_out_after.is_empty() {
        return rest;
    }
    let cuts: Vec<String> = training
        .hold_out_after
        .iter()
        .map(|(source, date)| format!("{source}={date}"))
        .collect();
    format!(
        "by date for {} and {rest} for the other sources",
        cuts.join(", ")
    )
}
