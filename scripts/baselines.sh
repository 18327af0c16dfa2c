#!/usr/bin/env bash
# Starts, stops and reports on the two peer filters the evaluation compares
# against: SpamAssassin's spamd and Rspamd, from their Debian packages.
#
#   scripts/baselines.sh start DIR [--spamd-port N] [--rspamd-port N]
#   scripts/baselines.sh stop DIR
#   scripts/baselines.sh status DIR
#
# DIR holds everything of one run: configurations (copied from
# datasets/baselines/), pid files, logs, Rspamd's database and run
# directories. Both daemons listen on 127.0.0.1 only and run with every
# network test off (no DNS lists, no hash networks, no remote maps, DNS
# pointed at a closed loopback port), so scores depend on the message alone
# and nothing leaves the machine. Neither the system-wide services nor
# Redis are used. Packages: apt-get install spamassassin spamc spamd rspamd
# (or .ci/run).
#
# Environment: BASELINES_TIMEOUT (seconds `start` waits for both to answer,
# default 90); BASELINES_HS_CACHE (where Rspamd keeps compiled Hyperscan
# databases between runs, default /var/tmp/impostor-baselines-hs: without
# it every start compiles them again, 20-70 s; empty means inside DIR).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
conf_src="$repo/datasets/baselines"
sa_rules=/usr/share/spamassassin
rspamd_confdir=/etc/rspamd
install_hint="install them with .ci/run or: apt-get install spamassassin spamc spamd rspamd"

usage() {
    sed -n 's/^#   //p' "$0" >&2
    exit 2
}

