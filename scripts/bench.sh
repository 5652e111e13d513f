#!/usr/bin/env bash
# Whole-process benchmarks of the release `moot` binary against moot-sandbox:
# wall time (median) and peak RSS of
#   1. `moot check` and `moot plan --offline` on an applied loop-6 workspace;
#   2. `moot apply -y` of loop-4 on a fresh workspace against a fresh sandbox;
#   3. `moot apply -y` of 64 and 256 roles, sandbox `--latency-ms 50`,
#      at `--concurrency` 1, 4 and 16 (fresh workspace + sandbox each run).
# Prints a results table (also written to $RESULTS, default
# $CARGO_TARGET_DIR/bench-results.txt). See docs/performance.md.
#
# Knobs (environment): RUNS (quick commands, default 30), APPLY_RUNS (loop-4
# apply, default 15), SCALE_RUNS (64/256 roles, default 3), SCALE_SIZES
# (default "64 256"; empty skips them), MOOTUP (0 skips the mootup 0.3.0
# comparison), CONCURRENCIES (default "1 4 16"), RSS_RUNS (default 3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RUNS=${RUNS:-30}
APPLY_RUNS=${APPLY_RUNS:-15}
SCALE_RUNS=${SCALE_RUNS:-3}
SCALE_SIZES=${SCALE_SIZES-"64 256"}
CONCURRENCIES=${CONCURRENCIES:-"1 4 16"}
RSS_RUNS=${RSS_RUNS:-3}
RESULTS=${RESULTS:-$CARGO_TARGET_DIR/bench-results.txt}

