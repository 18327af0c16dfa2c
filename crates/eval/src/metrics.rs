//! The numbers of `metrics.json` (design.md §7): for every detector, at
//! every operating point, counts and rates with 95% intervals overall and
//! per source, technique, label and origin (real or synthetic), plus the
//! ranking metrics (ROC AUC with a bootstrap interval, PR AUC).
//!
//! Operating points:
//! - `native`: the detector's own decision (Impostor's default level,
//!   SpamAssassin's required score, Rspamd's action); absent for a
//!   detector without one (the ablations).
//! - `level_low`, `level_medium`, `level_high`: Impostor's levels, with the
//!   thresholds the artifact chose on its validation role.
//! - `fpr_1e-2`, `fpr_1e-3` …: for every detector alike, the threshold
//!   that flags at most that share of the evaluated ham, read off its own
//!   ROC curve. Chosen on the evaluated ham itself, so it is a comparison
//!   of rankings at equal false-positive rates, not a deployable setting.
//!
//! A message a detector could not judge counts as not flagged and ranks
//! below every score: a missed attack, never a false positive.

use impostor_features::Technique;
use impostor_model::stats::ranking::{
    average_precision, bootstrap_auc, bootstrap_average_precision, roc_auc,
};
use impostor_model::stats::rates::Rate;
use serde::Serialize;
use std::collections::BTreeMap;

/// One evaluated message: what the metrics slice by.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    /// `source:member[#index]`, as in the corpus manifest.
    pub id: String,
    /// The source (corpus) it came from.
    pub source: String,
    /// `ham`, `phish` or `bec`.
    pub label: String,
    /// Phishing or BEC: what a detector should flag.
    pub attack: bool,
    /// A technique code of design.md §3, for injected attacks.
    pub technique: Option<String>,
    /// Written by the generator (an injected attack or generated ham).
    pub synthetic: bool,
    /// The generator's kind (`labels.tsv`'s `kind` column: a timeline's
    /// scenario or ordinary kind, a ham kind or lure category); `None`
    /// for mail not generated, or a labels file without the column.
    pub kind: Option<String>,
    /// How the message carries its lure (`body_link`, `html_attachment`,
    /// `pdf`, `qr_code`, `other_attachment`, `no_link`: see
    /// [`impostor_features::LureCarrier`]), read when it was scored; `None`
    /// when it could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

impl Item {
    /// The member part of the id (`source:member[#index]`), without the
    /// source and the mbox index; `None` when the id does not start with
    /// the item's source.
    pub fn member(&self) -> Option<&str> {
        let rest = self
            .id
            .strip_prefix(self.source.as_str())?
            .strip_prefix(':')?;
        // `#index` only when the index is all digits: a member may hold `#`.
        Some(match rest.rsplit_once('#') {
            Some((m, i)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) => m,
            _ => rest,
        })
    }

    /// A message of a generated corpus's timeline (member `timeline/…`),
    /// judged by replaying its sender history.
    pub fn in_timeline(&self) -> bool {
        self.member()
            .is_some_and(|m| m.starts_with(TIMELINE_PREFIX))
    }
}

/// Where a generated corpus keeps its timeline, below `messages/`.
pub const TIMELINE_PREFIX: &str = "timeline/";

/// One detector's results on every item, in item order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DetectorScores {
    /// The detector's name ([`crate::Detector::name`]).
    pub name: String,
    /// Its paragraph for the report.
    pub description: String,
    /// A peer filter on the network.
    pub is_peer: bool,
    /// `None` where the detector could not judge the message.
    pub scores: Vec<Option<f64>>,
    /// Its own decision; `None` where it has none or could not judge.
    pub flagged: Vec<Option<bool>>,
    /// The rules or symbols it reported.
    pub hits: Vec<Vec<String>>,
    /// Why it could not judge a message.
    pub errors: Vec<Option<String>>,
    /// Seconds spent judging, summed over messages (for in-process
    /// detectors that read features, the extraction's share included).
    pub busy_seconds: f64,
}

/// Where to cut a score.
#[derive(Clone, Debug, PartialEq)]
pub enum Cut {
    /// The detector's own decision.
    Native,
    /// Flag at or above a fixed threshold.
    AtLeast(f64),
    /// Flag above the highest score that keeps the flagged share of ham at
    /// or under this rate.
    MatchedFpr(f64),
}

/// A named operating point to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSpec {
    /// Its name in metrics.json (`native`, `fpr_1e-3`, `level_medium` …).
    pub name: String,
    /// Where the score is cut.
    pub cut: Cut,
}

