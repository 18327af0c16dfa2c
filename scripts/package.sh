#!/usr/bin/env bash
# Builds Impostor's Debian package with cargo-deb and, with `install`,
# installs it with dpkg (as root).
#
#   scripts/package.sh [build|install] [--release]
#
# Without --release it packages the debug binary the tests already built,
# $CARGO_TARGET_DIR/debug/impostor, as it is (stripped): CI builds the
# tests, packages and installs that very binary, then the installed-package
# test checks /usr/bin/impostor is this build (its GNU build id). Build it
# first with the tests' own command:
#     cargo test --workspace --locked --no-run
# (a plain `cargo build` links a slightly different binary, without the
# tests' fail points, and `cargo test` would then relink it.)
# With --release, cargo-deb builds the release binary itself: that one is
# for machines other than CI.
#
# Prints the .deb's path last. Needs cargo-deb at the version .ci/setup
# installs.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/impostor-target}"

action=build
release=
for arg in "$@"; do
    case "$arg" in
        build | install) action=$arg ;;
        --release) release=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "scripts/package.sh: unknown argument $arg (build, install, --release)" >&2
            exit 2
            ;;
    esac
done

if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
    echo "scripts/package.sh needs cargo-deb $CARGO_DEB_VERSION: cargo install cargo-deb --locked --version $CARGO_DEB_VERSION (.ci/setup does)" >&2
    exit 1
fi

# One directory a profile: the same version's two packages never mix.
out="$CARGO_TARGET_DIR/debian/$([ -n "$release" ] && echo release || echo debug)"
mkdir -p "$out"
started=$(date +%s)
if [ -n "$release" ]; then
    # --strip: [profile.release] keeps line tables (for profiling), which
    # cargo-deb would otherwise ship.
    deb=$(cargo deb -p impostor-cli --locked --strip --output "$out" | tail -n 1)
else
    bin="$CARGO_TARGET_DIR/debug/impostor"
    if [ ! -x "$bin" ]; then
        echo "scripts/package.sh: no $bin: build it first with cargo test --workspace --locked --no-run (or use --release)" >&2
        exit 1
    fi
    # cargo-deb warns that the dev profile is for tests, not releases: this
    # package is CI's, of the binary the tests run. --fast: the debug
    # binary is large, and xz at its default level takes a minute on it.
    deb=$(cargo deb -p impostor-cli --locked --no-build --profile dev --fast --quiet \
        --output "$out" 2> >(grep -v -e 'dev profile is not supported' -e 'To enable debug symbols set' >&2) | tail -n 1)
    echo "packaged $bin (built $(date -r "$bin" '+%F %T'))" >&2
fi
echo "built $deb in $(($(date +%s) - started)) s" >&2

if [ "$action" = install ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/package.sh install: dpkg -i needs root" >&2
        exit 1
    fi
    dpkg -i "$deb" >&2
    echo "installed $(dpkg-query -W -f '${Package} ${Version}' impostor)" >&2
fi
echo "$deb"
