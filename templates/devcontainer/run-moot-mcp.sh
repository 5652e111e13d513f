#!/usr/bin/env bash
# run-moot-mcp.sh [ROLE] [ARGS...] (installed by moot): starts the Moot MCP
# adapter (the tools: orientation, share, reply_to, ...) as ROLE.
# run-moot-channel.sh and run-moot-notify.sh delegate here for the channel
# and notification adapters.
#
# ROLE is the first argument (when it does not start with "-"), else
# $MOOT_ROLE, else $CONVO_ROLE (the runtime sets it for each agent). Its
# key comes from .moot/actors.json (in the main checkout; agents running
# in .worktrees/<role> use the main checkout's) and reaches
# the adapter only through its environment: it is never printed, and never
# put on a command line. stdout belongs to the adapter (MCP speaks on it):
# this script writes to stderr only.
set -euo pipefail

die() {
  printf 'run-moot: %s\n' "$*" >&2
  exit 1
}

adapter="${MOOT_RUN_ADAPTER:-mcp}"
case "$adapter" in
  mcp | channel | notify) ;;
  *) die "unknown adapter '$adapter' (expected mcp, channel or notify)" ;;
esac

role="${MOOT_ROLE:-${CONVO_ROLE:-}}"
if [ "$#" -gt 0 ] && [ -n "$1" ] && [ "${1#-}" = "$1" ]; then
  role="$1"
  shift
fi
[ -n "$role" ] || die "no role: pass it as the first argument or set MOOT_ROLE (or CONVO_ROLE)"
case "$role" in
  *[!a-z0-9_-]*) die "'$role' is not a role name" ;;
esac
command -v jq >/dev/null 2>&1 || die "jq is required (.devcontainer/post-create.sh installs it)"

# The workspace: the nearest directory upwards holding moot.toml.
root="$PWD"
while [ "$root" != / ] && [ ! -f "$root/moot.toml" ]; do root="$(dirname "$root")"; done
[ -f "$root/moot.toml" ] || root="$PWD"
actors="$root/.moot/actors.json"
if [ ! -f "$actors" ]; then
  # .moot/ is gitignored, so a worktree has none: use the main checkout's,
  # the first entry of `git worktree list`.
  main="$(git -C "$root" worktree list --porcelain 2>/dev/null | sed -n 's/^worktree //p' | head -n 1 || true)"
  if [ -n "$main" ] && [ -f "$main/.moot/actors.json" ]; then actors="$main/.moot/actors.json"; fi
fi
[ -f "$actors" ] || die "$actors not found: run \`moot apply\` in the main checkout"

mode="$(stat -c %a "$actors" 2>/dev/null || stat -f %Lp "$actors" 2>/dev/null || true)"
case "$mode" in
  *[!0-7]* | '') ;;
  *)
    if [ $((8#$mode & 8#077)) -ne 0 ]; then
      printf 'run-moot: warning: %s is readable by others (mode %s); run: chmod 600 %s\n' "$actors" "$mode" "$actors" >&2
    fi
    ;;
esac

jq -e 'type == "object"' "$actors" >/dev/null 2>&1 || die "$actors is not valid JSON: run \`moot apply\` to rewrite it"
field() { jq -r --arg role "$role" "$1 // empty | tostring" "$actors"; }
key="$(field '.actors[$role].api_key')"
if [ -z "$key" ]; then
  known="$(jq -r '.actors // {} | keys | join(", ")' "$actors")"
  die "no api_key for role '$role' in $actors (roles there: ${known:-none}); run \`moot apply\`"
fi
CONVO_AGENT_ID="$(field '.actors[$role].actor_id')"
CONVO_AGENT_NAME="$(field '.actors[$role].display_name')"
CONVO_SPACE_ID="${CONVO_SPACE_ID:-$(field '.space_id')}"
CONVO_API_URL="${CONVO_API_URL:-$(field '.api_url')}"
CONVO_API_URL="${CONVO_API_URL:-https://mootup.io}"
export CONVO_AGENT_ID CONVO_AGENT_NAME="${CONVO_AGENT_NAME:-$role}" CONVO_SPACE_ID CONVO_API_URL
export CONVO_ROLE="$role" MOOT_ROLE="$role"
export CONVO_API_KEY="$key"
unset key

python="${MOOT_PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x "$HOME/.moot-runtime/bin/python" ]; then python="$HOME/.moot-runtime/bin/python"; else python="python3"; fi
fi
exec "$python" -u -m "moot.adapters.${adapter}_runner" "$@"
