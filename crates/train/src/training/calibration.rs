//! Platt scaling of the two parts' log-odds, fitted on out-of-fold scores:
//! `p = σ(a · rules + b · classifier + c)`.

use crate::error::TrainError;
use impostor_model::model::sigmoid;

/// Fitted coefficients `[a, b, c]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Platt {
    /// Weight of the rules' log-odds.
    pub rules_coef: f64,
    /// Weight of the classifier's log-odds.
    pub classifier_coef: f64,
    /// The intercept.
    pub offset: f64,
}

/// Fits Platt scaling by Newton's method with step halving, each row
/// counting `w[i]` (the source balance). Targets are Platt's smoothed ones,
/// (N₊ + 1) / (N₊ + 2) and 1 / (N₋ + 2) over the weighted counts, so that
/// separable scores still give finite coefficients. Both slopes stay at or
/// above zero (a slope that would turn negative is held at zero and the
/// rest refitted): a part's log-odds never lowers the calibrated score,
/// which keeps the score as monotone as the parts are.
pub fn fit_platt(inputs: &[(f64, f64)], y: &[bool], w: &[f64]) -> Result<Platt, TrainError> {
    let n_pos: f64 = y.iter().zip(w).filter(|(v, _)| **v).map(|(_, w)| w).sum();
    let n_neg: f64 = y.iter().zip(w).filter(|(v, _)| !**v).map(|(_, w)| w).sum();
    if inputs.len() != y.len() || w.len() != y.len() || n_pos <= 0.0 || n_neg <= 0.0 {
        return Err(TrainError::Invalid(
            "calibration needs out-of-fold scores of both ham and attacks".into(),
        ));
    }
    let mut free = [true, true];
    loop {
        let theta = newton(inputs, y, w, (n_pos, n_neg), free)?;
        match (0..2).find(|&i| free[i] && theta[i] < 0.0) {
            Some(i) => free[i] = false,
            None => {
                return Ok(Platt {
                    rules_coef: theta[0],
                    classifier_coef: theta[1],
                    offset: theta[2],
                })
            }
        }
    }
}

/// Weighted Platt fit with the slopes not `free` held at zero.
fn newton(
    inputs: &[(f64, f64)],
    y: &[bool],
    w: &[f64],
    (n_pos, n_neg): (f64, f64),
    free: [bool; 2],
) -> Result<[f64; 3], TrainError> {
    let t_pos = (n_pos + 1.0) / (n_pos + 2.0);
    let t_neg = 1.0 / (n_neg + 2.0);
    let target = |v: bool| if v { t_pos } else { t_neg };
    let mask = [
        if free[0] { 1.0 } else { 0.0 },
        if free[1] { 1.0 } else { 0.0 },
        1.0,
    ];
    // A whisper of ridge keeps the Hessian invertible when the parts agree.
    const RIDGE: f64 = 1e-9;
    let loss = |theta: &[f64; 3]| -> f64 {
        let mut l = 0.0;
        for (((r, c), &v), &wi) in inputs.iter().zip(y).zip(w) {
            let z = theta[0] * r + theta[1] * c + theta[2];
            let t = target(v);
            // −[t ln p + (1 − t) ln(1 − p)], stably.
            l += wi
                * if z >= 0.0 {
                    (1.0 - t) * z + (-z).exp().ln_1p()
                } else {
                    -t * z + z.exp().ln_1p()
                };
        }
        l + 0.5 * RIDGE * (theta[0] * theta[0] + theta[1] * theta[1])
    };
    let mut theta = [mask[0], mask[1], 0.0];
    let mut current = loss(&theta);
    for _ in 0..100 {
        let mut g = [RIDGE * theta[0], RIDGE * theta[1], 0.0];
        let mut h = [[RIDGE, 0.0, 0.0], [0.0, RIDGE, 0.0], [0.0, 0.0, 1e-12]];
        for (((r, c), &v), &wi) in inputs.iter().zip(y).zip(w) {
            let x = [*r * mask[0], *c * mask[1], 1.0];
            let p = sigmoid(theta[0] * r + theta[1] * c + theta[2]);
            let e = wi * (p - target(v));
            let s = wi * p * (1.0 - p);
            for i in 0..3 {
                g[i] += e * x[i];
                for j in 0..3 {
                    h[i][j] += s * x[i] * x[j];
                }
            }
        }
        let Some(step) = solve3(h, g) else { break };
        let mut scale = 1.0;
        let mut improved = false;
        while scale > 1e-10 {
            let next = [
                theta[0] - scale * step[0] * mask[0],
                theta[1] - scale * step[1] * mask[1],
                theta[2] - scale * step[2],
            ];
            let l = loss(&next);
            if l <= current {
                let gain = current - l;
                theta = next;
                current = l;
                improved = gain > 1e-12 * current.max(1.0);
                break;
            }
            scale /= 2.0;
        }
        if !improved {
            break;
        }
    }
    if !theta.iter().all(|t| t.is_finite()) {
        return Err(TrainError::Invalid("calibration did not converge".into()));
    }
    Ok(theta)
}

