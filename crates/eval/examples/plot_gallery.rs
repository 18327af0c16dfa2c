//! Draws every figure of `impostor_eval::plot` from synthetic data into a
//! directory, to look at them: `cargo run -p impostor-eval --example
//! plot_gallery -- DIR`.

use impostor_eval::plot::{self, Bar, BarSeries, CalibrationBin, Curve};
use std::path::PathBuf;

fn roc_like(name: &str, steep: f64, ham: f64) -> Curve {
    // Detection climbs as FPR^(1/steep), measured on `ham` messages.
    let mut points = vec![(0.0, 0.0), (0.0, 0.25)];
    let mut x = 1.0 / ham;
    while x <= 1.0 {
        points.push((x, x.powf(1.0 / steep).max(0.25)));
        x *= 1.3;
    }
    points.push((1.0, 1.0));
    let op = 2e-3;
    Curve {
        name: name.into(),
        points,
        summary: Some(1.0 - 0.5 / steep),
        operating_point: Some((op, op.powf(1.0 / steep).max(0.25))),
    }
}

fn pr_like(name: &str, k: i32) -> Curve {
    let points = (1..=100)
        .map(|i| {
            let r = i as f64 / 100.0;
            (r, 1.0 - 0.7 * r.powi(k))
        })
        .collect();
    Curve {
        name: name.into(),
        points,
        summary: Some(1.0 - 0.7 / (k as f64 + 1.0)),
        operating_point: Some((0.8, 1.0 - 0.7 * 0.8f64.powi(k))),
    }
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "plots".into()));
    std::fs::create_dir_all(&dir).expect("create the output directory");
    let detectors = ["logistic (default model)", "rules", "display-name only"];

    let curves: Vec<Curve> = detectors
        .iter()
        .zip([12.0, 5.0, 2.5])
        .map(|(n, s)| roc_like(n, s, 20_000.0))
        .collect();
    let w = plot::roc(&dir.join("roc"), "ROC on the held-out corpus", &curves).unwrap();
    println!("{w:?}");

    let curves: Vec<Curve> = detectors
        .iter()
        .zip([8, 3, 1])
        .map(|(n, k)| pr_like(n, k))
        .collect();
    let w = plot::precision_recall(&dir.join("pr"), "Precision-recall", &curves).unwrap();
    println!("{w:?}");

    let groups: Vec<String> = [
        "display-name spoof",
        "lookalike domain",
        "reply-to mismatch",
        "compromised account",
        "thread hijack",
        "payroll diversion",
    ]
    .map(String::from)
    .to_vec();
    let series: Vec<BarSeries> = detectors
        .iter()
        .enumerate()
        .map(|(d, name)| BarSeries {
            name: name.to_string(),
            values: (0..groups.len())
                .map(|g| {
                    let n = 30 + 45 * g as u64;
                    let v = (0.95 - 0.12 * d as f64 - 0.07 * g as f64).max(0.02);
                    let k = (v * n as f64).round() as u64;
                    let r =
                        impostor_model::stats::wilson(k, n, impostor_model::stats::Z_95).unwrap();
                    (d != 2 || g != 4).then_some(Bar {
                        value: k as f64 / n as f64,
                        low: r.low,
                        high: r.high,
                        n,
                    })
                })
                .collect(),
        })
        .collect();
    let w = plot::grouped_bars(
        &dir.join("bars"),
        "Detection rate by technique",
        &groups,
        &series,
    )
    .unwrap();
    println!("{w:?}");

    // 10:1 ham to attacks; ham mostly low with a thin high tail.
    let ham: Vec<f64> = (0..20_000)
        .map(|i| {
            let u = ((i as f64 * 0.618_034) % 1.0).powi(6);
            if i % 2500 == 0 {
                0.9
            } else {
                u * 0.8
            }
        })
        .collect();
    let attacks: Vec<f64> = (0..2_000)
        .map(|i| 1.0 - ((i as f64 * 0.414_213) % 1.0).powi(3) * 0.7)
        .collect();
    let w = plot::histogram(
        &dir.join("hist"),
        "Score distribution",
        &ham,
        &attacks,
        50,
        "score",
    )
    .unwrap();
    println!("{w:?}");

    let bins: Vec<CalibrationBin> = (0..10)
        .map(|b| {
            let p = (b as f64 + 0.5) / 10.0;
            let count = [9000, 1200, 400, 150, 90, 70, 80, 120, 300, 1500][b];
            let o = (p * p * 0.6 + p * 0.4).min(1.0);
            let k = (o * count as f64).round() as u64;
            let r = impostor_model::stats::wilson(k, count as u64, impostor_model::stats::Z_95)
                .unwrap();
            CalibrationBin {
                predicted: p,
                observed: k as f64 / count as f64,
                count,
                low: Some(r.low),
                high: Some(r.high),
            }
        })
        .collect();
    let w = plot::calibration(&dir.join("calibration"), "Calibration (logistic)", &bins).unwrap();
    println!("{w:?}");

    // Stress: more detectors than colours, over-long names and titles,
    // many groups, and empty figures.
    let long = "a detector whose name goes on and on far past what any legend can hold";
    let many: Vec<Curve> = (0..13)
        .map(|i| {
            roc_like(
                &format!("detector {i} {}", if i == 3 { long } else { "" }),
                1.5 + i as f64,
                300.0,
            )
        })
        .collect();
    let title = format!("A title that is much too long for one line: {long}, {long}");
    plot::roc(&dir.join("stress-roc"), &title, &many).unwrap();
    let groups: Vec<String> = (0..30)
        .map(|g| format!("technique{g}withoutspaces and more words"))
        .collect();
    let series: Vec<BarSeries> = (0..12)
        .map(|i| BarSeries {
            name: format!("d{i}"),
            values: (0..30)
                .map(|g| {
                    let v = ((g * 7 + i * 3) % 10) as f64 / 10.0;
                    Some(Bar {
                        value: v,
                        low: (v - 0.1).max(0.0),
                        high: (v + 0.1).min(1.0),
                        n: 10 + i as u64,
                    })
                })
                .collect(),
        })
        .collect();
    plot::grouped_bars(&dir.join("stress-bars"), "Many groups", &groups, &series).unwrap();
    plot::roc(&dir.join("empty-roc"), "No curves", &[]).unwrap();
    plot::histogram(
        &dir.join("empty-hist"),
        "No scores",
        &[],
        &[f64::NAN],
        10,
        "score",
    )
    .unwrap();
    plot::histogram(
        &dir.join("equal-hist"),
        "All equal",
        &[0.5; 100],
        &[0.5; 10],
        10,
        "score",
    )
    .unwrap();
    plot::grouped_bars(&dir.join("empty-bars"), "No series", &groups[..3], &[]).unwrap();
}
