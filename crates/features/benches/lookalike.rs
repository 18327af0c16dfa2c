//! Lookalike lookups per second against 1,000 and 10,000 protected domains.
//! Targets: at least 500,000 lookups per second per core against 1,000
//! protected domains and 200,000 against 10,000. Criterion's "thrpt" is in
//! elements per second, one element a lookup; time is the benchmark
//! thread's CPU time, so the figure is per core and a busy machine does not
//! make it look slower than it is.
//!
//! cargo bench -p impostor-features --bench lookalike
//!
//! The protected domains and the queries are made here from a fixed seed,
//! so the bench needs no data: pronounceable names under a mix of suffixes.
//! Three query sets: unrelated domains (most of what mail carries),
//! imitations of protected ones made by our own generator (every kind, IDN
//! included; each needs its explanation built), and half of each.

use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

/// The measuring thread's CPU time, in the units and format of wall time.
struct CpuTime(WallTime);

impl Measurement for CpuTime {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }

    fn end(&self, start: ThreadTime) -> Duration {
        start.elapsed()
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}
use impostor_features::{permutations, LookalikeIndex, DEFAULT_LOOKALIKE_WORDS, DEFAULT_SWAP_TLDS};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }

    /// A pronounceable name of two to four syllables, like a company's.
    fn name(&mut self) -> String {
        const ONSETS: [&str; 24] = [
            "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
            "z", "br", "st", "tr", "gr", "pl", "sh",
        ];
        const VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ea", "io", "ai"];
        const CODAS: [&str; 10] = ["", "", "", "n", "r", "s", "l", "x", "nd", "st"];
        let n = 2 + self.next() as usize % 3;
        (0..n)
            .map(|_| {
                let (o, v, c) = (*self.pick(&ONSETS), *self.pick(&VOWELS), *self.pick(&CODAS));
                format!("{o}{v}{c}")
            })
            .collect()
    }

    fn domain(&mut self) -> String {
        const SUFFIXES: [&str; 8] = ["com", "com", "com", "net", "co.jp", "co.uk", "de", "eu"];
        format!("{}.{}", self.name(), self.pick(&SUFFIXES))
    }
}

/// The index, then three query sets of 1,000: unrelated domains (most of
/// what mail carries), imitations of protected domains, and half of each.
fn workload(protected: usize) -> (LookalikeIndex, [(&'static str, Vec<String>); 3]) {
    let mut rng = Lcg(0x5eed_0000 + protected as u64);
    let domains: Vec<String> = (0..protected).map(|_| rng.domain()).collect();
    let index = LookalikeIndex::new(domains.iter().map(String::as_str));
    let unrelated: Vec<String> = (0..1_000).map(|_| rng.domain()).collect();
    let mut imitations = Vec::with_capacity(1_000);
    while imitations.len() < 1_000 {
        let target = rng.pick(&domains).clone();
        let perms = permutations(&target, DEFAULT_LOOKALIKE_WORDS, DEFAULT_SWAP_TLDS);
        if !perms.is_empty() {
            imitations.push(rng.pick(&perms).domain.clone());
        }
    }
    let mixed = unrelated[..500]
        .iter()
        .chain(&imitations[..500])
        .cloned()
        .collect();
    (
        index,
        [
            ("unrelated", unrelated),
            ("imitations", imitations),
            ("mixed", mixed),
        ],
    )
}

fn lookups(c: &mut Criterion<CpuTime>) {
    let mut group = c.benchmark_group("lookalike_lookup");
    for protected in [1_000, 10_000] {
        let (index, sets) = workload(protected);
        for (name, queries) in &sets {
            let flagged = queries.iter().filter(|q| index.find(q).is_some()).count();
            eprintln!(
                "{protected} protected domains, {name}: {flagged} of {} queries flagged",
                queries.len()
            );
            group.throughput(Throughput::Elements(queries.len() as u64));
            group.bench_with_input(
                BenchmarkId::new(*name, format!("{protected}_protected")),
                queries,
                |b, queries| {
                    b.iter(|| {
                        for q in queries {
                            black_box(index.find(black_box(q)));
                        }
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime(WallTime));
    targets = lookups
}
criterion_main!(benches);
