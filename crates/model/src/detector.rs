//! The Detector: a verified model turned into verdicts with reasons.

use crate::model::Model;
use crate::verdict::{Level, Reason, Verdict};
use impostor_features::{Evidence, Extraction, Feature, Technique};

/// A classifier input is named as a reason when it moves the score by at
/// least this much log-odds, either way: smaller shares are noise an
/// administrator cannot act on.
const MIN_CLASSIFIER_REASON: f64 = 0.5;
/// Most reasons in one verdict.
const MAX_REASONS: usize = 8;

/// Scores extractions with one model; the same code serves `scan`, the HTTP
/// service, the milter and evaluation.
#[derive(Clone, Debug)]
pub struct Detector {
    model: Model,
}

impl Detector {
    /// A detector scoring with `model`.
    pub fn new(model: Model) -> Detector {
        Detector { model }
    }

    /// The model it scores with.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The verdict on one message: score, level, techniques and the reasons
    /// ranked by how much each added to the score.
    ///
    /// At most eight reasons, the weightiest either way; a classifier
    /// feature is a reason only when the message shows it (non-zero) and it
    /// moves the log-odds by at least 0.5. Techniques are those of the
    /// evidence behind what raised the score, plus the technique an
    /// evidence-only rule that raised it is filed under; sorted, each once,
    /// and none when the level is [`Level::None`].
    ///
    /// A floor rule that fired ([`crate::rules::Floor`]) lifts the score to
    /// its level's threshold when it is lower ([`Model::floored`]); its
    /// technique, its evidence's techniques and its reason are reported
    /// even when its learned weight is 0.
    pub fn verdict(&self, extraction: &Extraction) -> Verdict {
        let v = &extraction.vector;
        let mut fired = Vec::new();
        let score = self.model.score_with(v, &mut fired);
        let (probability, level) = self.model.floored(score.probability, &fired);

        let mut reasons: Vec<Reason> = Vec::new();
        // The codes of the floor rules that fired: their reasons are kept
        // whatever their weight.
        let mut floor_codes: Vec<&str> = Vec::new();
        let mut techniques: Vec<Technique> = Vec::new();
        let mut explained: Vec<Feature> = Vec::new();
        for &i in &fired {
            let contribution = self.model.rule_contribution(i);
            let rule = &self.model.rules()[i];
            let floor = rule.floor.is_some();
            if contribution == 0.0 && !floor {
                continue;
            }
            let details = evidence_of(&extraction.evidence, &rule.features);
            if contribution > 0.0 || floor {
                techniques.extend(details.iter().filter_map(|e| e.technique));
            }
            // A rule that may also fire on legitimate mail (SPF passed, say)
            // is no evidence of the technique it is filed under; a floor
            // rule always is.
            if rule.text.evidence_only && (contribution > 0.0 || floor) {
                techniques.extend(rule.text.indicates.technique());
            }
            if floor {
                floor_codes.push(&rule.text.code);
            }
            explained.extend(rule.features.iter().copied());
            reasons.push(Reason {
                code: rule.text.code.clone(),
                detail: sentence(&rule.text.says, &details),
                contribution,
            });
        }
        for (feature, contribution) in self.model.classifier_contributions(v) {
            // A reason is something the message shows: a feature at zero
            // moves the score too (it is below the average message), but
            // "the message lacks X" is not a reason an administrator can act on.
            if contribution.abs() < MIN_CLASSIFIER_REASON
                || v.get(feature) == 0.0
                || explained.contains(&feature)
            {
                continue;
            }
            let details = evidence_of(&extraction.evidence, &[feature]);
            if contribution > 0.0 {
                techniques.extend(details.iter().filter_map(|e| e.technique));
            }
            reasons.push(Reason {
                code: feature.name().to_string(),
                detail: sentence(feature.doc(), &details),
                contribution,
            });
        }
        // The floor rules' reasons and the weightiest others either way,
        // then ranked by contribution: what raised the score first, what
        // lowered it last.
        let is_floor = |r: &Reason| floor_codes.contains(&r.code.as_str());
        reasons.sort_by(|a, b| {
            is_floor(b)
                .cmp(&is_floor(a))
                .then_with(|| b.contribution.abs().total_cmp(&a.contribution.abs()))
                .then_with(|| a.code.cmp(&b.code))
        });
        reasons.truncate(MAX_REASONS);
        reasons.sort_by(|a, b| {
            b.contribution
                .total_cmp(&a.contribution)
                .then_with(|| a.code.cmp(&b.code))
        });
        for r in &mut reasons {
            // Log-odds to two decimals: more digits are false precision.
            r.contribution = (r.contribution * 100.0).round() / 100.0;
        }
        if level == Level::None {
            techniques.clear();
        }
        techniques.sort();
        techniques.dedup();
        Verdict {
            score: probability,
            level,
            flagged: level >= self.model.default_level(),
            techniques,
            reasons,
            auth: extraction.auth.summary(),
            identity: extraction
                .identity
                .disagree()
                .then(|| extraction.identity.clone()),
            attachments: extraction.attachments.clone(),
        }
    }
}

