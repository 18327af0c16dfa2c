//! Benchmark of training: fits the whole pipeline (5-fold cross-validation,
//! calibration, final fit, levels, held-out metrics) on synthetic feature
//! rows and prints wall time, CPU time and peak memory.
//!
//!     cargo run --release -p impostor-train --example train_bench -- [ROWS] [THREADS] [LIFT]
//!
//! Defaults: 100,000 rows on one thread (the target: under 60 s, under
//! 2 GB). LIFT (default 2.5) is the most an attack multiplies a feature's
//! rate by: 2.5 gives a task of AUC about 0.88; 6 a nearly separable one,
//! which takes the fits longest to converge.

use impostor_corpus::Label;
use impostor_features::{Feature, FeatureVector};
use impostor_model::{RuleSet, BUILTIN_RULES};
use impostor_train::training::{train, Example, Role, TrainParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Rows like extracted mail: most flags rare, attacks raising some of them,
/// counts small with long tails.
fn synthetic(rows: usize, seed: u64, max_lift: f64) -> Vec<Example> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = Feature::ALL.len();
    let base: Vec<f64> = (0..d).map(|_| rng.gen_range(0.005..0.2)).collect();
    let lift: Vec<f64> = (0..d).map(|_| rng.gen_range(0.6..max_lift)).collect();
    (0..rows)
        .map(|i| {
            let attack = rng.gen::<f64>() < 0.2;
            let mut v = FeatureVector::default();
            for (k, f) in Feature::ALL.iter().enumerate() {
                let p = (base[k] * if attack { lift[k] } else { 1.0 }).min(0.95);
                if rng.gen::<f64>() >= p {
                    continue;
                }
                let value = if f.name().ends_with("_flag") {
                    1.0
                } else if f.name().ends_with("_chars") {
                    rng.gen_range(50.0..20_000.0)
                } else {
                    (1.0 / rng.gen_range(0.02f64..1.0)).floor()
                };
                v.set(*f, value as f32);
            }
            let role = match i % 5 {
                0 => Role::Validation,
                1 => Role::Test,
                _ => Role::Train,
            };
            Example {
                id: format!("bench:{i}"),
                source: "bench".into(),
                group: format!("bench:{i}"),
                label: if attack { Label::Bec } else { Label::Ham },
                technique: None,
                synthetic: true,
                timestamp: None,
                sha1: None,
                role,
                values: v,
            }
        })
        .collect()
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let max_lift: f64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .filter(|l| *l > 0.6)
        .unwrap_or(2.5);
    let examples = synthetic(rows, 1, max_lift);
    let rules = RuleSet::from_toml(BUILTIN_RULES, "datasets/rules.toml").expect("built-in rules");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let cpu = cpu_time::ProcessTime::now();
    let started = Instant::now();
    let trained = pool
        .install(|| {
            train(&examples, &rules, &TrainParams::default(), &mut |line| {
                eprintln!("{line}")
            })
        })
        .expect("training");
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu.elapsed().as_secs_f64();
    println!(
        "trained on {rows} feature rows (lift up to {max_lift}; {} rules, {} features, 5 folds) on {threads} thread(s): {wall:.2} s wall, {cpu:.2} s CPU, peak RSS {} MiB",
        rules.len(),
        Feature::ALL.len(),
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.0}"))
    );
    println!(
        "out-of-fold AUC {:.4}; test AUC {}; final rule fit: {} sweeps",
        trained.report.out_of_fold_auc.unwrap_or(f64::NAN),
        trained
            .report
            .test
            .auc
            .map_or("n/a".into(), |a| format!("{a:.4}")),
        trained.report.rule_fit_sweeps
    );
}
