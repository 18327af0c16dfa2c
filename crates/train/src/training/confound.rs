//! The confound audit: which features tell the training data's sources or
//! eras apart rather than attacks from ham.
//!
//! The training data mixes sources of different eras (ham from 2002 and
//! 2010, phishing from 2022–2025, list ham from 2019–2026, generated and
//! injected mail). A feature that separates two sources of the same label,
//! or whose association with the label reverses between eras, measures
//! where a message came from, and a model fitted on it learns provenance.
//!
//! [`audit`] computes, on the rows it is given (the train role), for every
//! feature in [`Feature::ALL`]. Ham is `ham`; phishing and BEC are attacks;
//! spam is left out. Every AUC is [`roc_auc`]'s (ties count half), and only
//! groups of at least `min_rows` rows are compared:
//!
//! - **Per source**: for each (class, source) with enough rows, the rows,
//!   the share with a non-zero value and the mean.
//! - **Ham source separation**: over every pair of ham sources, the largest
//!   |2·AUC − 1| of the feature's value between the two sources' ham rows
//!   (0: the sources look alike, 1: the feature alone tells them apart),
//!   with the pair named. The same over attack sources is reported but
//!   decides nothing: attack sources differ by technique, legitimately.
//! - **Strata**: the eras by the Date header's year, "before 2015" and
//!   "2015 and later" (undated rows skipped), and every source holding both
//!   ham and attacks; in each with enough ham and enough attacks, the AUC of
//!   the feature for attack against ham. The feature **flips** when one
//!   stratum's AUC is at least 0.5 + `flip_margin` and another's at most
//!   0.5 − `flip_margin`.
//! - **Confounded**: ham source separation ≥ `separation_threshold`, or a
//!   flip.
//! - **Provenance only**: confounded, and the feature's association with
//!   the label over all the rows given is weak: |2·AUC − 1| <
//!   `weak_association`. Its only job in the data is marking provenance.
//!   A feature with no overall AUC (a class is missing) is never
//!   provenance-only: its association is unknown, not weak.
//!
//! [`ConfoundParams::criteria`] says the same in one paragraph for the
//! model card.

use super::example::Example;
use crate::error::TrainError;
use impostor_corpus::Label;
use impostor_features::Feature;
use impostor_model::stats::roc_auc;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// 2015-01-01T00:00:00Z: the first second of the later era.
const ERA_BOUNDARY: i64 = 1_420_070_400;

/// Slack for comparing figures with thresholds: an AUC of 18/30 is meant to
/// reach 0.5 + 0.1 although the two round differently.
const EPS: f64 = 1e-9;

/// Validated settings of the confound audit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfoundParams {
    /// Rows a (class, source) group, era or mixed source needs (in each
    /// class, for strata) to be compared at all.
    pub min_rows: usize,
    /// Ham source separation (|2·AUC − 1|) at and above which a feature is
    /// confounded.
    pub separation_threshold: f64,
    /// Distance of an AUC from 0.5, on opposite sides in two strata, that
    /// makes a flip.
    pub flip_margin: f64,
    /// Overall |2·AUC − 1| below which a confounded feature's association
    /// with the label is weak (provenance only).
    pub weak_association: f64,
}

impl Default for ConfoundParams {
    fn default() -> Self {
        ConfoundParams {
            min_rows: 30,
            separation_threshold: 0.5,
            flip_margin: 0.1,
            weak_association: 0.2,
        }
    }
}

impl ConfoundParams {
    /// Refuses settings out of range, naming the setting.
    pub fn check(&self) -> Result<(), TrainError> {
        if self.min_rows == 0 {
            return Err(TrainError::Invalid(
                "the confound audit's min_rows must be at least 1".into(),
            ));
        }
        if !(self.separation_threshold > 0.0 && self.separation_threshold <= 1.0) {
            return Err(TrainError::Invalid(format!(
                "the confound audit's separation_threshold must lie in (0, 1], not {}",
                self.separation_threshold
            )));
        }
        if !(self.flip_margin > 0.0 && self.flip_margin < 0.5) {
            return Err(TrainError::Invalid(format!(
                "the confound audit's flip_margin must lie in (0, 0.5), not {}",
                self.flip_margin
            )));
        }
        if !(self.weak_association > 0.0 && self.weak_association <= 1.0) {
            return Err(TrainError::Invalid(format!(
                "the confound audit's weak_association must lie in (0, 1], not {}",
                self.weak_association
            )));
        }
        Ok(())
    }

