#!/usr/bin/env bash
# PostToolUse hook on Grep (installed by moot): when the spec recorded what a
# search should find, say so if today's result differs.
#
# Baselines live in $CLAUDE_PROJECT_DIR/.moot/grep-baseline/<sha256 of the
# pattern>.txt, one matched file path per line, relative to the repository
# root (the spec-checklist skill records them). .moot/ exists only in the
# main checkout, so from .worktrees/<role> the main checkout's is used.
# When the set of matched files differs, it prints a PostToolUse JSON with
# additionalContext listing added and missing files (at most 20 of each).
# No baseline, the same set, no jq, unparsable input: silent, exit 0.
#
# Grep's tool_response: `filenames` (files_with_matches mode), or `content`
# with "path:line:text" lines (content mode) or "path:count" (count mode).
set -euo pipefail

command -v jq >/dev/null 2>&1 || exit 0
input="$(cat 2>/dev/null || true)"
[ -n "$input" ] || exit 0
printf '%s' "$input" | jq -e 'type == "object" and (.tool_input | type) == "object"' >/dev/null 2>&1 || exit 0
pattern="$(printf '%s' "$input" | jq -r '.tool_input.pattern // "" | tostring')"
[ -n "$pattern" ] || exit 0
cwd="$(printf '%s' "$input" | jq -r '.cwd // "" | tostring')"
[ -n "$cwd" ] || cwd="$PWD"

if command -v sha256sum >/dev/null 2>&1; then
  hash="$(printf '%s' "$pattern" | sha256sum)"
elif command -v shasum >/dev/null 2>&1; then
  hash="$(printf '%s' "$pattern" | shasum -a 256)"
else
  exit 0
fi
hash="${hash%% *}"

project="${CLAUDE_PROJECT_DIR:-$cwd}"
worktree=""
case "$project/" in
  */.worktrees/*/*)
    rest="${project#*/.worktrees/}"
    worktree="${project%%/.worktrees/*}/.worktrees/${rest%%/*}"
    project="${project%%/.worktrees/*}"
    ;;
esac
baseline="$project/.moot/grep-baseline/$hash.txt"
[ -f "$baseline" ] || exit 0

# One path per line, relative to the checkout searched, sorted and unique.
relative() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    [ -n "$line" ] || continue
    if [ -n "$worktree" ] && [ "${line#"$worktree"/}" != "$line" ]; then
      line="${line#"$worktree"/}"
    elif [ "${line#"$project"/}" != "$line" ]; then
      line="${line#"$project"/}"
    fi
    printf '%s\n' "${line#./}"
  done | LC_ALL=C sort -u
}

actual="$(printf '%s' "$input" | jq -r '
  .tool_response as $r
  | if ($r | type) == "object" and (($r.filenames // []) | type) == "array" and (($r.filenames // []) | length) > 0 then $r.filenames[] | tostring
    elif ($r | type) == "object" and ($r.content | type) == "string" then $r.content | split("\n")[] | select(test(":")) | sub(":.*$"; "")
    elif ($r | type) == "array" then $r[] | (.text? // empty) | tostring | split("\n")[] | select(length > 0) | sub(":.*$"; "")
    elif ($r | type) == "string" then $r | split("\n")[] | select(length > 0) | sub(":.*$"; "")
    else empty end' 2>/dev/null | relative)" || exit 0
expected="$(relative <"$baseline")"
[ "$actual" != "$expected" ] || exit 0

added="$(LC_ALL=C comm -13 <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | sed '/^$/d')"
missing="$(LC_ALL=C comm -23 <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | sed '/^$/d')"

# list TITLE LINES: at most 20 lines, then how many more.
list() {
  local count
  [ -n "$2" ] || return 0
  count="$(printf '%s\n' "$2" | wc -l | tr -d ' ')"
  printf '%s (%s):\n' "$1" "$count"
  printf '%s\n' "$2" | head -n 20 | sed 's/^/  /'
  if [ "$count" -gt 20 ]; then printf '  ... and %s more\n' "$((count - 20))"; fi
}

message="$(
  printf 'grep-baseline: the files matching %s differ from the baseline the spec recorded (.moot/grep-baseline/%s.txt).\n' "$pattern" "$hash"
  list "Matching now, not in the baseline" "$added"
  list "In the baseline, not matching now" "$missing"
  printf 'Check whether the spec still holds (a missed rename, or new code to cover) before you rely on this search.'
)"
jq -cn --arg m "$message" '{hookSpecificOutput: {hookEventName: "PostToolUse", additionalContext: $m}}'
