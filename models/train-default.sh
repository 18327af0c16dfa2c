#!/bin/sh
# Trains models/default on
#   - the four real corpora of ../shared (spam left out), lists-2019-2026
#     split by list, never by message: usrp-users and clang-built-linux
#     train, jailhouse-dev chooses the levels (validation); each list held
#     out in turn is in the reference report's transfer table;
#   - 3,000 attacks of the five techniques injected into their ham,
#   - the embedded default corpus: modern ham of the example organisation
#     (authenticated by its MX, DKIM-signed newsletters, https links) and
#     attacks injected into more of it, plus a 3,000-message mailbox
#     timeline of the organisation (takeovers, compromised and lookalike
#     vendors, impersonation, and hard ham with the same words).
# Every source is replayed in date order for its sender history (train's
# default): each message gets the history_* features of what an in-memory
# store knew strictly before it.
# Without the modern ham, a model learns the real corpora's eras instead of
# the attacks (2002 mailing lists against 2025 phishing).
# Held out: phishing-pot's latest months (from 2025-01-01) by time, the
# list above by folder, a seeded 40% of the other duplicate groups by hash
# (an injected attack shares its carrier's group, and its role).
# Rows are weighted so every source weighs alike within its class, and the
# score is stated at a prior of one attack in a thousand messages.
# Run from anywhere; paths are relative to the repository root. Override the
# corpora's directory with SHARED=..., the binary with IMPOSTOR=....
set -eu
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
if [ ! -d "$SHARED/corpora" ]; then
    echo "train-default.sh: $SHARED/corpora not found; set SHARED to the shared data directory" >&2
    exit 2
fi
if [ -z "${IMPOSTOR:-}" ]; then
    cargo build --release --locked -q -p impostor-cli
    IMPOSTOR="${CARGO_TARGET_DIR:-target}/release/impostor"
fi
# The same data, names, order and seed as `impostor bench --corpora
# ../shared/corpora`, so the reference report's model has these weights.
rm -rf out/default-data
"$IMPOSTOR" gen -o out/default-data/injected-into-real-ham --attacks 3000 \
    --carriers "$SHARED/corpora/csdmc2010-a.tar.gz" \
    "$SHARED/corpora/lists-2019-2026.tar.gz" \
    "$SHARED/corpora/phishing-pot-2022-2025.tar.gz" \
    "$SHARED/corpora/spamassassin-2002.tar.gz"
"$IMPOSTOR" gen -o out/default-data/kestrel-generated
"$IMPOSTOR" train -o models/default \
    --hold-out-after phishing-pot-2022-2025=2025-01-01 \
    --hold-out-folder lists-2019-2026/jailhouse-dev.googlegroups.com=validation \
    "$SHARED/corpora/csdmc2010-a.tar.gz" \
    "$SHARED/corpora/lists-2019-2026.tar.gz" \
    "$SHARED/corpora/phishing-pot-2022-2025.tar.gz" \
    "$SHARED/corpora/spamassassin-2002.tar.gz" \
    out/default-data/injected-into-real-ham/messages \
    out/default-data/kestrel-generated/messages
