//! Detection levels: a threshold per target false-positive rate, chosen on
//! validation ham, with the rate it reached and its Wilson interval.

use crate::error::TrainError;
use impostor_model::model::OperatingPoint;
use impostor_model::stats::rates::{wilson, Z_95};
use impostor_model::stats::Interval;

/// The threshold at which at most `floor(target · n)` of `ham` scores reach
/// it: just above the ham score ranked there, so ties never push the rate
/// over its target.
pub fn threshold_at(ham: &[f64], target: f64) -> Result<f64, TrainError> {
    if ham.is_empty() {
        return Err(TrainError::Invalid(
            "levels: the validation split holds no ham to choose thresholds on".into(),
        ));
    }
    if !(target > 0.0 && target < 1.0) {
        return Err(TrainError::Invalid(format!(
            "a target false-positive rate lies strictly between 0 and 1, not {target}"
        )));
    }
    let mut sorted: Vec<f64> = ham.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = (target * sorted.len() as f64).floor() as usize;
    Ok(sorted[allowed.min(sorted.len() - 1)].next_up())
}

/// The operating point of `threshold` on validation scores.
pub fn operating_point(
    threshold: f64,
    target: f64,
    ham: &[f64],
    attacks: &[f64],
) -> OperatingPoint {
    let ham_flagged = ham.iter().filter(|s| **s >= threshold).count() as u64;
    let attacks_flagged = attacks.iter().filter(|s| **s >= threshold).count() as u64;
    let n = ham.len() as u64;
    let ci = wilson(ham_flagged, n, Z_95).map_or(
        Interval {
            low: 0.0,
            high: 1.0,
        },
        |i| Interval {
            low: i.low,
            high: i.high,
        },
    );
    OperatingPoint {
        threshold,
        target_fpr: target,
        validation_ham_flagged: ham_flagged,
        validation_ham: n,
        validation_fpr: ham_flagged as f64 / n.max(1) as f64,
        validation_fpr_ci95: ci,
        validation_attacks_flagged: attacks_flagged,
        validation_attacks: attacks.len() as u64,
        resolvable: n as f64 * target >= 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn ties_never_push_the_rate_over_target() {
        // 100 ham, ten of them tied at the top: a 1e-2 target allows one,
        // so the threshold must sit above the tie.
        let mut ham = vec![0.1; 90];
        ham.extend([0.9; 10]);
        let t = threshold_at(&ham, 1e-2).unwrap();
        assert!(t > 0.9);
        let p = operating_point(t, 1e-2, &ham, &[0.95, 0.5]);
        assert_eq!(p.validation_ham_flagged, 0);
        assert_eq!(p.validation_attacks_flagged, 1);
        assert!(p.resolvable);
        assert!(threshold_at(&[], 1e-2).is_err());
        assert!(threshold_at(&ham, 0.0).is_err());
    }

    /// Thresholds chosen on one draw of ham meet their rate on another
    /// draw from the same distribution, within the sampling interval.
    #[test]
    fn thresholds_meet_their_rate_on_held_out_ham() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut draw = |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let u: f64 = rng.gen_range(1e-12..1.0);
                    1.0 - u.powf(0.3)
                })
                .collect()
        };
        let validation = draw(200_000);
        let held_out = draw(200_000);
        for target in [1e-2, 1e-3, 1e-4] {
            let t = threshold_at(&validation, target).unwrap();
            let chosen = operating_point(t, target, &validation, &[]);
            assert!(chosen.validation_fpr <= target);
            let fresh = operating_point(t, target, &held_out, &[]);
            // The held-out rate's own 95% interval covers the target.
            assert!(
                fresh.validation_fpr_ci95.low <= target && target <= fresh.validation_fpr_ci95.high,
                "target {target}: held-out {} ({:?})",
                fresh.validation_fpr,
                fresh.validation_fpr_ci95
            );
        }
    }
}
