//! The trained model and the one scoring implementation: feature vector →
//! rule hits and classifier → calibrated probability → level.
//!
//! The score of a message is
//! `p = σ(a · rules_logit + b · classifier_logit + c)`, where
//! `rules_logit = w₀ + Σ wᵢ · [rule i fires]` and
//! `classifier_logit = β₀ + Σ βⱼ · (tⱼ(xⱼ) − μⱼ) / sⱼ` (`tⱼ` is `ln(1 + x)` for
//! counts, rates and lengths, identity for flags), and `a, b, c` are the
//! Platt calibration fitted on held-out folds. Training, evaluation, `scan`,
//! the HTTP service and the milter all score through [`Model::score`].

use crate::error::ModelError;
use crate::rules::{Rule, RuleSet, RuleText};
use crate::stats::Interval;
use crate::verdict::Level;
use impostor_features::{Feature, FeatureVector};
use serde::{Deserialize, Serialize};

/// A rule with its learned weight (log-odds added when it fires).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedRuleText {
    /// Log-odds added to the rule part when the rule fires (wᵢ); never
    /// negative for an evidence-only rule.
    pub weight: f64,
    /// The rule as written in the rule file.
    pub rule: RuleText,
}

/// The rule part as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleWeights {
    /// The rule part's log-odds when no rule fires (w₀).
    pub intercept: f64,
    /// L2 penalty the weights were fitted with.
    pub l2: f64,
    /// The rules with their weights, in rule-file order.
    pub rules: Vec<WeightedRuleText>,
}

/// How a feature's value is transformed before standardising.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// The value as it is: flags, which are 0 or 1.
    Identity,
    /// `ln(1 + max(x, 0))`: counts and lengths have long tails.
    Log1p,
}

impl Transform {
    /// The transform training uses for a feature: flags as they are,
    /// everything else through `ln(1 + x)`.
    pub fn for_feature(f: Feature) -> Transform {
        if f.name().ends_with("_flag") {
            Transform::Identity
        } else {
            Transform::Log1p
        }
    }

    /// The transformed value of `x`.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::Log1p => x.max(0.0).ln_1p(),
        }
    }
}

/// One input of the classifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierInput {
    /// The feature's schema name, e.g. `from_freemail_flag`.
    pub feature: String,
    /// Applied to the raw value before standardising (tⱼ).
    pub transform: Transform,
    /// Mean of the transformed value on the training rows (μⱼ).
    pub mean: f64,
    /// Standard deviation on the training rows (sⱼ; 1 where it was 0).
    /// Positive.
    pub scale: f64,
    /// Log-odds per standard deviation of the transformed value (βⱼ).
    pub weight: f64,
}

/// The logistic classifier over the whole feature vector, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierWeights {
    /// Log-odds of a message at the training mean of every input (β₀).
    pub intercept: f64,
    /// L2 penalty the weights were fitted with.
    pub l2: f64,
    /// The features it reads, each with its standardisation and weight.
    pub inputs: Vec<ClassifierInput>,
}

/// Platt scaling over the two parts' log-odds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Always `platt`.
    pub method: String,
    /// Multiplier of the rule part's log-odds (a).
    pub rules_coef: f64,
    /// Multiplier of the classifier's log-odds (b).
    pub classifier_coef: f64,
    /// Added to the calibrated log-odds (c).
    pub offset: f64,
    /// What the calibration was fitted on.
    pub fitted_on: String,
    /// The share of attacks among messages the score is a probability
    /// for (the base rate the trainer stated); absent in artifacts that
    /// predate it, whose scores hold at the training data's prevalence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<f64>,
}