/// Counts and rates of one slice of the items at one operating point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SliceMetrics {
    /// Messages in the slice.
    pub messages: u64,
    /// Ham among them.
    pub ham: u64,
    /// Attacks among them.
    pub attacks: u64,
    /// Messages the detector could not judge.
    pub errors: u64,
    /// Ham flagged.
    pub false_positives: u64,
    /// Attacks flagged.
    pub detected: u64,
    /// Detected attacks / attacks (TPR).
    pub detection_rate: Rate,
    /// Flagged ham / ham.
    pub false_positive_rate: Rate,
    /// Detected attacks / flagged messages.
    pub precision: Rate,
    /// Harmonic mean of precision and detection rate; `None` without attacks.
    pub f1: Option<f64>,
    /// False positives per million ham.
    pub false_positives_per_million: Option<f64>,
}

/// One operating point of one detector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointMetrics {
    /// The operating point's name.
    pub name: String,
    /// The threshold applied (`None` for a native decision).
    pub threshold: Option<f64>,
    /// Every item.
    pub overall: SliceMetrics,
    /// Per source.
    pub by_source: BTreeMap<String, SliceMetrics>,
    /// Attacks only, by technique (`none` for real phishing and BEC,
    /// which carry no technique label).
    pub by_technique: BTreeMap<String, SliceMetrics>,
    /// Per label (`ham`, `phish`, `bec`).
    pub by_label: BTreeMap<String, SliceMetrics>,
    /// `real` and `synthetic`.
    pub by_origin: BTreeMap<String, SliceMetrics>,
}

/// Ranking quality of one slice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankingMetrics {
    /// Area under the ROC curve, ties counted as half.
    pub roc_auc: Option<f64>,
    /// Its 95% bootstrap interval.
    pub roc_auc_ci95: Option<impostor_model::stats::rates::Interval>,
    /// Average precision (the area under the precision-recall curve).
    pub pr_auc: Option<f64>,
    /// Its 95% bootstrap interval.
    pub pr_auc_ci95: Option<impostor_model::stats::rates::Interval>,
}

/// Everything measured of one detector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetectorMetrics {
    /// The detector's name.
    pub name: String,
    /// Its paragraph for the report.
    pub description: String,
    /// A peer filter on the network.
    pub is_peer: bool,
    /// Messages judged (every item, errors included).
    pub messages: u64,
    /// Messages it could not judge.
    pub errors: u64,
    /// The first few error messages, for the report.
    pub error_examples: Vec<String>,
    /// Messages per second per thread: the items over the time spent judging.
    pub messages_per_second: Option<f64>,
    /// Ranking quality over every item.
    pub ranking: RankingMetrics,
    /// A slice's attacks ranked against all ham (by technique), or all
    /// attacks against its ham (by source, for a ham-only source).
    pub ranking_by_technique: BTreeMap<String, RankingMetrics>,
    /// Per source (see `ranking_by_technique`).
    pub ranking_by_source: BTreeMap<String, RankingMetrics>,
    /// Each operating point.
    pub points: Vec<PointMetrics>,
}

/// The full model's name ([`crate::detectors::Impostor`] with every part):
/// the detector the scenario table reads.
pub const IMPOSTOR: &str = "impostor";

/// One scenario of a replayed timeline (items of [`Item::in_timeline`]):
/// the messages of one kind in one source, and the share each detector
/// flagged at its own decision (attacks detected, or ham flagged).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioRow {
    /// The source (generated corpus) the timeline belongs to.
    pub source: String,
    /// The generator's kind (`takeover_new_network`, `it_notice`,
    /// `internal` …).
    pub kind: String,
    /// `attack`, `hard ham` or `ham` (see [`scenario_class`]).
    pub class: String,
    /// Messages of the kind evaluated.
    pub messages: u64,
    /// Flagged by Impostor ([`IMPOSTOR`]) at its own decision (the model's
    /// default level); `None` when Impostor was not run.
    pub impostor: Option<Rate>,
    /// Flagged by each peer filter at its own decision, by name.
    pub peers: BTreeMap<String, Rate>,
}

/// One source's timeline in two numbers, for Impostor at its own decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioSummary {
    /// The source (generated corpus).
    pub source: String,
    /// Attacks of technique `account_compromise` detected; `None` when
    /// Impostor was not run.
    pub account_compromise_detected: Option<Rate>,
    /// Hard ham (the generator's `HARD_HAM_KINDS`) flagged; `None` when
    /// Impostor was not run.
    pub hard_ham_flagged: Option<Rate>,
}

