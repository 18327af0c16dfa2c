//! The expert rules: conditions over named features that an administrator
//! can read, each tied to a technique or an intent category.
//!
//! A rule file (TOML, `datasets/rules.toml`) is a list of `[[rule]]` tables:
//!
//! ```toml
//! [[rule]]
//! code = "vip_freemail_payment"
//! says = "A high-profile user's name on a free-mail address asks for a payment"
//! indicates = "freemail_impersonation"
//! when.all = [{ flag = "vip_name_freemail_flag" },
//!             { at_least = ["intent_payment_phrase_count", 1] }]
//! ```
//!
//! `indicates` is a technique code of design.md §3 or an intent category
//! (`action_request`, `payment`, `gift_card`, `bank_change`, `urgency`,
//! `secrecy`, `credential_lure`). A condition is one of `flag = FEATURE`
//! (a `_flag` feature is set), `at_least = [FEATURE, N]`, `below = [FEATURE,
//! N]`, `all = [...]`, `any = [...]` or `not = {...}`. Feature names are
//! resolved when the file is loaded; a name the schema does not know is
//! refused with the rule's code and the name. `evidence_only = false` lets
//! training give the rule a negative weight (a sign of legitimate mail);
//! by default a rule can only add to the score.
//!
//! `floor = "flagged"` makes the rule a floor: when it fires, the verdict is
//! at least the model's default (flagging) level, with the rule's technique
//! and its reason, whatever the learned weights say (`floor = "low"`,
//! `"medium"` or `"high"` name a level instead). Floors are for evidence
//! that is never honest (header ambiguity), so a floor rule must be
//! evidence-only and indicate a technique. An unknown floor is refused
//! with the rule's code.

use crate::error::ModelError;
use crate::verdict::Level;
use impostor_features::{Direction, Feature, FeatureVector, IntentCategory, Technique};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Deepest nesting of `all`/`any`/`not` accepted: rules are meant to be
/// read, and evaluation recurses.
const MAX_CONDITION_DEPTH: usize = 8;

/// What a rule's firing points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Indicates {
    /// A forging technique (design.md §3), e.g. `lookalike_domain`.
    Technique(Technique),
    /// What the message asks for, e.g. `gift_card`.
    Intent(IntentCategory),
}

impl Indicates {
    /// The technique, when it points to one rather than to an intent.
    pub fn technique(self) -> Option<Technique> {
        match self {
            Indicates::Technique(t) => Some(t),
            Indicates::Intent(_) => None,
        }
    }
}

/// A condition as written in a rule file: feature names still text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConditionText {
    /// `flag = FEATURE`: a `_flag` feature is set.
    Flag(String),
    /// `at_least = [FEATURE, N]`: the feature's value is at least N.
    AtLeast(String, f64),
    /// `below = [FEATURE, N]`: the feature's value is less than N.
    Below(String, f64),
    /// `all = [...]`: every condition holds; at least one is given.
    All(Vec<ConditionText>),
    /// `any = [...]`: some condition holds; at least one is given.
    Any(Vec<ConditionText>),
    /// `not = {...}`: the condition does not hold.
    Not(Box<ConditionText>),
}

/// A rule as written in a rule file (and stored in an artifact).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleText {
    /// Stable machine code, unique in a set: lower-case letters, digits
    /// and `_`. A verdict's reason carries it.
    pub code: String,
    /// What a firing means, for an administrator; starts the reason's
    /// detail. Not empty.
    pub says: String,
    /// The technique or intent category it points to.
    pub indicates: Indicates,
    /// True (the default): training keeps the weight at or above 0. False:
    /// it may learn a negative weight (a sign of legitimate mail).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub evidence_only: bool,
    /// `flagged`, `low`, `medium` or `high`: when the rule fires the
    /// verdict is at least that level (`flagged`: the model's default
    /// level). Absent for an ordinary, purely weighted rule (and then not
    /// written, so artifacts without floors keep their bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    /// `none` or `low`: when the rule fires (and no floor does) the
    /// verdict is at most that level. Only for a rule that reads verified
    /// facts alone and names mail that reaches no victim (a report to the
    /// security desk); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<String>,
    /// When it fires.
    pub when: ConditionText,
}

/// The least a firing floor rule lets the verdict be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Floor {
    /// The model's default level: the message is flagged.
    Flagged,
    /// A named level.
    Level(Level),
}

impl Floor {
    /// The floor of a rule file's word; None for anything else.
    pub fn parse(word: &str) -> Option<Floor> {
        Some(match word {
            "flagged" => Floor::Flagged,
            "low" => Floor::Level(Level::Low),
            "medium" => Floor::Level(Level::Medium),
            "high" => Floor::Level(Level::High),
            _ => return None,
        })
    }

