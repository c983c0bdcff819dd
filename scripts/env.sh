# Sourced by the run and test scripts: use the project's own toolchain.
export PATH="$PWD/.tools/node_modules/.bin:$PWD/.venv/bin:$PATH"
export REFLEX_USE_SYSTEM_BUN=1
export REFLEX_TELEMETRY_ENABLED=false
