#!/usr/bin/env bash
# The README's quickstart: build moot and moot-sandbox, start the sandbox (a
# local, in-memory stand-in for the Moot API), then walk a fresh workspace
# through init -> plan -> apply -> check and show what moot wrote.
#
#   scripts/demo.sh          run it; the temporary workspace is removed at the end
#   scripts/demo.sh --keep   keep the workspace and print where it is
#
# Needs only a Rust toolchain (cargo). Nothing outside the temporary
# directory is written, and no real Moot account is involved.
set -euo pipefail

keep=0
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        -h | --help)
            sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "demo.sh: unknown argument: $arg (try --help)" >&2
            exit 1
            ;;
    esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null || {
    echo "demo.sh: cargo not found; install Rust from https://rustup.rs" >&2
    exit 1
}

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
    step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
    step() { printf '\n==> %s\n' "$*"; }
fi
run() {
    printf '\n$ %s\n' "$*"
    "$@"
}

step "Building moot and moot-sandbox (release)"
# Both packages are default members of the workspace, so --bins builds both.
cargo build --release --locked --bins
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
bin="$target_dir/release"
export PATH="$bin:$PATH"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/moot-demo.XXXXXX")"
sandbox_pid=""
cleanup() {
    if [[ -n "$sandbox_pid" ]]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    if [[ "$keep" == 1 ]]; then
        echo "demo.sh: kept the workspace at $tmp/workspace"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Starting moot-sandbox (in-memory Moot API; agents Product, Spec, Implementation, QA, all keyless)"
"$bin/moot-sandbox" >"$tmp/sandbox.out" 2>"$tmp/sandbox.err" &
sandbox_pid=$!
url=""
for _ in $(seq 1 100); do
    url="$(head -n 1 "$tmp/sandbox.out" 2>/dev/null || true)"
    [[ -n "$url" ]] && break
    if ! kill -0 "$sandbox_pid" 2>/dev/null; then
        echo "demo.sh: moot-sandbox exited:" >&2
        cat "$tmp/sandbox.err" >&2
        exit 1
    fi
    sleep 0.1
done
[[ -n "$url" ]] || {
    echo "demo.sh: moot-sandbox printed no URL within 10 s" >&2
    exit 1
}
echo "moot-sandbox listening at $url"

# CI-style credentials: MOOT_TOKEN and MOOT_API_URL win over any stored
# login. mootup_pat_sandbox is the sandbox's built-in token, not a secret.
export MOOT_API_URL="$url"
export MOOT_TOKEN="mootup_pat_sandbox"
# Keep the demo away from the real ~/.moot.
export HOME="$tmp/home"
mkdir -p "$HOME" "$tmp/workspace"
cd "$tmp/workspace"

step "moot init: write team.toml from the default archetype (loop-4)"
run moot init

step "moot plan: what apply would do (changes nothing)"
run moot plan

step "moot apply --yes: issue the agents' keys, write the files, moot.lock last"
run moot apply --yes

step "moot check: the CI gate (offline; exit 0 = in sync, 2 = drift)"
run moot check

step "moot plan again: nothing left to do"
run moot plan

step "The files moot manages"
printf '\n$ find . -type f   (mode and path)\n'
mode() { stat -c %a "$1" 2>/dev/null || stat -f %Lp "$1"; }
find . -type f -not -path './.moot/*' | sort | while IFS= read -r f; do
    printf '%s  %s\n' "$(mode "$f")" "$f"
done
printf '\n$ ls -la .moot\n'
ls -la .moot
printf '\n$ head -n 20 moot.lock\n'
head -n 20 moot.lock
printf '\n$ cat .moot/actors.json   (keys masked here; the file holds them, mode 0600)\n'
sed -E 's/"api_key": "[^"]*"/"api_key": "convo_…(masked)"/' .moot/actors.json

step "Done"
echo "The same commands work against the real platform: run \`moot login\` instead of"
echo "setting MOOT_TOKEN/MOOT_API_URL. Try \`moot plan --json\` or edit a file under .claude/"
echo "and run \`moot check\` (with scripts/demo.sh --keep to keep this workspace)."