/// A level's threshold and how it was chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingPoint {
    /// A message is at this level when its score (a probability in
    /// [0, 1]) is at least this.
    pub threshold: f64,
    /// The false-positive rate the threshold was chosen at, a fraction in
    /// (0, 1): at most this share of validation ham reaches the threshold.
    pub target_fpr: f64,
    /// Validation ham scored at or above the threshold, of all validation ham.
    pub validation_ham_flagged: u64,
    /// Validation ham messages scored.
    pub validation_ham: u64,
    /// `validation_ham_flagged / validation_ham` (0 without ham).
    pub validation_fpr: f64,
    /// Wilson 95% interval on `validation_fpr` ([0, 1] without ham).
    pub validation_fpr_ci95: Interval,
    /// Validation attacks scored at or above the threshold.
    pub validation_attacks_flagged: u64,
    /// Validation attacks scored.
    pub validation_attacks: u64,
    /// Whether the validation split has enough ham (at least 1 / target)
    /// to resolve the target rate at all.
    pub resolvable: bool,
}

/// The three levels and which one flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// The most sensitive point (lowest threshold).
    pub low: OperatingPoint,
    /// Between the two: low ≤ medium ≤ high thresholds, always.
    pub medium: OperatingPoint,
    /// The strictest point (highest threshold).
    pub high: OperatingPoint,
    /// `flagged` is `level >= default_level`; never [`Level::None`].
    pub default_level: Level,
}

impl Levels {
    /// The operating point of `level`; `None` for [`Level::None`], which
    /// has no threshold.
    pub fn point(&self, level: Level) -> Option<&OperatingPoint> {
        match level {
            Level::None => None,
            Level::Low => Some(&self.low),
            Level::Medium => Some(&self.medium),
            Level::High => Some(&self.high),
        }
    }
}

/// Every learned number, as stored in an artifact's manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelParams {
    /// The rule part: a weight per rule and an intercept.
    pub rules: RuleWeights,
    /// The logistic classifier over the feature vector.
    pub classifier: ClassifierWeights,
    /// How the two parts' log-odds combine into a probability.
    pub calibration: Calibration,
    /// The thresholds of low, medium and high, and which level flags.
    pub levels: Levels,
}

/// A message's score and its parts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// The rule part's log-odds, before calibration.
    pub rules_logit: f64,
    /// The classifier's log-odds, before calibration.
    pub classifier_logit: f64,
    /// Calibrated log-odds.
    pub logit: f64,
    /// Calibrated probability of attack, `sigmoid(logit)`, in [0, 1].
    pub probability: f64,
}

/// The logistic function `1 / (1 + e⁻ᶻ)`: log-odds → probability in
/// [0, 1], stable at both ends.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// A classifier input resolved to its feature.
#[derive(Clone, Debug, PartialEq)]
struct Input {
    feature: Feature,
    transform: Transform,
    mean: f64,
    scale: f64,
    weight: f64,
}

/// A verified, ready model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    params: ModelParams,
    rules: Vec<Rule>,
    inputs: Vec<Input>,
}

