//! A training run, as `impostor train` and `impostor bench` start it:
//! labelled mail → examples with roles → a fitted, calibrated model with
//! its levels → a verified artifact.
//!
//! [`TrainConfig`] is what the caller sets; its [`Default`] holds every
//! default once. [`TrainConfig::check`] validates it (inputs present, the
//! base artifact verified, the rule file parsed, the parameters in range)
//! into a [`CheckedTrain`], which [`CheckedTrain::run`] executes.
//!
//! Retraining ([`Retrain`]) trains on a base artifact's data, its roles
//! kept, plus new labelled messages in the train role, and refuses to write
//! when the default level got worse on the base's test role (the
//! regression set) unless forced.

use crate::error::TrainError;
use crate::extract::{extract_one_for_replay, FileInputs};
use crate::feature_table::FeatureRow;
use crate::replay::{replay_groups, replay_rows};
use crate::training::export::{write_artifact, RunSettings};
use crate::training::{
    self, data_manifest_sha256, data_table, held_out_metrics, roles_from_split, AddedRows, Balance,
    Example, HeldOutMetrics, Rate, Role, TrainParams, Trained,
};
use impostor_corpus::manifest::LabelEntry;
use impostor_corpus::Progress;
use impostor_corpus::{
    assign, check_inputs, generated_labels, index_inputs_with, read_labels, IndexOptions, Label,
    ManifestRow, SplitRule,
};
use impostor_features::sender_history::MessageFacts;
use impostor_features::{Context, Extractor};
use impostor_history::{CheckedHistoryParams, HistoryParams};
use impostor_mailsource::{ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_model::artifact::{self, Artifact};
use impostor_model::{Level, Model, ModelParams, RuleSet, BUILTIN_RULES};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// How the held-out duplicate groups are chosen; they are then halved
/// into a validation role (the levels are chosen on it) and a test role
/// (nothing is fitted or chosen on it).
#[derive(Clone, Debug, PartialEq)]
pub enum HoldOut {
    /// Groups with a message dated on or after `date` (YYYY-MM-DD).
    Time {
        /// The first held-out day.
        date: String,
    },
    /// Every message of one source.
    Source {
        /// The source held out.
        source: String,
    },
    /// A share of the groups, chosen by a hash seeded with the run's seed.
    Hash {
        /// The share held out, in [0, 1].
        fraction: f64,
    },
}

impl HoldOut {
    /// The share of groups held out by hash unless told otherwise.
    pub const DEFAULT_FRACTION: f64 = 0.4;
}

impl Default for HoldOut {
    fn default() -> Self {
        HoldOut::Hash {
            fraction: Self::DEFAULT_FRACTION,
        }
    }
}

/// Retraining: a base artifact's data plus new labelled messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Retrain {
    /// The base artifact's directory.
    pub base: PathBuf,
    /// The new labelled messages, all in the train role.
    pub add: Vec<PathBuf>,
    /// Write even when the default level got worse on the regression set.
    pub force: bool,
    /// What one added row counts, in mean corpus rows of its class
    /// ([`AddedRows`]); default: the base's, else
    /// [`AddedRows::DEFAULT_WEIGHT`].
    pub weight: Option<f64>,
}

