//! `impostor train`: labelled mail → a verified model artifact.

use crate::commands::Console;
use crate::history_replay::ReplayArgs;
use crate::org::OrgArgs;
use anyhow::{anyhow, bail, Result};
use clap::{Args, ValueEnum};
use impostor_model::signing::{SecretKey, SignedStage};
use impostor_model::Level;
use impostor_train::error::TrainError;
use impostor_train::training::{Balance, Role, TrainParams};
use impostor_train::{HoldOut, Retrain, TrainConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum HoldOutArg {
    /// Held out: groups with a message dated on or after --date.
    Time,
    /// Held out: every message of --source.
    Source,
    /// Held out: a seeded --fraction of the duplicate groups.
    Hash,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BalanceArg {
    /// Every source weighs alike within its class.
    Sources,
    /// Every row weighs alike within its class.
    Classes,
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
    #[arg(long, value_enum, default_value_t = HoldOutArg::of(&HoldOut::default()))]
    hold_out: HoldOutArg,
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
    /// Give one folder of SOURCE (a list of a list archive, whose messages
    /// lie under ham/FOLDER/) a whole role, validation or test
    /// (repeatable). The source's other folders train: a source split by
    /// folder is never split by message, so no list is both learned and
    /// judged. Example: lists-2019-2026/jailhouse-dev=validation.
    #[arg(long, value_name = "SOURCE/FOLDER=ROLE", value_parser = parse_folder_role)]
    hold_out_folder: Vec<(String, String, Role)>,
    /// How training rows are weighted. `sources`: each class weighs half,
    /// and within a class every source weighs alike, so no corpus (or
    /// era) dominates what its label looks like. `classes`: each class
    /// weighs half, rows within a class alike. [default: sources, or the
    /// base's]
    #[arg(long, value_enum, value_name = "HOW")]
    balance: Option<BalanceArg>,
    /// The share of attacks among the messages the score is a probability
    /// for: the base rate a deployment expects (0.001 = one message in a
    /// thousand). Moves the scores, not what each level flags. Recorded in
    /// the model card. [default: 0.001, or the base's]
    #[arg(long, value_name = "SHARE")]
    prior: Option<f64>,
    /// With --hold-out hash: the share of groups held out.
    #[arg(long, default_value_t = HoldOut::DEFAULT_FRACTION, value_name = "SHARE")]
    fraction: f64,
    /// Target false-positive rates of low, medium and high.
    #[arg(long, value_delimiter = ',', num_args = 3, value_name = "FPR",
          default_values_t = TrainParams::default().targets)]
    targets: Vec<f64>,
    /// The level at and above which a message is flagged.
    #[arg(long, value_enum, default_value_t = LevelArg::of(TrainParams::default().default_level))]
    default_level: LevelArg,
    /// Retrain this artifact's data plus --add.
    #[arg(long, value_name = "ARTIFACT", requires = "add")]
    base: Option<PathBuf>,
    /// New labelled messages to add to the base's data.
    #[arg(long, value_name = "PATH", num_args = 1.., requires = "base")]
    add: Vec<PathBuf>,
    /// What one added message counts in the fit, in mean rows of its
    /// class among the base's corpora. Added mail is reports, not a
    /// corpus: it does not get a corpus's share of its class (a few hundred
    /// reports would outweigh corpora of thousands), and it stays out of
    /// the confound audit. Raise it when a reported campaign is still
    /// missed after retraining; the regression gate says when it costs the
    /// rest. [default: 1, or the base's]
    #[arg(long, value_name = "ROWS", requires = "base")]
    add_weight: Option<f64>,
    /// Write even if the false-positive rate at the default level got worse.
    #[arg(long)]
    force: bool,
    /// Sign the artifact with this secret key (PREFIX.key of `impostor
    /// keys new`): it is trained into a hidden directory beside OUT,
    /// signed (OUT/manifest.json.sig), then renamed into place whole, so
    /// OUT never holds it unsigned. Gateways given the matching .pub
    /// (--trust-key) accept it. The key is read before training starts.
    #[arg(long, value_name = "KEY")]
    sign: Option<PathBuf>,
    #[command(flatten)]
    history: ReplayArgs,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress and no report on standard error.
    #[arg(short, long)]
    quiet: bool,
}

impl HoldOutArg {
    /// The flag's value for the library's hold-out.
    fn of(h: &HoldOut) -> HoldOutArg {
        match h {
            HoldOut::Time { .. } => HoldOutArg::Time,
            HoldOut::Source { .. } => HoldOutArg::Source,
            HoldOut::Hash { .. } => HoldOutArg::Hash,
        }
    }
}

