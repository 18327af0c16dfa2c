//! One hostile case per child process, measured: wall time and the growth
//! of peak resident memory. A fresh process per case keeps one case's
//! peak from hiding another's.

use std::process::Command;
use std::time::{Duration, Instant};

/// What one call cost.
pub struct Measured<T> {
    pub value: T,
    pub elapsed: Duration,
    /// Peak resident set size after the call, in bytes.
    pub peak: u64,
    /// How much the call raised the peak, in bytes.
    pub grown: u64,
}

/// Peak resident set size of this process so far, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs `f` once and measures it.
pub fn measure<T>(f: impl FnOnce() -> T) -> Measured<T> {
    let before = peak_rss().unwrap_or(0);
    let started = Instant::now();
    let value = f();
    let elapsed = started.elapsed();
    let peak = peak_rss().unwrap_or(0);
    Measured {
        value,
        elapsed,
        peak,
        grown: peak.saturating_sub(before),
    }
}

/// Bytes in MiB, for printing.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// The case this process was started for (`--case NAME`), if it is a child.
pub fn child_case() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == "--case")?;
    Some(args.get(i + 1).cloned().unwrap_or_default())
}

/// Runs this executable once per case (`--case NAME`), printing what each
/// child prints, and its failure if it fails.
pub fn each_case_in_a_fresh_process(title: &str, cases: &[&str]) {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    println!("{title}: one extraction each, in a fresh process");
    for case in cases {
        let out = Command::new(&exe)
            .args(["--case", case])
            .output()
            .expect("child runs");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            println!(
                "{case}: child failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