/// Each item's decision by Impostor ([`IMPOSTOR`], None when it was not
/// run) and by each peer that judged anything, by name.
type Decisions<'a> = (Option<Vec<bool>>, Vec<(&'a str, Vec<bool>)>);

fn decisions<'a>(items: &[Item], scores: &'a [DetectorScores]) -> Decisions<'a> {
    let flags = |d: &DetectorScores| -> Vec<bool> {
        (0..items.len())
            .map(|i| d.flagged.get(i).copied().flatten().unwrap_or(false))
            .collect()
    };
    let impostor = scores.iter().find(|d| d.name == IMPOSTOR).map(flags);
    let peers = scores
        .iter()
        .filter(|d| d.is_peer && d.flagged.iter().any(Option::is_some))
        .map(|d| (d.name.as_str(), flags(d)))
        .collect();
    (impostor, peers)
}

/// The share of `members` a detector flagged.
fn share(members: &[usize], flagged: &[bool]) -> Rate {
    Rate::new(
        members
            .iter()
            .filter(|&&i| flagged.get(i).copied().unwrap_or(false))
            .count() as u64,
        members.len() as u64,
    )
}

/// Real mail of one source and class carried one way (see
/// [`impostor_features::LureCarrier`]), and the share each detector
/// flagged at its own decision: detection for phishing, false positives
/// for ham.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CarrierRow {
    /// The source (a real corpus).
    pub source: String,
    /// `attack` (phishing or BEC) or `ham`.
    pub class: String,
    /// The carrier's name (`body_link`, `html_attachment`, `pdf`,
    /// `qr_code`, `other_attachment`, `no_link`).
    pub carrier: String,
    /// Messages of the source, class and carrier evaluated.
    pub messages: u64,
    /// Flagged by Impostor ([`IMPOSTOR`]) at its own decision; `None` when
    /// Impostor was not run.
    pub impostor: Option<Rate>,
    /// Flagged by each peer filter at its own decision, by name.
    pub peers: BTreeMap<String, Rate>,
}

/// The table of real (not generated) mail by lure carrier: per source,
/// attacks first, then ham, carriers in [`impostor_features::LureCarrier::ALL`]
/// order. Items without a carrier (unparsable) are left out.
pub fn carriers(items: &[Item], scores: &[DetectorScores]) -> Vec<CarrierRow> {
    use impostor_features::LureCarrier;
    let (impostor, peers) = decisions(items, scores);
    let order = |name: &str| {
        LureCarrier::ALL
            .iter()
            .position(|c| c.name() == name)
            .unwrap_or(LureCarrier::ALL.len())
    };
    // (source, attacks first, carrier order, carrier) → members
    let mut groups: BTreeMap<(&str, bool, usize, &str), Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if let (false, Some(carrier)) = (item.synthetic, item.carrier.as_deref()) {
            groups
                .entry((item.source.as_str(), !item.attack, order(carrier), carrier))
                .or_default()
                .push(i);
        }
    }
    groups
        .into_iter()
        .map(|((source, ham, _, carrier), members)| CarrierRow {
            source: source.to_string(),
            class: if ham { "ham" } else { "attack" }.into(),
            carrier: carrier.to_string(),
            messages: members.len() as u64,
            impostor: impostor.as_deref().map(|f| share(&members, f)),
            peers: peers
                .iter()
                .map(|(name, f)| (name.to_string(), share(&members, f)))
                .collect(),
        })
        .collect()
}

/// The class of a timeline kind: `attack` for the generator's attack
/// scenarios, `hard ham` for honest mail with an attack's words, `ham` for
/// ordinary kinds; a kind the generator does not list goes by the item's
/// label.
pub fn scenario_class(kind: &str, attack: bool) -> &'static str {
    use impostor_corpus::gen::timeline::{ATTACK_KINDS, HARD_HAM_KINDS, ORDINARY_KINDS};
    if ATTACK_KINDS.contains(&kind) {
        "attack"
    } else if HARD_HAM_KINDS.contains(&kind) {
        "hard ham"
    } else if ORDINARY_KINDS.contains(&kind) || !attack {
        "ham"
    } else {
        "attack"
    }
}