    /// The level it guarantees under a model whose default level is
    /// `default_level`.
    pub fn level(self, default_level: Level) -> Level {
        match self {
            Floor::Flagged => default_level,
            Floor::Level(l) => l,
        }
    }

    /// The rule file's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Floor::Flagged => "flagged",
            Floor::Level(l) => l.as_str(),
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<RuleText>,
}

/// A condition with its features resolved against the schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// The flag is set: its value is at least 0.5.
    Flag(Feature),
    /// The feature's value is at least the threshold.
    AtLeast(Feature, f32),
    /// The feature's value is less than the threshold.
    Below(Feature, f32),
    /// Every condition holds (never empty).
    All(Vec<Condition>),
    /// Some condition holds (never empty).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

impl Condition {
    /// Whether the condition holds for a message's feature vector.
    pub fn holds(&self, v: &FeatureVector) -> bool {
        match self {
            Condition::Flag(f) => v.get(*f) >= 0.5,
            Condition::AtLeast(f, n) => v.get(*f) >= *n,
            Condition::Below(f, n) => v.get(*f) < *n,
            Condition::All(cs) => cs.iter().all(|c| c.holds(v)),
            Condition::Any(cs) => cs.iter().any(|c| c.holds(v)),
            Condition::Not(c) => !c.holds(v),
        }
    }

    /// The features the condition reads, in order of first mention.
    pub fn features(&self, out: &mut Vec<Feature>) {
        match self {
            Condition::Flag(f) | Condition::AtLeast(f, _) | Condition::Below(f, _) => {
                if !out.contains(f) {
                    out.push(*f);
                }
            }
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| c.features(out)),
            Condition::Not(c) => c.features(out),
        }
    }

    fn resolve(text: &ConditionText, code: &str, depth: usize) -> Result<Condition, ModelError> {
        let bad = |problem: String| ModelError::Rule {
            code: code.to_string(),
            problem,
        };
        if depth > MAX_CONDITION_DEPTH {
            return Err(bad(format!(
                "conditions nest deeper than {MAX_CONDITION_DEPTH} levels; split the rule"
            )));
        }
        let feature = |name: &str| {
            Feature::from_name(name).ok_or_else(|| {
                bad(format!(
                    "unknown feature `{name}`; `impostor features` lists the schema's names"
                ))
            })
        };
        let threshold = |name: &str, n: f64| {
            if n.is_finite() {
                Ok(n as f32)
            } else {
                Err(bad(format!(
                    "the threshold on `{name}` is not a finite number"
                )))
            }
        };
        let list = |cs: &[ConditionText], word: &str| {
            if cs.is_empty() {
                return Err(bad(format!("`{word}` holds no condition")));
            }
            cs.iter()
                .map(|c| Condition::resolve(c, code, depth + 1))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match text {
            ConditionText::Flag(name) => {
                let f = feature(name)?;
                if !name.ends_with("_flag") {
                    return Err(bad(format!(
                        "`flag` needs a _flag feature, and `{name}` is not one; use at_least"
                    )));
                }
                Condition::Flag(f)
            }
            ConditionText::AtLeast(name, n) => {
                Condition::AtLeast(feature(name)?, threshold(name, *n)?)
            }
            ConditionText::Below(name, n) => Condition::Below(feature(name)?, threshold(name, *n)?),
            ConditionText::All(cs) => Condition::All(list(cs, "all")?),
            ConditionText::Any(cs) => Condition::Any(list(cs, "any")?),
            ConditionText::Not(c) => {
                Condition::Not(Box::new(Condition::resolve(c, code, depth + 1)?))
            }
        })
    }
}

/// One rule, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// As written (and as an artifact stores it).
    pub text: RuleText,
    /// `text.when` with its features resolved.
    pub condition: Condition,
    /// The features its condition reads (for explanations).
    pub features: Vec<Feature>,
    /// The level a firing sets at the least, from `text.floor`.
    pub floor: Option<Floor>,
    /// The level a firing allows at the most, from `text.ceiling`.
    pub ceiling: Option<Level>,
}

