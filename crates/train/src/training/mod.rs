//! Training: labelled feature vectors → rule weights, a classifier, their
//! calibration and the detection levels → [`ModelParams`].
//!
//! 1. The train role is cut into k folds by a seeded hash of the duplicate
//!    group. For each fold, rule weights ([`rule_weights`]) and the
//!    classifier ([`classifier`]) are fitted on the other folds and score
//!    the held-out one.
//! 2. Platt scaling ([`calibration`]) is fitted on those out-of-fold scores.
//! 3. Both parts are fitted again on the whole train role.
//! 4. The levels ([`levels`]) are chosen on the validation role, scored by
//!    the serving code ([`impostor_model::Model`]).
//! 5. The test role, untouched so far, gives the held-out metrics.
//!
//! Sample weights ([`Balance`]): by default every source holds an equal
//! share of its class and the two classes weigh the same, so no corpus or
//! era (each corpus is one period) dominates what a label looks like. The
//! rule fit and Platt scaling take the weights as they are; linfa-logistic,
//! which takes none, gets each row repeated ⌊w⌋ or ⌈w⌉ times (a seeded hash
//! of the row decides, so the expected count is w).
//!
//! Constraints: whatever the sender writes never lowers a score (rule and
//! classifier weights ≥ 0, [`impostor_features::Direction`]); Platt's
//! slopes stay ≥ 0. The calibrated score is a probability at the base rate
//! the trainer states ([`TrainParams::prior`]): the weighted fit sees a
//! balanced world, and the offset moves it to the stated one.

pub mod calibration;
pub mod card;
pub mod classifier;
pub mod confound;
pub mod data_table;
pub mod example;
pub mod export;
pub mod levels;
pub mod rule_weights;

use crate::error::TrainError;
use calibration::{fit_platt, reliability};
use classifier::{ClassifierParams, InputPolicy};
use confound::{ConfoundAudit, ConfoundParams};
pub use example::{data_manifest_sha256, roles_from_split, Example, Role};
use impostor_features::Feature;
use impostor_model::model::{
    Calibration, ClassifierWeights, Levels, ModelParams, OperatingPoint, RuleWeights,
    WeightedRuleText,
};
pub use impostor_model::stats::rates::Rate;
use impostor_model::stats::roc_auc;
use impostor_model::stats::Interval;
use impostor_model::{Level, Model, RuleSet};
use rayon::prelude::*;
use rule_weights::{RuleFit, RuleWeightParams};
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Validated settings of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainParams {
    /// Cross-validation folds (2 to 50).
    pub folds: usize,
    /// Seed of the folds and of the validation / test halves.
    pub seed: u64,
    /// The rule weights' fit.
    pub rules: RuleWeightParams,
    /// The classifier's fit.
    pub classifier: ClassifierParams,
    /// Target false-positive rates of low, medium and high.
    pub targets: [f64; 3],
    /// The level at and above which a message is flagged.
    pub default_level: Level,
    /// How rows are weighted.
    pub balance: Balance,
    /// Rows added to a base's data when retraining, and what they weigh.
    pub added: AddedRows,
    /// The share of attacks among the messages the score is a probability
    /// for, in (0, 1): the base rate a deployment expects.
    pub prior: f64,
    /// What counts as confounded with the source or era.
    pub confound: ConfoundParams,
    /// Largest weight, in size, of a confounded feature (classifier input,
    /// log-odds per standardised unit) or of a rule reading one (floors
    /// aside: declared evidence).
    pub confound_bound: f64,
}

/// The cap on a confounded feature's weight unless told otherwise.
pub const DEFAULT_CONFOUND_BOUND: f64 = 1.0;

/// How training rows are weighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Each class weighs half; within a class every row counts alike.
    Classes,
    /// Each class weighs half; within a class every source weighs alike.
    Sources,
}

impl Balance {
    /// The name `--balance` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Balance::Classes => "classes",
            Balance::Sources => "sources",
        }
    }

    /// The balance [`Balance::as_str`] names.
    pub fn parse(s: &str) -> Option<Balance> {
        [Balance::Classes, Balance::Sources]
            .into_iter()
            .find(|b| b.as_str() == s)
    }
}

/// Rows added to a base artifact's data when retraining (`train --base
/// --add`): reported mail, not a corpus. [`Balance::Sources`] gives every
/// corpus an equal share of its class; a few hundred reports given that
/// share would outweigh corpora of thousands, so added rows count as
/// `weight` times the mean corpus row of their class instead, and they stay
/// out of the confound audit (they come from the deployment's own mail, so
/// telling them apart is not provenance to unlearn).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AddedRows {
    /// The sources holding added rows (kept across retrainings).
    pub sources: std::collections::BTreeSet<String>,
    /// What one added row counts, in mean corpus rows of its class.
    pub weight: f64,
}

impl AddedRows {
    /// An added row's weight unless told otherwise: one corpus row's.
    pub const DEFAULT_WEIGHT: f64 = 1.0;
    /// The largest weight accepted: beyond it a handful of reports would
    /// be the class.
    pub const MAX_WEIGHT: f64 = 100.0;

    /// Whether `e` is an added row (of a class the corpora also hold).
    fn holds(&self, e: &Example) -> bool {
        self.sources.contains(&e.source)
    }
}

impl Default for AddedRows {
    fn default() -> Self {
        AddedRows {
            sources: Default::default(),
            weight: Self::DEFAULT_WEIGHT,
        }
    }
}