/// Everything a training run needs, as given; [`TrainConfig::check`]
/// validates it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Labelled messages: .eml, directories, mbox, Maildir, .tar.gz (none
    /// when retraining: then [`Retrain::add`]).
    pub paths: Vec<PathBuf>,
    /// A labels file (member, label, technique, synthetic) for `paths` and
    /// the added messages; wins over a generated corpus's labels.tsv.
    pub labels: Option<PathBuf>,
    /// The artifact directory to write.
    pub output: PathBuf,
    /// A rule file; default: the built-in rules, or the base's when
    /// retraining.
    pub rules: Option<PathBuf>,
    /// Cross-validation folds; default: the base's when retraining, else
    /// [`TrainParams`]'s.
    pub folds: Option<usize>,
    /// Seed of the folds, the hash hold-out and the validation / test
    /// halves; default: the base's when retraining, else [`TrainParams`]'s.
    pub seed: Option<u64>,
    /// How the held-out groups are chosen (not when retraining: the base's
    /// roles are kept).
    pub hold_out: HoldOut,
    /// Sources held out by date instead, `(source, YYYY-MM-DD)`; `hold_out`
    /// then applies to the other sources only.
    pub hold_out_after: Vec<(String, String)>,
    /// Folders of a source (a list of a list archive: `ham/<folder>/…`)
    /// given a whole role: `(source, folder, role)`. The source's other
    /// folders train, so none of its folders is split by message.
    pub hold_out_folders: Vec<(String, String, Role)>,
    /// How rows are weighted; default: the base's when retraining, else
    /// [`TrainParams`]'s.
    pub balance: Option<Balance>,
    /// The base rate the score is stated at; default: the base's when
    /// retraining, else [`TrainParams`]'s.
    pub prior: Option<f64>,
    /// Target false-positive rates of low, medium and high.
    pub targets: [f64; 3],
    /// The level at and above which a message is flagged.
    pub default_level: Level,
    /// Retrain a base artifact instead of training anew.
    pub retrain: Option<Retrain>,
    /// Worker threads; `None`: one per core.
    pub threads: Option<usize>,
    /// Sender history by replay: each source's mail (a generated
    /// corpus's `timeline/` apart) taken in date order, each message given
    /// the `history_*` features of what was known before it; `None`: no
    /// history (those features stay zero).
    pub history: Option<HistoryParams>,
    /// The command the artifact records as the one that made it.
    pub command: String,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let params = TrainParams::default();
        TrainConfig {
            paths: Vec::new(),
            labels: None,
            output: PathBuf::new(),
            rules: None,
            folds: None,
            seed: None,
            hold_out: HoldOut::default(),
            hold_out_after: Vec::new(),
            hold_out_folders: Vec::new(),
            balance: None,
            prior: None,
            targets: params.targets,
            default_level: params.default_level,
            retrain: None,
            threads: None,
            history: Some(HistoryParams::default()),
            command: String::new(),
        }
    }
}

/// What was left out of the data, by reason (recorded in the manifest).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Excluded {
    /// Spam: the model is trained on ham against phishing and BEC.
    pub spam: usize,
    /// Messages without a label.
    pub unlabelled: usize,
    /// Messages that could not be read or parsed.
    pub unreadable: usize,
    /// Added messages the base's data already holds (by SHA-1).
    pub already_in_base: usize,
}

/// A training run that passed its checks: inputs present, the base
/// verified, the rules parsed, the parameters resolved and in range.
pub struct CheckedTrain {
    config: TrainConfig,
    history: Option<CheckedHistoryParams>,
    base: Option<Artifact>,
    rules: RuleSet,
    params: TrainParams,
}

/// What a run produced.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The fitted model and its training report.
    pub trained: Trained,
    /// Examples trained, validated and tested on.
    pub examples: usize,
    /// What was left out of the data.
    pub excluded: Excluded,
    /// Before and after on the regression set, when retraining.
    pub regression: Option<Regression>,
}

/// The base's test role scored by the base and by the retrained model.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    /// The base model's metrics.
    pub before: HeldOutMetrics,
    /// The retrained model's metrics.
    pub after: HeldOutMetrics,
    /// Per source of the regression set: its name, before and after.
    pub by_source: Vec<(String, HeldOutMetrics, HeldOutMetrics)>,
    /// What got worse at the default level beyond the base's interval.
    pub worse: Vec<String>,
}

