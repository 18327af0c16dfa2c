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
#
# Gzip inputs (.tar.gz, .tgz) are measured twice, in alternate runs: as
# given, and unpacked once beforehand to plain .tar files in a temporary
# directory (removed on exit). Scan reads either; inflating the archive is
# input handling (a sixth of the CPU time on the phishing-pot corpus), so
# the second figure is the scanning alone. SCAN_BENCH_UNCOMPRESSED=0 skips
# it.
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scan-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The same inputs with every gzip archive unpacked (none: no second figure).
plain=()
gzipped=0
for i in "${inputs[@]}"; do
    case "$i" in
    *.tar.gz | *.tgz)
        gzipped=1
        out="$tmp/${#plain[@]}-$(basename "${i%.gz}")"
        out="${out%.tgz}"
        [[ "$out" == *.tar ]] || out="$out.tar"
        gzip -dc "$i" >"$out"
        plain+=("$out")
        ;;
    *) plain+=("$i") ;;
    esac
done
[ "${SCAN_BENCH_UNCOMPRESSED:-1}" != 0 ] || gzipped=0

# Exit status 1 only says some message could not be read (one corpus
# message has no header); every message still gets its line.
messages=$("$bin" scan --threads 1 --quiet "${inputs[@]}" | wc -l || true)
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
# One timed scan: wall, user and system seconds (bash's TIMEFORMAT).
timed() {
    TIMEFORMAT='%R %U %S'
    { time "${pin[@]}" "$bin" scan --threads 1 --quiet "$@" >/dev/null || [ $? -eq 1 ]; } 2>&1 | tail -1
}
for _ in $(seq "$runs"); do
    timed "${inputs[@]}" | awk -v n="$messages" '{ print n / $1, n / ($2 + $3) }' >>"$tmp/given"
    if [ "$gzipped" = 1 ]; then
        timed "${plain[@]}" | awk -v n="$messages" '{ print n / $1, n / ($2 + $3) }' >>"$tmp/plain"
    fi
done
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
best() { sort -g | tail -1; }
report() {
    printf '%d messages, %d runs%s (median, best): %.0f, %.0f msg/s wall; %.0f, %.0f msg per CPU-second\n' \
        "$messages" "$runs" "$2" \
        "$(cut -d' ' -f1 "$1" | median)" "$(cut -d' ' -f1 "$1" | best)" \
        "$(cut -d' ' -f2 "$1" | median)" "$(cut -d' ' -f2 "$1" | best)"
}
report "$tmp/given" ""
if [ "$gzipped" = 1 ]; then
    report "$tmp/plain" ", archives unpacked to .tar beforehand"
fi
