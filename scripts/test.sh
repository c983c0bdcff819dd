#!/usr/bin/env bash
# The test command: set up (venv, bun, Debian's chromium), the linters, then every suite.
# Unit/service/state tests and end-to-end browser tests run in separate pytest
# invocations (pytest-playwright keeps its own event loop).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh test
source scripts/env.sh

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Debian's chromium for the browser tests"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

status=0
echo "==> lint: ruff, ruff format, mypy"
ruff check . || status=$?
ruff format --check . || status=$?
mypy || status=$?
echo "==> unit, service and CLI tests"
pytest -q --ignore=tests/e2e --ignore=tests/scaleout "$@" || status=$?
echo "==> end-to-end tests (production build in a real browser)"
pytest -q tests/e2e "$@" || status=$?
echo "==> scale-out tests (PostgreSQL + Redis, two app processes)"
pytest -q tests/scaleout "$@" || status=$?
exit $status