/// Where a scenario sorts: attacks, then hard ham, then ordinary ham, each
/// in the generator's order, kinds it does not list last.
fn scenario_order(kind: &str, class: &str) -> (usize, usize) {
    use impostor_corpus::gen::timeline::{ATTACK_KINDS, HARD_HAM_KINDS, ORDINARY_KINDS};
    let (rank, list) = match class {
        "attack" => (0, ATTACK_KINDS),
        "hard ham" => (1, HARD_HAM_KINDS),
        _ => (2, ORDINARY_KINDS),
    };
    (
        rank,
        list.iter().position(|k| *k == kind).unwrap_or(list.len()),
    )
}

/// The per-scenario table of the replayed timelines and each source's
/// summary, sorted by source, then attacks, hard ham and ordinary ham.
/// Timeline items without a kind (a labels file without the column) are
/// left out; no timeline items, no rows.
pub fn scenarios(
    items: &[Item],
    scores: &[DetectorScores],
) -> (Vec<ScenarioRow>, Vec<ScenarioSummary>) {
    let (impostor, peers) = decisions(items, scores);
    let timeline: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].in_timeline())
        .collect();
    let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for &i in &timeline {
        if let Some(kind) = &items[i].kind {
            groups
                .entry((items[i].source.as_str(), kind.as_str()))
                .or_default()
                .push(i);
        }
    }
    let mut rows: Vec<ScenarioRow> = groups
        .iter()
        .map(|((source, kind), members)| ScenarioRow {
            source: source.to_string(),
            kind: kind.to_string(),
            class: scenario_class(kind, members.iter().any(|&i| items[i].attack)).into(),
            messages: members.len() as u64,
            impostor: impostor.as_deref().map(|f| share(members, f)),
            peers: peers
                .iter()
                .map(|(name, f)| (name.to_string(), share(members, f)))
                .collect(),
        })
        .collect();
    rows.sort_by(|a, b| {
        (
            a.source.as_str(),
            scenario_order(&a.kind, &a.class),
            a.kind.as_str(),
        )
            .cmp(&(
                b.source.as_str(),
                scenario_order(&b.kind, &b.class),
                b.kind.as_str(),
            ))
    });
    let mut sources: Vec<&str> = timeline.iter().map(|&i| items[i].source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let summaries = sources
        .into_iter()
        .map(|source| {
            let of = |keep: &dyn Fn(&Item) -> bool| -> Vec<usize> {
                timeline
                    .iter()
                    .copied()
                    .filter(|&i| items[i].source == source && keep(&items[i]))
                    .collect()
            };
            let compromise = of(&|it| {
                it.attack && it.technique.as_deref() == Some(Technique::AccountCompromise.code())
            });
            let hard = of(&|it| {
                !it.attack
                    && it
                        .kind
                        .as_deref()
                        .is_some_and(|k| scenario_class(k, false) == "hard ham")
            });
            ScenarioSummary {
                source: source.to_string(),
                account_compromise_detected: impostor.as_deref().map(|f| share(&compromise, f)),
                hard_ham_flagged: impostor.as_deref().map(|f| share(&hard, f)),
            }
        })
        .collect();
    (rows, summaries)
}

/// Bootstrap draws for the overall AUC interval, and its seed: fixed, so
/// a report reproduces.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;
/// The bootstrap's seed.
pub const BOOTSTRAP_SEED: u64 = 7;

/// The scores with errors ranked lowest.
fn ranked_scores(d: &DetectorScores) -> Vec<f64> {
    d.scores
        .iter()
        .map(|s| s.filter(|v| !v.is_nan()).unwrap_or(f64::NEG_INFINITY))
        .collect()
}

/// The threshold above which at most `rate` of the ham scores lie: flag
/// when `score > cut`. Ties at the cut stay unflagged, so the rate is
/// never exceeded. `None` without ham.
pub fn matched_cut(ham_scores: &[f64], rate: f64) -> Option<f64> {
    if ham_scores.is_empty() {
        return None;
    }
    let mut desc: Vec<f64> = ham_scores.to_vec();
    desc.sort_by(|a, b| b.total_cmp(a));
    let allowed = ((rate * desc.len() as f64) + 1e-9).floor() as usize;
    Some(if allowed >= desc.len() {
        f64::NEG_INFINITY
    } else {
        desc[allowed]
    })
}

