//! Which figures a report has, from its metrics and scores: ROC and
//! precision-recall curves of every detector, detection per technique
//! (each detector's own decision, and at a matched false-positive rate),
//! each detector's score histogram, and the calibration of Impostor's
//! probability. The drawing itself is [`crate::plot`]'s.

use crate::error::EvalError;
use crate::metrics::{DetectorScores, PointMetrics};
use crate::plot::{self, Bar, BarSeries, CalibrationBin, Curve};
use crate::report::{MetricsFile, ReportInput};
use impostor_model::stats::ranking::{pr_curve, roc_curve};
use impostor_model::stats::rates::Rate;
use std::path::Path;

/// Bins of the score histograms and of the calibration curve.
const HISTOGRAM_BINS: usize = 40;
const CALIBRATION_BINS: usize = 10;

fn scores_of(d: &DetectorScores) -> Vec<f64> {
    d.scores
        .iter()
        .map(|s| s.filter(|v| !v.is_nan()).unwrap_or(f64::NEG_INFINITY))
        .collect()
}

fn plot_error(e: plot::PlotError) -> EvalError {
    EvalError::Plot(e)
}

fn bar(r: &Rate) -> Option<Bar> {
    let (v, ci) = (r.value?, r.ci95?);
    Some(Bar {
        value: v,
        low: ci.low,
        high: ci.high,
        n: r.total,
    })
}

/// Draws every figure into `dir`; returns their stems in report order.
pub fn draw(dir: &Path, input: &ReportInput, m: &MetricsFile) -> Result<Vec<String>, EvalError> {
    let mut stems = Vec::new();
    let positive: Vec<bool> = input.items.iter().map(|i| i.attack).collect();
    let point = |name: &str, d: &str| -> Option<&PointMetrics> {
        m.detectors
            .iter()
            .find(|x| x.name == d)?
            .points
            .iter()
            .find(|p| p.name == name)
    };

    let mut roc = Vec::new();
    let mut pr = Vec::new();
    for (d, dm) in input.scores.iter().zip(&m.detectors) {
        let s = scores_of(d);
        let native = point("native", &d.name).and_then(|p| {
            Some((
                p.overall.false_positive_rate.value?,
                p.overall.detection_rate.value?,
            ))
        });
        if let Some(points) = roc_curve(&s, &positive) {
            roc.push(Curve {
                name: d.name.clone(),
                points,
                summary: dm.ranking.roc_auc,
                operating_point: native,
            });
        }
        if let Some(points) = pr_curve(&s, &positive) {
            pr.push(Curve {
                name: d.name.clone(),
                points,
                summary: dm.ranking.pr_auc,
                operating_point: None,
            });
        }
    }
    if !roc.is_empty() {
        plot::roc(
            &dir.join("roc"),
            "ROC: detection against false positives",
            &roc,
        )
        .map_err(plot_error)?;
        stems.push("roc".to_string());
        plot::precision_recall(&dir.join("precision_recall"), "Precision and recall", &pr)
            .map_err(plot_error)?;
        stems.push("precision_recall".to_string());
    }

    // Detection per technique, with intervals.
    let groups: Vec<String> = m.data.attacks_by_technique.keys().cloned().collect();
    let matched = m
        .operating_points
        .keys()
        .filter(|k| k.starts_with("fpr_"))
        .max_by(|a, b| {
            // The smallest rate: the strictest comparison.
            let rate = |k: &str| k.trim_start_matches("fpr_").parse::<f64>().unwrap_or(1.0);
            rate(b).total_cmp(&rate(a))
        })
        .cloned();
    for (name, title) in [
        (
            "native".to_string(),
            "Detection per technique, each detector's own decision".to_string(),
        ),
        (
            matched.clone().unwrap_or_default(),
            format!(
                "Detection per technique at a matched false-positive rate ({})",
                matched.clone().unwrap_or_default()
            ),
        ),
    ] {
        let series: Vec<BarSeries> = m
            .detectors
            .iter()
            .filter_map(|d| {
                let p = d.points.iter().find(|p| p.name == name)?;
                Some(BarSeries {
                    name: d.name.clone(),
                    values: groups
                        .iter()
                        .map(|g| p.by_technique.get(g).and_then(|s| bar(&s.detection_rate)))
                        .collect(),
                })
            })
            .collect();
        if series.is_empty() || groups.is_empty() {
            continue;
        }
        let stem = format!("techniques_{name}");
        plot::grouped_bars(&dir.join(&stem), &title, &groups, &series).map_err(plot_error)?;
        stems.push(stem);
    }

    // Score histograms, ham against attacks, in each detector's units.
    for d in &input.scores {
        let s = scores_of(d);
        let (mut ham, mut attacks) = (Vec::new(), Vec::new());
        for (v, attack) in s.iter().zip(&positive) {
            if v.is_finite() {
                if *attack { &mut attacks } else { &mut ham }.push(*v);
            }
        }
        if ham.is_empty() && attacks.is_empty() {
            continue;
        }
        let stem = format!("histogram_{}", d.name);
        plot::histogram(
            &dir.join(&stem),
            &format!("Scores of {}: ham and attacks", d.name),
            &ham,
            &attacks,
            HISTOGRAM_BINS,
            &format!("{} score", d.name),
        )
        .map_err(plot_error)?;
        stems.push(stem);
    }

    // Calibration of the probability Impostor reports.
    if let Some(d) = input.scores.iter().find(|d| d.name == "impostor") {
        let bins = calibration_bins(&scores_of(d), &positive, CALIBRATION_BINS);
        if !bins.is_empty() {
            plot::calibration(
                &dir.join("calibration"),
                "Calibration of Impostor's probability",
                &bins,
            )
            .map_err(plot_error)?;
            stems.push("calibration".to_string());
        }
    }
    Ok(stems)
}

/// Equal-width probability bins: each non-empty bin's mean prediction,
/// observed attack share and its Wilson interval.
pub fn calibration_bins(
    probabilities: &[f64],
    positive: &[bool],
    bins: usize,
) -> Vec<CalibrationBin> {
    let mut sums = vec![(0.0f64, 0u64, 0u64); bins];
    for (p, y) in probabilities.iter().zip(positive) {
        if !(0.0..=1.0).contains(p) {
            continue;
        }
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sums[b].0 += p;
        sums[b].1 += 1;
        sums[b].2 += u64::from(*y);
    }
    sums.into_iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(sum, n, attacks)| {
            let r = Rate::new(attacks, n);
            CalibrationBin {
                predicted: sum / n as f64,
                observed: r.value.unwrap_or(0.0),
                count: n as usize,
                low: r.ci95.map(|c| c.low),
                high: r.ci95.map(|c| c.high),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_bins_by_hand() {
        // Bin [0, 0.5): 0.1 (ham), 0.3 (attack); bin [0.5, 1]: 0.9 and
        // 1.0 (both attacks; 1.0 falls in the last bin, not past it).
        let bins = calibration_bins(
            &[0.1, 0.3, 0.9, 1.0, f64::NEG_INFINITY],
            &[false, true, true, true, true],
            2,
        );
        assert_eq!(bins.len(), 2);
        assert!((bins[0].predicted - 0.2).abs() < 1e-12);
        assert_eq!((bins[0].observed, bins[0].count), (0.5, 2));
        assert!((bins[1].predicted - 0.95).abs() < 1e-12);
        assert_eq!(
            (bins[1].observed, bins[1].count, bins[1].high),
            (1.0, 2, Some(1.0))
        );
        assert!(calibration_bins(&[], &[], 10).is_empty());
    }
}
