#!/usr/bin/env bash
# Install everything the test suite needs, lint, then run the whole suite
# twice: with the compiled kernels and with the pure-Python twins
# (ENGINEIO_FAST_NO_EXTENSIONS=1). Works on a fresh Debian machine with
# Python 3.9+, Node 18+ and npm. Arguments go to both pytest runs, e.g. the
# fast tier only: bash tests/run.sh -m "not slow and not interop"
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  # headless Chromium for the browser interop test
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

python -m pip install -q --disable-pip-version-check -e '.[test]'
npm ci --no-audit --no-fund --loglevel=error

# lint: ruff (rules and import order) and mypy, both configured in
# pyproject.toml; ruff comes pinned with the test extra
python -m ruff check .
python -m mypy

python -c 'import engineio_fast as e; assert e.IMPLEMENTATION == "cython", e.IMPLEMENTATION; print("kernels:", e.IMPLEMENTATION)'
python -m pytest -q -p no:cacheprovider "$@"
ENGINEIO_FAST_NO_EXTENSIONS=1 python -m pytest -q -p no:cacheprovider "$@"