die() {
    echo "baselines: $*" >&2
    exit 1
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
spamd_port=17830
rspamd_port=17833
while [ $# -gt 0 ]; do
    case "$1" in
    --spamd-port) [ $# -ge 2 ] || usage; spamd_port=$2; shift 2 ;;
    --rspamd-port) [ $# -ge 2 ] || usage; rspamd_port=$2; shift 2 ;;
    *) usage ;;
    esac
done
for p in "$spamd_port" "$rspamd_port"; do
    [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "bad port: $p"
done
[ "$spamd_port" != "$rspamd_port" ] || die "spamd and rspamd need different ports"

# Whether PID is alive and runs the program NAME (a pid file may outlive
# its process and the number be reused).
alive() {
    local pid=$1 name=$2
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"
}

pid_of() { cat "$1" 2>/dev/null || true; }

# Whether PID, a child this script just started, still runs. Not `alive`,
# whose name check reads /proc/PID/cmdline: until the child has executed
# the daemon, that file holds this script's own command line (naming
# "spamd" only when --spamd-port was given), and while the kernel loads
# the program it can read empty, so a name check right after the start
# can take a starting daemon for an exited one. A child's pid cannot be
# reused before it is reaped; a zombie has exited.
child_running() {
    local pid=$1 stat
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# SPAMC PING over bash's /dev/tcp: no dependency on spamc or nc.
spamd_answers() {
    local reply
    reply=$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "PING SPAMC/1.5\r\n\r\n" >&3
        head -c 64 <&3' _ "$1" 2>/dev/null) || return 1
    [[ "$reply" == SPAMD/*PONG* ]]
}

# GET /ping on Rspamd's normal worker.
rspamd_answers() {
    local reply
    reply=$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" >&3
        head -c 1024 <&3' _ "$1" 2>/dev/null) || return 1
    [[ "$reply" == "HTTP/1.1 200"* && "$reply" == *pong* ]]
}

log_tail() {
    local f
    for f in "$@"; do
        if [ -s "$f" ]; then
            echo "---- last lines of $f" >&2
            tail -n 25 "$f" >&2
        elif [ -e "$f" ]; then
            echo "---- $f is empty" >&2
        fi
    done
}

stop_one() {
    local name=$1 pidfile=$2 pid i
    pid=$(pid_of "$pidfile")
    if alive "$pid" "$name"; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 150); do
            alive "$pid" "$name" || break
            sleep 0.1
        done
        if alive "$pid" "$name"; then
            echo "baselines: $name (pid $pid) ignored SIGTERM for 15 s; killing it" >&2
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "$name stopped (pid $pid)"
    fi
    rm -f "$pidfile"
}

# How a child that child_running found gone ended, in $ended (not a
# command substitution: a subshell cannot wait for this shell's children).
ended_how() {
    local st=0
    wait "$1" || st=$?
    if [ "$st" -gt 128 ]; then
        ended="killed by signal $((st - 128))"
    else
        ended="exit status $st"
    fi
}

# Every listening socket of PID and its children must be on loopback.
check_loopback() {
    local name=$1 pid=$2 pids bad
    command -v ss >/dev/null || return 0
    pids=$(
        echo "$pid"
        pgrep -P "$pid" || true
    )
    bad=$(ss -Htulnp 2>/dev/null | while read -r line; do
        for p in $pids; do
            if [[ "$line" == *"pid=$p,"* ]]; then
                local_addr=$(awk '{print $5}' <<<"$line")
                case "$local_addr" in
                127.0.0.1:* | "[::1]:"* | "[::ffff:127.0.0.1]:"*) ;;
                *) echo "$local_addr" ;;
                esac
                break
            fi
        done
    done | sort -u)
    if [ -n "$bad" ]; then
        echo "baselines: $name listens beyond loopback: $bad" >&2
        return 1
    fi
}

sa_dir="$dir/spamassassin"
rs_dir="$dir/rspamd"

case "$cmd" in
start)
    for bin in spamd rspamd; do
        command -v "$bin" >/dev/null || die "$bin is not installed; $install_hint"
    done
    [ -d "$sa_rules" ] && [ -e "$sa_rules/72_active.cf" ] ||
        die "SpamAssassin's rules ($sa_rules/72_active.cf) are missing; $install_hint"
    [ -e "$rspamd_confdir/common.conf" ] ||
        die "Rspamd's stock configuration ($rspamd_confdir) is missing; $install_hint"
    if alive "$(pid_of "$sa_dir/spamd.pid")" spamd || alive "$(pid_of "$rs_dir/rspamd.pid")" rspamd; then
        die "already running in $dir; run: $0 stop $dir"
    fi

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    sa_dir="$dir/spamassassin"
    rs_dir="$dir/rspamd"
    rm -rf "$sa_dir" "$rs_dir"
    mkdir -p "$sa_dir/conf" "$sa_dir/home" "$rs_dir/conf" "$rs_dir/db" "$rs_dir/run" "$rs_dir/log"

    # SpamAssassin: the package's plugin list (*.pre) plus our local.cf
    # as the site configuration; the package's stock rules as the rules.
    cp /etc/spamassassin/*.pre "$sa_dir/conf/"
    cp "$conf_src/spamassassin/local.cf" "$sa_dir/conf/local.cf"
    # Rspamd: the package's configuration tree for rules and defaults,
    # our top-level rspamd.conf, local.d/ and override.d/ on top.
    cp -R "$conf_src/rspamd/." "$rs_dir/conf/"
    : >"$sa_dir/spamd.log"

    # Both refuse (spamd) or dislike (rspamd) running as root: as root,
    # drop to the unprivileged users the packages create.
    spamd_user=()
    rspamd_user=()
    if [ "$(id -u)" = 0 ]; then
        id debian-spamd >/dev/null 2>&1 || die "user debian-spamd is missing; $install_hint"
        id _rspamd >/dev/null 2>&1 || die "user _rspamd is missing; $install_hint"
        chown -R debian-spamd: "$sa_dir/home" "$sa_dir/spamd.log"
        chown -R _rspamd: "$rs_dir/db" "$rs_dir/run" "$rs_dir/log"
        chmod a+rx "$dir" "$sa_dir" "$sa_dir/conf" "$rs_dir" "$rs_dir/conf"
        if ! runuser -u debian-spamd -- test -r "$sa_dir/conf/local.cf" ||
            ! runuser -u _rspamd -- test -w "$rs_dir/db"; then
            die "$dir is not reachable by the daemons' users (debian-spamd, _rspamd): a parent directory is private; use a DIR under /tmp or /var/tmp"
        fi
        spamd_user=(-u debian-spamd)
        rspamd_user=(-u _rspamd -g _rspamd)
    fi

    # Rspamd's compiled regular expressions, kept between runs (they are
    # keyed by a hash of the patterns and the CPU, so sharing is safe). A
    # cache owned by another user is not trusted: Rspamd loads code-like
    # data from it.
    hs_cache=${BASELINES_HS_CACHE-/var/tmp/impostor-baselines-hs}
    hs_owner=$(id -un)
    [ "$(id -u)" = 0 ] && hs_owner=_rspamd
    if [ -n "$hs_cache" ]; then
        mkdir -p "$hs_cache" 2>/dev/null || true
        [ "$(id -u)" = 0 ] && [ "$(stat -c %U "$hs_cache" 2>/dev/null)" = root ] &&
            chown _rspamd: "$hs_cache" && chmod 700 "$hs_cache"
        if [ "$(stat -c %U "$hs_cache" 2>/dev/null)" != "$hs_owner" ]; then
            echo "baselines: not using $hs_cache (not owned by $hs_owner); Rspamd compiles from scratch" >&2
            hs_cache=
        fi
    fi
    [ -n "$hs_cache" ] || hs_cache="$rs_dir/db"

    # One message per spamd child: a child keeps rule state between
    # messages (tags captured by SpamAssassin 4's capture rules, such as
    # GB_TO_ADDR, outlive the message that set them), so a verdict depended
    # on which messages the same child had judged before it.
    #
    # Both run in the foreground as children of this script, so their pids
    # are known at once and an early exit is noticed; stdio goes to files
    # so that no caller waits on a pipe they hold.
    t0=$(date +%s)
    spamd -L -x "${spamd_user[@]}" \
        -C "$sa_rules" --siteconfigpath="$sa_dir/conf" -H "$sa_dir/home" \
        --listen="127.0.0.1:$spamd_port" -s "$sa_dir/spamd.log" \
        --max-children=4 --min-children=1 --min-spare=1 --max-spare=2 \
        --max-conn-per-child=1 \
        </dev/null >"$sa_dir/stderr.log" 2>&1 &
    sa_pid=$!
    echo "$sa_pid" >"$sa_dir/spamd.pid"
    rspamd -f "${rspamd_user[@]}" -c "$rs_dir/conf/rspamd.conf" \
        --var="CONFDIR=$rspamd_confdir" --var="LOCAL_CONFDIR=$rs_dir/conf" \
        --var="DBDIR=$rs_dir/db" --var="RUNDIR=$rs_dir/run" --var="LOGDIR=$rs_dir/log" \
        --var="NORMAL_PORT=$rspamd_port" --var="HS_CACHE_DIR=$hs_cache" \
        </dev/null >"$rs_dir/stderr.log" 2>&1 &
    rs_pid=$!
    echo "$rs_pid" >"$rs_dir/rspamd.pid"
    cat >"$dir/addresses" <<EOF
spamd 127.0.0.1:$spamd_port
rspamd http://127.0.0.1:$rspamd_port
EOF

    limit=${BASELINES_TIMEOUT:-90}
    sa_up=
    rs_up=
    failed=
    echo "baselines: starting spamd on 127.0.0.1:$spamd_port and rspamd on 127.0.0.1:$rspamd_port (up to $limit s)"
    while :; do
        now=$(($(date +%s) - t0))
        if [ -z "$sa_up" ]; then
            if spamd_answers "$spamd_port"; then
                sa_up=$now
                echo "baselines: spamd answers after ${now} s"
            elif ! child_running "$sa_pid"; then
                ended_how "$sa_pid"
                failed="spamd exited during startup ($ended)"
                break
            fi
        fi
        if [ -z "$rs_up" ]; then
            if rspamd_answers "$rspamd_port"; then
                rs_up=$now
                echo "baselines: rspamd answers after ${now} s"
            elif ! child_running "$rs_pid"; then
                ended_how "$rs_pid"
                failed="rspamd exited during startup ($ended)"
                break
            fi
        fi
        [ -n "$sa_up" ] && [ -n "$rs_up" ] && break
        if [ "$now" -ge "$limit" ]; then
            failed="not answering after $limit s:"
            [ -n "$sa_up" ] || failed="$failed spamd"
            [ -n "$rs_up" ] || failed="$failed rspamd"
            break
        fi
        if [ $((now % 10)) = 0 ] && [ "$now" -gt 0 ]; then
            echo "baselines: waiting (${now} s): spamd $([ -n "$sa_up" ] && echo up || echo starting), rspamd $([ -n "$rs_up" ] && echo up || echo "loading rules")"
        fi
        sleep 1
    done
    if [ -z "$failed" ]; then
        check_loopback spamd "$(pid_of "$sa_dir/spamd.pid")" || failed="spamd is not confined to loopback"
        check_loopback rspamd "$(pid_of "$rs_dir/rspamd.pid")" || failed="rspamd is not confined to loopback"
    fi
    if [ -n "$failed" ]; then
        echo "baselines: start failed: $failed" >&2
        log_tail "$sa_dir/stderr.log" "$sa_dir/spamd.log" "$rs_dir/stderr.log" "$rs_dir/log/rspamd.log"
        stop_one spamd "$sa_dir/spamd.pid" >/dev/null
        stop_one rspamd "$rs_dir/rspamd.pid" >/dev/null
        exit 1
    fi
    cat "$dir/addresses"
    ;;
stop)
    stop_one spamd "$sa_dir/spamd.pid"
    stop_one rspamd "$rs_dir/rspamd.pid"
    ;;
status)
    rc=0
    sa_port=$(awk '$1 == "spamd" { sub(/.*:/, "", $2); print $2 }' "$dir/addresses" 2>/dev/null || true)
    rs_port=$(awk '$1 == "rspamd" { sub(/.*:/, "", $2); print $2 }' "$dir/addresses" 2>/dev/null || true)
    pid=$(pid_of "$sa_dir/spamd.pid")
    if alive "$pid" spamd && [ -n "$sa_port" ] && spamd_answers "$sa_port"; then
        echo "spamd 127.0.0.1:$sa_port running (pid $pid)"
    else
        echo "spamd not running"
        rc=3
    fi
    pid=$(pid_of "$rs_dir/rspamd.pid")
    if alive "$pid" rspamd && [ -n "$rs_port" ] && rspamd_answers "$rs_port"; then
        echo "rspamd http://127.0.0.1:$rs_port running (pid $pid)"
    else
        echo "rspamd not running"
        rc=3
    fi
    exit "$rc"
    ;;
*)
    usage
    ;;
esac