/// The base rate scores are stated at unless told otherwise: one attack in
/// a thousand messages.
pub const DEFAULT_PRIOR: f64 = 1e-3;

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            folds: 5,
            seed: 1,
            rules: RuleWeightParams::default(),
            classifier: ClassifierParams::default(),
            targets: [1e-2, 1e-3, 1e-4],
            default_level: Level::Medium,
            balance: Balance::Sources,
            added: AddedRows::default(),
            prior: DEFAULT_PRIOR,
            confound: ConfoundParams::default(),
            confound_bound: DEFAULT_CONFOUND_BOUND,
        }
    }
}

impl TrainParams {
    /// Refuses settings out of range, naming the setting.
    pub fn check(&self) -> Result<(), TrainError> {
        if !(2..=50).contains(&self.folds) {
            return Err(TrainError::Invalid(format!(
                "cross-validation needs 2 to 50 folds, not {}",
                self.folds
            )));
        }
        let t = self.targets;
        if !(t.iter().all(|x| *x > 0.0 && *x < 1.0) && t[0] >= t[1] && t[1] >= t[2]) {
            return Err(TrainError::Invalid(format!(
                "target false-positive rates must lie in (0, 1) and fall from low to high, not {t:?}"
            )));
        }
        if !(self.prior > 0.0 && self.prior < 1.0) {
            return Err(TrainError::Invalid(format!(
                "the prior (the share of attacks the score is stated at) must lie in (0, 1), not {}",
                self.prior
            )));
        }
        if self.default_level == Level::None {
            return Err(TrainError::Invalid(
                "the default level is low, medium or high".into(),
            ));
        }
        let w = self.added.weight;
        if !(w.is_finite() && w > 0.0 && w <= AddedRows::MAX_WEIGHT) {
            return Err(TrainError::Invalid(format!(
                "an added row's weight (in mean corpus rows of its class) must lie in (0, {}], not {w}",
                AddedRows::MAX_WEIGHT
            )));
        }
        if !(self.confound_bound.is_finite() && self.confound_bound > 0.0) {
            return Err(TrainError::Invalid(format!(
                "the bound on confounded weights must be positive, not {}",
                self.confound_bound
            )));
        }
        self.confound.check()?;
        self.rules.check()?;
        self.classifier.check()
    }
}

/// One cross-validation fold's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoldReport {
    /// Its number, from 1.
    pub fold: usize,
    /// Rows it was fitted on.
    pub train_rows: usize,
    /// Rows it scored.
    pub held_out_rows: usize,
    /// Attacks among them.
    pub held_out_attacks: usize,
    /// ROC AUC of the calibrated out-of-fold score; None when the fold
    /// lacks a class.
    pub auc: Option<f64>,
}

/// One (class, source) group's weight in the fit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeightGroup {
    /// `ham` or `attack`.
    pub class: String,
    /// The source.
    pub source: String,
    /// Its rows in the train role.
    pub rows: usize,
    /// What each of its rows counts.
    pub row_weight: f64,
    /// Its share of the class's total weight.
    pub share_of_class: f64,
    /// Added when retraining (reports, weighed per row against the
    /// corpora), not a corpus.
    pub added: bool,
}

/// How the train role's rows were weighted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleWeights {
    /// Ham in the train role.
    pub ham: usize,
    /// Attacks in the train role.
    pub attacks: usize,
    /// The balance used.
    pub balance: Balance,
    /// Each group's weight.
    pub groups: Vec<WeightGroup>,
    /// How the weights are used, in words.
    pub method: String,
}

