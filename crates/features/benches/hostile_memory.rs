//! Time and peak memory of one extraction on each hostile input, printed as
//! figures. Each case runs in a child process of its own so that one case's
//! peak cannot hide another's.
//!
//! cargo bench -p impostor-features --bench hostile_memory
//!
//! Targets: under one second each, peak resident memory a small multiple of
//! the input.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::Instant;

const CASES: &[&str] = &[
    "attachment_50mb",
    "headers_10000",
    "mime_depth_1000",
    "links_100000",
];

fn input(case: &str) -> Vec<u8> {
    match case {
        "attachment_50mb" => support::big_attachment(50 << 20),
        "headers_10000" => support::many_headers(10_000),
        "mime_depth_1000" => support::deep_mime(1_000),
        "links_100000" => support::many_links(100_000),
        other => panic!("unknown case {other}"),
    }
}

/// Peak resident set size of this process so far, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn run_case(case: &str) {
    let ctx = support::ctx();
    let bytes = input(case);
    let before = peak_rss().unwrap_or(0);
    let started = Instant::now();
    let result = support::try_run(ctx, &bytes);
    let elapsed = started.elapsed();
    let peak = peak_rss().unwrap_or(0);
    let mb = |b: u64| b as f64 / (1 << 20) as f64;
    let grown = peak.saturating_sub(before);
    println!(
        "{case:<18} input {:>7.1} MB  {:>8.1} ms  peak RSS {:>7.1} MB  (+{:.1} MB during extraction = {:.2}x input)  {}",
        mb(bytes.len() as u64),
        elapsed.as_secs_f64() * 1e3,
        mb(peak),
        mb(grown),
        grown as f64 / bytes.len() as f64,
        if result.is_ok() { "ok" } else { "error (reported per message)" },
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        run_case(args.get(i + 1).map(String::as_str).unwrap_or(""));
        return;
    }
    let exe = std::env::current_exe().expect("the bench knows its own path");
    println!("hostile inputs: one extraction each, in a fresh process");
    for case in CASES {
        let out = Command::new(&exe)
            .args(["--case", case])
            .output()
            .expect("child runs");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            println!(
                "{case}: child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