fn evidence_of<'a>(evidence: &'a [Evidence], features: &[Feature]) -> Vec<&'a Evidence> {
    evidence
        .iter()
        .filter(|e| features.contains(&e.feature))
        .collect()
}

/// The rule's sentence, then what the message showed.
fn sentence(says: &str, details: &[&Evidence]) -> String {
    let says = says.trim_end_matches('.');
    if details.is_empty() {
        return format!("{says}.");
    }
    let mut seen: Vec<&str> = Vec::new();
    for e in details {
        if !seen.contains(&e.detail.as_str()) {
            seen.push(&e.detail);
        }
    }
    format!("{says}: {}", seen.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::example_params;
    use impostor_features::FeatureVector;

    fn extraction(flags: &[Feature], evidence: Vec<Evidence>) -> Extraction {
        let mut vector = FeatureVector::default();
        for f in flags {
            vector.set_flag(*f, true);
        }
        Extraction {
            vector,
            evidence,
            ..Extraction::default()
        }
    }

    #[test]
    fn reasons_are_ranked_explained_and_name_techniques() {
        let detector = Detector::new(Model::new(example_params()).unwrap());
        let x = extraction(
            &[
                Feature::InternalDomainExternalRoute,
                Feature::AuthDmarcFail,
                Feature::AuthSpfFail,
                Feature::ReplyToDomainLookalike,
                Feature::EnvelopeDomainLookalike,
                Feature::DkimDomainLookalike,
            ],
            vec![Evidence {
                feature: Feature::ReplyToDomainLookalike,
                technique: Some(Technique::LookalikeDomain),
                detail: "Reply-To comqany.com looks like company.com (replacement)".into(),
            }],
        );
        let v = detector.verdict(&x);
        assert!(v.flagged && v.level >= Level::Medium, "{v:?}");
        assert_eq!(v.reasons[0].code, "internal_domain_from_outside");
        assert!(v
            .reasons
            .windows(2)
            .all(|w| w[0].contribution >= w[1].contribution));
        let lookalike = v
            .reasons
            .iter()
            .find(|r| r.code == "reply_to_lookalike")
            .unwrap();
        assert!(
            lookalike.detail.contains("comqany.com"),
            "{}",
            lookalike.detail
        );
        assert!(v.techniques.contains(&Technique::EnvelopeFromSpoof));
        assert!(v.techniques.contains(&Technique::LookalikeDomain));
        assert!(v.techniques.windows(2).all(|w| w[0] < w[1]));
    }

    fn with_weight(code: &str, weight: f64) -> Detector {
        let mut p = example_params();
        let rule = p
            .rules
            .rules
            .iter_mut()
            .find(|r| r.rule.code == code)
            .unwrap();
        rule.weight = weight;
        Detector::new(Model::new(p).unwrap())
    }

    #[test]
    fn a_floor_rule_raises_a_low_score_to_the_flagging_level_even_at_weight_zero() {
        let detector = with_weight("identity_readers_disagree", 0.0);
        let detail = "readers see different senders: mail-parser shows <x@evil.example>, \
                      a C client stopping at NUL shows <ceo@kestrelfoods.com>";
        let x = extraction(
            &[Feature::IdentityReadersDisagree],
            vec![Evidence {
                feature: Feature::IdentityReadersDisagree,
                technique: Some(Technique::HeaderFromSpoof),
                detail: detail.into(),
            }],
        );
        let unfloored = detector.model().score(&x.vector).probability;
        assert!(
            unfloored < 0.5,
            "the learned score alone is low: {unfloored}"
        );
        let v = detector.verdict(&x);
        assert_eq!(v.level, detector.model().default_level());
        assert!(v.flagged);
        assert_eq!(v.score, detector.model().params().levels.medium.threshold);
        assert_eq!(v.techniques, [Technique::HeaderFromSpoof]);
        let reason = v
            .reasons
            .iter()
            .find(|r| r.code == "identity_readers_disagree")
            .expect("the floor rule is a reason");
        assert_eq!(reason.contribution, 0.0);
        assert!(reason.detail.contains(detail), "{}", reason.detail);
    }

    #[test]
    fn a_floor_never_lowers_a_verdict_and_a_named_level_floors_there() {
        let mut p = example_params();
        for r in &mut p.rules.rules {
            if r.rule.code == "from_empty" {
                r.rule.floor = Some("high".into());
                r.weight = 0.0;
            }
        }
        let detector = Detector::new(Model::new(p).unwrap());
        let v = detector.verdict(&extraction(&[Feature::FromEmpty], vec![]));
        assert_eq!(v.level, Level::High);
        assert_eq!(v.score, 0.99);
        // Already above the floor: the score stays as scored.
        let detector = with_weight("identity_readers_disagree", 20.0);
        let x = extraction(&[Feature::IdentityReadersDisagree], vec![]);
        let v = detector.verdict(&x);
        assert_eq!(v.score, detector.model().score(&x.vector).probability);
        assert_eq!(v.level, Level::High);
    }

    /// The header-ambiguity fixtures of datasets/examples/ambiguity, as
    /// (file name, extraction) pairs, read with the Kestrel Foods profile.
    fn ambiguity_fixtures() -> Vec<(String, Extraction)> {
        use impostor_features::{Context, Envelope, Extractor, Inputs, OrgProfile};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let org_path = root.join("datasets/orgs/kestrel-foods.toml");
        let org =
            OrgProfile::from_toml(&std::fs::read_to_string(&org_path).unwrap(), &org_path).unwrap();
        let ctx = Context::builder(org).build().unwrap();
        let mut files: Vec<_> = std::fs::read_dir(root.join("datasets/examples/ambiguity"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).unwrap();
                let (_, x) = Extractor::new(&ctx)
                    .extract_bytes(&bytes, &Inputs::new(Envelope::default()))
                    .unwrap();
                (path.file_name().unwrap().to_string_lossy().into_owned(), x)
            })
            .collect()
    }

    #[test]
    fn every_ambiguity_fixture_is_flagged_header_from_spoof_by_its_floor_alone() {
        // Every floor rule at weight 0: only the floor can flag.
        let mut p = example_params();
        let mut floor_codes = Vec::new();
        for r in &mut p.rules.rules {
            if r.rule.floor.is_some() {
                r.weight = 0.0;
                floor_codes.push(r.rule.code.clone());
            }
        }
        let detector = Detector::new(Model::new(p).unwrap());
        let fixtures = ambiguity_fixtures();
        assert!(fixtures.len() >= 15, "{} fixtures", fixtures.len());
        for (name, x) in &fixtures {
            let v = detector.verdict(x);
            let floored: Vec<&str> = v
                .reasons
                .iter()
                .map(|r| r.code.as_str())
                .filter(|c| floor_codes.iter().any(|f| f == c))
                .collect();
            if name.starts_with("attack-") {
                assert!(v.flagged, "{name}: {v:?}");
                assert!(
                    v.techniques.contains(&Technique::HeaderFromSpoof),
                    "{name}: {v:?}"
                );
                assert!(!floored.is_empty(), "{name}: no floor reason in {v:?}");
            } else {
                assert!(floored.is_empty(), "{name}: {floored:?}");
            }
        }
    }

    #[test]
    fn a_quiet_message_has_no_level_and_no_techniques() {
        let detector = Detector::new(Model::new(example_params()).unwrap());
        let v = detector.verdict(&extraction(&[], vec![]));
        assert_eq!(v.level, Level::None);
        assert!(!v.flagged && v.techniques.is_empty() && v.reasons.is_empty());
        assert!(v.score > 0.0 && v.score < 0.5);
    }
}
