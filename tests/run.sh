#!/usr/bin/env bash
# Install everything the test suite needs, lint, then run the whole suite
# twice: with the compiled kernels and with the pure-Python twins
# (ENGINEIO_FAST_NO_EXTENSIONS=1), each in three processes (TEST_WORKERS).
# Works on a fresh Debian machine with
# Python 3.9+, Node 18+ and npm. Arguments go to both pytest runs, e.g. the
# fast tier only: bash tests/run.sh -m "not slow and not interop"
set -euo pipefail
cd "$(dirname "$0")/.."

# headless Chromium (browser interop tests), redis-server (the Redis
# client managers' tests start their own on 127.0.0.1) and nginx
NEED=""
command -v chromium >/dev/null 2>&1 || NEED="$NEED chromium"
command -v redis-server >/dev/null 2>&1 || NEED="$NEED redis-server"
# nginx in front of the servers (tests/proxy starts its own, on a free port)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || \
  NEED="$NEED nginx"
if [ -n "$NEED" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $NEED >/dev/null
fi

python -m pip install -q --disable-pip-version-check -e '.[test]'
npm ci --no-audit --no-fund --loglevel=error

# lint: ruff (rules and import order) and mypy, both configured in
# pyproject.toml; ruff comes pinned with the test extra
python -m ruff check .
python -m mypy

python -c 'import engineio_fast as e; assert e.IMPLEMENTATION == "cython", e.IMPLEMENTATION; print("kernels:", e.IMPLEMENTATION)'
# Three pytest processes (pytest-xdist) by default, each running whole
# files (module fixtures such as the socket.io-client matrix's rows start
# once): most of the suite waits on sockets and timers, so a 2-core machine
# is not kept busy by two (one process: 23 min a pass in CI; two: 12-13 min;
# three: 9-9.5 min, the machine 75 % busy; 2026-12-07). Each step up brought
# out tests whose timing windows were too short for a loaded machine (a
# heartbeat window for a stalled eventlet worker, a message lost by the
# Sanic adapter at close, a 200-ms pong window of the JS client tests):
# those are mended, in the tests' windows or in the code. TEST_WORKERS=1
# runs one process (a failure then shows without the others' load beside
# it), TEST_WORKERS=N runs N.
W=()
WORKERS="${TEST_WORKERS:-3}"
if [ "$WORKERS" != "1" ] && [ "$WORKERS" != "0" ]; then
  # whole files in collection order: the longest first (LONG_FILES in
  # tests/conftest.py), not xdist's order by number of tests
  W=(-n "$WORKERS" --dist loadfile --no-loadscope-reorder)
fi
# --durations: the slowest tests in the log, for keeping CI under 30 minutes
python -m pytest -q -p no:cacheprovider --durations=30 "${W[@]}" "$@"
ENGINEIO_FAST_NO_EXTENSIONS=1 python -m pytest -q -p no:cacheprovider \
  --durations=30 "${W[@]}" "$@"