impl TrainConfig {
    /// Validates the configuration: the inputs exist, a base artifact
    /// verifies, the rule file parses, and the folds, targets and levels
    /// are in range (the folds and seed defaulting to the base's).
    pub fn check(self) -> Result<CheckedTrain, TrainError> {
        let new_paths = match &self.retrain {
            Some(r) if !self.paths.is_empty() => {
                return Err(TrainError::Invalid(format!(
                    "retraining {} takes its data from the base and the added messages, not from other inputs",
                    r.base.display()
                )))
            }
            Some(r) => &r.add,
            None => &self.paths,
        };
        if new_paths.is_empty() {
            return Err(TrainError::Invalid(
                "no labelled messages to train on; give .eml files, directories, mbox files or .tar.gz archives".into(),
            ));
        }
        check_inputs(new_paths)?;
        let base = match &self.retrain {
            Some(r) => Some(artifact::load(&r.base)?),
            None => None,
        };
        let base_settings = base
            .as_ref()
            .map(|b| b.manifest.training.details["settings"].clone());
        let setting_u64 = |key: &str| base_settings.as_ref().and_then(|s| s[key].as_u64());
        let rules = match (&self.rules, &base) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|source| TrainError::Read {
                    path: path.clone(),
                    source,
                })?;
                RuleSet::from_toml(&text, &path.display().to_string())?
            }
            (None, Some(b)) => artifact_rules(b)?,
            (None, None) => RuleSet::from_toml(BUILTIN_RULES, "datasets/rules.toml (built in)")?,
        };
        let defaults = TrainParams::default();
        let params = TrainParams {
            folds: self
                .folds
                .or(setting_u64("folds").map(|v| v as usize))
                .unwrap_or(defaults.folds),
            seed: self.seed.or(setting_u64("seed")).unwrap_or(defaults.seed),
            targets: self.targets,
            default_level: self.default_level,
            balance: self
                .balance
                .or(base_settings
                    .as_ref()
                    .and_then(|s| s["balance"].as_str())
                    .and_then(Balance::parse))
                .unwrap_or(defaults.balance),
            prior: self
                .prior
                .or(base_settings.as_ref().and_then(|s| s["prior"].as_f64()))
                .unwrap_or(defaults.prior),
            // The sources are known once the added mail is read (run).
            added: AddedRows {
                sources: base_settings
                    .as_ref()
                    .and_then(|s| s["added_sources"].as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                weight: self
                    .retrain
                    .as_ref()
                    .and_then(|r| r.weight)
                    .or(base_settings
                        .as_ref()
                        .and_then(|s| s["added_weight"].as_f64()))
                    .unwrap_or(AddedRows::DEFAULT_WEIGHT),
            },
            ..defaults
        };
        params.check()?;
        let history = match &self.history {
            Some(h) => Some(
                h.clone()
                    .check()
                    .map_err(|e| TrainError::Invalid(e.to_string()))?,
            ),
            None => None,
        };
        Ok(CheckedTrain {
            history,
            config: self,
            base,
            rules,
            params,
        })
    }
}

impl CheckedTrain {
    /// The checked configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The resolved training parameters (folds and seed defaulted).
    pub fn params(&self) -> &TrainParams {
        &self.params
    }

    /// Indexes and extracts the mail, assigns roles, fits, chooses the
    /// levels, checks a retraining on the regression set, and writes the
    /// artifact (read back through the serving code before returning).
    /// `ctx` is the organisation the features are extracted for.
    pub fn run(&self, ctx: &Context, progress: &dyn Progress) -> Result<TrainOutcome, TrainError> {
        let started = Instant::now();
        let config = &self.config;
        let mut params = self.params.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads.unwrap_or(0))
            .build()
            .map_err(|e| TrainError::Invalid(format!("starting worker threads: {e}")))?;
        let labels = match &config.labels {
            Some(p) => read_labels(p)?,
            None => Default::default(),
        };
        let rules_text = serde_json::to_string(
            &self
                .rules
                .rules()
                .iter()
                .map(|r| &r.text)
                .collect::<Vec<_>>(),
        )
        .map_err(|e| TrainError::Invalid(format!("recording the rules: {e}")))?;