/// Each train-role row's weight (0 elsewhere), normalised so the train
/// role's weights sum to its row count and each class weighs half. Corpus
/// rows are weighted by `balance`; added rows (of a class the corpora hold)
/// count `added.weight` times the mean corpus row of their class, the
/// class then scaled back to its half.
fn row_weights(
    examples: &[Example],
    train_idx: &[usize],
    balance: Balance,
    added: &AddedRows,
) -> (Vec<f64>, SampleWeights) {
    use std::collections::BTreeMap;
    let class = |e: &Example| if e.is_attack() { "attack" } else { "ham" };
    // (class, source) → (rows, added)
    let mut counts: BTreeMap<(&str, &str), (usize, bool)> = BTreeMap::new();
    for &i in train_idx {
        let e = &examples[i];
        counts
            .entry((class(e), e.source.as_str()))
            .or_insert((0, added.holds(e)))
            .0 += 1;
    }
    // A class that only reports hold is weighted as if they were corpora.
    for c in ["ham", "attack"] {
        if counts.iter().all(|((k, _), (_, a))| *k != c || *a) {
            for (_, v) in counts.iter_mut().filter(|((k, _), _)| *k == c) {
                v.1 = false;
            }
        }
    }
    let corpus = |c: &str| -> (usize, usize) {
        counts
            .iter()
            .filter(|((k, _), (_, a))| *k == c && !a)
            .fold((0, 0), |(rows, sources), (_, (v, _))| {
                (rows + v, sources + 1)
            })
    };
    let n = train_idx.len() as f64;
    // Before scaling: a class's corpus rows sum to 1.
    let raw = |c: &str, rows: usize, a: bool| -> f64 {
        let (corpus_rows, corpus_sources) = corpus(c);
        if a {
            added.weight / corpus_rows as f64
        } else {
            match balance {
                Balance::Classes => 1.0 / corpus_rows as f64,
                Balance::Sources => 1.0 / (corpus_sources as f64 * rows as f64),
            }
        }
    };
    let class_total = |c: &str| {
        counts
            .iter()
            .filter(|((k, _), _)| *k == c)
            .map(|((k, _), (rows, a))| raw(k, *rows, *a) * *rows as f64)
            .sum::<f64>()
    };
    let (ham_total, attack_total) = (class_total("ham"), class_total("attack"));
    let weight_of = |c: &str, rows: usize, a: bool| -> f64 {
        let total = if c == "ham" { ham_total } else { attack_total };
        raw(c, rows, a) * (n / 2.0) / total
    };
    let mut w = vec![0.0; examples.len()];
    for &i in train_idx {
        let e = &examples[i];
        let c = class(e);
        let (rows, a) = counts[&(c, e.source.as_str())];
        w[i] = weight_of(c, rows, a);
    }
    let in_class = |c: &str| {
        counts
            .iter()
            .filter(|((k, _), _)| *k == c)
            .map(|(_, (v, _))| *v)
            .sum::<usize>()
    };
    let groups = counts
        .iter()
        .map(|((c, source), (rows, a))| {
            let row_weight = weight_of(c, *rows, *a);
            WeightGroup {
                class: c.to_string(),
                source: source.to_string(),
                rows: *rows,
                row_weight,
                share_of_class: row_weight * *rows as f64 / (n / 2.0),
                added: *a,
            }
        })
        .collect();
    let mut method = match balance {
        Balance::Classes => "each class weighs half of the train role; within a class every row counts alike".to_string(),
        Balance::Sources => "each class weighs half of the train role, and within a class every source weighs alike, so no corpus (and no era: each corpus is one period) dominates what its label looks like".to_string(),
    };
    if counts.values().any(|(_, a)| *a) {
        method += &format!(
            "; rows added when retraining ({}) are reports, not corpora: each counts {} × the mean corpus row of its class, and they stay out of the confound audit",
            added.sources.iter().cloned().collect::<Vec<_>>().join(", "),
            added.weight
        );
    }
    method += "; the rule fit and calibration take the weights, linfa-logistic gets each row repeated ⌊w⌋ or ⌈w⌉ times by a seeded hash (expected count w)";
    (
        w,
        SampleWeights {
            ham: in_class("ham"),
            attacks: in_class("attack"),
            balance,
            groups,
            method,
        },
    )
}

/// A row's repetitions for linfa-logistic: ⌊w⌋, plus one when a seeded
/// hash of its id falls below w's fraction.
fn repetitions(id: &str, w: f64, seed: u64) -> usize {
    let whole = w.floor();
    let u = xxh3_64_with_seed(id.as_bytes(), seed ^ 0x7e9e_a7ed) as f64 / 2f64.powi(64);
    whole as usize + usize::from(u < w - whole)
}

/// Rates at one level for one source of a held-out role.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceLevelRates {
    /// `validation` or `test`.
    pub role: String,
    /// The source.
    pub source: String,
    /// The level.
    pub level: Level,
    /// Ham flagged at the level, of the source's ham in the role.
    pub false_positive_rate: Rate,
    /// Attacks flagged at the level, of the source's attacks in the role.
    pub detection_rate: Rate,
}

/// Each level's rates per source on the rows `idx` scored `probs`.
fn per_source_levels(
    examples: &[Example],
    role: Role,
    idx: &[usize],
    probs: &[f64],
    levels: &Levels,
) -> Vec<SourceLevelRates> {
    use std::collections::BTreeMap;
    let mut out = Vec::new();
    for level in [Level::Low, Level::Medium, Level::High] {
        let Some(point) = levels.point(level) else {
            continue;
        };
        let mut by: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
        for (&i, &p) in idx.iter().zip(probs) {
            let e = &examples[i];
            let c = by.entry(e.source.as_str()).or_default();
            let hit = u64::from(p >= point.threshold);
            if e.is_attack() {
                c[2] += 1;
                c[3] += hit;
            } else {
                c[0] += 1;
                c[1] += hit;
            }
        }
        out.extend(by.into_iter().map(|(source, c)| SourceLevelRates {
            role: role.as_str().into(),
            source: source.into(),
            level,
            false_positive_rate: Rate::new(c[1], c[0]),
            detection_rate: Rate::new(c[3], c[2]),
        }));
    }
    out
}

/// Metrics of one level on a held-out role.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelMetrics {
    /// The level.
    pub level: Level,
    /// Its threshold on the score.
    pub threshold: f64,
    /// Ham flagged, of the role's ham.
    pub false_positive_rate: Rate,
    /// Attacks flagged, of the role's attacks.
    pub detection_rate: Rate,
}

/// Metrics on the validation or test role.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldOutMetrics {
    /// `validation` or `test`.
    pub role: String,
    /// Ham in the role.
    pub ham: usize,
    /// Attacks in the role.
    pub attacks: usize,
    /// ROC AUC of the served score; `None` without both classes.
    pub auc: Option<f64>,
    /// Each level's rates.
    pub levels: Vec<LevelMetrics>,
}

impl HeldOutMetrics {
    /// The rates of one level.
    pub fn level(&self, level: Level) -> Option<&LevelMetrics> {
        self.levels.iter().find(|l| l.level == level)
    }
}