impl Rule {
    /// Checks and resolves one rule: the code's spelling, a non-empty
    /// `says`, features the schema knows (`flag` only on a `_flag`
    /// feature), finite thresholds, no empty `all`/`any`, nesting at most
    /// eight deep, a floor only on an evidence-only rule that indicates a
    /// technique. An error is [`ModelError::Rule`] naming the code.
    pub fn resolve(text: RuleText) -> Result<Rule, ModelError> {
        let bad = |problem: &str| ModelError::Rule {
            code: text.code.clone(),
            problem: problem.to_string(),
        };
        let code_ok = !text.code.is_empty()
            && text
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            return Err(bad("a code is lower-case letters, digits and _"));
        }
        if text.says.trim().is_empty() {
            return Err(bad(
                "`says` is empty; write what the rule means for an administrator",
            ));
        }
        let floor = match text.floor.as_deref() {
            None => None,
            Some(word) => {
                let floor = Floor::parse(word).ok_or_else(|| {
                    bad(&format!(
                        "floor `{word}` is none of flagged, low, medium, high"
                    ))
                })?;
                if !text.evidence_only {
                    return Err(bad(
                        "a floor needs an evidence-only rule: drop `evidence_only = false` or the floor",
                    ));
                }
                if text.indicates.technique().is_none() {
                    return Err(bad(
                        "a floor rule must indicate a technique, which the floored verdict names",
                    ));
                }
                Some(floor)
            }
        };
        let condition = Condition::resolve(&text.when, &text.code, 0)?;
        let mut features = Vec::new();
        condition.features(&mut features);
        if let Some(rate) = features.iter().find(|f| !f.is_model_input()) {
            return Err(bad(&format!(
                "reads {}, a rate the sender dilutes by adding text (so the rule would switch off as a message grows); use the count beside it",
                rate.name()
            )));
        }
        let ceiling = match text.ceiling.as_deref() {
            None => None,
            Some(word) => {
                let level = match word {
                    "none" => Level::None,
                    "low" => Level::Low,
                    _ => return Err(bad(&format!("ceiling `{word}` is neither none nor low"))),
                };
                if floor.is_some() {
                    return Err(bad("a rule is a floor or a ceiling, not both"));
                }
                let verified = !text.evidence_only
                    && features.iter().all(|f| f.direction() == Direction::Either);
                if !verified {
                    return Err(bad(
                        "a ceiling needs `evidence_only = false` and a condition on verified facts only (what the sender writes must never lower a verdict)",
                    ));
                }
                Some(level)
            }
        };
        Ok(Rule {
            text,
            condition,
            features,
            floor,
            ceiling,
        })
    }

    /// Whether the rule fires on a message's feature vector.
    pub fn fires(&self, v: &FeatureVector) -> bool {
        self.condition.holds(v)
    }

    /// Whether training may give the rule a negative weight: it says
    /// `evidence_only = false` and reads only features someone other than
    /// the sender vouches for ([`Direction::Either`]). A rule reading
    /// anything the sender writes only adds to a score.
    pub fn may_lower_score(&self) -> bool {
        !self.text.evidence_only
            && self
                .features
                .iter()
                .all(|f| f.direction() == Direction::Either)
    }
}

/// A checked list of rules, codes unique, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// Reads a rule file's text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<RuleSet, ModelError> {
        let file: RuleFile = toml::from_str(text).map_err(|source| ModelError::RuleFile {
            origin: origin.to_string(),
            source,
        })?;
        RuleSet::from_texts(file.rule)
    }

    /// Resolves rules; refuses an unknown feature, a bad condition or a
    /// code used twice.
    pub fn from_texts(texts: Vec<RuleText>) -> Result<RuleSet, ModelError> {
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(texts.len());
        for text in texts {
            if !seen.insert(text.code.clone()) {
                return Err(ModelError::Rule {
                    code: text.code,
                    problem: "the code is used by an earlier rule too".into(),
                });
            }
            rules.push(Rule::resolve(text)?);
        }
        Ok(RuleSet { rules })
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How many rules it holds.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether it holds no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules that set a floor, in file order.
    pub fn floors(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.floor.is_some())
    }

    /// Whether each rule fires, in rule order.
    pub fn hits(&self, v: &FeatureVector) -> Vec<bool> {
        self.rules.iter().map(|r| r.fires(v)).collect()
    }
}