log() { printf '==> %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
if ! command -v hyperfine >/dev/null; then
    log "installing hyperfine"
    as_root apt-get install -y hyperfine >/dev/null 2>&1 || log "hyperfine unavailable: falling back to a /usr/bin/time loop"
fi
if [[ ! -x /usr/bin/time ]]; then
    log "installing time"
    as_root apt-get install -y time >/dev/null 2>&1 || { echo "bench.sh: /usr/bin/time is required" >&2; exit 1; }
fi
HAVE_HYPERFINE=0
command -v hyperfine >/dev/null && HAVE_HYPERFINE=1

log "cargo build --release --locked --bins"
cargo build --release --locked --bins
MOOT=$CARGO_TARGET_DIR/release/moot
SANDBOX=$CARGO_TARGET_DIR/release/moot-sandbox
TOKEN=mootup_pat_sandbox # moot_sandbox::DEFAULT_TOKEN

WORK=$(mktemp -d "${TMPDIR:-/tmp}/moot-bench.XXXXXX")
PIDFILE=$WORK/sandbox.pid
SANDBOX_PID=
cleanup() {
    [[ -n $SANDBOX_PID ]] && kill "$SANDBOX_PID" 2>/dev/null || true
    [[ -f $PIDFILE ]] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- sandbox -------------------------------------------------------------------
# start_sandbox ARGS...: starts one in the background; sets SANDBOX_PID and
# SANDBOX_URL (its stdout line 1). Every sandbox here runs without the
# platform's exchange rate limit (--exchange-rate off): these figures measure
# moot, not the limit.
start_sandbox() {
    local out=$WORK/sandbox.out
    : >"$out"
    "$SANDBOX" --exchange-rate off "$@" >"$out" 2>/dev/null </dev/null &
    SANDBOX_PID=$!
    for _ in $(seq 500); do
        SANDBOX_URL=$(head -n1 "$out")
        [[ $SANDBOX_URL == http://* ]] && return 0
        kill -0 "$SANDBOX_PID" 2>/dev/null || break
        sleep 0.01
    done
    echo "bench.sh: moot-sandbox $* did not start" >&2
    exit 1
}
stop_sandbox() {
    [[ -n $SANDBOX_PID ]] || return 0
    kill "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=
}

# A prepare script for fresh-apply runs: kills the previous sandbox (pid in
# $PIDFILE), starts a new one on the same port with the given args, and
# recreates the workspace from a template (or, with the template "git", as
# an empty git repository, for the Python client). Run by hyperfine
# --prepare, so it detaches the sandbox completely (setsid, all fds
# redirected).
write_prepare() { # PORT WORKSPACE TEMPLATE SANDBOX_ARGS...
    local port=$1 ws=$2 template=$3
    shift 3
    local setup="\"$MOOT\" -q -C \"$ws\" init --template \"$template\" >/dev/null"
    [[ $template == git ]] && setup="git init -q \"$ws\""
    cat >"$WORK/prepare.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
if [[ -f "$PIDFILE" ]]; then
    old=\$(cat "$PIDFILE"); kill "\$old" 2>/dev/null || true
    while kill -0 "\$old" 2>/dev/null; do sleep 0.005; done
fi
out="$WORK/prep-sandbox.out"; : >"\$out"
setsid "$SANDBOX" --exchange-rate off --port $port $* >"\$out" 2>/dev/null </dev/null &
echo \$! >"$PIDFILE"
for _ in \$(seq 500); do
    [[ \$(head -n1 "\$out") == http://* ]] && break
    sleep 0.01
done
[[ \$(head -n1 "\$out") == http://* ]] || { echo "sandbox did not start" >&2; exit 1; }
rm -rf "$ws"; mkdir -p "$ws"
$setup
# The set-up's writes (the old workspace removed, the new one written) are
# not the timed command's: without this, moot's syncfs would flush them
# inside the timing, and the Python client, which never syncs, would not.
sync
EOF
    chmod +x "$WORK/prepare.sh"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- measuring -------------------------------------------------------------------
ROWS=()
# measure NAME RUNS PREPARE(or "") CMD...: median/min/max wall time (ms),
# peak RSS (max of RSS_RUNS runs, MB) and the exit code of the last run.
measure() {
    local name=$1 runs=$2 prepare=$3
    shift 3
    local cmd="$*"
    log "$name: $cmd ($runs runs)"
    local med min max
    if [[ $HAVE_HYPERFINE == 1 ]]; then
        local args=(-N -i --style none --runs "$runs" --export-json "$WORK/hf.json")
        if [[ -n $prepare ]]; then args+=(--prepare "$prepare"); else args+=(--warmup 3); fi
        hyperfine "${args[@]}" "$cmd" >/dev/null
        read -r med min max < <(jq -r '.results[0] | "\(.median*1000) \(.min*1000) \(.max*1000)"' "$WORK/hf.json")
    else
        local times=()
        for _ in $(seq "$runs"); do
            [[ -n $prepare ]] && bash -c "$prepare"
            /usr/bin/time -f %e,%M -o "$WORK/t" "$@" >/dev/null 2>&1 || true
            times+=("$(cut -d, -f1 "$WORK/t")")
        done
        read -r med min max < <(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1*1000} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m, a[1], a[NR]}')
    fi
    local peak=0 code=0 rss
    for _ in $(seq "$RSS_RUNS"); do
        [[ -n $prepare ]] && bash -c "$prepare"
        code=0
        /usr/bin/time -f %M -o "$WORK/rss" "$@" >"$WORK/last.out" 2>&1 || code=$?
        rss=$(tail -n1 "$WORK/rss")
        ((rss > peak)) && peak=$rss
    done
    if [[ $code != 0 && $code != 2 ]]; then
        log "$name exited $code:"
        tail -n 20 "$WORK/last.out" >&2
    fi
    ROWS+=("$(printf '%-40s %10.1f %10.1f %10.1f %6d %9.1f %5s' "$name" "$med" "$min" "$max" "$runs" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" "$code")")
}

export MOOT_TOKEN=$TOKEN NO_COLOR=1

# --- 1. loop-6, applied: check and plan --offline --------------------------------
start_sandbox --agents "Product,Leader,Spec,Implementation,QA,Librarian"
export MOOT_API_URL=$SANDBOX_URL
WS6=$WORK/loop6
mkdir -p "$WS6"
"$MOOT" -q -C "$WS6" init --template loop-6
"$MOOT" -q -C "$WS6" apply -y >/dev/null
measure "moot check (loop-6, applied)" "$RUNS" "" "$MOOT" -C "$WS6" check
measure "moot plan --offline (loop-6, applied)" "$RUNS" "" "$MOOT" -C "$WS6" plan --offline
measure "moot plan (online, loop-6, applied)" "$RUNS" "" "$MOOT" -C "$WS6" plan
stop_sandbox

# --- 2. loop-4: apply on a fresh workspace against a fresh sandbox ---------------
PORT=$(free_port)
export MOOT_API_URL=http://127.0.0.1:$PORT
WS=$WORK/fresh
write_prepare "$PORT" "$WS" loop-4
measure "moot apply -y (loop-4, fresh)" "$APPLY_RUNS" "bash $WORK/prepare.sh" "$MOOT" -C "$WS" apply -y

# --- 2b. the same team set up by the Python client it replaces -------------------
# mootup 0.3.0's `moot init --yes` (rotates each agent's key and writes the
# same kinds of files) against the same sandbox, side by side with 2.
# MOOTUP=0 skips it; the venv is kept under the target directory.
if [[ ${MOOTUP:-1} == 1 ]]; then
    VENV=$CARGO_TARGET_DIR/bench-mootup-0.3.0
    if [[ ! -x $VENV/bin/moot ]]; then
        log "installing mootup 0.3.0 from PyPI into $VENV"
        python3 -m venv "$VENV" && "$VENV/bin/pip" install -q mootup==0.3.0 ||
            log "mootup 0.3.0 could not be installed: skipping the comparison"
    fi
    if [[ -x $VENV/bin/moot ]]; then
        PYHOME=$WORK/pyhome
        mkdir -p "$PYHOME/.moot"
        printf '[default]\napi_url = "%s"\ntoken = "%s"\nuser_id = "usr_bench"\n' \
            "$MOOT_API_URL" "$TOKEN" >"$PYHOME/.moot/credentials"
        chmod 600 "$PYHOME/.moot/credentials"
        write_prepare "$PORT" "$WS" git
        measure "mootup 0.3.0 moot init --yes (loop-4)" "$APPLY_RUNS" "bash $WORK/prepare.sh" \
            env -C "$WS" HOME="$PYHOME" "$VENV/bin/moot" init --yes --api-url "$MOOT_API_URL"
    fi
fi

# --- 3. N roles at 50 ms latency, concurrency 1/4/16 -----------------------------
for n in $SCALE_SIZES; do
    tdir=$WORK/team-$n
    mkdir -p "$tdir"
    {
        printf 'toml_schema_version = "1"\n\n[team]\nname = "scale-%d"\n' "$n"
        for i in $(seq 1 "$n"); do
            printf '\n[[roles]]\nname = "agent_%d"\ndisplay_name = "Agent %d"\n' "$i" "$i"
        done
    } >"$tdir/team.toml"
    write_prepare "$PORT" "$WS" "$tdir" --agent-count "$n" --latency-ms 50
    for c in $CONCURRENCIES; do
        measure "moot apply -y ($n roles, 50ms, c=$c)" "$SCALE_RUNS" "bash $WORK/prepare.sh" \
            "$MOOT" -C "$WS" apply -y --concurrency "$c"
    done
done

# --- results -------------------------------------------------------------------
{
    echo
    echo "moot $("$MOOT" --version | awk '{print $2}') @ $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cpu, $([[ $HAVE_HYPERFINE == 1 ]] && echo hyperfine || echo '/usr/bin/time loop')"
    printf '%-40s %10s %10s %10s %6s %9s %5s\n' "command" "median ms" "min ms" "max ms" "runs" "peak MB" "exit"
    printf '%s\n' "${ROWS[@]}"
    # moot's fresh apply against the Python client's init, same sandbox.
    py=$(printf '%s\n' "${ROWS[@]}" | awk '/^mootup 0.3.0/ {print $(NF-5)}')
    rs=$(printf '%s\n' "${ROWS[@]}" | awk '/^moot apply -y \(loop-4, fresh\)/ {print $(NF-5)}')
    if [[ -n $py && -n $rs ]]; then
        awk -v p="$py" -v r="$rs" 'BEGIN { printf "fresh loop-4 setup: moot apply is %.1fx faster than mootup 0.3.0 moot init (medians)\n", p / r }'
    fi
} | tee "$RESULTS"