        let mut excluded = Excluded::default();
        let new_paths = match &config.retrain {
            Some(r) => &r.add,
            None => &config.paths,
        };
        let (mut new, rows) = read_examples(
            new_paths,
            &labels,
            ctx,
            &pool,
            self.history.as_ref(),
            progress,
            &mut excluded,
        )?;
        let (examples, validation_rule) = match &self.base {
            None => {
                let rule = self.split_rule(&new)?;
                let sides = assign(&rows, &rule)?;
                let groups: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
                let roles = roles_from_split(&groups, &sides, params.seed);
                for (e, r) in new.iter_mut().zip(roles) {
                    e.role = r;
                }
                let mut rule = rule.to_string();
                if !config.hold_out_folders.is_empty() {
                    assign_folder_roles(&mut new, &config.hold_out_folders)?;
                    rule = format!(
                        "{rule}; folders given whole roles: {} (the other folders of those sources train)",
                        config
                            .hold_out_folders
                            .iter()
                            .map(|(s, f, r)| format!("{s}/{f} = {}", r.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                (new, rule)
            }
            Some(b) => {
                let path = b.dir.join(data_table::FILE);
                let bytes = std::fs::read(&path).map_err(|source| TrainError::Read {
                    path: path.clone(),
                    source,
                })?;
                let mut all = data_table::from_parquet(&bytes, &path.display().to_string())?;
                let known: HashSet<String> = all.iter().filter_map(|e| e.sha1.clone()).collect();
                let before = new.len();
                new.retain(|e| e.sha1.as_ref().is_none_or(|s| !known.contains(s)));
                excluded.already_in_base = before - new.len();
                // Added sources: the base's, and those the base's corpora
                // do not name (more rows of a corpus stay that corpus's).
                let corpora: HashSet<&str> = all
                    .iter()
                    .filter(|e| !params.added.sources.contains(&e.source))
                    .map(|e| e.source.as_str())
                    .collect();
                let fresh: Vec<String> = new
                    .iter()
                    .filter(|e| !corpora.contains(e.source.as_str()))
                    .map(|e| e.source.clone())
                    .collect();
                params.added.sources.extend(fresh);
                progress.say(&format!(
                    "base {}: {} examples; adding {} new ones to the train role ({} already in the base)",
                    b.dir.display(),
                    all.len(),
                    new.len(),
                    excluded.already_in_base
                ));
                all.extend(new);
                let rule = b.manifest.training.details["settings"]["validation_rule"]
                    .as_str()
                    .unwrap_or("as the base's")
                    .to_string();
                (
                    all,
                    format!("{rule} (the base's roles; added samples train)"),
                )
            }
        };
        progress.say(&format!(
            "{} examples; left out: {} spam, {} unlabelled, {} unreadable",
            examples.len(),
            excluded.spam,
            excluded.unlabelled,
            excluded.unreadable
        ));

        let fit_started = Instant::now();
        let trained = pool.install(|| {
            training::train(&examples, &self.rules, &params, &mut |line| {
                progress.say(&line)
            })
        })?;
        let fit_secs = fit_started.elapsed().as_secs_f64();
        let model = Model::new(trained.params.clone())?;
        say_levels(progress, &trained.params);
        say_metrics(progress, "validation", &trained.report.validation);
        say_metrics(progress, "test", &trained.report.test);

        let regression = match (&self.base, &config.retrain) {
            (Some(b), Some(r)) => {
                let regression = regression(&pool, &examples, &b.model, &model);
                say_regression(progress, &regression);
                if !regression.worse.is_empty() {
                    let what = regression.worse.join("; ");
                    if !r.force {
                        return Err(TrainError::Regressed { what });
                    }
                    progress.say(&format!(
                        "warning: on the regression set, {what}; writing anyway (forced)"
                    ));
                }
                Some(regression)
            }
            _ => None,
        };

        let settings = RunSettings {
            seed: params.seed,
            folds: params.folds,
            validation_rule,
            targets: params.targets,
            rules_sha256: artifact::sha256_hex(rules_text.as_bytes()),
            balance: params.balance.as_str().into(),
            prior: params.prior,
            added_sources: params.added.sources.iter().cloned().collect(),
            added_weight: params.added.weight,
            history: match &self.history {
                Some(h) => format!(
                    "replayed in date order per source, learnt after {} s",
                    h.delay_secs
                ),
                None => "none".into(),
            },
            excluded: serde_json::to_value(&excluded)
                .map_err(|e| TrainError::Invalid(format!("recording the exclusions: {e}")))?,
        };
        write_artifact(
            &config.output,
            &trained,
            &examples,
            &settings,
            config.command.clone(),
            card_date(&examples),
            data_manifest_sha256(&examples),
        )?;
        // Read back through the serving code: what was written must load.
        artifact::load(&config.output)?;
        progress.say(&format!(
            "wrote {} ({} rules, {} classifier inputs); fitting took {:.1} s, the whole run {:.1} s",
            config.output.display(),
            trained.params.rules.rules.len(),
            trained.params.classifier.inputs.len(),
            fit_secs,
            started.elapsed().as_secs_f64()
        ));
        Ok(TrainOutcome {
            trained,
            examples: examples.len(),
            excluded,
            regression,
        })
    }

    /// The hold-out rule of a new training, after checking that every
    /// source it names holds labelled mail.
    fn split_rule(&self, examples: &[Example]) -> Result<SplitRule, TrainError> {
        let config = &self.config;
        let mut known: Vec<&str> = examples.iter().map(|e| e.source.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        let held_out_source = match &config.hold_out {
            HoldOut::Source { source } => Some(source),
            _ => None,
        };
        let named = config
            .hold_out_after
            .iter()
            .map(|(s, _)| (true, s))
            .chain(held_out_source.map(|s| (false, s)));
        for (by_date, source) in named {
            if !known.contains(&source.as_str()) {
                return Err(TrainError::UnknownSource {
                    name: source.clone(),
                    by_date,
                    known: known.join(", "),
                });
            }
        }
        let rule = match &config.hold_out {
            HoldOut::Time { date } => SplitRule::Time { date: date.clone() },
            HoldOut::Source { source } => SplitRule::Source {
                source: source.clone(),
            },
            HoldOut::Hash { fraction } => SplitRule::Hash {
                fraction: *fraction,
                seed: self.params.seed,
            },
        };
        Ok(if config.hold_out_after.is_empty() {
            rule
        } else {
            SplitRule::TimeFor {
                cuts: config.hold_out_after.clone(),
                otherwise: Box::new(rule),
            }
        })
    }
}

/// The rules an artifact was trained with, as its manifest records them
/// (retraining and the transfer evaluation fit with these).
pub fn artifact_rules(artifact: &Artifact) -> Result<RuleSet, TrainError> {
    Ok(RuleSet::from_texts(
        artifact
            .manifest
            .model
            .rules
            .rules
            .iter()
            .map(|r| r.rule.clone())
            .collect(),
    )?)
}

/// Gives each named folder of a source its role; the source's other
/// folders train. Refuses a folder that holds no example.
fn assign_folder_roles(
    examples: &mut [Example],
    folders: &[(String, String, Role)],
) -> Result<(), TrainError> {
    for (source, folder, _) in folders {
        if !examples
            .iter()
            .any(|e| &e.source == source && e.folder() == Some(folder.as_str()))
        {
            let mut known: Vec<&str> = examples
                .iter()
                .filter(|e| &e.source == source)
                .filter_map(|e| e.folder())
                .collect();
            known.sort_unstable();
            known.dedup();
            return Err(TrainError::Invalid(format!(
                "--hold-out-folder {source}/{folder}: no labelled message of source {source} lies in a folder {folder} (its folders: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        }
    }
    let mut by_group: HashMap<String, Role> = HashMap::new();
    for e in examples.iter_mut() {
        if !folders.iter().any(|(s, _, _)| s == &e.source) {
            continue;
        }
        e.role = folders
            .iter()
            .find(|(s, f, _)| s == &e.source && e.folder() == Some(f.as_str()))
            .map_or(Role::Train, |(_, _, r)| *r);
        by_group.insert(e.group.clone(), e.role);
    }
    // An attack injected into a folder's message shares its carrier's
    // duplicate group: it takes the carrier's role, as in every split.
    for e in examples.iter_mut() {
        if let Some(role) = by_group.get(&e.group) {
            e.role = *role;
        }
    }
    Ok(())
}

/// The base's test role scored by the base and by the retrained model,
/// and what got worse at the default level: in the pool, and in every
/// source on its own (so the worst source is judged, not only the mean).
fn regression(
    pool: &rayon::ThreadPool,
    examples: &[Example],
    base: &Model,
    retrained: &Model,
) -> Regression {
    let test: Vec<&Example> = examples.iter().filter(|e| e.role == Role::Test).collect();
    let score = |m: &Model, rows: &[&Example]| -> Vec<f64> {
        pool.install(|| {
            rows.par_iter()
                .map(|e| m.score(&e.values).probability)
                .collect()
        })
    };
    let y: Vec<bool> = test.iter().map(|e| e.is_attack()).collect();
    let before = held_out_metrics(base, Role::Test, &score(base, &test), &y);
    let after = held_out_metrics(retrained, Role::Test, &score(retrained, &test), &y);
    let level = retrained.default_level();
    let mut worse = training::regressions(&before, &after, level);
    let mut sources: Vec<&str> = test.iter().map(|e| e.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut by_source = Vec::new();
    for source in sources {
        let rows: Vec<&Example> = test
            .iter()
            .copied()
            .filter(|e| e.source == source)
            .collect();
        let y: Vec<bool> = rows.iter().map(|e| e.is_attack()).collect();
        let b = held_out_metrics(base, Role::Test, &score(base, &rows), &y);
        let a = held_out_metrics(retrained, Role::Test, &score(retrained, &rows), &y);
        worse.extend(
            training::regressions(&b, &a, level)
                .into_iter()
                .map(|w| format!("source {source}: {w}")),
        );
        by_source.push((source.to_string(), b, a));
    }
    Regression {
        before,
        after,
        by_source,
        worse,
    }
}

/// Indexes and extracts `paths`; returns the labelled examples (role
/// train for now) and their manifest rows, in the same order.
fn read_examples(
    paths: &[PathBuf],
    labels: &HashMap<String, LabelEntry>,
    ctx: &Context,
    pool: &rayon::ThreadPool,
    history: Option<&CheckedHistoryParams>,
    progress: &dyn Progress,
    excluded: &mut Excluded,
) -> Result<(Vec<Example>, Vec<ManifestRow>), TrainError> {
    let options = IndexOptions {
        source: None,
        labels: labels.clone(),
        labels_by_input: generated_labels(paths)?,
        read: ReadOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        },
    };
    // One pass: each message is indexed and extracted from the same bytes,
    // and its features come back beside its manifest row.
    let (index, read) = {
        let stage = progress.stage("indexing and extracting", None);
        let extractor = Extractor::new(ctx);
        pool.install(|| {
            index_inputs_with(paths, &options, &|n| stage.done(n), &|m| {
                extract_one_for_replay(&extractor, FileInputs::default(), history.is_some(), m)
            })
        })
    };
    let (mut rows, facts): (Vec<FeatureRow>, Vec<Option<MessageFacts>>) = read.into_iter().unzip();
    if let Some(params) = history {
        let stage = progress.stage("replaying sender history in date order", None);
        let groups = replay_groups(&index.rows);
        let done = pool
            .install(|| replay_rows(&mut rows, groups, facts, ctx, params))
            .map_err(|e| TrainError::Invalid(format!("replaying sender history: {e}")))?;
        stage.done(done as u64);
    }
    let mut examples = Vec::new();
    let mut kept = Vec::new();
    for (m, row) in index.rows.into_iter().zip(rows) {
        let Some(label) = m.label else {
            excluded.unlabelled += 1;
            continue;
        };
        if label == Label::Spam {
            excluded.spam += 1;
            continue;
        }
        let Some(values) = row.values.filter(|_| m.error.is_none()) else {
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

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.4}"))
}

fn fmt_rate(r: &Rate) -> String {
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

fn say_levels(progress: &dyn Progress, params: &ModelParams) {
    let l = &params.levels;
    progress.say(&format!(
        "levels (chosen on the validation role; default flagging level {:?}):",
        l.default_level
    ));
    for (name, p) in [("low", &l.low), ("medium", &l.medium), ("high", &l.high)] {
        progress.say(&format!(
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
        ));
    }
}

fn say_metrics(progress: &dyn Progress, role: &str, m: &HeldOutMetrics) {
    progress.say(&format!(
        "{role} role: {} ham, {} attacks, AUC {}",
        m.ham,
        m.attacks,
        fmt_opt(m.auc)
    ));
    for l in &m.levels {
        progress.say(&format!(
            "  {:?}: false positives {}, detection {}",
            l.level,
            fmt_rate(&l.false_positive_rate),
            fmt_rate(&l.detection_rate)
        ));
    }
}

fn say_regression(progress: &dyn Progress, r: &Regression) {
    progress.say(&format!(
        "regression set (the base's test role: {} ham, {} attacks):",
        r.before.ham, r.before.attacks
    ));
    progress.say(&format!(
        "  AUC {} → {}",
        fmt_opt(r.before.auc),
        fmt_opt(r.after.auc)
    ));
    for (x, y) in r.before.levels.iter().zip(&r.after.levels) {
        progress.say(&format!(
            "  {:?}: false positives {} → {}, detection {} → {}",
            x.level,
            fmt_rate(&x.false_positive_rate),
            fmt_rate(&y.false_positive_rate),
            fmt_rate(&x.detection_rate),
            fmt_rate(&y.detection_rate)
        ));
    }
    for (source, b, a) in &r.by_source {
        let (Some(x), Some(y)) = (
            b.level(Level::Medium).or(b.levels.first()),
            a.level(Level::Medium).or(a.levels.first()),
        ) else {
            continue;
        };
        let what = if b.attacks > 0 {
            format!(
                "detection {} → {}",
                fmt_rate(&x.detection_rate),
                fmt_rate(&y.detection_rate)
            )
        } else {
            format!(
                "false positives {} → {}",
                fmt_rate(&x.false_positive_rate),
                fmt_rate(&y.false_positive_rate)
            )
        };
        progress.say(&format!("  source {source} at {:?}: {what}", x.level));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing() -> Vec<PathBuf> {
        vec![PathBuf::from(env!("CARGO_MANIFEST_DIR"))]
    }

    #[test]
    fn the_default_run_holds_out_a_seeded_share_by_hash_with_the_default_params() {
        let c = TrainConfig::default();
        assert_eq!(c.hold_out, HoldOut::Hash { fraction: 0.4 });
        let p = TrainParams::default();
        assert_eq!((c.targets, c.default_level), (p.targets, p.default_level));
        assert_eq!((c.folds, c.seed, c.retrain.is_none()), (None, None, true));
    }

    #[test]
    fn the_check_takes_the_given_folds_and_seed_and_defaults_the_rest() {
        let checked = TrainConfig {
            paths: existing(),
            folds: Some(3),
            ..TrainConfig::default()
        }
        .check()
        .unwrap();
        assert_eq!(checked.params().folds, 3);
        assert_eq!(checked.params().seed, TrainParams::default().seed);
    }

    #[test]
    fn folds_and_targets_out_of_range_are_refused_by_the_check() {
        for config in [
            TrainConfig {
                folds: Some(1),
                ..TrainConfig::default()
            },
            TrainConfig {
                targets: [1e-3, 1e-2, 1e-4],
                ..TrainConfig::default()
            },
        ] {
            let config = TrainConfig {
                paths: existing(),
                ..config
            };
            assert!(matches!(config.check(), Err(TrainError::Invalid(_))));
        }
    }

    #[test]
    fn a_missing_input_is_named_before_anything_runs() {
        let err = TrainConfig {
            paths: vec![PathBuf::from("/nonexistent/mail")],
            ..TrainConfig::default()
        }
        .check()
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/mail: no such file or directory"),
            "{err}"
        );
    }

    #[test]
    fn retraining_takes_no_inputs_of_its_own_and_training_needs_some() {
        let retrain = TrainConfig {
            paths: existing(),
            retrain: Some(Retrain {
                base: PathBuf::from("base"),
                add: existing(),
                force: false,
                weight: None,
            }),
            ..TrainConfig::default()
        };
        assert!(matches!(retrain.check(), Err(TrainError::Invalid(_))));
        assert!(matches!(
            TrainConfig::default().check(),
            Err(TrainError::Invalid(_))
        ));
    }
}
