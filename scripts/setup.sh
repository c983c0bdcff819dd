#!/usr/bin/env bash
# Idempotent setup: Python venv with the project installed, and bun (from the
# npm registry) for Reflex's frontend build. Everything lands inside the
# project directory (.venv/, .tools/), ignored by git.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
EXTRAS=${1:-}           # "test" to install the test tools too
BUN_VERSION=1.4.4
AXE_VERSION=4.14.1      # axe-core, injected by the accessibility tests

if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtual environment (.venv)"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
fi

stamp=".venv/.installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing Python dependencies${EXTRAS:+ ($EXTRAS)}"
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}"
  touch "$stamp"
fi

if [ ! -x .tools/node_modules/.bin/bun ]; then
  echo "==> installing bun $BUN_VERSION from the npm registry (.tools/)"
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools "bun@$BUN_VERSION"
fi

if [ "$EXTRAS" = "test" ] && [ ! -f .tools/node_modules/axe-core/axe.min.js ]; then
  echo "==> installing axe-core $AXE_VERSION from the npm registry (.tools/)"
  npm install --silent --no-audit --no-fund --prefix .tools "axe-core@$AXE_VERSION"
fi