impl Model {
    /// Resolves and checks stored parameters: every rule and input names a
    /// feature of this build's schema, every number is finite, the levels
    /// rise.
    ///
    /// An error ([`ModelError::Rule`] for a rule, [`ModelError::Model`]
    /// otherwise) names what does not fit.
    pub fn new(params: ModelParams) -> Result<Model, ModelError> {
        let bad = |m: String| Err(ModelError::Model(m));
        for wr in &params.rules.rules {
            if !wr.weight.is_finite() {
                return bad(format!(
                    "rule `{}` has a weight that is not finite",
                    wr.rule.code
                ));
            }
            if wr.rule.evidence_only && wr.weight < 0.0 {
                return bad(format!(
                    "rule `{}` is evidence-only but has a negative weight",
                    wr.rule.code
                ));
            }
        }
        // The same checks as a rule file: known features, unique codes.
        let rules =
            RuleSet::from_texts(params.rules.rules.iter().map(|r| r.rule.clone()).collect())?
                .rules()
                .to_vec();
        let mut inputs = Vec::with_capacity(params.classifier.inputs.len());
        for i in &params.classifier.inputs {
            let Some(feature) = Feature::from_name(&i.feature) else {
                return bad(format!(
                    "the classifier reads feature `{}`, which this build does not compute",
                    i.feature
                ));
            };
            if ![i.mean, i.scale, i.weight].iter().all(|x| x.is_finite()) || i.scale <= 0.0 {
                return bad(format!(
                    "the classifier's numbers for `{}` are not usable",
                    i.feature
                ));
            }
            inputs.push(Input {
                feature,
                transform: i.transform,
                mean: i.mean,
                scale: i.scale,
                weight: i.weight,
            });
        }
        let c = &params.calibration;
        let scalars = [
            params.rules.intercept,
            params.classifier.intercept,
            c.rules_coef,
            c.classifier_coef,
            c.offset,
        ];
        if !scalars.iter().all(|x| x.is_finite()) {
            return bad("an intercept or a calibration coefficient is not finite".into());
        }
        if c.method != "platt" {
            return bad(format!("unknown calibration method `{}`", c.method));
        }
        let l = &params.levels;
        let t = [l.low.threshold, l.medium.threshold, l.high.threshold];
        if !(t.iter().all(|x| x.is_finite()) && t[0] <= t[1] && t[1] <= t[2]) {
            return bad(format!(
                "level thresholds must be finite and rise from low to high, not {t:?}"
            ));
        }
        if l.default_level == Level::None {
            return bad("the default level must be low, medium or high".into());
        }
        Ok(Model {
            params,
            rules,
            inputs,
        })
    }

    /// The parameters it was built from, as stored.
    pub fn params(&self) -> &ModelParams {
        &self.params
    }

    /// The resolved rules, in the order of `params().rules.rules`: the
    /// indices [`Model::rules_logit`] reports refer to it.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Log-odds of the rule part, uncalibrated; `fired` is cleared and
    /// receives the indices of the rules that fired.
    pub fn rules_logit(&self, v: &FeatureVector, fired: &mut Vec<usize>) -> f64 {
        fired.clear();
        let mut z = self.params.rules.intercept;
        for (i, r) in self.rules.iter().enumerate() {
            if r.fires(v) {
                fired.push(i);
                z += self.params.rules.rules[i].weight;
            }
        }
        z
    }

    /// Log-odds of the classifier, uncalibrated.
    pub fn classifier_logit(&self, v: &FeatureVector) -> f64 {
        self.params.classifier.intercept
            + self
                .inputs
                .iter()
                .map(|i| Self::input_term(i, v))
                .sum::<f64>()
    }

    fn input_term(i: &Input, v: &FeatureVector) -> f64 {
        i.weight * (i.transform.apply(v.get(i.feature) as f64) - i.mean) / i.scale
    }

    /// Each classifier input's share of the calibrated log-odds, relative to
    /// the average training message, with its feature.
    pub fn classifier_contributions(&self, v: &FeatureVector) -> Vec<(Feature, f64)> {
        let b = self.params.calibration.classifier_coef;
        self.inputs
            .iter()
            .map(|i| (i.feature, b * Self::input_term(i, v)))
            .collect()
    }

    /// A fired rule's share of the calibrated log-odds; `rule` indexes
    /// [`Model::rules`] (out of range panics).
    pub fn rule_contribution(&self, rule: usize) -> f64 {
        self.params.calibration.rules_coef * self.params.rules.rules[rule].weight
    }

    /// The score of a message: the one implementation every front end uses.
    pub fn score(&self, v: &FeatureVector) -> Score {
        let mut fired = Vec::new();
        self.score_with(v, &mut fired)
    }

    /// [`Model::score`], reusing a buffer for the fired rules' indices.
    pub fn score_with(&self, v: &FeatureVector, fired: &mut Vec<usize>) -> Score {
        let rules_logit = self.rules_logit(v, fired);
        let classifier_logit = self.classifier_logit(v);
        let c = &self.params.calibration;
        let logit = c.rules_coef * rules_logit + c.classifier_coef * classifier_logit + c.offset;
        Score {
            rules_logit,
            classifier_logit,
            logit,
            probability: sigmoid(logit),
        }
    }

