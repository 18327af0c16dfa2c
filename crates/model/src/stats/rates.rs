//! Rates: a count out of a total, with a Wilson score confidence interval.
//!
//! Wilson rather than the normal ("Wald") interval because detection work
//! lives at the edges: a false-positive rate of 0 out of 10 000 or a
//! detection rate of 40 out of 40. Wald collapses to a zero-width interval
//! there; Wilson stays honest and inside [0, 1].

use serde::{Deserialize, Serialize};
use std::fmt;

/// Two-sided 95% normal quantile, Φ⁻¹(0.975).
pub const Z_95: f64 = 1.959963984540054;

/// A closed interval on a proportion, always within [0, 1]: the one
/// interval type of rates, AUC bootstraps and a model's levels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The lower bound.
    pub low: f64,
    /// The upper bound.
    pub high: f64,
}

impl fmt::Display for Interval {
    /// `[low, high]`, each with the caller's precision (default 4).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(4);
        write!(f, "[{:.p$}, {:.p$}]", self.low, self.high)
    }
}

/// Wilson score interval for `successes` out of `trials` at normal quantile `z`.
///
/// `None` when there is no proportion to bound: `trials == 0` (an empty
/// class), `successes > trials` (a bookkeeping error upstream; clamping would
/// print a plausible-looking rate and hide it), or a `z` that is negative or
/// not finite.
pub fn wilson(successes: u64, trials: u64, z: f64) -> Option<Interval> {
    if trials == 0 || successes > trials || !z.is_finite() || z < 0.0 {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At p = 0 and p = 1 the bound is exactly 0 or 1; rounding would otherwise
    // report 0.9999999999999999 for a perfect detector.
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).clamp(0.0, 1.0)
    };
    let high = if successes == trials {
        1.0
    } else {
        (centre + half).clamp(0.0, 1.0)
    };
    Some(Interval { low, high })
}

/// `count` out of `total`, its value and its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rate {
    /// The events counted, e.g. ham flagged.
    pub count: u64,
    /// Out of how many, e.g. all ham.
    pub total: u64,
    /// `count / total`; `None` for an empty class or `count > total`.
    pub value: Option<f64>,
    /// Wilson 95% interval; `None` exactly when `value` is.
    pub ci95: Option<Interval>,
}

impl Rate {
    /// Never panics. Counts are kept as given even when inconsistent
    /// (`count > total`), so a report shows the raw numbers next to the
    /// missing rate instead of a silently clamped one.
    pub fn new(count: u64, total: u64) -> Rate {
        let ci95 = wilson(count, total, Z_95);
        let value = ci95.map(|_| count as f64 / total as f64);
        Rate {
            count,
            total,
            value,
            ci95,
        }
    }

    /// The rate scaled to events per million, the unit false positives are
    /// quoted in (design.md §7).
    pub fn per_million(&self) -> Option<f64> {
        self.value.map(|v| v * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference bounds computed independently in Python (math module) from
    // the closed form; tighter than 1e-4 so the 1/1000 case is actually
    // checked (its lower bound is 1.8e-4).
    const TOL: f64 = 1e-6;

    fn assert_interval(got: Option<Interval>, low: f64, high: f64) {
        let got = got.expect("interval");
        assert!(
            (got.low - low).abs() < TOL && (got.high - high).abs() < TOL,
            "got [{}, {}], want [{low}, {high}]",
            got.low,
            got.high
        );
    }

    #[test]
    fn wilson_matches_hand_computed_cases() {
        assert_interval(wilson(0, 10, Z_95), 0.0, 0.277_532_8);
        assert_interval(wilson(10, 10, Z_95), 0.722_467_2, 1.0);
        assert_interval(wilson(5, 10, Z_95), 0.236_593_1, 0.763_406_9);
        assert_interval(wilson(1, 1000, Z_95), 0.000_176_546, 0.005_642_559);
        assert_interval(wilson(3, 7, Z_95), 0.158_219_9, 0.749_541_6);
    }

    #[test]
    fn wilson_edges_are_exact() {
        let all = wilson(10, 10, Z_95).unwrap();
        assert_eq!(all.high, 1.0);
        let none = wilson(0, 10, Z_95).unwrap();
        assert_eq!(none.low, 0.0);
    }

    #[test]
    fn wilson_narrows_with_more_trials() {
        let small = wilson(5, 10, Z_95).unwrap();
        let large = wilson(500, 1000, Z_95).unwrap();
        assert!(large.high - large.low < small.high - small.low);
    }

    #[test]
    fn wilson_refuses_what_is_not_a_proportion() {
        assert_eq!(wilson(0, 0, Z_95), None);
        assert_eq!(wilson(11, 10, Z_95), None);
        assert_eq!(wilson(1, 10, f64::NAN), None);
        assert_eq!(wilson(1, 10, -1.0), None);
    }

    #[test]
    fn empty_class_has_no_rate() {
        let r = Rate::new(0, 0);
        assert_eq!((r.value, r.ci95, r.per_million()), (None, None, None));
    }

    #[test]
    fn count_above_total_keeps_counts_and_drops_rate() {
        let r = Rate::new(7, 3);
        assert_eq!((r.count, r.total), (7, 3));
        assert_eq!((r.value, r.ci95), (None, None));
    }

    #[test]
    fn rate_value_interval_and_per_million() {
        let r = Rate::new(1, 1000);
        assert_eq!(r.value, Some(0.001));
        assert!((r.per_million().unwrap() - 1000.0).abs() < 1e-9);
        let ci = r.ci95.unwrap();
        assert!(ci.low < 0.001 && 0.001 < ci.high);
    }

    #[test]
    fn rate_serialises_with_interval() {
        let json = serde_json::to_value(Rate::new(5, 10)).unwrap();
        assert_eq!(json["count"], 5);
        assert_eq!(json["total"], 10);
        assert_eq!(json["value"], 0.5);
        assert!((json["ci95"]["low"].as_f64().unwrap() - 0.236_593_1).abs() < TOL);
        let empty = serde_json::to_value(Rate::new(0, 0)).unwrap();
        assert!(empty["value"].is_null() && empty["ci95"].is_null());
    }
}
