#!/usr/bin/env bash
# Scan throughput on one core: `impostor scan --threads 1` over a corpus,
# run several times; prints messages per second of wall time and per
# CPU-second of the whole process (user + system), best and median.
#
#   scripts/scan-bench.sh [BINARY] [RUNS] [INPUT...]
#
# BINARY defaults to the release build in $CARGO_TARGET_DIR (build it with
# `cargo build --release -p impostor-cli`), RUNS to 5, INPUT to the four
# corpora of ../shared (21,000 messages). To compare two builds, run the script
# on each in turn, interleaved, on a machine doing nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$HOME/.cache/impostor-target}"
bin="${1:-$target/release/impostor}"
runs="${2:-5}"
shift 2 2>/dev/null || shift $#
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(../shared/corpora/*.tar.gz)
[ -x "$bin" ] || { echo "no binary at $bin; build it with: cargo build --release -p impostor-cli" >&2; exit 2; }
for i in "${inputs[@]}"; do [ -e "$i" ] || { echo "no input at $i" >&2; exit 2; }; done
# Exit status 1 only says some message could not be read (one corpus
# message has no header); every message still gets its line.
messages=$("$bin" scan --threads 1 --quiet "${inputs[@]}" | wc -l || true)
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
for _ in $(seq "$runs"); do
    # GNU time's %e (wall), %U and %S (CPU) via bash's TIMEFORMAT.
    TIMEFORMAT='%R %U %S'
    { time "${pin[@]}" "$bin" scan --threads 1 --quiet "${inputs[@]}" >/dev/null || [ $? -eq 1 ]; } 2>&1 | tail -1
done | awk -v n="$messages" '{ print n / $1, n / ($2 + $3) }' > "${TMPDIR:-/tmp}/scan-bench.$$"
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
best() { sort -g | tail -1; }
f="${TMPDIR:-/tmp}/scan-bench.$$"
printf '%d messages, %d runs (median, best): %.0f, %.0f msg/s wall; %.0f, %.0f msg per CPU-second\n' \
    "$messages" "$runs" \
    "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f1 "$f" | best)" \
    "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f2 "$f" | best)"
rm -f "$f"
