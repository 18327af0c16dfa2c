#!/usr/bin/env bash
# The cargo-fuzz targets of fuzz/ (README, Fuzzing).
#
#   scripts/fuzz.sh seeds                       build the seed corpora only
#   scripts/fuzz.sh smoke [SECONDS]             build every target, run each
#                                               SECONDS (default 50); fails on a crash
#   scripts/fuzz.sh campaign [TARGET] [RUNS]    one long run (default
#                                               message_features, 10000000 runs)
#
# The smoke builds with AddressSanitizer (cargo-fuzz's default); the
# campaign without it (IMPOSTOR_FUZZ_SANITIZER=address to keep it): on the
# features it costs a factor of 3.3 in executions per second, and what is
# left to find in safe Rust is panics, which need no sanitizer. Both keep
# debug assertions and overflow checks.
#
# Needs the nightly toolchain and cargo-fuzz (.ci/setup installs it), and
# ../shared/corpora for the message seeds (without it, only the hostile and
# committed seeds are used). Everything it writes is outside the clone:
#   $IMPOSTOR_FUZZ_TARGET_DIR  build (default ~/.cache/impostor-fuzz-target;
#                              without a sanitizer, the same with -none)
#   $IMPOSTOR_FUZZ_WORK        seeds/, corpus/ (the campaign's, kept),
#                              smoke/ (fresh each smoke), artifacts/ (crashes),
#                              logs/, tmp/ (default ~/.cache/impostor-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(message_features milter_assembly org_profile lookalike rules_load artifact_load mail_source attachment_file verdict_log_message_id feedback_attached_messages)
# Separate from the workspace's build: other flags, another toolchain.
TARGET_DIR="${IMPOSTOR_FUZZ_TARGET_DIR:-$HOME/.cache/impostor-fuzz-target}"
export CARGO_TARGET_DIR="$TARGET_DIR"
SANITIZER=address
WORK="${IMPOSTOR_FUZZ_WORK:-$HOME/.cache/impostor-fuzz}"
SHARED=../shared/corpora
# Messages sampled from each archive of ../shared/corpora.
PER_ARCHIVE="${IMPOSTOR_FUZZ_PER_ARCHIVE:-75}"
# Largest input: real messages are tens of KiB; larger ones only slow the
# mutations down. The manifest of models/default is 64 KiB.
MAX_LEN_MESSAGE=65536
MAX_LEN_ARTIFACT=131072
MAX_LEN_TEXT=16384

fuzz() { cargo +nightly fuzz "$@"; }

# Another sanitizer is another build: its own directory, so that the smoke
# and the campaign do not rebuild each other's.
use_sanitizer() {
    SANITIZER=$1
    if [ "$SANITIZER" = address ]; then
        CARGO_TARGET_DIR="$TARGET_DIR"
    else
        CARGO_TARGET_DIR="$TARGET_DIR-$SANITIZER"
    fi
}

max_len() {
    case "$1" in
        message_features | milter_assembly) echo "$MAX_LEN_MESSAGE" ;;
        artifact_load) echo "$MAX_LEN_ARTIFACT" ;;
        *) echo "$MAX_LEN_TEXT" ;;
    esac
}

dict_args() {
    case "$1" in
        message_features | milter_assembly) echo "-dict=fuzz/dict/message.dict" ;;
    esac
}

check_tools() {
    if ! rustup toolchain list | grep -q '^nightly'; then
        echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly" >&2
        exit 1
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "fuzz.sh: cargo-fuzz is missing: .ci/setup installs it" >&2
        exit 1
    fi
}

