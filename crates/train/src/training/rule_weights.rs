//! Rule weights: L2-penalised logistic regression over rule hits, fitted by
//! cyclic coordinate descent within per-rule bounds (a projected Newton step
//! per weight): evidence and whatever the sender writes stay non-negative,
//! and rules reading a confounded feature may be capped.
//!
//! Rows that fire the same rules share one log-odds, so the fit runs over
//! the distinct patterns, each with its summed attack and ham weight: the
//! same optimum, at the cost of the patterns rather than the rows.

use crate::error::TrainError;
use std::collections::HashMap;

/// Fitted rule weights.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleFit {
    /// The intercept.
    pub intercept: f64,
    /// One weight per rule, in the rule set's order.
    pub weights: Vec<f64>,
    /// Coordinate-descent sweeps until convergence.
    pub sweeps: usize,
}

/// Validated settings of the fit (linfa style: build, then `check`).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleWeightParams {
    /// L2 penalty on the weights (not the intercept), in the units of the
    /// summed sample weights.
    pub l2: f64,
    /// Most coordinate-descent sweeps.
    pub max_sweeps: usize,
    /// Stop when no weight moved more than this in a sweep.
    pub tolerance: f64,
}

impl Default for RuleWeightParams {
    fn default() -> Self {
        RuleWeightParams {
            l2: 1.0,
            max_sweeps: 2000,
            tolerance: 1e-7,
        }
    }
}

/// Largest Newton step of one weight: keeps a sweep from overshooting on
/// nearly separable rules.
const MAX_STEP: f64 = 4.0;

fn sigmoid(z: f64) -> f64 {
    impostor_model::model::sigmoid(z)
}

/// A weight's allowed range `(lower, upper)`.
pub type Bounds = (f64, f64);

/// No constraint.
pub const UNBOUNDED: Bounds = (f64::NEG_INFINITY, f64::INFINITY);

/// At or above zero.
pub const NON_NEGATIVE: Bounds = (0.0, f64::INFINITY);

/// The rows that fire one set of rules.
struct Pattern {
    attack_weight: f64,
    ham_weight: f64,
}

impl RuleWeightParams {
    /// Refuses a penalty, sweep limit or tolerance out of range.
    pub fn check(&self) -> Result<(), TrainError> {
        if !(self.l2.is_finite() && self.l2 > 0.0) {
            return Err(TrainError::Invalid(format!(
                "the rules' L2 penalty must be positive, not {}",
                self.l2
            )));
        }
        if self.max_sweeps == 0 || self.tolerance.is_nan() || self.tolerance <= 0.0 {
            return Err(TrainError::Invalid(
                "the rule fit needs at least one sweep and a positive tolerance".into(),
            ));
        }
        Ok(())
    }

