#!/usr/bin/env bash
# The package on Pythons other than the one the suite runs on. By default
# (and in CI) the oldest two it supports, 3.9 and 3.10 (requires-python >=
# 3.9; wheels are built for cp39 and cp310 too), where this machine has them
# (pyenv's, on this workplace's machines); any others as arguments, e.g.
# 3.12 3.13. For each: the wheel built from this checkout with that Python,
# installed in a fresh venv, then
#   - tests/packaging/run_wheel_tests.py, the command cibuildwheel runs on
#     every wheel (tests/kernels, the eager kernel's tests among them, and
#     tests/protocol, on the installed package, compiled and pure kernels);
#   - tests/packaging/old_python_smoke.py: the built-in server with
#     coroutine handlers and the package's asyncio and sync clients, once
#     compiled and once with ENGINEIO_FAST_NO_EXTENSIONS=1.
# Python 3.9 builds the kernels without PyIter_Send (src_pyx/eager.pxi's
# fallback) and keeps a changed type's version tag (src_pyx/packets.pxi);
# 3.10 has no Task.cancelling() (engineio_fast/_pure/eager.py's fallback):
# the suite's Python (3.11) reaches none of them.
#
#     bash tests/packaging/other_pythons.sh [VERSION ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(3.9 3.10)

find_python() {
  # a pyenv install of that minor version (the newest patch), else one on
  # PATH that really is that version (pyenv's shims print an error for a
  # version not selected)
  local v=$1 p
  for p in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" \
               2>/dev/null | sort -V -r) /usr/bin/python"$v" \
           /usr/local/bin/python"$v"; do
    if [ -x "$p" ] && "$p" -c "import sys, venv; assert sys.version_info[:2] == tuple(map(int, '$v'.split('.')))" \
        >/dev/null 2>&1; then
      echo "$p"; return 0
    fi
  done
  return 1
}

ran=0
for v in "${VERSIONS[@]}"; do
  if ! PY=$(find_python "$v"); then
    echo "other_pythons: no Python $v on this machine: not checked"
    continue
  fi
  echo "== Python $v ($PY)"
  "$PY" -m venv "$WORK/v$v"
  VPY="$WORK/v$v/bin/python"
  "$VPY" -m pip install -q --disable-pip-version-check --upgrade pip \
    2>&1 | { grep -v '^WARNING: Location' || true; }
  # the wheel, as `pip wheel` builds it from a checkout (Cython and
  # setuptools in its build environment); a failed compile is fatal
  if ! ENGINEIO_FAST_REQUIRE_EXTENSIONS=1 "$VPY" -m pip wheel -q \
      --disable-pip-version-check --no-deps -w "$WORK/wheels$v" "$ROOT" \
      > "$WORK/build$v.log" 2>&1; then
    cat "$WORK/build$v.log"; exit 1
  fi
  WHEEL=$(ls "$WORK/wheels$v"/engineio_fast-*.whl)
  case "$WHEEL" in
    *-none-any.whl) echo "a pure wheel: the kernels did not build"; exit 1 ;;
  esac
  "$VPY" -m pip install -q --disable-pip-version-check "$WHEEL" \
    pytest pytest-timeout hypothesis 'websockets>=13' \
    2>&1 | { grep -v '^WARNING: Location' || true; }
  (cd "$WORK" && "$VPY" "$ROOT/tests/packaging/run_wheel_tests.py" "$ROOT" \
     | tail -3)
  (cd "$WORK" && "$VPY" "$ROOT/tests/packaging/old_python_smoke.py")
  (cd "$WORK" && ENGINEIO_FAST_NO_EXTENSIONS=1 \
     "$VPY" "$ROOT/tests/packaging/old_python_smoke.py")
  ran=$((ran + 1))
done
echo "other_pythons: $ran of ${#VERSIONS[@]} Python versions checked"
