#!/usr/bin/env bash
# SessionStart hook (installed by moot): reminds the agent to orient in its
# Moot space before anything else and names the role it plays.
#
# The role is $MOOT_ROLE, else the <role> of a cwd under .worktrees/<role>.
# Output is plain text on stdout, which Claude Code adds to the context.
# Without jq, or with empty or unparsable input, it prints nothing: a hook
# must never stand in the agent's way.
set -euo pipefail

command -v jq >/dev/null 2>&1 || exit 0
input="$(cat 2>/dev/null || true)"
[ -n "$input" ] || exit 0
cwd="$(printf '%s' "$input" | jq -r 'if type == "object" then (.cwd | if type == "string" then . else "" end) else error("not an object") end' 2>/dev/null)" || exit 0
[ -n "$cwd" ] || cwd="$PWD"

role="${MOOT_ROLE:-}"
if [ -z "$role" ]; then
  case "$cwd/" in
    */.worktrees/*/*)
      rest="${cwd#*/.worktrees/}"
      role="${rest%%/*}"
      ;;
  esac
fi
# The role ends up in the agent's context: accept only a role identifier.
case "$role" in
  *[!a-z0-9_-]*) role="" ;;
esac

if [ -n "$role" ]; then
  printf '%s\n' \
    "Moot: you are the \`$role\` agent of this team." \
    "Before anything else, call the Moot orientation tool (mcp__convo__orientation), then check your mentions (mcp__convo__get_mentions) and continue the oldest thread addressed to you." \
    "Work and commit only in your own worktree, .worktrees/$role; end each step with a handoff that mentions the next role (see the handoff skill)."
else
  printf '%s\n' \
    "Moot: your role is unknown (MOOT_ROLE is unset and this session is not inside .worktrees/<role>)." \
    "If you are an agent of this team, call the Moot orientation tool (mcp__convo__orientation) first: it tells you who you are. A human's session can ignore this."
fi
