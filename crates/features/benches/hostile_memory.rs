//! Time and peak memory of one extraction on each hostile input, printed as
//! figures. Each case runs in a child process of its own so that one case's
//! peak cannot hide another's.
//!
//! cargo bench -p impostor-features --bench hostile_memory
//!
//! Targets: under one second each, peak resident memory a small multiple of
//! the input.

mod fresh_process;
#[path = "../tests/support/mod.rs"]
mod support;

use fresh_process::mb;

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

fn run_case(case: &str) {
    let ctx = support::ctx();
    let bytes = input(case);
    let m = fresh_process::measure(|| support::try_run(ctx, &bytes));
    println!(
        "{case:<18} input {:>7.1} MB  {:>8.1} ms  peak RSS {:>7.1} MB  (+{:.1} MB during extraction = {:.2}x input)  {}",
        mb(bytes.len() as u64),
        m.elapsed.as_secs_f64() * 1e3,
        mb(m.peak),
        mb(m.grown),
        m.grown as f64 / bytes.len() as f64,
        if m.value.is_ok() { "ok" } else { "error (reported per message)" },
    );
}

fn main() {
    match fresh_process::child_case() {
        Some(case) => run_case(&case),
        None => fresh_process::each_case_in_a_fresh_process("hostile inputs", CASES),
    }
}