/// Solves the 3×3 system by Gaussian elimination with partial pivoting.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..3 {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let s: f64 = (row + 1..3).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Reliability by decile of predicted probability: (mean predicted,
/// observed frequency, count) for each non-empty decile.
pub fn reliability(probabilities: &[f64], y: &[bool]) -> Vec<(f64, f64, usize)> {
    let mut bins = vec![(0.0, 0.0, 0usize); 10];
    for (p, &v) in probabilities.iter().zip(y) {
        let b = ((p * 10.0) as usize).min(9);
        bins[b].0 += p;
        bins[b].1 += f64::from(u8::from(v));
        bins[b].2 += 1;
    }
    bins.into_iter()
        .filter(|b| b.2 > 0)
        .map(|(p, o, n)| (p / n as f64, o / n as f64, n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Two miscalibrated scores of a known logistic world: after Platt
    /// scaling, every decile's mean prediction is within 0.05 of how often
    /// its messages really are attacks, on fresh data from the same world.
    #[test]
    fn calibrated_within_five_points_per_decile() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut draw = |n: usize| {
            let mut inputs = Vec::with_capacity(n);
            let mut y = Vec::with_capacity(n);
            for _ in 0..n {
                let a: f64 = rng.gen_range(-4.0..4.0);
                let b: f64 = rng.gen_range(-4.0..4.0);
                // The truth is σ(0.6 a + 0.3 b − 0.5); the parts are
                // overconfident (×2, ×3) and shifted.
                let p = sigmoid(0.6 * a + 0.3 * b - 0.5);
                y.push(rng.gen::<f64>() < p);
                inputs.push((2.0 * a + 1.0, 3.0 * b));
            }
            (inputs, y)
        };
        let (fit_in, fit_y) = draw(200_000);
        let platt = fit_platt(&fit_in, &fit_y, &vec![1.0; fit_y.len()]).unwrap();
        let (test_in, test_y) = draw(200_000);
        let p: Vec<f64> = test_in
            .iter()
            .map(|(r, c)| sigmoid(platt.rules_coef * r + platt.classifier_coef * c + platt.offset))
            .collect();
        let table = reliability(&p, &test_y);
        assert_eq!(table.len(), 10);
        for (predicted, observed, n) in table {
            assert!(n > 1000);
            assert!(
                (predicted - observed).abs() < 0.05,
                "decile: predicted {predicted:.3}, observed {observed:.3}"
            );
        }
        assert!((platt.rules_coef - 0.3).abs() < 0.02, "{platt:?}");
        assert!((platt.classifier_coef - 0.1).abs() < 0.02, "{platt:?}");
    }

    #[test]
    fn separable_scores_give_finite_coefficients() {
        let inputs: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, -(i as f64))).collect();
        let y: Vec<bool> = (0..100).map(|i| i >= 50).collect();
        let platt = fit_platt(&inputs, &y, &[1.0; 100]).unwrap();
        assert!(platt.rules_coef.is_finite() && platt.offset.is_finite());
        // The classifier's log-odds run against the truth: its slope is
        // held at zero rather than turned negative.
        assert_eq!(platt.classifier_coef, 0.0);
        assert!(platt.rules_coef > 0.0);
        assert!(fit_platt(&inputs, &[false; 100], &[1.0; 100]).is_err());
    }

    #[test]
    fn weights_count_like_repeated_rows() {
        let inputs: Vec<(f64, f64)> = (0..60).map(|i| ((i % 7) as f64, (i % 5) as f64)).collect();
        let y: Vec<bool> = (0..60).map(|i| (i * 7919) % 11 < 5).collect();
        let w: Vec<f64> = (0..60)
            .map(|i| if i % 3 == 0 { 2.0 } else { 1.0 })
            .collect();
        let (mut rin, mut ry) = (Vec::new(), Vec::new());
        for ((x, t), wi) in inputs.iter().zip(&y).zip(&w) {
            for _ in 0..(*wi as usize) {
                rin.push(*x);
                ry.push(*t);
            }
        }
        let weighted = fit_platt(&inputs, &y, &w).unwrap();
        let repeated = fit_platt(&rin, &ry, &vec![1.0; ry.len()]).unwrap();
        assert!(
            (weighted.offset - repeated.offset).abs() < 1e-6,
            "{weighted:?} {repeated:?}"
        );
        assert!((weighted.rules_coef - repeated.rules_coef).abs() < 1e-6);
    }
}