# Samples messages from the corpora deterministically: every k-th member
# of each archive's index, at most PER_ARCHIVE, none over the message
# max_len; extracted by streaming each archive once.
sample_corpora() {
    local out=$1
    python3 - "$SHARED" "$out" "$PER_ARCHIVE" "$MAX_LEN_MESSAGE" <<'EOF'
import csv, hashlib, os, sys, tarfile
shared, out, per_archive, max_len = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
total = 0
for tsv in sorted(f for f in os.listdir(shared) if f.endswith(".tsv")):
    archive = os.path.join(shared, tsv[:-4] + ".tar.gz")
    if not os.path.exists(archive):
        continue
    with open(os.path.join(shared, tsv), newline="") as f:
        members = [row["member"] for row in csv.DictReader(f, delimiter="\t")]
    step = max(1, len(members) // per_archive)
    wanted = set(members[::step][:per_archive])
    n = 0
    with tarfile.open(archive, "r|gz") as tar:
        for m in tar:
            if not wanted:
                break
            if m.name not in wanted:
                continue
            wanted.discard(m.name)
            if not m.isfile() or m.size > max_len:
                continue
            data = tar.extractfile(m).read()
            name = hashlib.sha1(data).hexdigest()
            with open(os.path.join(out, name + ".eml"), "wb") as w:
                w.write(data)
            n += 1
    print(f"  {n} messages from {os.path.basename(archive)}")
    total += n
EOF
}

# Side data after a NUL byte: an envelope sender for message_features, a
# connection's chunking and limit for milter_assembly (see the targets).
with_side() {
    local from=$1 to=$2 side=$3 prefix=$4 n=0
    for f in "$from"/*; do
        n=$((n + 1))
        # One message in four, so most seeds stay as they came.
        [ $((n % 4)) -eq 0 ] || continue
        { cat "$f"; printf '\0'; printf "$side"; } >"$to/$prefix-$(basename "$f")"
    done
}

build_seeds() {
    local seeds="$WORK/seeds" t
    rm -rf "$seeds"
    for t in "${TARGETS[@]}"; do mkdir -p "$seeds/$t"; done
    echo "== seeds in $seeds"
    local messages="$seeds/message_features"
    if [ -d "$SHARED" ]; then
        sample_corpora "$messages"
    else
        echo "  no $SHARED: no corpus messages among the seeds"
    fi
    cp datasets/examples/*.eml "$messages/"
    # The hostile messages of crates/features/tests, by their own code.
    CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --manifest-path fuzz/Cargo.toml -p impostor-fuzz-hostile
    "$TARGET_DIR/debug/impostor-fuzz-hostile" "$messages"
    cp -r fuzz/seeds/message_features/. "$messages/" 2>/dev/null || true
    with_side "$messages" "$messages" 'spoof@kestrelfoods-secure.com\nmail.kestrelfoods-secure.com\nap@kestrelfoods.com' envelope
    # The milter gets the same messages, some with chunking and limits.
    cp "$messages"/* "$seeds/milter_assembly/"
    with_side "$messages" "$seeds/milter_assembly" '\002\007\020\001\377' chunks
    with_side "$messages" "$seeds/milter_assembly" '\003\376\100' no-eoh
    cp datasets/orgs/*.toml "$seeds/org_profile/"
    cp datasets/rules.toml "$seeds/rules_load/"
    grep -v '^#' datasets/lookalike/recall-domains.txt | cut -f1 | head -64 >"$seeds/lookalike/recall-domains.txt"
    # models/default's manifest with the hashes of the two other files
    # replaced by the empty file's, as the target serves them; and the
    # same with its SHA256SUMS in front (the target's other input form).
    python3 - models/default/manifest.json "$seeds/artifact_load" <<'EOF'
import hashlib, json, os, sys
manifest = json.load(open(sys.argv[1]))
empty = hashlib.sha256(b"").hexdigest()
manifest["files"] = {name: empty for name in manifest["files"]}
data = (json.dumps(manifest, indent=2) + "\n").encode()
open(os.path.join(sys.argv[2], "manifest.json"), "wb").write(data)
sums = "".join(f"{empty}  {name}\n" for name in manifest["files"])
sums = f"{hashlib.sha256(data).hexdigest()}  manifest.json\n" + sums
open(os.path.join(sys.argv[2], "sums-and-manifest"), "wb").write(sums.encode() + b"\0" + data)
EOF
    # The example messages as the files a user may give: an mbox (with
    # mboxrd quoting), a tar, a tar.gz.
    python3 - "$seeds/mail_source" datasets/examples/*.eml <<'EOF'
import gzip, io, os, sys, tarfile
out, paths = sys.argv[1], sys.argv[2:]
messages = [open(p, "rb").read() for p in paths]
mbox = b""
for i, m in enumerate(messages):
    quoted = m.replace(b"\nFrom ", b"\n>From ")
    body = b"From the desk of the CFO\n>From a quoted line\n"
    mbox += b"From sender%d@example.com Tue Jan  2 10:00:0%d 2024\n" % (i, i) + quoted + body + b"\n"
open(os.path.join(out, "examples.mbox"), "wb").write(mbox)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
    for p, m in zip(paths, messages):
        info = tarfile.TarInfo("corpus/ham/" + os.path.basename(p))
        info.size, info.mtime = len(m), 0
        tar.addfile(info, io.BytesIO(m))
open(os.path.join(out, "examples.tar"), "wb").write(buf.getvalue())
open(os.path.join(out, "examples.tar.gz"), "wb").write(gzip.compress(buf.getvalue(), mtime=0))
open(os.path.join(out, "one.eml"), "wb").write(messages[0])
EOF
    # The attachments of the message seeds, each behind the byte that
    # declares its type (fuzz_targets/attachment_file.rs): at most 40,
    # none over 64 KiB.
    python3 - "$messages" "$seeds/attachment_file" <<'EOF'
import email, os, sys
src, out = sys.argv[1], sys.argv[2]
kinds = {"application/pdf": 0, "image/png": 1, "image/jpeg": 2, "application/zip": 3,
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 4,
         "text/html": 5}
n = 0
for name in sorted(os.listdir(src)):
    try:
        msg = email.message_from_binary_file(open(os.path.join(src, name), "rb"))
        parts = [p for p in msg.walk() if not p.is_multipart() and p.get_filename()]
    except Exception:
        continue
    for part in parts:
        data = part.get_payload(decode=True) or b""
        if n >= 40 or not data or len(data) > 65536:
            continue
        pick = kinds.get(part.get_content_type(), 7)
        open(os.path.join(out, f"{name}-{n}"), "wb").write(bytes([pick]) + data)
        n += 1
EOF
    for t in "${TARGETS[@]}"; do
        if [ -d "fuzz/seeds/$t" ]; then cp -r "fuzz/seeds/$t/." "$seeds/$t/"; fi
        if [ -d "fuzz/regressions/$t" ]; then cp -r "fuzz/regressions/$t/." "$seeds/$t/"; fi
        printf '  %-17s %4d seeds\n' "$t" "$(find "$seeds/$t" -type f | wc -l)"
    done
}

# Prints the figures of one libFuzzer log: executions, exec/s, coverage.
figures() {
    local t=$1 log=$2
    local execs rate cov ft corp
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '%-17s %12s execs %8s exec/s   cov %6s   ft %7s   corpus %s\n' \
        "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

# Runs one target: corpus dir, then libFuzzer options. Returns libFuzzer's
# status; the log goes to $WORK/logs/TARGET-MODE.log.
run_target() {
    local t=$1 mode=$2 corpus=$3
    shift 3
    mkdir -p "$WORK/artifacts/$t" "$WORK/logs" "$corpus"
    local log="$WORK/logs/$t-$mode.log"
    local status=0
    # mail_source writes each input to a file: keep those here.
    mkdir -p "$WORK/tmp"
    # shellcheck disable=SC2046
    TMPDIR="$WORK/tmp" fuzz run -s "$SANITIZER" --target-dir "$CARGO_TARGET_DIR" "$t" "$corpus" "$WORK/seeds/$t" -- \
        -max_len="$(max_len "$t")" $(dict_args "$t") \
        -artifact_prefix="$WORK/artifacts/$t/" -print_final_stats=1 "$@" \
        >"$log" 2>&1 || status=$?
    figures "$t" "$log"
    if [ "$status" -ne 0 ]; then
        echo "fuzz.sh: $t failed (status $status); the end of $log:" >&2
        tail -40 "$log" >&2
        ls -1 "$WORK/artifacts/$t" >&2 || true
    fi
    return "$status"
}

build_all() {
    local start
    echo "== cargo fuzz build -s $SANITIZER (all targets, $CARGO_TARGET_DIR)"
    start=$SECONDS
    fuzz build -s "$SANITIZER" --target-dir "$CARGO_TARGET_DIR"
    echo "   built in $((SECONDS - start)) s"
}

cmd=${1:-smoke}
case "$cmd" in
    seeds)
        build_seeds
        ;;
    smoke)
        secs=${2:-50}
        check_tools
        start=$SECONDS
        build_all
        build_seeds
        echo "== smoke: each target for $secs s"
        failed=()
        for t in "${TARGETS[@]}"; do
            rm -rf "$WORK/smoke/$t"
            run_target "$t" smoke "$WORK/smoke/$t" -max_total_time="$secs" || failed+=("$t")
        done
        echo "   smoke took $((SECONDS - start)) s"
        if [ ${#failed[@]} -gt 0 ]; then
            echo "fuzz.sh: crashes in ${failed[*]}; inputs under $WORK/artifacts" >&2
            exit 1
        fi
        ;;
    campaign)
        t=${2:-message_features}
        runs=${3:-10000000}
        check_tools
        use_sanitizer "${IMPOSTOR_FUZZ_SANITIZER:-none}"
        build_all
        build_seeds
        echo "== campaign: $t, $runs runs (corpus $WORK/corpus/$t, log $WORK/logs/$t-campaign.log)"
        start=$SECONDS
        status=0
        # The corpus held in memory grows past libFuzzer's default 2 GiB
        # RSS limit over millions of runs; one allocation over 2 GiB is
        # still a finding (every message is bounded).
        run_target "$t" campaign "$WORK/corpus/$t" -runs="$runs" \
            -rss_limit_mb=12288 -malloc_limit_mb=2048 || status=$?
        echo "   campaign took $((SECONDS - start)) s"
        exit "$status"
        ;;
    *)
        sed -n '2,9p' "$0" >&2
        exit 2
        ;;
esac
