//! Ranking metrics: ROC AUC, precision-recall (average precision), their
//! curves, and a bootstrap interval for AUC.
//!
//! Scores are "higher means more likely an attack"; `positive[i]` says
//! whether message i is one. Tied scores are one threshold: a curve never
//! steps between messages a detector cannot tell apart, and AUC counts a
//! tied positive–negative pair as half. Every function answers `None` when
//! a class is empty (no AUC exists) rather than a number that looks real.

use crate::stats::rates::Interval;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// ROC AUC: the probability that a random attack scores above a random
/// ham, ties counting half (Mann–Whitney U over mid-ranks).
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    if scores.len() != positive.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]));
    let (mut rank_sum, mut n_pos) = (0.0, 0usize);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if positive[k] {
                rank_sum += mean_rank;
                n_pos += 1;
            }
        }
        i = j + 1;
    }
    let n_neg = scores.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos * n_neg) as f64)
}

/// One threshold of a curve: everything scoring at least `threshold` is
/// flagged.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct CurvePoint {
    /// A distinct score of the data.
    pub threshold: f64,
    /// Attacks scoring at least `threshold`.
    pub true_positives: u64,
    /// Ham scoring at least `threshold`.
    pub false_positives: u64,
}

/// The counts at every distinct score, from the highest threshold down.
pub fn curve(scores: &[f64], positive: &[bool]) -> Vec<CurvePoint> {
    let mut order: Vec<usize> = (0..scores.len().min(positive.len())).collect();
    order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut i = 0;
    while i < order.len() {
        let t = scores[order[i]];
        while i < order.len() && scores[order[i]] == t {
            if positive[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        points.push(CurvePoint {
            threshold: t,
            true_positives: tp,
            false_positives: fp,
        });
    }
    points
}

/// The ROC curve as (false-positive rate, true-positive rate) pairs,
/// starting at (0, 0); None when a class is empty.
pub fn roc_curve(scores: &[f64], positive: &[bool]) -> Option<Vec<(f64, f64)>> {
    let (p, n) = class_sizes(positive);
    if p == 0 || n == 0 {
        return None;
    }
    let mut out = vec![(0.0, 0.0)];
    out.extend(curve(scores, positive).iter().map(|c| {
        (
            c.false_positives as f64 / n as f64,
            c.true_positives as f64 / p as f64,
        )
    }));
    Some(out)
}

/// The precision-recall curve as (recall, precision) pairs, one per
/// distinct score; None without attacks.
pub fn pr_curve(scores: &[f64], positive: &[bool]) -> Option<Vec<(f64, f64)>> {
    let (p, _) = class_sizes(positive);
    if p == 0 {
        return None;
    }
    Some(
        curve(scores, positive)
            .iter()
            .map(|c| {
                let flagged = c.true_positives + c.false_positives;
                (
                    c.true_positives as f64 / p as f64,
                    c.true_positives as f64 / flagged as f64,
                )
            })
            .collect(),
    )
}

/// PR AUC as average precision: Σ (recallₖ − recallₖ₋₁) · precisionₖ over
/// the distinct thresholds (no interpolation). None without attacks, or
/// without ham (every ranking would be perfect).
pub fn average_precision(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let (_, n) = class_sizes(positive);
    if n == 0 {
        return None;
    }
    let points = pr_curve(scores, positive)?;
    let mut previous_recall = 0.0;
    let mut ap = 0.0;
    for (recall, precision) in points {
        ap += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Some(ap)
}

fn class_sizes(positive: &[bool]) -> (usize, usize) {
    let p = positive.iter().filter(|x| **x).count();
    (p, positive.len() - p)
}

/// A 95% percentile-bootstrap interval for ROC AUC: `resamples` draws of
/// the attacks and of the ham, each with replacement and at its own size
/// (so every draw has both classes), from a seeded generator.
pub fn bootstrap_auc(
    scores: &[f64],
    positive: &[bool],
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    bootstrap(scores, positive, resamples, seed, roc_auc)
}

/// The same percentile bootstrap for PR AUC (average precision).
pub fn bootstrap_average_precision(
    scores: &[f64],
    positive: &[bool],
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    bootstrap(scores, positive, resamples, seed, average_precision)
}

/// A stratified percentile bootstrap of `statistic`.
fn bootstrap(
    scores: &[f64],
    positive: &[bool],
    resamples: usize,
    seed: u64,
    statistic: fn(&[f64], &[bool]) -> Option<f64>,
) -> Option<Interval> {
    if resamples == 0 || scores.len() != positive.len() {
        return None;
    }
    let pos: Vec<f64> = (0..scores.len())
        .filter(|&i| positive[i])
        .map(|i| scores[i])
        .collect();
    let neg: Vec<f64> = (0..scores.len())
        .filter(|&i| !positive[i])
        .map(|i| scores[i])
        .collect();
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(resamples);
    let mut s = Vec::with_capacity(scores.len());
    let mut y = Vec::with_capacity(scores.len());
    for _ in 0..resamples {
        s.clear();
        y.clear();
        for _ in 0..pos.len() {
            s.push(pos[rng.gen_range(0..pos.len())]);
            y.push(true);
        }
        for _ in 0..neg.len() {
            s.push(neg[rng.gen_range(0..neg.len())]);
            y.push(false);
        }
        values.push(statistic(&s, &y)?);
    }
    values.sort_by(f64::total_cmp);
    let at =
        |q: f64| values[((q * (values.len() - 1) as f64).round() as usize).min(values.len() - 1)];
    Some(Interval {
        low: at(0.025),
        high: at(0.975),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    #[test]
    fn auc_by_hand() {
        // Attacks 0.9, 0.4; ham 0.7, 0.2. Pairs: (0.9>0.7) (0.9>0.2)
        // (0.4<0.7) (0.4>0.2): 3 of 4.
        let s = [0.9, 0.7, 0.4, 0.2];
        let y = [true, false, true, false];
        assert!((roc_auc(&s, &y).unwrap() - 0.75).abs() < EPS);
        // Perfect and reversed.
        assert_eq!(roc_auc(&[0.9, 0.1], &[true, false]), Some(1.0));
        assert_eq!(roc_auc(&[0.1, 0.9], &[true, false]), Some(0.0));
    }

    #[test]
    fn ties_count_half() {
        // One attack and one ham tied at 0.5, one ham below: the tie is
        // half a pair, the other pair whole: (0.5 + 1) / 2.
        let s = [0.5, 0.5, 0.1];
        let y = [true, false, false];
        assert!((roc_auc(&s, &y).unwrap() - 0.75).abs() < EPS);
        // Everything tied: a coin.
        assert!((roc_auc(&[0.3; 4], &[true, true, false, false]).unwrap() - 0.5).abs() < EPS);
        // A tie is one point of the curve, never a step inside it.
        let c = curve(&s, &y);
        assert_eq!(
            c,
            [
                CurvePoint {
                    threshold: 0.5,
                    true_positives: 1,
                    false_positives: 1
                },
                CurvePoint {
                    threshold: 0.1,
                    true_positives: 1,
                    false_positives: 2
                },
            ]
        );
    }

    #[test]
    fn empty_classes_have_no_auc() {
        assert_eq!(roc_auc(&[0.2, 0.8], &[true, true]), None);
        assert_eq!(roc_auc(&[0.2, 0.8], &[false, false]), None);
        assert_eq!(roc_auc(&[], &[]), None);
        assert_eq!(roc_curve(&[0.2], &[false]), None);
        assert_eq!(pr_curve(&[0.2], &[false]), None);
        assert_eq!(average_precision(&[0.2, 0.8], &[true, true]), None);
        assert_eq!(bootstrap_auc(&[0.2, 0.8], &[true, true], 100, 1), None);
        assert_eq!(roc_auc(&[0.2], &[true, false]), None, "lengths differ");
    }

    #[test]
    fn roc_and_pr_curves_by_hand() {
        let s = [0.9, 0.7, 0.4, 0.2];
        let y = [true, false, true, false];
        assert_eq!(
            roc_curve(&s, &y).unwrap(),
            [(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
        );
        let pr = pr_curve(&s, &y).unwrap();
        assert_eq!(pr[0], (0.5, 1.0));
        assert_eq!(pr[1], (0.5, 0.5));
        assert!((pr[2].1 - 2.0 / 3.0).abs() < EPS && pr[2].0 == 1.0);
        // AP = 0.5 · 1 + 0 · 0.5 + 0.5 · 2/3 = 5/6.
        assert!((average_precision(&s, &y).unwrap() - 5.0 / 6.0).abs() < EPS);
        // Ties: attack and ham tied at the top give precision 1/2 at recall 1.
        assert!((average_precision(&[0.5, 0.5], &[true, false]).unwrap() - 0.5).abs() < EPS);
    }

    #[test]
    fn bootstrap_interval_holds_the_auc_and_repeats_by_seed() {
        let s: Vec<f64> = (0..200).map(|i| (i as f64 * 0.37).sin()).collect();
        let y: Vec<bool> = (0..200)
            .map(|i| (i as f64 * 0.37).sin() + ((i % 7) as f64 - 3.0) * 0.2 > 0.0)
            .collect();
        let auc = roc_auc(&s, &y).unwrap();
        let ci = bootstrap_auc(&s, &y, 500, 7).unwrap();
        assert!(ci.low <= auc && auc <= ci.high, "{auc} outside {ci:?}");
        assert!(ci.high - ci.low > 0.0 && ci.high - ci.low < 0.3);
        assert_eq!(bootstrap_auc(&s, &y, 500, 7), Some(ci));
        // A perfect ranking stays perfect in every draw.
        let ci = bootstrap_auc(&[0.9, 0.8, 0.1], &[true, true, false], 50, 1).unwrap();
        assert_eq!((ci.low, ci.high), (1.0, 1.0));
        // The same for average precision, and it brackets its estimate.
        let ap = average_precision(&s, &y).unwrap();
        let ci = bootstrap_average_precision(&s, &y, 500, 7).unwrap();
        assert!(ci.low <= ap && ap <= ci.high, "{ap} outside {ci:?}");
        let ci =
            bootstrap_average_precision(&[0.9, 0.8, 0.1], &[true, true, false], 50, 1).unwrap();
        assert_eq!((ci.low, ci.high), (1.0, 1.0));
        assert_eq!(bootstrap_average_precision(&[0.1], &[true], 10, 1), None);
    }
}
