#!/usr/bin/env bash
# run-moot-channel.sh [ROLE] [ARGS...] (installed by moot): starts the
# Moot channel adapter (delivers space messages into the agent's session) as
# ROLE (first argument, else $MOOT_ROLE or $CONVO_ROLE).
# Reading the key and starting the runtime is shared with run-moot-mcp.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export MOOT_RUN_ADAPTER=channel
exec bash "$here/run-moot-mcp.sh" "$@"
