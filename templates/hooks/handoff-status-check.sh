#!/usr/bin/env bash
# Stop hook (installed by moot): an agent that changed something must post a
# handoff before it stops, or the next role never hears about the work.
#
# Choice: it BLOCKS the stop (`{"decision":"block",...}`), but only when the
# transcript shows work since the last handoff: a file edit (Edit, Write,
# MultiEdit, NotebookEdit) or a `git commit/push/merge`. A session that only
# read, oriented or answered is left alone, so idle agents are not pushed
# into posting noise. A handoff is a call to a Moot message tool (a tool name
# containing share, send_message, reply_to, post_response, handoff or
# update_status) or an assistant message mentioning someone (`@name`).
# Claude Code sets stop_hook_active on the stop that follows a block: then
# it exits silently, so it blocks at most once in a row and never loops.
# Human sessions (no MOOT_ROLE, not under .worktrees/<role>) are not checked.
# Without jq, with unparsable input or with no readable transcript it exits
# 0 silently.
set -euo pipefail

command -v jq >/dev/null 2>&1 || exit 0
input="$(cat 2>/dev/null || true)"
[ -n "$input" ] || exit 0
printf '%s' "$input" | jq -e 'type == "object"' >/dev/null 2>&1 || exit 0
active="$(printf '%s' "$input" | jq -r '.stop_hook_active // false | tostring')"
[ "$active" != true ] || exit 0
transcript="$(printf '%s' "$input" | jq -r '.transcript_path // "" | tostring')"
cwd="$(printf '%s' "$input" | jq -r '.cwd // "" | tostring')"
[ -n "$cwd" ] || cwd="$PWD"

if [ -z "${MOOT_ROLE:-}" ]; then
  case "$cwd/" in
    */.worktrees/*/*) ;;
    *) exit 0 ;;
  esac
fi
case "$transcript" in
  '~/'*) transcript="${HOME:-}/${transcript#'~/'}" ;;
esac
[ -n "$transcript" ] && [ -f "$transcript" ] && [ -r "$transcript" ] || exit 0

# Each line is one JSON entry; unparsable lines are skipped.
pending="$(jq -R -n -r '
  [inputs | fromjson? | select(type == "object" and .type == "assistant")
   | .message.content? | select(type == "array") | .[] | select(type == "object")]
  | reduce .[] as $c (false;
      if $c.type == "tool_use" and (($c.name // "") | tostring | test("share|send_message|reply_to|post_response|handoff|update_status"; "i")) then false
      elif $c.type == "text" and (($c.text // "") | tostring | test("(^|[\\s(])@[A-Za-z][A-Za-z0-9_-]*")) then false
      elif $c.type == "tool_use" and (($c.name // "") | IN("Edit", "Write", "MultiEdit", "NotebookEdit")) then true
      elif $c.type == "tool_use" and $c.name == "Bash" and (($c.input.command? // "") | tostring | test("\\bgit\\b[^;&|]*\\b(commit|push|merge)\\b")) then true
      else . end)
  | tostring' "$transcript" 2>/dev/null)" || exit 0

if [ "$pending" = true ]; then
  jq -cn --arg r "You changed files or git state since your last handoff, and nobody has been told. Before stopping, post the handoff in the feature's thread (mcp__convo__reply_to or mcp__convo__share), mentioning the next role, with: what was done and what was not, branch and commit sha, how to verify (exact commands), open questions. If the work is not ready to hand off, post a one-line status with mcp__convo__update_status instead. See the handoff skill." \
    '{decision: "block", reason: $r}'
fi
exit 0