/// Reliability of the calibrated score on the validation role.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// The bin's mean calibrated score.
    pub mean_predicted: f64,
    /// The share of attacks in it.
    pub observed: f64,
    /// Messages in it.
    pub count: usize,
}

/// The test role at the default level, for one source or one technique.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupRates {
    /// `source` or `technique` (`real` for attacks that name none).
    pub by: String,
    /// The source or technique.
    pub name: String,
    /// Ham flagged, of the group's ham.
    pub false_positive_rate: Rate,
    /// Attacks flagged, of the group's attacks.
    pub detection_rate: Rate,
}

/// Rates at `threshold` per source and per technique of the examples `idx`.
fn breakdown(
    examples: &[Example],
    idx: &[usize],
    probs: &[f64],
    threshold: f64,
) -> Vec<GroupRates> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(String, String), [u64; 4]> = BTreeMap::new();
    for (&i, &p) in idx.iter().zip(probs) {
        let e = &examples[i];
        let flagged = u64::from(p >= threshold);
        let technique = if e.is_attack() {
            Some(e.technique.clone().unwrap_or_else(|| "real".into()))
        } else {
            None
        };
        let keys = [
            Some(("source".to_string(), e.source.clone())),
            technique.map(|t| ("technique".to_string(), t)),
        ];
        for key in keys.into_iter().flatten() {
            let c = groups.entry(key).or_default();
            if e.is_attack() {
                c[2] += 1;
                c[3] += flagged;
            } else {
                c[0] += 1;
                c[1] += flagged;
            }
        }
    }
    groups
        .into_iter()
        .map(|((by, name), c)| GroupRates {
            by,
            name,
            false_positive_rate: Rate::new(c[1], c[0]),
            detection_rate: Rate::new(c[3], c[2]),
        })
        .collect()
}

/// Everything a run reports besides the model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainReport {
    /// Each cross-validation fold.
    pub folds: Vec<FoldReport>,
    /// ROC AUC of the calibrated out-of-fold scores.
    pub out_of_fold_auc: Option<f64>,
    /// How the rows were weighted.
    pub sample_weights: SampleWeights,
    /// Each level's rates per source on the validation and test roles.
    pub levels_by_source: Vec<SourceLevelRates>,
    /// Features that mark the source or era rather than the attack.
    pub confound: ConfoundAudit,
    /// The bound on a confounded feature's weight.
    pub confound_bound: f64,
    /// Per role: its name, ham and attacks.
    pub rows_by_role: Vec<(String, usize, usize)>,
    /// The validation role's metrics.
    pub validation: HeldOutMetrics,
    /// The test role's metrics.
    pub test: HeldOutMetrics,
    /// The test role at the default level, per source and per technique.
    pub test_breakdown: Vec<GroupRates>,
    /// Reliability of the calibrated score on the validation role.
    pub validation_reliability: Vec<ReliabilityBin>,
    /// Coordinate-descent sweeps of the final rule fit.
    pub rule_fit_sweeps: usize,
}

/// A trained model and its report.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The model's numbers, as the artifact stores them.
    pub params: ModelParams,
    /// What the run measured.
    pub report: TrainReport,
}

fn fold_of(group: &str, seed: u64, folds: usize) -> usize {
    (xxh3_64_with_seed(group.as_bytes(), seed) % folds as u64) as usize
}

/// Placeholder levels for scoring before thresholds exist.
fn unset_levels(default_level: Level) -> Levels {
    let p = OperatingPoint {
        threshold: 0.0,
        target_fpr: 0.5,
        validation_ham_flagged: 0,
        validation_ham: 0,
        validation_fpr: 0.0,
        validation_fpr_ci95: Interval {
            low: 0.0,
            high: 1.0,
        },
        validation_attacks_flagged: 0,
        validation_attacks: 0,
        resolvable: false,
    };
    Levels {
        low: p.clone(),
        medium: p.clone(),
        high: p,
        default_level,
    }
}

/// Rows a fold was fitted on, and its held-out (example, rules log-odds,
/// classifier log-odds).
type FoldScores = (usize, Vec<(usize, f64, f64)>);

struct Parts {
    rules: RuleFit,
    classifier: ClassifierWeights,
}