impl LevelArg {
    /// The flag's value for a flagging level (only low, medium and high
    /// can be chosen).
    fn of(level: Level) -> LevelArg {
        match level {
            Level::Low => LevelArg::Low,
            Level::High => LevelArg::High,
            Level::Medium | Level::None => LevelArg::Medium,
        }
    }
}

impl TrainArgs {
    /// The training run these flags ask for; `command` is what the
    /// artifact records as the command that made it.
    fn config(self, command: String) -> Result<TrainConfig> {
        let targets: [f64; 3] = self
            .targets
            .try_into()
            .map_err(|_| anyhow!("--targets takes three rates: low,medium,high"))?;
        let hold_out = match self.hold_out {
            HoldOutArg::Time => HoldOut::Time {
                date: self.date.unwrap_or_default(),
            },
            HoldOutArg::Source => HoldOut::Source {
                source: self.source.unwrap_or_default(),
            },
            HoldOutArg::Hash => HoldOut::Hash {
                fraction: self.fraction,
            },
        };
        let (paths, retrain) = match self.base {
            Some(base) => (
                Vec::new(),
                Some(Retrain {
                    base,
                    add: self.add,
                    force: self.force,
                    weight: self.add_weight,
                }),
            ),
            None => (self.paths, None),
        };
        Ok(TrainConfig {
            paths,
            labels: self.labels,
            output: self.output,
            rules: self.rules,
            folds: self.folds,
            seed: self.seed,
            hold_out,
            hold_out_after: self.hold_out_after,
            hold_out_folders: self.hold_out_folder,
            balance: self.balance.map(|b| match b {
                BalanceArg::Sources => Balance::Sources,
                BalanceArg::Classes => Balance::Classes,
            }),
            prior: self.prior,
            targets,
            default_level: match self.default_level {
                LevelArg::Low => Level::Low,
                LevelArg::Medium => Level::Medium,
                LevelArg::High => Level::High,
            },
            retrain,
            threads: self.threads,
            history: self.history.params(),
            command,
        })
    }
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let quiet = args.quiet;
    let org = args.org.clone();
    let sign = args.sign.clone();
    let mut config = args.config(crate::commands::arguments(true))?;
    let Some(key) = sign else {
        train(config, &org, quiet)?;
        return Ok(ExitCode::SUCCESS);
    };
    let key = SecretKey::read(&key).map_err(|e| anyhow!("--sign: {e}"))?;
    let stage = SignedStage::beside(&config.output).map_err(|e| anyhow!("{e}"))?;
    config.output = stage.dir().to_path_buf();
    train(config, &org, quiet)?;
    let dest = stage.dest().to_path_buf();
    let file = stage.commit(&key).map_err(|e| anyhow!("{e}"))?;
    if !quiet {
        eprintln!(
            "signed with key {} and moved into place: {}",
            file.key_id,
            dest.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a training, its account on standard error unless `quiet`; the
/// library's errors that stem from a flag name the flag.
pub fn train(config: TrainConfig, org: &OrgArgs, quiet: bool) -> Result<()> {
    let checked = config.check()?;
    let ctx = org.build()?;
    match checked.run(&ctx, &Console::new(quiet)) {
        Ok(_) => Ok(()),
        Err(TrainError::UnknownSource {
            name,
            by_date,
            known,
        }) => {
            let option = if by_date { "--hold-out-after" } else { "--source" };
            bail!("{option} {name}: no labelled message comes from a source of that name; the sources are: {known}")
        }
        Err(TrainError::Regressed { what }) => bail!(
            "on the regression set, {what}. Nothing written: check the added samples' labels, or pass --force to write anyway"
        ),
        Err(e) => Err(e.into()),
    }
}

/// `SOURCE/FOLDER=validation|test` of --hold-out-folder.
pub(crate) fn parse_folder_role(text: &str) -> Result<(String, String, Role), String> {
    let help = || format!("{text:?}: write SOURCE/FOLDER=validation or SOURCE/FOLDER=test");
    let (place, role) = text.rsplit_once('=').ok_or_else(help)?;
    let (source, folder) = place.split_once('/').ok_or_else(help)?;
    let role = match role {
        "validation" => Role::Validation,
        "test" => Role::Test,
        _ => return Err(help()),
    };
    if source.is_empty() || folder.is_empty() || folder.contains('/') {
        return Err(help());
    }
    Ok((source.to_string(), folder.to_string(), role))
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
