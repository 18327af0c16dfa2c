//! How long `impostor scan` takes on each hostile message (issue 15: under
//! 2 s each), printed as a table; nothing is asserted.
//!
//!     cargo bench -p impostor-cli --bench hostile_scan
//!
//! The suite is tests/hostile_suite (the cases of tests/hostile_inputs.rs,
//! and the files under fuzz/regressions and fuzz/seeds when there are any),
//! written to a temporary directory. Two figures for each file:
//!
//! - `engine`: in this process, what `scan` does for one file: read it with
//!   impostor-mailsource (scan's default 64 MiB limit) and judge each
//!   message with impostor_serve::Engine: the built-in model, the built-in
//!   example organisation's Context and the default verdict-header filter,
//!   as crates/cli/src/{gateway,org}.rs build them. Median and slowest of
//!   RUNS (default 3; `-- --runs N`).
//! - `process`: the release binary, `impostor scan --threads 1 --quiet
//!   FILE`, once: the above plus starting the process and verifying the
//!   built-in model.

#[path = "../../features/tests/support/mod.rs"]
mod builders;
#[path = "../tests/hostile_suite/mod.rs"]
mod hostile_suite;

use impostor_features::{Context, Envelope, HeaderFilter, OrgProfile, DEFAULT_VERDICT_HEADERS};
use impostor_mailsource::{read_inputs, ReadOptions};
use impostor_serve::Engine;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// As in the binary (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXAMPLE_ORG: &str = include_str!("../../../datasets/orgs/kestrel-foods.toml");

/// The Engine of `impostor scan` without options.
fn engine() -> Engine {
    let org = OrgProfile::from_toml(EXAMPLE_ORG, Path::new("kestrel-foods.toml (built in)"))
        .expect("the built-in org loads");
    let context = Context::builder(org)
        .header_filter(HeaderFilter::new(DEFAULT_VERDICT_HEADERS.iter().copied()))
        .build()
        .expect("the context builds");
    let artifact = impostor_model::artifact::builtin().expect("the built-in model verifies");
    Engine::new(context, artifact, None)
}

/// Reads `path` as scan does and judges every message in it: the time, and
/// what came out (a level, or "error").
fn judge(engine: &Engine, path: &Path) -> (Duration, String) {
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for m in read_inputs(&[path.to_path_buf()], &ReadOptions::default()) {
        let envelope = Envelope {
            mbox_sender: m.mbox_sender.clone(),
            ..Envelope::default()
        };
        let outcome = match &m.bytes {
            Err(_) => "error".to_string(),
            Ok(bytes) => match engine.scan(bytes, &envelope) {
                Ok(v) => format!("{:?}", v.level).to_lowercase(),
                Err(e) if e.is_internal() => "INTERNAL ERROR".to_string(),
                Err(_) => "error".to_string(),
            },
        };
        outcomes.push(outcome);
    }
    (started.elapsed(), outcomes.join("+"))
}

/// `impostor scan --threads 1 --quiet FILE`: wall time and exit status.
fn process(path: &Path) -> (Duration, String) {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(["scan", "--threads", "1", "--quiet"])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("impostor runs");
    let code = match status.code() {
        Some(c) => c.to_string(),
        None => format!("{status}"),
    };
    (started.elapsed(), code)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
        .max(1);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (names, fuzz) = hostile_suite::write_suite(&repo, dir.path());
    let engine = engine();
    println!(
        "hostile scan: {} files ({} fuzz files{}), engine median and slowest of {runs} runs; process once",
        names.len(),
        fuzz.unwrap_or(0),
        if fuzz.is_none() { ", no fuzz/ directory" } else { "" },
    );
    println!(
        "{:<44} {:>8}  {:<10} {:>11} {:>11} {:>12} {:>5}",
        "case", "MB", "outcome", "median ms", "max ms", "process ms", "exit"
    );
    let (mut worst_engine, mut worst_process) = (("", Duration::ZERO), ("", Duration::ZERO));
    for name in &names {
        let path = dir.path().join(name);
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        let mut times = Vec::with_capacity(runs);
        let mut outcome = String::new();
        for _ in 0..runs {
            let (t, o) = judge(&engine, &path);
            times.push(t);
            outcome = o;
        }
        times.sort();
        let (median, max) = (times[times.len() / 2], times[times.len() - 1]);
        let (wall, code) = process(&path);
        if max > worst_engine.1 {
            worst_engine = (name, max);
        }
        if wall > worst_process.1 {
            worst_process = (name, wall);
        }
        println!(
            "{:<44} {:>8.2}  {:<10} {:>11.1} {:>11.1} {:>12.1} {:>5}",
            name.strip_suffix(".eml").unwrap_or(name),
            size as f64 / 1e6,
            outcome,
            ms(median),
            ms(max),
            ms(wall),
            code,
        );
    }
    println!(
        "slowest, engine: {} {:.1} ms; process: {} {:.1} ms; target: under 2000 ms each: {}",
        worst_engine.0,
        ms(worst_engine.1),
        worst_process.0,
        ms(worst_process.1),
        if worst_engine.1.max(worst_process.1) < Duration::from_secs(2) {
            "met"
        } else {
            "NOT MET"
        },
    );
}
