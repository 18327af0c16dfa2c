//! The source probe: can a quick classifier tell two sets of messages
//! apart by their surface alone? If it can, a detector trained on them may
//! learn the source instead of the attack, and results must be read per
//! source.
//!
//! Out-of-fold scores of an L2 logistic regression (linfa-logistic) over
//! standardised [`surface`](super::surface) features; reported as ROC AUC
//! and balanced accuracy.

use crate::error::CorpusError;
/// ROC AUC, ties counting half (the evaluation crate's, so training and
/// reports agree).
pub use impostor_model::stats::roc_auc;
use impostor_model::stats::standardiser;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// At most this many messages of each side are used: enough for a stable
/// AUC, little enough that the probe takes seconds.
const MAX_PER_SIDE: usize = 2_000;
const FOLDS: usize = 5;

/// How separable two sets are.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Separability {
    /// Messages of `a` used (at most 2 000, drawn with the seed).
    pub count_a: usize,
    /// Messages of `b` used (at most 2 000).
    pub count_b: usize,
    /// ROC AUC of out-of-fold scores: 0.5 is indistinguishable, 1.0 is
    /// perfectly told apart.
    pub auc: f64,
    /// Mean of the two classes' accuracies at probability 0.5.
    pub balanced_accuracy: f64,
}

/// Trains and scores the probe on rows of `a` (negatives) against `b`
/// (positives), with `seed` drawing the rows used. Both sides need at
/// least 5 rows (one per fold); an error says how many each has, or why
/// the fit failed.
pub fn separability(
    a: &[Vec<f64>],
    b: &[Vec<f64>],
    seed: u64,
) -> Result<Separability, CorpusError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pick = |rows: &[Vec<f64>]| {
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        idx.shuffle(&mut rng);
        idx.truncate(MAX_PER_SIDE);
        idx
    };
    let (ia, ib) = (pick(a), pick(b));
    if ia.len() < FOLDS || ib.len() < FOLDS {
        return Err(CorpusError::Probe(format!(
            "needs at least {FOLDS} messages on each side, has {} and {}",
            ia.len(),
            ib.len()
        )));
    }
    let width = a.first().map_or(0, Vec::len);
    let rows: Vec<(&Vec<f64>, bool, usize)> = ia
        .iter()
        .enumerate()
        .map(|(k, &i)| (&a[i], false, k % FOLDS))
        .chain(
            ib.iter()
                .enumerate()
                .map(|(k, &i)| (&b[i], true, k % FOLDS)),
        )
        .collect();
    let mut scores = vec![0.0; rows.len()];
    for fold in 0..FOLDS {
        let train: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].2 != fold).collect();
        let test: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].2 == fold).collect();
        let (mean, scale) = standardiser(
            train.iter().map(|&i| {
                let row = rows[i].0;
                (0..width).map(move |c| row.get(c).copied().unwrap_or(0.0))
            }),
            width,
        );
        let matrix = |idx: &[usize]| {
            let mut m = Array2::<f64>::zeros((idx.len(), width));
            for (r, &i) in idx.iter().enumerate() {
                for c in 0..width {
                    m[[r, c]] = (rows[i].0.get(c).copied().unwrap_or(0.0) - mean[c]) / scale[c];
                }
            }
            m
        };
        let targets: Array1<bool> = train.iter().map(|&i| rows[i].1).collect();
        let dataset = Dataset::new(matrix(&train), targets);
        let model = LogisticRegression::default()
            .alpha(1.0)
            .max_iterations(200)
            .fit(&dataset)
            .map_err(CorpusError::ProbeFit)?;
        let p = model.predict_probabilities(&matrix(&test));
        // linfa-logistic's "positive" class is the more numerous one of
        // the training targets, not `true`.
        let true_is_positive = model.labels().pos.class;
        for (k, &i) in test.iter().enumerate() {
            scores[i] = if true_is_positive { p[k] } else { 1.0 - p[k] };
        }
    }
    let truth: Vec<bool> = rows.iter().map(|r| r.1).collect();
    let auc = roc_auc(&scores, &truth).unwrap_or(0.5);
    let correct = |positive: bool| {
        let (hit, all) = truth
            .iter()
            .zip(&scores)
            .filter(|(t, _)| **t == positive)
            .fold((0usize, 0usize), |(h, n), (_, s)| {
                (h + usize::from((*s >= 0.5) == positive), n + 1)
            });
        hit as f64 / all.max(1) as f64
    };
    Ok(Separability {
        count_a: ia.len(),
        count_b: ib.len(),
        auc,
        balanced_accuracy: (correct(false) + correct(true)) / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(n: usize, shift: f64, seed: u64) -> Vec<Vec<f64>> {
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| vec![next() + shift, next(), next() * 3.0])
            .collect()
    }

    #[test]
    fn the_probe_separates_shifted_sets_and_not_identical_ones() {
        let far = separability(&cloud(400, 0.0, 1), &cloud(400, 2.0, 2), 7).unwrap();
        assert!(far.auc > 0.95, "{far:?}");
        assert!(far.balanced_accuracy > 0.9, "{far:?}");
        let same = separability(&cloud(400, 0.0, 3), &cloud(400, 0.0, 4), 7).unwrap();
        assert!(same.auc < 0.6, "{same:?}");
        assert!(separability(&cloud(3, 0.0, 1), &cloud(400, 0.0, 2), 7).is_err());
    }
}
