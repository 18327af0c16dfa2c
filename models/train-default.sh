#!/bin/sh
# Trains models/default: the three real corpora of ../shared, plus the five
# techniques injected into their ham (3,000 attacks). Run from anywhere;
# paths are taken relative to the repository root. Override the corpora's
# directory with SHARED=..., the binary with IMPOSTOR=....
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
rm -rf out/sa-injected
"$IMPOSTOR" gen -o out/sa-injected --attacks 3000 \
    --carriers "$SHARED/corpora/spamassassin-2002.tar.gz" "$SHARED/corpora/csdmc2010-a.tar.gz"
"$IMPOSTOR" train -o models/default \
    "$SHARED/corpora/spamassassin-2002.tar.gz" \
    "$SHARED/corpora/csdmc2010-a.tar.gz" \
    "$SHARED/corpora/phishing-pot-2022-2025.tar.gz" \
    out/sa-injected/messages --labels out/sa-injected/labels.tsv