    /// The level of a calibrated probability: the highest whose threshold
    /// it reaches.
    pub fn level(&self, probability: f64) -> Level {
        let l = &self.params.levels;
        if probability >= l.high.threshold {
            Level::High
        } else if probability >= l.medium.threshold {
            Level::Medium
        } else if probability >= l.low.threshold {
            Level::Low
        } else {
            Level::None
        }
    }

    /// The level from which a message is flagged; never [`Level::None`].
    pub fn default_level(&self) -> Level {
        self.params.levels.default_level
    }

    /// The highest floor among the fired rules (indices into
    /// [`Model::rules`], as [`Model::rules_logit`] reports them); None
    /// when no floor rule fired.
    pub fn floor(&self, fired: &[usize]) -> Option<Level> {
        fired
            .iter()
            .filter_map(|&i| self.rules.get(i)?.floor)
            .map(|f| f.level(self.default_level()))
            .max()
    }

    /// A score's probability and level with the fired rules' floors and
    /// ceilings applied: below the highest floor, the probability is raised
    /// to that level's threshold (so the level is that level); with no
    /// floor, above the lowest ceiling it is lowered to just under the
    /// next level's threshold; otherwise both stay as scored. The one place floors apply: `scan`, the HTTP service, the
    /// milter and evaluation all reach it through
    /// [`crate::Detector::verdict`]. Training fits and chooses levels on
    /// [`Model::score`], which floors do not touch: they are declared, not
    /// learned.
    pub fn floored(&self, probability: f64, fired: &[usize]) -> (f64, Level) {
        let level = self.level(probability);
        match (self.floor(fired), self.ceiling(fired)) {
            (Some(floor), _) if floor > level => {
                let threshold = self
                    .params
                    .levels
                    .point(floor)
                    .map_or(probability, |p| p.threshold);
                (probability.max(threshold), floor)
            }
            (Some(_), _) => (probability, level),
            (None, Some(ceiling)) if ceiling < level => {
                // Just below the threshold of the level above the ceiling.
                let above = match ceiling {
                    Level::None => Level::Low,
                    Level::Low => Level::Medium,
                    Level::Medium | Level::High => Level::High,
                };
                let cap = self
                    .params
                    .levels
                    .point(above)
                    .map_or(probability, |p| p.threshold.next_down());
                (probability.min(cap), ceiling)
            }
            _ => (probability, level),
        }
    }

    /// The lowest ceiling among the fired rules; None when no ceiling rule
    /// fired. A floor that fires wins over it ([`Model::floored`]): header
    /// ambiguity is evidence wherever the mail goes.
    pub fn ceiling(&self, fired: &[usize]) -> Option<Level> {
        fired
            .iter()
            .filter_map(|&i| self.rules.get(i)?.ceiling)
            .min()
    }
}

