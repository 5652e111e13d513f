#!/usr/bin/env bash
# PreToolUse hook on Bash (installed by moot): an agent may change git state
# only inside its own worktree, `<repo>/.worktrees/<role>`. Mutating git
# commands (commit, push, merge, rebase, reset, checkout, switch, branch -d,
# tag, stash, worktree remove, clean, ...) aimed anywhere else are denied;
# read-only ones (status, log, diff, show, fetch, branch listing) always pass.
#
# The agent's worktree is .worktrees/$MOOT_ROLE, or the .worktrees/<x> the
# session runs in when MOOT_ROLE is unset. Neither: a human's session, and
# everything is allowed. `cd DIR && git ...`, `git -C DIR ...` and
# `--work-tree`/`--git-dir` are followed; a directory it cannot work out
# (`cd -`, `cd "$X"`) counts as outside.
# Limits: commands hidden in `bash -c`, eval, xargs or scripts are not seen.
#
# Deny: one JSON line on stdout, exit 0. Allow: no output, exit 0. Without
# jq or with unparsable input it allows silently rather than break the agent.
set -euo pipefail

command -v jq >/dev/null 2>&1 || exit 0
input="$(cat 2>/dev/null || true)"
[ -n "$input" ] || exit 0
printf '%s' "$input" | jq -e 'type == "object" and (.tool_input | type) == "object"' >/dev/null 2>&1 || exit 0
command="$(printf '%s' "$input" | jq -r '.tool_input.command // "" | tostring' 2>/dev/null)" || exit 0
cwd="$(printf '%s' "$input" | jq -r '.cwd // "" | tostring' 2>/dev/null)" || exit 0
[ -n "$command" ] || exit 0
case "$cwd" in /*) ;; *) cwd="$PWD" ;; esac

# normalize BASE PATH: the absolute, lexically normalized path ("" if unknown).
normalize() {
  local base="$1" p="$2" part
  local -a parts=() out=()
  case "$p" in
    *'$'* | *'`'*) printf '' && return 0 ;;
    '~') p="${HOME:-/}" ;;
    '~/'*) p="${HOME:-}/${p#'~/'}" ;;
    /*) ;;
    *)
      [ -n "$base" ] || return 0
      p="$base/$p"
      ;;
  esac
  IFS=/ read -r -a parts <<<"$p"
  for part in ${parts[@]+"${parts[@]}"}; do
    case "$part" in
      '' | .) ;;
      ..) [ "${#out[@]}" -eq 0 ] || unset 'out[${#out[@]}-1]' ;;
      *) out+=("$part") ;;
    esac
  done
  if [ "${#out[@]}" -eq 0 ]; then
    printf '/'
  else
    printf '/%s' "${out[@]}"
  fi
}

# physical PATH: PATH with symlinks resolved when it exists.
physical() {
  local r
  if [ -d "$1" ] && r="$(cd "$1" 2>/dev/null && pwd -P)"; then printf '%s' "$r"; else printf '%s' "$1"; fi
}

cwd="$(normalize / "$cwd")"
case "$cwd/" in
  */.worktrees/*/*)
    root="${cwd%%/.worktrees/*}"
    rest="${cwd#*/.worktrees/}"
    cwd_wt="${rest%%/*}"
    ;;
  *)
    root="$(git -C "$cwd" rev-parse --show-toplevel 2>/dev/null || printf '%s' "$cwd")"
    cwd_wt=""
    ;;
esac
role="${MOOT_ROLE:-$cwd_wt}"
[ -n "$role" ] || exit 0 # a human's session
own="$(physical "$root/.worktrees/$role")"

inside_own() {
  local d
  [ -n "$1" ] || return 1
  d="$(physical "$1")"
  case "$d/" in "$own/"*) return 0 ;; *) return 1 ;; esac
}

deny() {
  jq -cn --arg r "$1" '{hookSpecificOutput: {hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: $r}}'
  exit 0
}

# Split the command into words and separators (";"), honouring quotes.
words=()
word=""
have_word=0
quote=""
len="${#command}"
i=0
while [ "$i" -lt "$len" ]; do
  c="${command:i:1}"
  if [ -n "$quote" ]; then
    if [ "$c" = "$quote" ]; then
      quote=""
    elif [ "$c" = '\' ] && [ "$quote" = '"' ] && [ $((i + 1)) -lt "$len" ]; then
      i=$((i + 1))
      word+="${command:i:1}"
    else
      word+="$c"
    fi
  else
    case "$c" in
      "'" | '"')
        quote="$c"
        have_word=1
        ;;
      '\')
        if [ $((i + 1)) -lt "$len" ]; then
          i=$((i + 1))
          [ "${command:i:1}" = $'\n' ] || word+="${command:i:1}"
          have_word=1
        fi
        ;;
      ' ' | $'\t')
        if [ "$have_word" -eq 1 ]; then words+=("$word"); fi
        word=""
        have_word=0
        ;;
      ';' | '|' | '(' | ')' | $'\n' | '&')
        prev=""
        [ "$i" -eq 0 ] || prev="${command:i-1:1}"
        next="${command:i+1:1}"
        if [ "$c" = '&' ] && { [ "$prev" = '>' ] || [ "$prev" = '<' ] || [ "$next" = '>' ]; }; then
          word+="$c"
          have_word=1
        else
          if [ "$have_word" -eq 1 ]; then words+=("$word"); fi
          word=""
          have_word=0
          words+=(';')
        fi
        ;;
      *)
        word+="$c"
        have_word=1
        ;;
    esac
  fi
  i=$((i + 1))
