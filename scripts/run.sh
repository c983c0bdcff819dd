#!/usr/bin/env bash
# The run command: set up, migrate, seed an empty database, start in production mode.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3000}

scripts/setup.sh
source scripts/env.sh

agent-workspace db upgrade
agent-workspace seed --print-logins

cat <<MSG

Agent Workspace is starting on port $PORT (the first start builds the frontend: 1-2 minutes).
  Agent workspace:       http://localhost:$PORT/workspace   (sign in at http://localhost:$PORT/login)
  Customer chat page:    http://localhost:$PORT/chat
MSG
exec reflex run --env prod --single-port --frontend-port "$PORT" --backend-host "${HOST:-0.0.0.0}"