    /// The criteria in one paragraph, with these settings' numbers.
    pub fn criteria(&self) -> String {
        format!(
            "A feature is confounded when it tells two ham sources apart (separation |2·AUC − 1| of its value between their ham rows at least {sep}), \
             or when its association with attacks reverses between strata (AUC of attack against ham at least {hi} in one and at most {lo} in another; \
             the strata are the eras before 2015 and 2015 and later by the Date header, and each source holding both ham and attacks). \
             It is provenance-only when it is confounded and its association with the label over all the rows is weak (|2·AUC − 1| below {weak}). \
             Only groups of at least {min} rows are compared; attack sources' separation is reported but decides nothing.",
            sep = fmt2(self.separation_threshold),
            hi = fmt2(0.5 + self.flip_margin),
            lo = fmt2(0.5 - self.flip_margin),
            weak = fmt2(self.weak_association),
            min = self.min_rows,
        )
    }
}

/// The two classes the audit compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Legitimate mail.
    Ham,
    /// Phishing or BEC.
    Attack,
}

impl Class {
    fn of(label: Label) -> Option<Class> {
        match label {
            Label::Ham => Some(Class::Ham),
            Label::Phish | Label::Bec => Some(Class::Attack),
            Label::Spam => None,
        }
    }
}

/// Before or from 2015, by the Date header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Era {
    Before2015,
    From2015,
}

impl Era {
    const ALL: [Era; 2] = [Era::Before2015, Era::From2015];

    fn of(timestamp: i64) -> Era {
        if timestamp < ERA_BOUNDARY {
            Era::Before2015
        } else {
            Era::From2015
        }
    }

    fn name(self) -> &'static str {
        match self {
            Era::Before2015 => "before 2015",
            Era::From2015 => "2015 and later",
        }
    }
}

/// How many rows of each class a source gave the audit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceRows {
    /// The source.
    pub source: String,
    /// Its ham rows.
    pub ham: usize,
    /// Its attack rows.
    pub attacks: usize,
}

/// One feature on one (class, source) group with enough rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupStats {
    /// The class.
    pub class: Class,
    /// The source.
    pub source: String,
    /// Rows.
    pub rows: usize,
    /// Share of the rows whose value is not zero.
    pub nonzero_share: f64,
    /// Mean value.
    pub mean: f64,
}

/// The most separated pair of sources within one class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Separation {
    /// |2·AUC − 1|: 0 when the two sources' values look alike, 1 when the
    /// feature alone tells them apart.
    pub separation: f64,
    /// The source whose values rank higher.
    pub higher: String,
    /// The source whose values rank lower.
    pub lower: String,
}

/// What a stratum is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StratumKind {
    /// An era by the Date header.
    Era,
    /// A source holding both ham and attacks.
    Source,
}

/// The feature's association with attacks within one stratum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stratum {
    /// Era or source.
    pub kind: StratumKind,
    /// "before 2015", "2015 and later", or the source.
    pub name: String,
    /// Ham rows in it.
    pub ham: usize,
    /// Attack rows in it.
    pub attacks: usize,
    /// AUC of the feature for attack against ham.
    pub auc: f64,
}

/// Two strata whose associations point opposite ways.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Flip {
    /// The stratum with the highest AUC (≥ 0.5 + margin).
    pub positive: String,
    /// Its AUC.
    pub positive_auc: f64,
    /// The stratum with the lowest AUC (≤ 0.5 − margin).
    pub negative: String,
    /// Its AUC.
    pub negative_auc: f64,
}

/// One feature's audit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureAudit {
    /// The feature's name.
    pub feature: String,
    /// Every (class, source) group with enough rows, ham first, by source.
    pub groups: Vec<GroupStats>,
    /// The most separated pair of ham sources (none with fewer than two ham
    /// sources with enough rows).
    pub ham_source_separation: Option<Separation>,
    /// The same over attack sources; reported, decides nothing.
    pub attack_source_separation: Option<Separation>,
    /// The eras, then the mixed sources, that hold enough of both classes.
    pub strata: Vec<Stratum>,
    /// The strata whose associations reverse, if any do.
    pub flip: Option<Flip>,
    /// AUC of the feature for attack against ham over all the rows (none
    /// when a class is missing).
    pub overall_auc: Option<f64>,
    /// Ham separation at or above the threshold, or a flip.
    pub confounded: bool,
    /// Confounded, and weakly associated with the label overall.
    pub provenance_only: bool,
}

