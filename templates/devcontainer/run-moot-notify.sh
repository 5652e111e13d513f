#!/usr/bin/env bash
# run-moot-notify.sh [ROLE] [ARGS...] (installed by moot): starts the
# Moot notification daemon (wakes the agent's tmux pane when it is mentioned)
# as ROLE (first argument, else $MOOT_ROLE or $CONVO_ROLE).
# Reading the key and starting the runtime is shared with run-moot-mcp.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export MOOT_RUN_ADAPTER=notify
exec bash "$here/run-moot-mcp.sh" "$@"