done
if [ "$have_word" -eq 1 ]; then words+=("$word"); fi
words+=(';')

# mutating SUBCOMMAND ARGS...: whether the git subcommand changes state.
mutating() {
  local sub="$1" a expect=0 positional=0 listing=0
  shift
  case "$sub" in
    commit | push | merge | rebase | reset | cherry-pick | revert | clean | am | pull | checkout | switch | restore | mv | rm | add | filter-branch | filter-repo | update-ref | replace | submodule)
      return 0
      ;;
    apply)
      for a in "$@"; do case "$a" in --check | --stat | --numstat | --summary) return 1 ;; esac; done
      return 0
      ;;
    stash | notes)
      case "${1:-}" in list | show) return 1 ;; *) return 0 ;; esac
      ;;
    worktree)
      case "${1:-}" in '' | list) return 1 ;; *) return 0 ;; esac
      ;;
    remote)
      case "${1:-}" in '' | -v | --verbose | show | get-url) return 1 ;; *) return 0 ;; esac
      ;;
    branch | tag)
      for a in "$@"; do
        if [ "$expect" -eq 1 ]; then
          expect=0
          continue
        fi
        case "$a" in
          -d | -D | --delete | -m | -M | --move | -c | -C | --copy | -f | --force | -u | --set-upstream-to* | --unset-upstream | --edit-description | -a | --annotate | -s | --sign | -F | --file* | --message*)
            # -a/-c mean --all/--copy for branch and --annotate/--cleanup for tag.
            if [ "$sub" = branch ] && [ "$a" = -a ]; then listing=1; else return 0; fi
            ;;
          -l | --list | -r | --remotes | --all | --show-current | -v | -vv | --verbose | -n*)
            listing=1
            ;;
          --contains | --no-contains | --merged | --no-merged | --points-at | --sort | --format)
            listing=1
            expect=1
            ;;
          --contains=* | --no-contains=* | --merged=* | --no-merged=* | --points-at=* | --sort=* | --format=*)
            listing=1
            ;;
          -*) ;;
          *) positional=1 ;;
        esac
      done
      [ "$positional" -eq 1 ] && [ "$listing" -eq 0 ]
      return
      ;;
  esac
  return 1
}

# Walk the segments, following cd and checking each git invocation.
dir="$cwd"
n="${#words[@]}"
i=0
while [ "$i" -lt "$n" ]; do
  # Collect one segment.
  seg=()
  while [ "$i" -lt "$n" ] && [ "${words[i]}" != ';' ]; do
    seg+=("${words[i]}")
    i=$((i + 1))
  done
  i=$((i + 1))
  [ "${#seg[@]}" -gt 0 ] || continue
  k=0
  while [ "$k" -lt "${#seg[@]}" ]; do
    case "${seg[k]}" in
      [A-Za-z_]*=* | sudo | command | env | time | nohup | exec | builtin | '{' | '}' | then | do | else) k=$((k + 1)) ;;
      *) break ;;
    esac
  done
  [ "$k" -lt "${#seg[@]}" ] || continue
  prog="${seg[k]}"
  case "$prog" in
    cd | pushd)
      target="${seg[k + 1]:-${HOME:-/}}"
      if [ "$target" = - ]; then dir=""; else dir="$(normalize "$dir" "$target")"; fi
      ;;
    git | */git)
      gdir="$dir"
      k=$((k + 1))
      while [ "$k" -lt "${#seg[@]}" ]; do
        case "${seg[k]}" in
          -C | --git-dir | --work-tree)
            gdir="$(normalize "$gdir" "${seg[k + 1]:-}")"
            k=$((k + 2))
            ;;
          --git-dir=* | --work-tree=*)
            gdir="$(normalize "$gdir" "${seg[k]#*=}")"
            k=$((k + 1))
            ;;
          -c | --namespace | --exec-path | --super-prefix | --config-env)
            k=$((k + 2))
            ;;
          -*) k=$((k + 1)) ;;
          *) break ;;
        esac
      done
      [ "$k" -lt "${#seg[@]}" ] || continue
      sub="${seg[k]}"
      if mutating "$sub" "${seg[@]:k+1}"; then
        if ! inside_own "$gdir"; then
          where="${gdir:-a directory this hook cannot work out}"
          deny "git-guard: \`git $sub\` would run in $where, outside your worktree $own. Run git commands that change state only inside your own worktree (cd $own first). For another checkout, ask its owner in the Moot space instead."
        fi
        if [ "$sub" = worktree ]; then
          # `worktree remove|move|add PATH` acts on PATH, wherever it runs.
          target=""
          for a in "${seg[@]:k+2}"; do
            case "$a" in -*) ;; *) target="$a" && break ;; esac
          done
          if [ "${seg[k + 1]:-}" = prune ] || ! inside_own "$(normalize "$gdir" "$target")"; then
            deny "git-guard: \`git worktree ${seg[k + 1]:-}\` would change a worktree other than yours ($own). Worktrees are set up by moot and the human; ask in the Moot space instead."
          fi
        fi
      fi
      ;;
  esac
done
exit 0