impl FeatureAudit {
    /// Whether two strata's associations with attacks reverse.
    pub fn flips(&self) -> bool {
        self.flip.is_some()
    }
}

/// The audit of every feature.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfoundAudit {
    /// The settings it was computed with.
    pub params: ConfoundParams,
    /// Ham rows audited.
    pub ham_rows: usize,
    /// Attack rows audited.
    pub attack_rows: usize,
    /// Audited rows without a Date (in no era).
    pub undated_rows: usize,
    /// Each source's rows, by source.
    pub sources: Vec<SourceRows>,
    /// One per feature, in [`Feature::ALL`] order.
    pub features: Vec<FeatureAudit>,
}

/// Row indices of the groups compared, shared by every feature.
struct Layout {
    /// Sources in order, with their ham rows and attack rows.
    sources: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// Per era: its ham rows and attack rows.
    eras: Vec<(Era, Vec<usize>, Vec<usize>)>,
    ham: Vec<usize>,
    attacks: Vec<usize>,
}

impl Layout {
    fn new(examples: &[Example]) -> Layout {
        let mut by_source: BTreeMap<&str, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        let mut eras: Vec<(Era, Vec<usize>, Vec<usize>)> =
            Era::ALL.iter().map(|e| (*e, vec![], vec![])).collect();
        let (mut ham, mut attacks) = (vec![], vec![]);
        for (i, e) in examples.iter().enumerate() {
            let Some(class) = Class::of(e.label) else {
                continue;
            };
            let entry = by_source.entry(e.source.as_str()).or_default();
            let era = e
                .timestamp
                .map(Era::of)
                .and_then(|era| eras.iter_mut().find(|(x, _, _)| *x == era));
            match class {
                Class::Ham => {
                    entry.0.push(i);
                    ham.push(i);
                    if let Some((_, h, _)) = era {
                        h.push(i);
                    }
                }
                Class::Attack => {
                    entry.1.push(i);
                    attacks.push(i);
                    if let Some((_, _, a)) = era {
                        a.push(i);
                    }
                }
            }
        }
        Layout {
            sources: by_source
                .into_iter()
                .map(|(s, (h, a))| (s.to_string(), h, a))
                .collect(),
            eras,
            ham,
            attacks,
        }
    }
}

/// AUC of `values` for the `positive` rows against the `negative` rows.
fn auc_between(values: &[f64], positive: &[usize], negative: &[usize]) -> Option<f64> {
    let mut scores = Vec::with_capacity(positive.len() + negative.len());
    let mut truth = Vec::with_capacity(positive.len() + negative.len());
    for (rows, is_positive) in [(positive, true), (negative, false)] {
        for &i in rows {
            scores.push(values.get(i).copied().unwrap_or(0.0));
            truth.push(is_positive);
        }
    }
    roc_auc(&scores, &truth)
}

/// The most separated pair among `groups` (name, rows), each with at least
/// `min_rows` rows; ties keep the first pair in source order.
fn most_separated(values: &[f64], groups: &[(&str, &[usize])]) -> Option<Separation> {
    let mut best: Option<Separation> = None;
    for (i, (a, a_rows)) in groups.iter().enumerate() {
        for (b, b_rows) in groups.iter().skip(i + 1) {
            let Some(auc) = auc_between(values, a_rows, b_rows) else {
                continue;
            };
            let separation = (2.0 * auc - 1.0).abs();
            if best.as_ref().is_none_or(|s| separation > s.separation) {
                let (higher, lower) = if auc >= 0.5 { (a, b) } else { (b, a) };
                best = Some(Separation {
                    separation,
                    higher: higher.to_string(),
                    lower: lower.to_string(),
                });
            }
        }
    }
    best
}