/// A small hand-made model for the crate's tests: every built-in rule at
/// weight 1 (the first at 2), a classifier that only reads the free-mail
/// flag, identity calibration, and levels at 0.5 / 0.9 / 0.99.
#[cfg(test)]
pub(crate) fn example_params() -> ModelParams {
    use crate::rules::{RuleSet, BUILTIN_RULES};
    let set = RuleSet::from_toml(BUILTIN_RULES, "datasets/rules.toml").unwrap();
    let point = |threshold: f64, target_fpr: f64| OperatingPoint {
        threshold,
        target_fpr,
        validation_ham_flagged: 1,
        validation_ham: 1000,
        validation_fpr: 0.001,
        validation_fpr_ci95: Interval {
            low: 0.0002,
            high: 0.0056,
        },
        validation_attacks_flagged: 90,
        validation_attacks: 100,
        resolvable: true,
    };
    ModelParams {
        rules: RuleWeights {
            intercept: -4.0,
            l2: 1.0,
            rules: set
                .rules()
                .iter()
                .enumerate()
                .map(|(i, r)| WeightedRuleText {
                    weight: if i == 0 { 2.0 } else { 1.0 },
                    rule: r.text.clone(),
                })
                .collect(),
        },
        classifier: ClassifierWeights {
            intercept: 0.0,
            l2: 1.0,
            inputs: vec![ClassifierInput {
                feature: "from_freemail_flag".into(),
                transform: Transform::Identity,
                mean: 0.1,
                scale: 0.3,
                weight: 0.6,
            }],
        },
        calibration: Calibration {
            method: "platt".into(),
            rules_coef: 1.0,
            classifier_coef: 1.0,
            offset: 0.0,
            fitted_on: "hand-made".into(),
            prior: None,
        },
        levels: Levels {
            low: point(0.5, 1e-2),
            medium: point(0.9, 1e-3),
            high: point(0.99, 1e-4),
            default_level: Level::Medium,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_the_calibrated_sum_of_both_parts() {
        let model = Model::new(example_params()).unwrap();
        let mut v = FeatureVector::default();
        let s = model.score(&v);
        // No rule fires (the evidence-only-false ones need a set flag too).
        assert_eq!(s.rules_logit, -4.0);
        assert!((s.classifier_logit - 0.6 * (0.0 - 0.1) / 0.3).abs() < 1e-12);
        assert!((s.probability - sigmoid(s.logit)).abs() < 1e-15);
        assert_eq!(model.level(s.probability), Level::None);
        v.set_flag(Feature::InternalDomainExternalRoute, true);
        v.set_flag(Feature::AuthSpfFail, true);
        v.set_flag(Feature::AuthDmarcFail, true);
        v.set_flag(Feature::FromFreemail, true);
        let s = model.score(&v);
        assert!(s.rules_logit > 0.0);
        assert!(model.level(s.probability) >= Level::Medium);
    }

    #[test]
    fn a_ceiling_caps_the_level_unless_a_floor_fires() {
        let model = Model::new(example_params()).unwrap();
        let index = |code: &str| {
            model
                .rules()
                .iter()
                .position(|r| r.text.code == code)
                .unwrap()
        };
        let report = index("report_to_security_desk");
        let ambiguity = index("identity_readers_disagree");
        let low = model.params().levels.low.threshold;
        // A high score for mail only to the security desk: capped at none,
        // just under the low threshold.
        let (p, level) = model.floored(0.999, &[report]);
        assert_eq!(level, Level::None);
        assert!(p < low && p > 0.0, "{p}");
        // Header ambiguity is evidence wherever the mail goes: the floor wins.
        let (_, level) = model.floored(0.999, &[report, ambiguity]);
        assert_eq!(level, Level::High);
        let (p, level) = model.floored(0.01, &[report, ambiguity]);
        assert_eq!(level, model.default_level());
        assert_eq!(p, model.params().levels.medium.threshold);
        // Below the ceiling nothing moves.
        assert_eq!(model.floored(0.01, &[report]), (0.01, Level::None));
    }

    #[test]
    fn bad_numbers_and_unknown_features_are_refused() {
        let mut p = example_params();
        p.classifier.inputs[0].feature = "no_such_flag".into();
        let e = Model::new(p).unwrap_err().to_string();
        assert!(e.contains("no_such_flag"), "{e}");
        let mut p = example_params();
        p.rules.rules[0].weight = -1.0;
        assert!(Model::new(p).unwrap_err().to_string().contains("negative"));
        let mut p = example_params();
        p.levels.low.threshold = 0.95;
        assert!(Model::new(p).unwrap_err().to_string().contains("rise"));
        let mut p = example_params();
        p.calibration.offset = f64::NAN;
        assert!(Model::new(p).is_err());
    }
}