/// Trains on `examples` with `rules`; `log` receives one line per step.
pub fn train(
    examples: &[Example],
    rules: &RuleSet,
    p: &TrainParams,
    log: &mut dyn FnMut(String),
) -> Result<Trained, TrainError> {
    p.check()?;
    if rules.len() > u16::MAX as usize {
        return Err(TrainError::Invalid("too many rules".into()));
    }
    let by_role = |role: Role| -> Vec<usize> {
        (0..examples.len())
            .filter(|&i| examples[i].role == role)
            .collect()
    };
    let (train_idx, val_idx, test_idx) = (
        by_role(Role::Train),
        by_role(Role::Validation),
        by_role(Role::Test),
    );
    let count = |idx: &[usize]| {
        let attacks = idx.iter().filter(|&&i| examples[i].is_attack()).count();
        (idx.len() - attacks, attacks)
    };
    let (ham, attacks) = count(&train_idx);
    if ham == 0 || attacks == 0 {
        return Err(TrainError::Invalid(format!(
            "the train role holds {ham} ham and {attacks} attacks; training needs both (does the hold-out rule leave enough to train on?)"
        )));
    }
    let (val_ham, _) = count(&val_idx);
    if val_ham == 0 {
        return Err(TrainError::Invalid(
            "the validation role holds no ham, so no threshold can be chosen; hold out another time range or source".into(),
        ));
    }
    let (weights, sample_weights) = row_weights(examples, &train_idx, p.balance, &p.added);
    log(format!(
        "train role: {ham} ham, {attacks} attacks, weighted by {} ({} groups); validation: {} rows; test: {} rows",
        p.balance.as_str(),
        sample_weights.groups.len(),
        val_idx.len(),
        test_idx.len()
    ));
    for g in &sample_weights.groups {
        log(format!(
            "  {} {}: {} rows × {:.3} = {:.1}% of its class{}",
            g.class,
            g.source,
            g.rows,
            g.row_weight,
            100.0 * g.share_of_class,
            if g.added { " (added)" } else { "" }
        ));
    }

    let fired: Vec<Vec<u16>> = examples
        .par_iter()
        .map(|e| {
            rules
                .rules()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.fires(&e.values))
                .map(|(j, _)| j as u16)
                .collect()
        })
        .collect();
    // The confound audit, on the rows the weights are fitted on.
    let train_rows: Vec<Example> = train_idx
        .iter()
        .map(|&i| &examples[i])
        .filter(|e| !p.added.holds(e))
        .cloned()
        .collect();
    let confound = confound::audit(&train_rows, &p.confound);
    drop(train_rows);
    for line in confound.log_lines() {
        log(format!("confounded: {line}"));
    }
    let policy = InputPolicy {
        excluded: Feature::ALL
            .iter()
            .copied()
            .filter(|f| confound.provenance_only(*f))
            .collect(),
        capped: Feature::ALL
            .iter()
            .copied()
            .filter(|f| confound.confounded(*f) && !confound.provenance_only(*f))
            .collect(),
        bound: p.confound_bound,
    };
    // Only a rule reading verified facts alone may lower a score; a rule
    // reading provenance markers alone weighs nothing, one reading a confounded
    // feature stays within the bound, unless it is a floor or a ceiling
    // (declared, whatever the corpora say).
    let bounds: Vec<rule_weights::Bounds> = rules
        .rules()
        .iter()
        .map(|r| {
            let (lo, hi) = if r.may_lower_score() {
                rule_weights::UNBOUNDED
            } else {
                rule_weights::NON_NEGATIVE
            };
            let declared = r.floor.is_some() || r.ceiling.is_some();
            if declared {
                (lo, hi)
            } else if r.features.iter().all(|f| confound.provenance_only(*f)) {
                // A rule on provenance markers alone is not a model input
                // either; one that also reads evidence is only capped.
                (0.0, 0.0)
            } else if r.features.iter().any(|f| confound.confounded(*f)) {
                (lo.max(-p.confound_bound), hi.min(p.confound_bound))
            } else {
                (lo, hi)
            }
        })
        .collect();

    let fit_parts = |idx: &[usize]| -> Result<Parts, TrainError> {
        let hits: Vec<&[u16]> = idx.iter().map(|&i| fired[i].as_slice()).collect();
        let y: Vec<bool> = idx.iter().map(|&i| examples[i].is_attack()).collect();
        let w: Vec<f64> = idx.iter().map(|&i| weights[i]).collect();
        let rule_fit = p.rules.fit(&hits, &y, &w, &bounds)?;
        let rows: Vec<_> = idx.iter().map(|&i| &examples[i].values).collect();
        let reps: Vec<usize> = idx
            .iter()
            .map(|&i| repetitions(&examples[i].id, weights[i], p.seed))
            .collect();
        let classifier = p.classifier.fit(&rows, &y, &reps, &policy)?;
        Ok(Parts {
            rules: rule_fit,
            classifier,
        })
    };
    let params_of = |parts: &Parts, calibration: Calibration, levels: Levels| ModelParams {
        rules: RuleWeights {
            intercept: parts.rules.intercept,
            l2: p.rules.l2,
            rules: rules
                .rules()
                .iter()
                .zip(&parts.rules.weights)
                .map(|(r, w)| WeightedRuleText {
                    weight: *w,
                    rule: r.text.clone(),
                })
                .collect(),
        },
        classifier: parts.classifier.clone(),
        calibration,
        levels,
    };
    let identity = || Calibration {
        method: "platt".into(),
        rules_coef: 1.0,
        classifier_coef: 1.0,
        offset: 0.0,
        fitted_on: "nothing yet".into(),
        prior: None,
    };

    // 1. Out-of-fold scores.
    let fold: Vec<usize> = train_idx
        .iter()
        .map(|&i| fold_of(&examples[i].group, p.seed, p.folds))
        .collect();
    let fold_results: Vec<FoldScores> = (0..p.folds)
        .into_par_iter()
        .map(|f| -> Result<_, TrainError> {
            let fit_idx: Vec<usize> = train_idx
                .iter()
                .zip(&fold)
                .filter(|(_, k)| **k != f)
                .map(|(i, _)| *i)
                .collect();
            let held: Vec<usize> = train_idx
                .iter()
                .zip(&fold)
                .filter(|(_, k)| **k == f)
                .map(|(i, _)| *i)
                .collect();
            let parts = fit_parts(&fit_idx)
                .map_err(|e| TrainError::Invalid(format!("fold {}: {e}", f + 1)))?;
            let model = Model::new(params_of(&parts, identity(), unset_levels(p.default_level)))
                .map_err(|e| TrainError::Invalid(e.to_string()))?;
            let scores = held
                .iter()
                .map(|&i| {
                    let s = model.score(&examples[i].values);
                    (i, s.rules_logit, s.classifier_logit)
                })
                .collect();
            Ok((fit_idx.len(), scores))
        })
        .collect::<Result<_, _>>()?;

    // 2. Calibration on the out-of-fold scores.
    let oof: Vec<(usize, f64, f64)> = fold_results
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .collect();
    let inputs: Vec<(f64, f64)> = oof.iter().map(|(_, r, c)| (*r, *c)).collect();
    let oof_y: Vec<bool> = oof
        .iter()
        .map(|(i, _, _)| examples[*i].is_attack())
        .collect();
    let oof_w: Vec<f64> = oof.iter().map(|(i, _, _)| weights[*i]).collect();
    let mut platt = fit_platt(&inputs, &oof_y, &oof_w)?;
    // The weighted fit's probabilities hold at the weighted attack share;
    // moving the offset by the difference in log-odds states them at the
    // prior (Bayes: the likelihood ratio stays, the prior odds change).
    let weighted_share = oof_w
        .iter()
        .zip(&oof_y)
        .filter(|(_, y)| **y)
        .map(|(w, _)| w)
        .sum::<f64>()
        / oof_w.iter().sum::<f64>();
    let logit = |q: f64| (q / (1.0 - q)).ln();
    let fitted_offset = platt.offset;
    platt.offset += logit(p.prior) - logit(weighted_share);
    let calibrated = |r: f64, c: f64| {
        impostor_model::model::sigmoid(
            platt.rules_coef * r + platt.classifier_coef * c + platt.offset,
        )
    };
    let mut folds = Vec::with_capacity(p.folds);
    for (f, (fit_rows, scores)) in fold_results.iter().enumerate() {
        let probs: Vec<f64> = scores.iter().map(|(_, r, c)| calibrated(*r, *c)).collect();
        let truth: Vec<bool> = scores
            .iter()
            .map(|(i, _, _)| examples[*i].is_attack())
            .collect();
        let report = FoldReport {
            fold: f + 1,
            train_rows: *fit_rows,
            held_out_rows: scores.len(),
            held_out_attacks: truth.iter().filter(|t| **t).count(),
            auc: roc_auc(&probs, &truth),
        };
        log(format!(
            "fold {}/{}: fitted on {} rows, {} held out ({} attacks), AUC {}",
            report.fold,
            p.folds,
            report.train_rows,
            report.held_out_rows,
            report.held_out_attacks,
            report
                .auc
                .map_or("n/a (one class)".into(), |a| format!("{a:.4}"))
        ));
        folds.push(report);
    }
    let oof_probs: Vec<f64> = inputs.iter().map(|(r, c)| calibrated(*r, *c)).collect();
    let out_of_fold_auc = roc_auc(&oof_probs, &oof_y);
    let calibration = Calibration {
        method: "platt".into(),
        rules_coef: platt.rules_coef,
        classifier_coef: platt.classifier_coef,
        offset: platt.offset,
        fitted_on: format!(
            "weighted out-of-fold scores of {}-fold cross-validation on the train role ({} rows; fitted offset {:.4} at the weighted attack share {:.3}, moved to the prior {})",
            p.folds,
            oof.len(),
            fitted_offset,
            weighted_share,
            p.prior
        ),
        prior: Some(p.prior),
    };

    // 3. Both parts on the whole train role.
    let parts = fit_parts(&train_idx)?;
    let scoring = Model::new(params_of(
        &parts,
        calibration.clone(),
        unset_levels(p.default_level),
    ))
    .map_err(|e| TrainError::Invalid(e.to_string()))?;
    let score_all = |idx: &[usize]| -> (Vec<f64>, Vec<bool>) {
        let s: Vec<f64> = idx
            .par_iter()
            .map(|&i| scoring.score(&examples[i].values).probability)
            .collect();
        (s, idx.iter().map(|&i| examples[i].is_attack()).collect())
    };

    // 4. Levels on the validation role.
    let (val_scores, val_y) = score_all(&val_idx);
    let split = |s: &[f64], y: &[bool], attack: bool| -> Vec<f64> {
        s.iter()
            .zip(y)
            .filter(|(_, t)| **t == attack)
            .map(|(s, _)| *s)
            .collect()
    };
    let (vh, va) = (
        split(&val_scores, &val_y, false),
        split(&val_scores, &val_y, true),
    );
    let mut points = Vec::with_capacity(3);
    for target in p.targets {
        let t = levels::threshold_at(&vh, target)?;
        points.push(levels::operating_point(t, target, &vh, &va));
    }
    let [low, medium, high]: [OperatingPoint; 3] = points.try_into().expect("three targets");
    let levels = Levels {
        low,
        medium,
        high,
        default_level: p.default_level,
    };
    let params = params_of(&parts, calibration, levels);
    let model = Model::new(params.clone()).map_err(|e| TrainError::Invalid(e.to_string()))?;

    // 5. Held-out metrics. Levels do not change a score, so the scores of
    // the model before its levels are the final model's.
    let validation = held_out_metrics(&model, Role::Validation, &val_scores, &val_y);
    let (test_probs, test_y) = score_all(&test_idx);
    let test = held_out_metrics(&model, Role::Test, &test_probs, &test_y);
    let default_threshold = model
        .params()
        .levels
        .point(p.default_level)
        .expect("a level")
        .threshold;
    let test_breakdown = breakdown(examples, &test_idx, &test_probs, default_threshold);
    // Scores are stated at the prior; the validation role holds attacks at
    // its own share, so the reliability table moves them there first.
    let val_share = val_y.iter().filter(|t| **t).count() as f64 / val_y.len().max(1) as f64;
    let at_val_share: Vec<f64> = if val_share > 0.0 && val_share < 1.0 {
        let shift = logit(val_share) - logit(p.prior);
        val_scores
            .iter()
            .map(|q| impostor_model::model::sigmoid(logit(q.clamp(1e-300, 1.0 - 1e-16)) + shift))
            .collect()
    } else {
        val_scores.clone()
    };
    let validation_reliability = reliability(&at_val_share, &val_y)
        .into_iter()
        .map(|(m, o, n)| ReliabilityBin {
            mean_predicted: m,
            observed: o,
            count: n,
        })
        .collect();
    let rows_by_role = [
        (Role::Train, &train_idx),
        (Role::Validation, &val_idx),
        (Role::Test, &test_idx),
    ]
    .into_iter()
    .map(|(r, idx)| {
        let (h, a) = count(idx);
        (r.as_str().to_string(), h, a)
    })
    .collect();
    let mut levels_by_source = per_source_levels(
        examples,
        Role::Validation,
        &val_idx,
        &val_scores,
        &model.params().levels,
    );
    levels_by_source.extend(per_source_levels(
        examples,
        Role::Test,
        &test_idx,
        &test_probs,
        &model.params().levels,
    ));
    Ok(Trained {
        params,
        report: TrainReport {
            folds,
            out_of_fold_auc,
            sample_weights,
            levels_by_source,
            confound,
            confound_bound: p.confound_bound,
            rows_by_role,
            validation,
            test,
            test_breakdown,
            validation_reliability,
            rule_fit_sweeps: parts.rules.sweeps,
        },
    })
}

