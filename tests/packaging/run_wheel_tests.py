"""Run the kernel and protocol tests against an INSTALLED engineio_fast
(a wheel), never the source tree: the tests are copied to a temporary
folder first, so pytest cannot put the source package on sys.path.

    python tests/packaging/run_wheel_tests.py [PROJECT_DIR]

Used by cibuildwheel's test-command (pyproject.toml) and by
tests/packaging/check_dist.sh. Requires the compiled extension
(ENGINEIO_FAST_REQUIRE_EXTENSIONS=1 is set here).
"""

import os
import shutil
import subprocess
import sys
import tempfile


def main():
    project = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = os.path.join(project, 'tests')
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, 'tests')
        os.mkdir(dst)
        for name in ('__init__.py', 'conftest.py'):
            shutil.copy(os.path.join(src, name), dst)
        for sub in ('kernels', 'protocol'):
            shutil.copytree(os.path.join(src, sub), os.path.join(dst, sub))
        env = dict(os.environ, ENGINEIO_FAST_REQUIRE_EXTENSIONS='1')
        env.pop('ENGINEIO_FAST_NO_EXTENSIONS', None)
        check = subprocess.run(
            [sys.executable, '-c',
             'import engineio_fast as e, os; '
             'assert e.IMPLEMENTATION == "cython", e.IMPLEMENTATION; '
             'print("engineio_fast from", os.path.dirname(e.__file__))'],
            cwd=tmp, env=env)
        if check.returncode:
            return check.returncode
        return subprocess.run(
            [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
             '-o', 'addopts=', '-o', 'timeout=300', 'tests/kernels',
             'tests/protocol'], cwd=tmp, env=env).returncode


if __name__ == '__main__':
    sys.exit(main())