    /// Fits weights to rows (`fired[i]`: the rules row i fires, indices
    /// below `bounds.len()`), targets `y` and sample weights `w`; rule j's
    /// weight stays within `bounds[j]`.
    pub fn fit(
        &self,
        fired: &[&[u16]],
        y: &[bool],
        w: &[f64],
        bounds: &[Bounds],
    ) -> Result<RuleFit, TrainError> {
        self.check()?;
        let rules = bounds.len();
        if bounds
            .iter()
            .any(|(lo, hi)| lo.is_nan() || hi.is_nan() || lo > hi || *lo > 0.0 || *hi < 0.0)
        {
            return Err(TrainError::Invalid(
                "rule fit: each weight's bounds must hold zero".into(),
            ));
        }
        if y.len() != fired.len() || w.len() != fired.len() {
            return Err(TrainError::Invalid(
                "rule fit: rows, targets and weights disagree in length".into(),
            ));
        }
        if fired.iter().any(|f| f.iter().any(|&j| j as usize >= rules)) {
            return Err(TrainError::Invalid(
                "rule fit: a row fires an unknown rule".into(),
            ));
        }
        let total: f64 = w.iter().sum();
        let positive: f64 = y.iter().zip(w).filter(|(y, _)| **y).map(|(_, w)| w).sum();
        if fired.is_empty() || positive <= 0.0 || positive >= total {
            return Err(TrainError::Invalid(
                "rule fit: the training rows need both ham and attacks".into(),
            ));
        }
        // Distinct patterns, in order of first appearance (deterministic).
        let mut index: HashMap<&[u16], usize> = HashMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut columns: Vec<Vec<u32>> = vec![Vec::new(); rules];
        for ((f, &attack), &weight) in fired.iter().zip(y).zip(w) {
            let k = *index.entry(f).or_insert_with(|| {
                for &j in f.iter() {
                    columns[j as usize].push(patterns.len() as u32);
                }
                patterns.push(Pattern {
                    attack_weight: 0.0,
                    ham_weight: 0.0,
                });
                patterns.len() - 1
            });
            if attack {
                patterns[k].attack_weight += weight;
            } else {
                patterns[k].ham_weight += weight;
            }
        }
        // Gradient and curvature of pattern k's loss at log-odds z.
        let terms = |k: usize, z: f64| {
            let p = sigmoid(z);
            let pk = &patterns[k];
            let n = pk.attack_weight + pk.ham_weight;
            (n * p - pk.attack_weight, n * p * (1.0 - p))
        };
        // Start from the base rate: the intercept alone.
        let mut b = (positive / (total - positive)).ln();
        let mut beta = vec![0.0; rules];
        let mut z = vec![b; patterns.len()];
        let mut sweeps = 0;
        while sweeps < self.max_sweeps {
            sweeps += 1;
            let mut moved: f64 = 0.0;
            // The intercept: unpenalised, over every pattern.
            {
                let (mut g, mut h) = (0.0, 0.0);
                for (k, zk) in z.iter().enumerate() {
                    let (gk, hk) = terms(k, *zk);
                    g += gk;
                    h += hk;
                }
                let step = (-g / h.max(1e-12)).clamp(-MAX_STEP, MAX_STEP);
                b += step;
                z.iter_mut().for_each(|zi| *zi += step);
                moved = moved.max(step.abs());
            }
            for (j, members) in columns.iter().enumerate() {
                let (mut g, mut h) = (self.l2 * beta[j], self.l2);
                for &k in members {
                    let (gk, hk) = terms(k as usize, z[k as usize]);
                    g += gk;
                    h += hk;
                }
                let (lo, hi) = bounds[j];
                let next = (beta[j] - (g / h).clamp(-MAX_STEP, MAX_STEP)).clamp(lo, hi);
                let step = next - beta[j];
                if step != 0.0 {
                    for &k in members {
                        z[k as usize] += step;
                    }
                    beta[j] = next;
                }
                moved = moved.max(step.abs());
            }
            if moved < self.tolerance {
                break;
            }
        }
        Ok(RuleFit {
            intercept: b,
            weights: beta,
            sweeps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Rows whose rules fire independently and whose label is drawn from
    /// the logistic model with known weights: the fit must find them.
    #[test]
    fn recovers_known_weights_on_a_synthetic_set() {
        let truth = [2.0, -1.5, 0.0, 1.0, 3.0];
        let intercept = -2.0;
        let fire = [0.2, 0.3, 0.25, 0.4, 0.05];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        let mut fired: Vec<Vec<u16>> = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let f: Vec<u16> = (0..truth.len() as u16)
                .filter(|&j| rng.gen::<f64>() < fire[j as usize])
                .collect();
            let z = intercept + f.iter().map(|&j| truth[j as usize]).sum::<f64>();
            y.push(rng.gen::<f64>() < sigmoid(z));
            fired.push(f);
        }
        let hits: Vec<&[u16]> = fired.iter().map(Vec::as_slice).collect();
        let w = vec![1.0; n];
        let fit = RuleWeightParams::default()
            .fit(&hits, &y, &w, &[UNBOUNDED; 5])
            .unwrap();
        for (got, want) in fit.weights.iter().zip(truth) {
            assert!((got - want).abs() < 0.1, "{:?} vs {truth:?}", fit.weights);
        }
        assert!((fit.intercept - intercept).abs() < 0.1, "{}", fit.intercept);

        // Held at zero: the negative rule, when it may only be evidence of attack.
        let fit = RuleWeightParams::default()
            .fit(&hits, &y, &w, &[NON_NEGATIVE; 5])
            .unwrap();
        assert_eq!(fit.weights[1], 0.0);
        assert!(fit.weights.iter().all(|w| *w >= 0.0));

        // The others keep their order (the clamped rule's effect leaks into them).
        let weights = &fit.weights;
        assert!(
            weights[4] > weights[0]
                && weights[0] > weights[3]
                && weights[3] > 0.5
                && weights[2] < 0.1,
            "{weights:?}"
        );

        // Capped: the strongest rule stops at its upper bound.
        let mut capped = [UNBOUNDED; 5];
        capped[4] = (0.0, 1.0);
        let fit = RuleWeightParams::default()
            .fit(&hits, &y, &w, &capped)
            .unwrap();
        assert_eq!(fit.weights[4], 1.0);
        assert!((fit.weights[0] - truth[0]).abs() < 0.3, "{:?}", fit.weights);
    }

    #[test]
    fn sample_weights_count_like_repeated_rows() {
        // Row weights of 3 on attacks give the same fit as three copies.
        let fired: Vec<Vec<u16>> = vec![vec![0], vec![0], vec![], vec![1], vec![0, 1], vec![]];
        let y = [true, false, false, true, true, false];
        let hits: Vec<&[u16]> = fired.iter().map(Vec::as_slice).collect();
        let w: Vec<f64> = y.iter().map(|a| if *a { 3.0 } else { 1.0 }).collect();
        let weighted = RuleWeightParams::default()
            .fit(&hits, &y, &w, &[UNBOUNDED; 2])
            .unwrap();
        let mut rep_fired = fired.clone();
        let mut rep_y = y.to_vec();
        for (f, a) in fired.iter().zip(y) {
            if a {
                rep_fired.push(f.clone());
                rep_fired.push(f.clone());
                rep_y.push(true);
                rep_y.push(true);
            }
        }
        let rep_hits: Vec<&[u16]> = rep_fired.iter().map(Vec::as_slice).collect();
        let repeated = RuleWeightParams::default()
            .fit(&rep_hits, &rep_y, &vec![1.0; rep_y.len()], &[UNBOUNDED; 2])
            .unwrap();
        for (a, b) in weighted.weights.iter().zip(&repeated.weights) {
            assert!((a - b).abs() < 1e-5, "{weighted:?} {repeated:?}");
        }
    }

    #[test]
    fn one_class_or_bad_penalty_is_refused() {
        let hits: Vec<&[u16]> = vec![&[0], &[]];
        let err =
            RuleWeightParams::default().fit(&hits, &[false, false], &[1.0, 1.0], &[NON_NEGATIVE]);
        assert!(err.unwrap_err().to_string().contains("both"));
        let p = RuleWeightParams {
            l2: -1.0,
            ..RuleWeightParams::default()
        };
        assert!(p.check().is_err());
    }
}