/// AUC and each level's rates for probabilities `probs` of truths `y`.
pub fn held_out_metrics(model: &Model, role: Role, probs: &[f64], y: &[bool]) -> HeldOutMetrics {
    let ham = y.iter().filter(|t| !**t).count();
    let attacks = y.len() - ham;
    let levels = [Level::Low, Level::Medium, Level::High]
        .into_iter()
        .map(|level| {
            let t = model
                .params()
                .levels
                .point(level)
                .expect("a level")
                .threshold;
            let fp = probs
                .iter()
                .zip(y)
                .filter(|(s, t_)| !**t_ && **s >= t)
                .count();
            let tp = probs
                .iter()
                .zip(y)
                .filter(|(s, t_)| **t_ && **s >= t)
                .count();
            LevelMetrics {
                level,
                threshold: t,
                false_positive_rate: Rate::new(fp as u64, ham as u64),
                detection_rate: Rate::new(tp as u64, attacks as u64),
            }
        })
        .collect();
    HeldOutMetrics {
        role: role.as_str().into(),
        ham,
        attacks,
        auc: roc_auc(probs, y),
        levels,
    }
}

/// What got worse from `before` to `after` at `level`, beyond the 95%
/// interval of `before`: the false-positive rate rising above its upper
/// bound, or the detection rate falling below its lower bound. Empty when
/// nothing did.
pub fn regressions(before: &HeldOutMetrics, after: &HeldOutMetrics, level: Level) -> Vec<String> {
    let (Some(b), Some(a)) = (before.level(level), after.level(level)) else {
        return vec![format!("no {level:?} level to compare")];
    };
    let pct = |x: f64| format!("{:.3}%", 100.0 * x);
    let mut worse = Vec::new();
    if let (Some(ci), Some(rate)) = (b.false_positive_rate.ci95, a.false_positive_rate.value) {
        if rate > ci.high {
            worse.push(format!(
                "the false-positive rate at the default level ({level:?}) rose from {} to {} ({}/{}), above the base's 95% interval (up to {})",
                pct(b.false_positive_rate.value.unwrap_or(0.0)),
                pct(rate),
                a.false_positive_rate.count,
                a.false_positive_rate.total,
                pct(ci.high)
            ));
        }
    }
    if let (Some(ci), Some(rate)) = (b.detection_rate.ci95, a.detection_rate.value) {
        if rate < ci.low {
            worse.push(format!(
                "the detection rate at the default level ({level:?}) fell from {} to {} ({}/{}), below the base's 95% interval (down to {})",
                pct(b.detection_rate.value.unwrap_or(0.0)),
                pct(rate),
                a.detection_rate.count,
                a.detection_rate.total,
                pct(ci.low)
            ));
        }
    }
    worse
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(fp: u64, ham: u64, tp: u64, attacks: u64) -> HeldOutMetrics {
        HeldOutMetrics {
            role: "test".into(),
            ham: ham as usize,
            attacks: attacks as usize,
            auc: None,
            levels: vec![LevelMetrics {
                level: Level::Medium,
                threshold: 0.5,
                false_positive_rate: Rate::new(fp, ham),
                detection_rate: Rate::new(tp, attacks),
            }],
        }
    }

    #[test]
    fn regressions_are_judged_against_the_base_interval() {
        let base = metrics(2, 1000, 900, 1000);
        // Within the interval either way: nothing to report.
        assert!(regressions(&base, &metrics(4, 1000, 890, 1000), Level::Medium).is_empty());
        assert!(regressions(&base, &metrics(0, 1000, 910, 1000), Level::Medium).is_empty());
        // 12 in 1000 is far above 2 in 1000's Wilson upper bound (0.73%).
        let worse = regressions(&base, &metrics(12, 1000, 900, 1000), Level::Medium);
        assert_eq!(worse.len(), 1);
        assert!(
            worse[0].contains("false-positive rate") && worse[0].contains("Medium"),
            "{worse:?}"
        );
        let worse = regressions(&base, &metrics(2, 1000, 700, 1000), Level::Medium);
        assert_eq!(worse.len(), 1);
        assert!(worse[0].contains("detection rate"), "{worse:?}");
        assert_eq!(
            regressions(&base, &metrics(30, 1000, 10, 1000), Level::Medium).len(),
            2
        );
        // Empty classes have no interval and cannot regress.
        assert!(regressions(&metrics(0, 0, 0, 0), &metrics(0, 0, 0, 0), Level::Medium).is_empty());
    }

    /// `rows` train-role rows of `source`, attacks or ham.
    fn rows(source: &str, attack: bool, rows: usize) -> Vec<Example> {
        (0..rows)
            .map(|i| Example {
                id: format!("{source}:{i}"),
                source: source.into(),
                group: format!("{source}:{i}"),
                label: if attack {
                    impostor_corpus::Label::Phish
                } else {
                    impostor_corpus::Label::Ham
                },
                technique: None,
                synthetic: false,
                timestamp: None,
                sha1: None,
                role: Role::Train,
                values: impostor_features::FeatureVector::default(),
            })
            .collect()
    }

    fn weights_of(examples: &[Example], added: &AddedRows) -> (Vec<f64>, SampleWeights) {
        let idx: Vec<usize> = (0..examples.len()).collect();
        row_weights(examples, &idx, Balance::Sources, added)
    }

    fn group<'a>(w: &'a SampleWeights, class: &str, source: &str) -> &'a WeightGroup {
        w.groups
            .iter()
            .find(|g| g.class == class && g.source == source)
            .unwrap()
    }

    #[test]
    fn an_added_row_counts_as_the_mean_corpus_row_of_its_class_not_as_a_corpus() {
        let mut examples = rows("big", true, 900);
        examples.extend(rows("small", true, 100));
        examples.extend(rows("ham", false, 1000));
        examples.extend(rows("reports", true, 50));
        let added = AddedRows {
            sources: ["reports".to_string()].into(),
            weight: 1.0,
        };
        let (w, sw) = weights_of(&examples, &added);
        let (big, small, reports) = (
            group(&sw, "attack", "big"),
            group(&sw, "attack", "small"),
            group(&sw, "attack", "reports"),
        );
        // The corpora keep equal shares of what the reports leave.
        assert!((big.share_of_class - small.share_of_class).abs() < 1e-12);
        assert!(reports.added && !big.added);
        // 50 reports against 1,000 corpus attacks: 50 / 1,050 of the class.
        assert!(
            (reports.share_of_class - 50.0 / 1050.0).abs() < 1e-9,
            "{}",
            reports.share_of_class
        );
        // Each class weighs half; weights sum to the row count.
        let total: f64 = w.iter().sum();
        assert!((total - examples.len() as f64).abs() < 1e-6, "{total}");
        assert!((group(&sw, "ham", "ham").share_of_class - 1.0).abs() < 1e-9);
        // Without the marking, the reports would be a corpus: a third.
        let (_, as_corpus) = weights_of(&examples, &AddedRows::default());
        assert!((group(&as_corpus, "attack", "reports").share_of_class - 1.0 / 3.0).abs() < 1e-9);
        // A heavier weight scales the reports' rows alike.
        let (_, heavier) = weights_of(
            &examples,
            &AddedRows {
                weight: 4.0,
                ..added.clone()
            },
        );
        let r = group(&heavier, "attack", "reports");
        assert!(
            (r.share_of_class - 200.0 / 1200.0).abs() < 1e-9,
            "{}",
            r.share_of_class
        );
    }

    #[test]
    fn reports_of_a_class_no_corpus_holds_are_weighted_as_a_corpus() {
        let mut examples = rows("ham", false, 1000);
        examples.extend(rows("reports", true, 40));
        let added = AddedRows {
            sources: ["reports".to_string()].into(),
            weight: 1.0,
        };
        let (w, sw) = weights_of(&examples, &added);
        let r = group(&sw, "attack", "reports");
        assert!(!r.added);
        assert!((r.share_of_class - 1.0).abs() < 1e-9);
        assert!(w.iter().all(|x| x.is_finite() && *x > 0.0));
    }

    #[test]
    fn an_added_weight_out_of_range_is_refused() {
        for weight in [0.0, -1.0, f64::NAN, AddedRows::MAX_WEIGHT * 2.0] {
            let p = TrainParams {
                added: AddedRows {
                    sources: Default::default(),
                    weight,
                },
                ..TrainParams::default()
            };
            let err = p.check().unwrap_err().to_string();
            assert!(err.contains("added row"), "{err}");
        }
    }
}