fn audit_feature(
    feature: Feature,
    examples: &[Example],
    layout: &Layout,
    params: &ConfoundParams,
) -> FeatureAudit {
    let min = params.min_rows.max(1);
    let values: Vec<f64> = examples
        .iter()
        .map(|e| f64::from(e.values.get(feature)))
        .collect();
    let stats = |class: Class, source: &str, rows: &[usize]| {
        let n = rows.len() as f64;
        let (mut nonzero, mut sum) = (0usize, 0.0);
        for &i in rows {
            let v = values.get(i).copied().unwrap_or(0.0);
            nonzero += usize::from(v != 0.0);
            sum += v;
        }
        GroupStats {
            class,
            source: source.to_string(),
            rows: rows.len(),
            nonzero_share: nonzero as f64 / n,
            mean: sum / n,
        }
    };
    let ham_groups: Vec<(&str, &[usize])> = layout
        .sources
        .iter()
        .filter(|(_, h, _)| h.len() >= min)
        .map(|(s, h, _)| (s.as_str(), h.as_slice()))
        .collect();
    let attack_groups: Vec<(&str, &[usize])> = layout
        .sources
        .iter()
        .filter(|(_, _, a)| a.len() >= min)
        .map(|(s, _, a)| (s.as_str(), a.as_slice()))
        .collect();
    let groups = ham_groups
        .iter()
        .map(|(s, rows)| stats(Class::Ham, s, rows))
        .chain(
            attack_groups
                .iter()
                .map(|(s, rows)| stats(Class::Attack, s, rows)),
        )
        .collect();

    let stratum = |kind: StratumKind, name: &str, ham: &[usize], attacks: &[usize]| {
        if ham.len() < min || attacks.len() < min {
            return None;
        }
        auc_between(&values, attacks, ham).map(|auc| Stratum {
            kind,
            name: name.to_string(),
            ham: ham.len(),
            attacks: attacks.len(),
            auc,
        })
    };
    let strata: Vec<Stratum> = layout
        .eras
        .iter()
        .filter_map(|(era, h, a)| stratum(StratumKind::Era, era.name(), h, a))
        .chain(
            layout
                .sources
                .iter()
                .filter_map(|(s, h, a)| stratum(StratumKind::Source, s, h, a)),
        )
        .collect();
    let highest = strata.iter().max_by(|x, y| x.auc.total_cmp(&y.auc));
    let lowest = strata.iter().min_by(|x, y| x.auc.total_cmp(&y.auc));
    let flip = match (highest, lowest) {
        (Some(hi), Some(lo))
            if hi.auc >= 0.5 + params.flip_margin - EPS
                && lo.auc <= 0.5 - params.flip_margin + EPS =>
        {
            Some(Flip {
                positive: hi.name.clone(),
                positive_auc: hi.auc,
                negative: lo.name.clone(),
                negative_auc: lo.auc,
            })
        }
        _ => None,
    };

    let ham_source_separation = most_separated(&values, &ham_groups);
    let attack_source_separation = most_separated(&values, &attack_groups);
    let overall_auc = auc_between(&values, &layout.attacks, &layout.ham);
    let confounded = ham_source_separation
        .as_ref()
        .is_some_and(|s| s.separation >= params.separation_threshold - EPS)
        || flip.is_some();
    let provenance_only = confounded
        && overall_auc.is_some_and(|auc| (2.0 * auc - 1.0).abs() < params.weak_association);
    FeatureAudit {
        feature: feature.name().to_string(),
        groups,
        ham_source_separation,
        attack_source_separation,
        strata,
        flip,
        overall_auc,
        confounded,
        provenance_only,
    }
}

/// Audits every feature on `examples` (the caller passes the train role).
/// `params` should have passed [`ConfoundParams::check`]; a `min_rows` of 0
/// is read as 1.
pub fn audit(examples: &[Example], params: &ConfoundParams) -> ConfoundAudit {
    let layout = Layout::new(examples);
    // Features are independent; rayon keeps their order.
    let features = Feature::ALL
        .par_iter()
        .map(|f| audit_feature(*f, examples, &layout, params))
        .collect();
    ConfoundAudit {
        params: params.clone(),
        ham_rows: layout.ham.len(),
        attack_rows: layout.attacks.len(),
        undated_rows: examples
            .iter()
            .filter(|e| Class::of(e.label).is_some() && e.timestamp.is_none())
            .count(),
        sources: layout
            .sources
            .iter()
            .map(|(s, h, a)| SourceRows {
                source: s.clone(),
                ham: h.len(),
                attacks: a.len(),
            })
            .collect(),
        features,
    }
}