/// Counts of a slice, given each member's flag.
pub fn slice_metrics<'a>(members: impl Iterator<Item = (&'a Item, bool, bool)>) -> SliceMetrics {
    let (mut ham, mut attacks, mut fp, mut tp, mut errors, mut n) = (0, 0, 0, 0, 0, 0);
    for (item, flagged, error) in members {
        n += 1;
        errors += u64::from(error);
        if item.attack {
            attacks += 1;
            tp += u64::from(flagged);
        } else {
            ham += 1;
            fp += u64::from(flagged);
        }
    }
    let detection_rate = Rate::new(tp, attacks);
    let false_positive_rate = Rate::new(fp, ham);
    let precision = Rate::new(tp, tp + fp);
    let f1 = match (precision.value, detection_rate.value) {
        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    };
    SliceMetrics {
        messages: n,
        ham,
        attacks,
        errors,
        false_positives: fp,
        detected: tp,
        false_positives_per_million: false_positive_rate.per_million(),
        detection_rate,
        false_positive_rate,
        precision,
        f1,
    }
}

/// The technique slice an attack belongs to.
pub fn technique_key(item: &Item) -> String {
    item.technique.clone().unwrap_or_else(|| "none".into())
}

fn origin_key(item: &Item) -> String {
    if item.synthetic { "synthetic" } else { "real" }.into()
}

/// Ranking of the items selected by `keep`; a one-class slice is ranked
/// against the other class of all items.
fn ranking_of(
    items: &[Item],
    scores: &[f64],
    keep: impl Fn(&Item) -> bool,
    resamples: usize,
) -> RankingMetrics {
    let selected: Vec<usize> = (0..items.len()).filter(|&i| keep(&items[i])).collect();
    let has = |attack: bool| selected.iter().any(|&i| items[i].attack == attack);
    let (with_attacks, with_ham) = (has(true), has(false));
    let chosen: Vec<usize> = (0..items.len())
        .filter(|&i| {
            let inside = keep(&items[i]);
            inside
                || (items[i].attack && !with_attacks && with_ham)
                || (!items[i].attack && !with_ham && with_attacks)
        })
        .collect();
    let s: Vec<f64> = chosen.iter().map(|&i| scores[i]).collect();
    let y: Vec<bool> = chosen.iter().map(|&i| items[i].attack).collect();
    RankingMetrics {
        roc_auc: roc_auc(&s, &y),
        roc_auc_ci95: if resamples > 0 {
            bootstrap_auc(&s, &y, resamples, BOOTSTRAP_SEED)
        } else {
            None
        },
        pr_auc: average_precision(&s, &y),
        pr_auc_ci95: if resamples > 0 {
            bootstrap_average_precision(&s, &y, resamples, BOOTSTRAP_SEED)
        } else {
            None
        },
    }
}

