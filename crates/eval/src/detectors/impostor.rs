//! Impostor itself, as the gateway runs it (the serve crate's Detector on
//! a verified model), and its two halves for the ablation: the weighted
//! expert rules alone and the classifier alone.

use crate::detector::{Detector, DetectorError, Judgement, Sample};
use impostor_model::Model;

/// Which part of the model scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The calibrated score and the default level: what `scan` reports.
    Full,
    /// The rules' weighted sum (log-odds), without the classifier.
    RulesOnly,
    /// The classifier's log-odds, without the rules.
    ClassifierOnly,
}

/// The model under evaluation, whole or in part.
pub struct Impostor {
    detector: impostor_model::Detector,
    part: Part,
    model_id: String,
}

impl Impostor {
    /// `model_id`: the artifact's manifest SHA-256, for the report.
    pub fn new(model: Model, part: Part, model_id: &str) -> Impostor {
        Impostor {
            detector: impostor_model::Detector::new(model),
            part,
            model_id: model_id.to_string(),
        }
    }
}

impl Detector for Impostor {
    fn name(&self) -> &str {
        match self.part {
            Part::Full => "impostor",
            Part::RulesOnly => "impostor_rules_only",
            Part::ClassifierOnly => "impostor_classifier_only",
        }
    }

    fn description(&self) -> String {
        let model = self.detector.model();
        let level = model.default_level();
        let threshold = model
            .params()
            .levels
            .point(level)
            .map_or(f64::NAN, |p| p.threshold);
        let id = &self.model_id[..self.model_id.len().min(12)];
        match self.part {
            Part::Full => format!(
                "Impostor, model {id}: calibrated probability of attack from {} weighted rules and a {}-input logistic classifier; flagged at its default level ({level:?}, score ≥ {threshold:.4}).",
                model.rules().len(),
                model.params().classifier.inputs.len()
            ),
            Part::RulesOnly => format!(
                "Ablation of model {id}: the weighted sum of the expert rules alone (log-odds), no classifier. No decision of its own: compared at matched false-positive rates."
            ),
            Part::ClassifierOnly => format!(
                "Ablation of model {id}: the logistic classifier alone (log-odds), no rules. No decision of its own: compared at matched false-positive rates."
            ),
        }
    }

    fn needs_features(&self) -> bool {
        true
    }

    fn judge(&self, sample: &Sample<'_>) -> Result<Judgement, DetectorError> {
        let extraction = sample.features()?;
        let model = self.detector.model();
        match self.part {
            Part::Full => {
                let verdict = self.detector.verdict(extraction);
                Ok(Judgement {
                    score: verdict.score,
                    flagged: Some(verdict.flagged),
                    hits: verdict
                        .reasons
                        .into_iter()
                        .filter(|r| r.contribution > 0.0)
                        .map(|r| r.code)
                        .collect(),
                })
            }
            Part::RulesOnly => {
                let mut fired = Vec::new();
                let score = model.rules_logit(&extraction.vector, &mut fired);
                Ok(Judgement {
                    score,
                    flagged: None,
                    hits: fired
                        .into_iter()
                        .map(|i| model.rules()[i].text.code.clone())
                        .collect(),
                })
            }
            Part::ClassifierOnly => Ok(Judgement {
                score: model.classifier_logit(&extraction.vector),
                flagged: None,
                hits: Vec::new(),
            }),
        }
    }
}