/// The rules shipped in `datasets/rules.toml`.
pub const BUILTIN_RULES: &str = include_str!("../../../datasets/rules.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn one(rule: &str) -> Result<RuleSet, ModelError> {
        RuleSet::from_toml(rule, "test.toml")
    }

    #[test]
    fn builtin_rules_load_and_cover_every_technique_and_intent() {
        let set = RuleSet::from_toml(BUILTIN_RULES, "datasets/rules.toml").unwrap();
        assert!(set.len() >= 40, "only {} rules", set.len());
        for t in Technique::ALL {
            assert!(
                set.rules()
                    .iter()
                    .any(|r| r.text.indicates == Indicates::Technique(t)),
                "no rule indicates {}",
                t.code()
            );
        }
        for i in [
            IntentCategory::ActionRequest,
            IntentCategory::Payment,
            IntentCategory::Urgency,
            IntentCategory::Secrecy,
            IntentCategory::CredentialLure,
        ] {
            assert!(
                set.rules()
                    .iter()
                    .any(|r| r.text.indicates == Indicates::Intent(i)),
                "no rule indicates {i:?}"
            );
        }
        // Combinations: some rules read features of two or more families.
        let combined = set
            .rules()
            .iter()
            .filter(|r| {
                let families: HashSet<_> = r.features.iter().map(|f| f.family()).collect();
                families.len() >= 2
            })
            .count();
        assert!(combined >= 8, "only {combined} rules combine families");
    }

    #[test]
    fn unknown_feature_is_refused_with_rule_and_name() {
        let err = one(r#"[[rule]]
code = "typo"
says = "Misspelt"
indicates = "payment"
when.all = [{ flag = "vip_display_name_flag" }, { at_least = ["intent_paymnet_phrase_count", 1] }]
"#)
        .unwrap_err()
        .to_string();
        assert!(err.contains("typo"), "{err}");
        assert!(err.contains("intent_paymnet_phrase_count"), "{err}");
    }

    #[test]
    fn flag_on_a_count_and_duplicate_codes_and_empty_lists_are_refused() {
        let flag_on_count = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "payment"
when.flag = "intent_payment_phrase_count"
"#);
        assert!(flag_on_count.unwrap_err().to_string().contains("at_least"));
        let twice = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "payment"
when.flag = "vip_display_name_flag"
[[rule]]
code = "c"
says = "y"
indicates = "payment"
when.flag = "vip_display_name_flag"
"#);
        assert!(twice.unwrap_err().to_string().contains("earlier rule"));
        let empty = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "urgency"
when.any = []
"#);
        assert!(empty.unwrap_err().to_string().contains("no condition"));
        let bad_indicates = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "phishing"
when.flag = "vip_display_name_flag"
"#);
        assert!(bad_indicates.is_err());
    }

    #[test]
    fn an_unknown_floor_is_refused_with_the_rules_code() {
        let err = one(r#"[[rule]]
code = "two_froms"
says = "Two From headers"
indicates = "header_from_spoof"
floor = "flaged"
when.flag = "from_header_multiple_flag"
"#)
        .unwrap_err()
        .to_string();
        assert!(err.contains("two_froms") && err.contains("flaged"), "{err}");
    }

    #[test]
    fn a_floor_needs_an_evidence_only_rule_that_indicates_a_technique() {
        let learned = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "header_from_spoof"
evidence_only = false
floor = "flagged"
when.flag = "from_header_multiple_flag"
"#);
        assert!(learned.unwrap_err().to_string().contains("evidence-only"));
        let intent = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "payment"
floor = "high"
when.flag = "from_header_multiple_flag"
"#);
        assert!(intent.unwrap_err().to_string().contains("technique"));
    }

    #[test]
    fn a_ceiling_needs_a_rule_on_verified_facts_and_no_floor() {
        let sender_written = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "account_compromise"
evidence_only = false
ceiling = "none"
when.flag = "sender_domain_mismatch_flag"
"#);
        assert!(sender_written.unwrap_err().to_string().contains("verified"));
        let word = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "account_compromise"
evidence_only = false
ceiling = "medium"
when.flag = "only_to_report_mailbox_flag"
"#);
        assert!(word
            .unwrap_err()
            .to_string()
            .contains("neither none nor low"));
        let ok = one(r#"[[rule]]
code = "c"
says = "x"
indicates = "account_compromise"
evidence_only = false
ceiling = "low"
when.flag = "only_to_report_mailbox_flag"
"#)
        .unwrap();
        assert_eq!(ok.rules()[0].ceiling, Some(Level::Low));
    }

    #[test]
    fn a_rule_reading_a_rate_the_sender_dilutes_is_refused() {
        let rate = one(r#"[[rule]]
code = "dense"
says = "x"
indicates = "urgency"
when.at_least = ["intent_urgency_per_kchar", 4]
"#);
        let err = rate.unwrap_err().to_string();
        assert!(
            err.contains("dense") && err.contains("intent_urgency_per_kchar"),
            "{err}"
        );
    }

    #[test]
    fn only_a_rule_reading_verified_facts_alone_may_lower_a_score() {
        let set = RuleSet::from_toml(
            r#"[[rule]]
code = "spf"
says = "x"
indicates = "envelope_from_spoof"
evidence_only = false
when.flag = "auth_spf_pass_flag"

[[rule]]
code = "mixed"
says = "x"
indicates = "envelope_from_spoof"
evidence_only = false
when.all = [{ flag = "auth_spf_pass_flag" }, { flag = "sender_domain_mismatch_flag" }]

[[rule]]
code = "evidence"
says = "x"
indicates = "envelope_from_spoof"
when.flag = "auth_spf_pass_flag"
"#,
            "t",
        )
        .unwrap();
        let may: Vec<bool> = set.rules().iter().map(|r| r.may_lower_score()).collect();
        assert_eq!(may, [true, false, false]);
    }

    #[test]
    fn floors_are_read_by_word_and_kept_as_written() {
        let set = one(r#"[[rule]]
code = "a"
says = "x"
indicates = "header_from_spoof"
floor = "flagged"
when.flag = "from_header_multiple_flag"
[[rule]]
code = "b"
says = "y"
indicates = "header_from_spoof"
floor = "high"
when.flag = "from_empty_flag"
[[rule]]
code = "c"
says = "z"
indicates = "header_from_spoof"
when.flag = "from_empty_flag"
"#)
        .unwrap();
        let floors: Vec<_> = set.rules().iter().map(|r| r.floor).collect();
        assert_eq!(
            floors,
            [Some(Floor::Flagged), Some(Floor::Level(Level::High)), None]
        );
        assert_eq!(Floor::Flagged.level(Level::Medium), Level::Medium);
        assert_eq!(set.floors().count(), 2);
        // A rule without a floor is written as before: no `floor` key.
        let json = serde_json::to_string(&set.rules()[2].text).unwrap();
        assert!(!json.contains("floor"), "{json}");
        let json = serde_json::to_string(&set.rules()[1].text).unwrap();
        assert!(json.contains("\"floor\":\"high\""), "{json}");
    }

    #[test]
    fn conditions_evaluate_as_written() {
        let set = one(r#"[[rule]]
code = "vip_freemail_payment"
says = "VIP name on free-mail asking for money"
indicates = "freemail_impersonation"
when.all = [{ flag = "vip_name_freemail_flag" },
            { any = [{ at_least = ["intent_payment_phrase_count", 2] },
                     { at_least = ["intent_gift_card_phrase_count", 1] }] },
            { not = { flag = "internal_authenticated_sender_flag" } }]
[[rule]]
code = "short"
says = "Short text"
indicates = "action_request"
evidence_only = false
when.below = ["body_text_chars", 100]
"#)
        .unwrap();
        let mut v = FeatureVector::default();
        v.set(Feature::BodyTextChars, 500.0);
        assert_eq!(set.hits(&v), [false, false]);
        v.set_flag(Feature::VipNameFreemail, true);
        v.set(Feature::IntentPaymentCount, 1.0);
        assert_eq!(set.hits(&v), [false, false]);
        v.set(Feature::IntentPaymentCount, 2.0);
        assert_eq!(set.hits(&v), [true, false]);
        v.set_flag(Feature::InternalAuthenticatedSender, true);
        assert_eq!(set.hits(&v), [false, false]);
        v.set_flag(Feature::InternalAuthenticatedSender, false);
        v.set(Feature::IntentPaymentCount, 0.0);
        v.set(Feature::IntentGiftCardCount, 1.0);
        v.set(Feature::BodyTextChars, 99.0);
        assert_eq!(set.hits(&v), [true, true]);
        let r = &set.rules()[0];
        assert_eq!(
            r.features,
            [
                Feature::VipNameFreemail,
                Feature::IntentPaymentCount,
                Feature::IntentGiftCardCount,
                Feature::InternalAuthenticatedSender
            ]
        );
        assert!(r.text.evidence_only);
        assert!(!set.rules()[1].text.evidence_only);
    }

    #[test]
    fn rules_round_trip_through_json() {
        let set = RuleSet::from_toml(BUILTIN_RULES, "datasets/rules.toml").unwrap();
        let texts: Vec<RuleText> = set.rules().iter().map(|r| r.text.clone()).collect();
        let json = serde_json::to_string(&texts).unwrap();
        let back: Vec<RuleText> = serde_json::from_str(&json).unwrap();
        assert_eq!(RuleSet::from_texts(back).unwrap(), set);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut when = String::from(r#"{ flag = "vip_display_name_flag" }"#);
        for _ in 0..12 {
            when = format!("{{ not = {when} }}");
        }
        let text = format!(
            "[[rule]]\ncode = \"deep\"\nsays = \"x\"\nindicates = \"urgency\"\nwhen = {when}\n"
        );
        assert!(one(&text).unwrap_err().to_string().contains("deeper"));
    }
}