/// Every metric of one detector over `items` (in the same order as its
/// scores), at the operating points of `specs` that apply to it.
pub fn detector_metrics(
    items: &[Item],
    d: &DetectorScores,
    specs: &[PointSpec],
) -> DetectorMetrics {
    let scores = ranked_scores(d);
    let errors: Vec<bool> = d.errors.iter().map(Option::is_some).collect();
    let ham: Vec<f64> = items
        .iter()
        .zip(&scores)
        .filter(|(i, _)| !i.attack)
        .map(|(_, s)| *s)
        .collect();
    let mut points = Vec::new();
    for spec in specs {
        let (threshold, flags): (Option<f64>, Vec<bool>) = match spec.cut {
            Cut::Native => {
                if !d.flagged.iter().any(Option::is_some) {
                    continue;
                }
                (None, d.flagged.iter().map(|f| f.unwrap_or(false)).collect())
            }
            Cut::AtLeast(t) => (Some(t), scores.iter().map(|s| *s >= t).collect()),
            Cut::MatchedFpr(rate) => {
                let Some(cut) = matched_cut(&ham, rate) else {
                    continue;
                };
                (Some(cut), scores.iter().map(|s| *s > cut).collect())
            }
        };
        let slice = |keep: &dyn Fn(&Item) -> bool| {
            slice_metrics(
                items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| keep(it))
                    .map(|(i, it)| (it, flags[i], errors[i])),
            )
        };
        let keys = |key: &dyn Fn(&Item) -> Option<String>| -> BTreeMap<String, SliceMetrics> {
            let mut names: Vec<String> = items.iter().filter_map(key).collect();
            names.sort();
            names.dedup();
            names
                .into_iter()
                .map(|k| {
                    let m = slice(&|it| key(it).as_deref() == Some(k.as_str()));
                    (k, m)
                })
                .collect()
        };
        points.push(PointMetrics {
            name: spec.name.clone(),
            threshold,
            overall: slice(&|_| true),
            by_source: keys(&|it| Some(it.source.clone())),
            by_technique: keys(&|it| it.attack.then(|| technique_key(it))),
            by_label: keys(&|it| Some(it.label.clone())),
            by_origin: keys(&|it| Some(origin_key(it))),
        });
    }
    let mut techniques: Vec<String> = items
        .iter()
        .filter(|i| i.attack)
        .map(technique_key)
        .collect();
    techniques.sort();
    techniques.dedup();
    let mut sources: Vec<String> = items.iter().map(|i| i.source.clone()).collect();
    sources.sort();
    sources.dedup();
    let n_errors = errors.iter().filter(|e| **e).count() as u64;
    DetectorMetrics {
        name: d.name.clone(),
        description: d.description.clone(),
        is_peer: d.is_peer,
        messages: items.len() as u64,
        errors: n_errors,
        error_examples: d.errors.iter().flatten().take(3).cloned().collect(),
        messages_per_second: (d.busy_seconds > 0.0).then(|| items.len() as f64 / d.busy_seconds),
        ranking: ranking_of(items, &scores, |_| true, BOOTSTRAP_RESAMPLES),
        ranking_by_technique: techniques
            .into_iter()
            .map(|t| {
                let r = ranking_of(items, &scores, |i| i.attack && technique_key(i) == t, 200);
                (t, r)
            })
            .collect(),
        ranking_by_source: sources
            .into_iter()
            .map(|s| {
                let r = ranking_of(items, &scores, |i| i.source == s, 200);
                (s, r)
            })
            .collect(),
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, source: &str, attack: bool, technique: Option<&str>) -> Item {
        Item {
            id: id.into(),
            source: source.into(),
            label: if attack { "phish" } else { "ham" }.into(),
            attack,
            technique: technique.map(str::to_string),
            synthetic: technique.is_some(),
            kind: None,
            carrier: None,
        }
    }

    fn scored(scores: &[Option<f64>], flagged: &[Option<bool>]) -> DetectorScores {
        DetectorScores {
            name: "d".into(),
            scores: scores.to_vec(),
            flagged: flagged.to_vec(),
            hits: vec![Vec::new(); scores.len()],
            errors: scores
                .iter()
                .map(|s| s.is_none().then(|| "down".to_string()))
                .collect(),
            busy_seconds: 2.0,
            ..DetectorScores::default()
        }
    }

    #[test]
    fn the_member_is_the_id_without_its_source_and_mbox_index() {
        let mut it = item("gen:timeline/000123.eml", "gen", false, None);
        assert_eq!(it.member(), Some("timeline/000123.eml"));
        assert!(it.in_timeline());
        it.id = "lists:old.mbox#17".into();
        it.source = "lists".into();
        assert_eq!(it.member(), Some("old.mbox"));
        assert!(!it.in_timeline());
        // A `#` that is no index stays; an id of another source has none.
        it.id = "lists:a#b".into();
        assert_eq!(it.member(), Some("a#b"));
        it.source = "gen".into();
        assert_eq!(it.member(), None);
    }

    #[test]
    fn carriers_table_real_mail_by_source_class_and_carrier_attacks_first() {
        let real = |n: u32, attack: bool, carrier: Option<&str>| {
            let mut it = item(&format!("pot:{n}.eml"), "pot", attack, None);
            it.carrier = carrier.map(str::to_string);
            it
        };
        let mut generated = item("gen:1.eml", "gen", true, Some("lookalike_domain"));
        generated.carrier = Some("qr_code".into());
        let items = vec![
            real(1, true, Some("body_link")),
            real(2, true, Some("qr_code")),
            real(3, true, Some("qr_code")),
            real(4, false, Some("pdf")),
            real(5, true, None),
            generated,
        ];
        let flags = [true, true, false, true, true, true].map(Some);
        let mut impostor = scored(&[Some(0.5); 6], &flags);
        impostor.name = IMPOSTOR.into();
        let rows = carriers(&items, &[impostor]);
        let seen: Vec<(&str, &str, u64)> = rows
            .iter()
            .map(|r| (r.class.as_str(), r.carrier.as_str(), r.messages))
            .collect();
        // Body links before QR codes (table order), attacks before ham; the
        // generated message and the unparsable one are left out.
        assert_eq!(
            seen,
            [
                ("attack", "body_link", 1),
                ("attack", "qr_code", 2),
                ("ham", "pdf", 1)
            ]
        );
        let qr = rows[1].impostor.unwrap();
        assert_eq!((qr.count, qr.total), (1, 2));
    }

    #[test]
    fn scenarios_count_each_timeline_kind_and_sort_attacks_first() {
        let timeline = |n: u32, source: &str, kind: Option<&str>, attack: bool| {
            let technique = attack.then_some("account_compromise");
            let mut it = item(
                &format!("{source}:timeline/{n:06}.eml"),
                source,
                attack,
                technique,
            );
            it.kind = kind.map(str::to_string);
            it
        };
        let mut other = item("gen:ham/000001.eml", "gen", false, None);
        other.kind = Some("it_notice".into());
        let items = vec![
            timeline(1, "gen", Some("internal"), false),
            timeline(2, "gen", Some("it_notice"), false),
            timeline(3, "gen", Some("takeover_odd_hours"), true),
            timeline(4, "gen", Some("takeover_new_network"), true),
            timeline(5, "gen", Some("it_notice"), false),
            timeline(6, "gen", Some("takeover_new_network"), true),
            timeline(7, "gen", None, false),
            other,
        ];
        let flags = [false, true, false, true, false, false, true, true].map(Some);
        let mut impostor = scored(&[Some(0.5); 8], &flags);
        impostor.name = IMPOSTOR.into();
        let mut peer = scored(&[Some(0.5); 8], &[Some(true); 8]);
        peer.name = "spamassassin".into();
        peer.is_peer = true;
        let (rows, summaries) = scenarios(&items, &[peer.clone(), impostor]);
        let seen: Vec<(&str, &str, u64)> = rows
            .iter()
            .map(|r| (r.kind.as_str(), r.class.as_str(), r.messages))
            .collect();
        assert_eq!(
            seen,
            [
                ("takeover_new_network", "attack", 2),
                ("takeover_odd_hours", "attack", 1),
                ("it_notice", "hard ham", 2),
                ("internal", "ham", 1),
            ]
        );
        let takeover = rows[0].impostor.unwrap();
        assert_eq!((takeover.count, takeover.total), (1, 2));
        assert_eq!(rows[2].impostor.unwrap().count, 1);
        assert_eq!(rows[0].peers["spamassassin"].count, 2);
        assert_eq!(summaries.len(), 1);
        let s = &summaries[0];
        let compromise = s.account_compromise_detected.unwrap();
        let hard = s.hard_ham_flagged.unwrap();
        assert_eq!((compromise.count, compromise.total), (1, 3));
        assert_eq!((hard.count, hard.total), (1, 2));
        // Without Impostor, the rows stay and its rates are absent; without
        // timeline items, nothing.
        let (rows, summaries) = scenarios(&items, &[peer]);
        assert_eq!((rows.len(), rows[0].impostor), (4, None));
        assert_eq!(summaries[0].hard_ham_flagged, None);
        let (rows, summaries) = scenarios(&items[7..], &[]);
        assert!(rows.is_empty() && summaries.is_empty());
    }

    #[test]
    fn counts_rates_and_f1_by_hand() {
        // Ham: 0.1, 0.9 (a false positive at 0.5), 0.3; attacks: 0.8
        // (lookalike), 0.2 (lookalike, missed), 0.7 (real).
        let items = vec![
            item("h1", "a", false, None),
            item("h2", "a", false, None),
            item("h3", "b", false, None),
            item("x1", "g", true, Some("lookalike_domain")),
            item("x2", "g", true, Some("lookalike_domain")),
            item("x3", "p", true, None),
        ];
        let s = [0.1, 0.9, 0.3, 0.8, 0.2, 0.7].map(Some);
        let d = scored(&s, &[None; 6]);
        let m = detector_metrics(
            &items,
            &d,
            &[
                PointSpec {
                    name: "half".into(),
                    cut: Cut::AtLeast(0.5),
                },
                PointSpec {
                    name: "native".into(),
                    cut: Cut::Native,
                },
            ],
        );
        // No native decisions: that point is left out.
        assert_eq!(m.points.len(), 1);
        let o = &m.points[0].overall;
        assert_eq!(
            (o.ham, o.attacks, o.false_positives, o.detected),
            (3, 3, 1, 2)
        );
        assert_eq!(o.detection_rate.value, Some(2.0 / 3.0));
        assert_eq!(o.false_positive_rate.value, Some(1.0 / 3.0));
        assert_eq!(o.precision.value, Some(2.0 / 3.0));
        assert!((o.f1.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((o.false_positives_per_million.unwrap() - 333_333.333).abs() < 0.01);
        let t = &m.points[0].by_technique;
        assert_eq!(t["lookalike_domain"].detected, 1);
        assert_eq!(t["lookalike_domain"].attacks, 2);
        assert_eq!(t["none"].detected, 1);
        // A ham-only slice has no detection rate and no F1, not a zero.
        let a = &m.points[0].by_source["a"];
        assert_eq!((a.detection_rate.value, a.f1), (None, None));
        assert_eq!(a.false_positive_rate.value, Some(0.5));
        // AUC: pairs attack > ham: 0.8 beats 0.1, 0.3; 0.2 beats 0.1;
        // 0.7 beats 0.1, 0.3: 5 of 9.
        assert!((m.ranking.roc_auc.unwrap() - 5.0 / 9.0).abs() < 1e-12);
        // Technique slice: lookalike attacks (0.8, 0.2) against all ham:
        // 0.8 beats 2, 0.2 beats 1: 3 of 6.
        assert!((m.ranking_by_technique["lookalike_domain"].roc_auc.unwrap() - 0.5).abs() < 1e-12);
        // Source slice a (ham only): all attacks against its ham 0.1, 0.9:
        // 0.8, 0.2, 0.7 each beat 0.1, none beats 0.9: 3 of 6.
        assert!((m.ranking_by_source["a"].roc_auc.unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(m.messages_per_second, Some(3.0));
    }

    #[test]
    fn matched_cut_never_exceeds_its_rate_even_with_ties() {
        // Ten ham, three tied at the top: 10% allows one, but flagging
        // one of three tied scores is impossible, so none is flagged.
        let ham = [0.9, 0.9, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -1.0];
        assert_eq!(matched_cut(&ham, 0.1), Some(0.9));
        // 30% allows the three tied ones: the cut drops to the next score.
        assert_eq!(matched_cut(&ham, 0.3), Some(0.5));
        assert_eq!(matched_cut(&ham, 1.0), Some(f64::NEG_INFINITY));
        assert_eq!(matched_cut(&[], 0.1), None);
        let items: Vec<Item> = (0..10)
            .map(|i| item(&format!("h{i}"), "a", false, None))
            .chain([item("x", "a", true, None)])
            .collect();
        let mut s: Vec<Option<f64>> = ham.iter().copied().map(Some).collect();
        s.push(Some(0.9));
        let m = detector_metrics(
            &items,
            &scored(&s, &[None; 11]),
            &[PointSpec {
                name: "fpr".into(),
                cut: Cut::MatchedFpr(0.1),
            }],
        );
        let o = &m.points[0].overall;
        // The attack ties the top ham and is not flagged either.
        assert_eq!((o.false_positives, o.detected), (0, 0));
        // Tied attack against three of ten ham: 7 wins, 3 ties → 0.85.
        assert!((m.ranking.roc_auc.unwrap() - 0.85).abs() < 1e-12);
    }

    #[test]
    fn empty_classes_and_errors() {
        // Only ham, one error: no AUC, no detection rate; the error is
        // counted and never a false positive.
        let items = vec![item("h1", "a", false, None), item("h2", "a", false, None)];
        let d = scored(&[Some(0.7), None], &[Some(true), None]);
        let m = detector_metrics(
            &items,
            &d,
            &[PointSpec {
                name: "native".into(),
                cut: Cut::Native,
            }],
        );
        assert_eq!(m.ranking.roc_auc, None);
        assert_eq!(m.ranking.roc_auc_ci95, None);
        assert_eq!(m.errors, 1);
        let o = &m.points[0].overall;
        assert_eq!((o.false_positives, o.errors), (1, 1));
        assert_eq!(o.detection_rate.value, None);
        assert!(m.points[0].by_technique.is_empty());
        // No items at all: nothing panics, nothing is invented.
        let m = detector_metrics(
            &[],
            &scored(&[], &[]),
            &[PointSpec {
                name: "fpr".into(),
                cut: Cut::MatchedFpr(0.01),
            }],
        );
        assert!(m.points.is_empty());
        assert_eq!(m.ranking.roc_auc, None);
        // An attack the detector failed on ranks lowest: below ham 0.1.
        let items = vec![item("h", "a", false, None), item("x", "a", true, None)];
        let m = detector_metrics(&items, &scored(&[Some(0.1), None], &[None, None]), &[]);
        assert_eq!(m.ranking.roc_auc, Some(0.0));
    }
}