fn fmt2(x: f64) -> String {
    format!("{x:.2}")
}

/// A table cell: a `|` would end it.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn separation_text(s: Option<&Separation>) -> String {
    s.map_or("n/a".into(), |s| {
        format!("{} ({} > {})", fmt2(s.separation), s.higher, s.lower)
    })
}

fn strata_text(strata: &[Stratum]) -> String {
    if strata.is_empty() {
        return "n/a".into();
    }
    strata
        .iter()
        .map(|s| format!("{} {}", s.name, fmt2(s.auc)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn flip_text(flip: Option<&Flip>) -> String {
    flip.map_or("no".into(), |f| {
        format!(
            "yes: {} {} vs {} {}",
            f.positive,
            fmt2(f.positive_auc),
            f.negative,
            fmt2(f.negative_auc)
        )
    })
}

impl ConfoundAudit {
    /// One feature's audit.
    pub fn feature(&self, feature: Feature) -> Option<&FeatureAudit> {
        self.features.iter().find(|f| f.feature == feature.name())
    }

    /// Whether `feature` is confounded (see the module docs).
    pub fn confounded(&self, feature: Feature) -> bool {
        self.feature(feature).is_some_and(|f| f.confounded)
    }

    /// Whether `feature` only marks provenance (see the module docs).
    pub fn provenance_only(&self, feature: Feature) -> bool {
        self.feature(feature).is_some_and(|f| f.provenance_only)
    }

    /// The confounded features, in [`Feature::ALL`] order.
    pub fn confounded_features(&self) -> impl Iterator<Item = &FeatureAudit> {
        self.features.iter().filter(|f| f.confounded)
    }

    /// The criteria in one paragraph, with this audit's numbers.
    pub fn criteria(&self) -> String {
        self.params.criteria()
    }

    /// The model card's section body (no heading): the criteria, then a
    /// table of the confounded features only, each with the weight
    /// `weights` gives its name ("not an input" when none).
    pub fn render_markdown(&self, weights: impl Fn(&str) -> Option<f64>) -> String {
        let mut s = String::new();
        let confounded: Vec<&FeatureAudit> = self.confounded_features().collect();
        let provenance = confounded.iter().filter(|f| f.provenance_only).count();
        let _ = writeln!(
            s,
            "Audited on {} ham and {} attack rows ({} undated) from {} sources. {}\n",
            self.ham_rows,
            self.attack_rows,
            self.undated_rows,
            self.sources.len(),
            self.criteria()
        );
        if confounded.is_empty() {
            let _ = writeln!(
                s,
                "None of the {} features is confounded.",
                self.features.len()
            );
            return s;
        }
        let _ = writeln!(
            s,
            "{} of {} features are confounded, {} of them provenance-only. AUCs are of attack against ham.\n",
            confounded.len(),
            self.features.len(),
            provenance
        );
        let _ = writeln!(
            s,
            "| feature | ham separation (higher > lower) | attack separation | AUC by era / mixed source | flip | overall AUC | provenance only | weight |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---:|---|---:|");
        for f in confounded {
            let weight = weights(&f.feature).map_or("not an input".into(), |w| format!("{w:+.3}"));
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                f.feature,
                cell(&separation_text(f.ham_source_separation.as_ref())),
                cell(&separation_text(f.attack_source_separation.as_ref())),
                cell(&strata_text(&f.strata)),
                cell(&flip_text(f.flip.as_ref())),
                f.overall_auc.map_or("n/a".into(), fmt2),
                if f.provenance_only { "yes" } else { "no" },
                weight
            );
        }
        s
    }

    /// One line per confounded feature with its figures, for the training
    /// log.
    pub fn log_lines(&self) -> Vec<String> {
        self.confounded_features()
            .map(|f| {
                format!(
                    "confounded {}: ham separation {}; attack separation {}; AUC {}; flip {}; overall AUC {}{}",
                    f.feature,
                    separation_text(f.ham_source_separation.as_ref()),
                    separation_text(f.attack_source_separation.as_ref()),
                    strata_text(&f.strata),
                    flip_text(f.flip.as_ref()),
                    f.overall_auc.map_or("n/a".into(), fmt2),
                    if f.provenance_only {
                        "; provenance only"
                    } else {
                        ""
                    }
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::example::Role;
    use impostor_features::FeatureVector;

    /// A Date in `year` (mid-year, so the era is unambiguous).
    fn in_year(year: i64) -> Option<i64> {
        Some((year - 1970) * 31_556_952 + 15_778_476)
    }

    fn row(source: &str, label: Label, timestamp: Option<i64>, set: &[(Feature, f32)]) -> Example {
        let mut values = FeatureVector::default();
        for (f, v) in set {
            values.set(*f, *v);
        }
        Example {
            id: format!("{source}:x"),
            source: source.into(),
            group: format!("{source}:x"),
            label,
            technique: None,
            synthetic: false,
            timestamp,
            sha1: None,
            role: Role::Train,
            values,
        }
    }

    fn rows(
        n: usize,
        source: &str,
        label: Label,
        timestamp: Option<i64>,
        set: &[(Feature, f32)],
    ) -> Vec<Example> {
        (0..n).map(|_| row(source, label, timestamp, set)).collect()
    }

    fn f(i: usize) -> Feature {
        Feature::ALL[i]
    }

    #[test]
    fn a_feature_on_one_ham_source_and_off_another_is_confounded_with_separation_one() {
        let mut data = rows(40, "old_ham", Label::Ham, None, &[(f(0), 1.0)]);
        data.extend(rows(40, "new_ham", Label::Ham, None, &[]));
        // Attacks carry it half the time, like ham overall: no association.
        data.extend(rows(40, "phish", Label::Phish, None, &[(f(0), 1.0)]));
        data.extend(rows(40, "phish", Label::Phish, None, &[]));
        let a = audit(&data, &ConfoundParams::default());
        let fa = a.feature(f(0)).expect("audited");
        let sep = fa.ham_source_separation.as_ref().expect("two ham sources");
        assert_eq!(sep.separation, 1.0);
        assert_eq!(
            (sep.higher.as_str(), sep.lower.as_str()),
            ("old_ham", "new_ham")
        );
        assert!(a.confounded(f(0)));
        assert_eq!(fa.overall_auc, Some(0.5));
        assert!(a.provenance_only(f(0)), "it only marks the source");
        // Per-source figures: old_ham all on, new_ham all off.
        let old = fa
            .groups
            .iter()
            .find(|g| g.class == Class::Ham && g.source == "old_ham")
            .expect("old_ham has enough rows");
        assert_eq!((old.rows, old.nonzero_share, old.mean), (40, 1.0, 1.0));
        // A feature zero everywhere separates nothing.
        assert!(!a.confounded(f(1)));
        assert_eq!(
            a.feature(f(1))
                .and_then(|x| x.ham_source_separation.as_ref())
                .map(|s| s.separation),
            Some(0.0)
        );
    }

    #[test]
    fn a_feature_whose_attack_association_reverses_after_2015_flips() {
        let mut data = rows(40, "ham", Label::Ham, in_year(2005), &[]);
        data.extend(rows(
            40,
            "phish",
            Label::Phish,
            in_year(2005),
            &[(f(0), 1.0)],
        ));
        data.extend(rows(40, "ham", Label::Ham, in_year(2020), &[(f(0), 1.0)]));
        data.extend(rows(40, "phish", Label::Bec, in_year(2020), &[]));
        let a = audit(&data, &ConfoundParams::default());
        let fa = a.feature(f(0)).expect("audited");
        let eras: Vec<(&str, f64)> = fa.strata.iter().map(|s| (s.name.as_str(), s.auc)).collect();
        assert_eq!(eras, [("before 2015", 1.0), ("2015 and later", 0.0)]);
        let flip = fa.flip.as_ref().expect("it flips");
        assert_eq!(
            (flip.positive.as_str(), flip.negative.as_str()),
            ("before 2015", "2015 and later")
        );
        // One ham source: confounded by the flip alone.
        assert!(fa.ham_source_separation.is_none());
        assert!(a.confounded(f(0)));
        assert!(!a.confounded(f(1)), "a constant feature does not flip");
    }

    #[test]
    fn a_flip_between_two_mixed_sources_counts() {
        let mut data = rows(40, "a", Label::Ham, None, &[]);
        data.extend(rows(40, "a", Label::Phish, None, &[(f(0), 1.0)]));
        data.extend(rows(40, "b", Label::Ham, None, &[(f(0), 1.0)]));
        data.extend(rows(40, "b", Label::Phish, None, &[]));
        let a = audit(&data, &ConfoundParams::default());
        let fa = a.feature(f(0)).expect("audited");
        assert!(fa.strata.iter().all(|s| s.kind == StratumKind::Source));
        assert!(fa.flips());
        assert!(a.confounded(f(0)));
    }

    #[test]
    fn a_feature_equal_on_every_source_and_tied_to_the_label_is_not_confounded() {
        let mut data = Vec::new();
        for (source, year) in [("ham_2002", 2002), ("ham_2020", 2020)] {
            data.extend(rows(40, source, Label::Ham, in_year(year), &[]));
        }
        for (source, year) in [("phish_2010", 2010), ("phish_2023", 2023)] {
            data.extend(rows(
                40,
                source,
                Label::Phish,
                in_year(year),
                &[(f(0), 1.0)],
            ));
        }
        let a = audit(&data, &ConfoundParams::default());
        let fa = a.feature(f(0)).expect("audited");
        assert_eq!(fa.overall_auc, Some(1.0));
        assert_eq!(
            fa.ham_source_separation.as_ref().map(|s| s.separation),
            Some(0.0)
        );
        assert!(fa.strata.iter().all(|s| s.auc == 1.0) && fa.strata.len() == 2);
        assert!(!fa.confounded && !fa.provenance_only);
        assert!(a.log_lines().is_empty());
    }

    #[test]
    fn a_source_with_fewer_than_min_rows_is_not_compared() {
        let mut data = rows(40, "big", Label::Ham, None, &[(f(0), 1.0)]);
        data.extend(rows(29, "small", Label::Ham, None, &[]));
        let a = audit(&data, &ConfoundParams::default());
        let fa = a.feature(f(0)).expect("audited");
        assert!(fa.ham_source_separation.is_none());
        assert!(fa.groups.iter().all(|g| g.source == "big"));
        assert!(!a.confounded(f(0)));
        // Lowering the bar brings it in.
        let params = ConfoundParams {
            min_rows: 29,
            ..ConfoundParams::default()
        };
        assert!(audit(&data, &params).confounded(f(0)));
    }

    #[test]
    fn invalid_params_are_refused_naming_the_setting() {
        let bad = [
            (
                "min_rows",
                ConfoundParams {
                    min_rows: 0,
                    ..ConfoundParams::default()
                },
            ),
            (
                "separation_threshold",
                ConfoundParams {
                    separation_threshold: 1.5,
                    ..ConfoundParams::default()
                },
            ),
            (
                "flip_margin",
                ConfoundParams {
                    flip_margin: 0.5,
                    ..ConfoundParams::default()
                },
            ),
            (
                "weak_association",
                ConfoundParams {
                    weak_association: f64::NAN,
                    ..ConfoundParams::default()
                },
            ),
        ];
        for (name, params) in bad {
            let err = params.check().expect_err(name).to_string();
            assert!(err.contains(name), "{err}");
        }
        assert!(ConfoundParams::default().check().is_ok());
    }

    #[test]
    fn the_markdown_shows_only_confounded_features_with_their_weights() {
        let mut data = rows(40, "old_ham", Label::Ham, None, &[(f(0), 1.0)]);
        data.extend(rows(40, "new_ham", Label::Ham, None, &[]));
        data.extend(rows(40, "phish", Label::Phish, None, &[(f(1), 1.0)]));
        let a = audit(&data, &ConfoundParams::default());
        let md = a.render_markdown(|name| (name == f(0).name()).then_some(0.25));
        assert!(md.contains(&format!("| `{}` |", f(0).name())), "{md}");
        assert!(md.contains("1.00 (old_ham > new_ham)"), "{md}");
        assert!(md.contains("+0.250"), "{md}");
        assert!(!md.contains(&format!("`{}`", f(1).name())), "{md}");
        assert!(md.contains(&a.criteria()));
        let md = a.render_markdown(|_| None);
        assert!(md.contains("not an input"), "{md}");
        let lines = a.log_lines();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains(f(0).name()) && lines[0].contains("old_ham > new_ham"));
    }
}
