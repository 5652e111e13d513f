#!/usr/bin/env bash
# Runs once when the devcontainer is created (installed by moot): installs
# what the hooks and the run-moot-*.sh wrappers need. Prints no secret.
#
# The Moot runtime (the `mootup` Python package) goes into its own virtualenv,
# ~/.moot-runtime, and is NOT put on PATH: its console script is also called
# `moot` and would shadow this repository's `moot` CLI. The run-moot-*.sh
# wrappers call ~/.moot-runtime/bin/python directly.
set -euo pipefail

say() { printf 'post-create: %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

missing=()
for tool in jq tmux git; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

runtime="$HOME/.moot-runtime"
if [ ! -x "$runtime/bin/python" ]; then
  say "creating the Moot runtime virtualenv in $runtime"
  python3 -m venv "$runtime"
fi
say "installing the Moot runtime (mootup)"
"$runtime/bin/python" -m pip install --quiet --upgrade pip
"$runtime/bin/python" -m pip install --quiet --upgrade mootup

workspace="${MOOT_WORKSPACE:-$PWD}"
git config --global --add safe.directory "$workspace"
git config --global --add safe.directory "$workspace/.worktrees/*"

# Agent keys: owner-only, whatever the host's umask made of them.
if [ -d "$workspace/.moot" ]; then
  chmod 700 "$workspace/.moot"
  if [ -f "$workspace/.moot/actors.json" ]; then chmod 600 "$workspace/.moot/actors.json"; fi
fi

chmod +x "$workspace"/.devcontainer/*.sh "$workspace"/.claude/hooks/*.sh 2>/dev/null || true

if [ -f "$workspace/.moot/actors.json" ]; then
  say "ready: agent keys found in .moot/actors.json"
else
  say "ready; no agent keys yet: run \`moot apply\` in $workspace"
fi
