"""Build script for engineio-fast.

Metadata lives in pyproject.toml; this file only adds what needs code:
the version (read from engineio_fast/__init__.py by regex, never by import)
the optional Cython extensions (``engineio_fast._speedups`` and the compiled
twins of whole modules, TWINS below), and the start-up
file ``engineio_fast_switch.pth`` copied to the top of site-packages (it runs
``engineio_fast.install()`` when ``ENGINEIO_FAST_AS_ENGINEIO=1``; see
engineio_fast/switch.py).

Environment switches (same names as the runtime switch in _accel.py):

- ``ENGINEIO_FAST_NO_EXTENSIONS=1``: build a pure-Python install (no
  compiler, no Cython needed; ``bdist_wheel`` makes a py3-none-any wheel).
- ``ENGINEIO_FAST_REQUIRE_EXTENSIONS=1``: a failed compile is fatal.
  Without it a failed compile falls back to the pure kernels with a warning.
"""

import os
import re
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))


def _flag(name):
    return os.environ.get(name, '').strip().lower() not in ('', '0', 'false',
                                                            'no')


NO_EXTENSIONS = _flag('ENGINEIO_FAST_NO_EXTENSIONS')
REQUIRE_EXTENSIONS = _flag('ENGINEIO_FAST_REQUIRE_EXTENSIONS')
if NO_EXTENSIONS and REQUIRE_EXTENSIONS:
    sys.exit('ENGINEIO_FAST_NO_EXTENSIONS and '
             'ENGINEIO_FAST_REQUIRE_EXTENSIONS are both set')

# Cython directives, set here once for every .pyx/.pxi (house rule 5).
CYTHON_DIRECTIVES = {
    'language_level': 3,
    'boundscheck': False,     # every index is range-checked by hand
    'wraparound': False,      # no negative indexing in the kernels
    'cdivision': True,        # only non-negative operands are divided
    'initializedcheck': False,
    'embedsignature': True,
    'always_allow_keywords': True,
}

# Compiled twins of whole Python modules (issue 15): the module's own .py
# source, built by Cython under another name with the types its augmenting
# .pxd declares (src_pyx/twins/<package path>/<twin>.pxd). The .py stays
# the pure twin; the module picks its twin through _accel.twin(). Plain
# Python code, so Python's semantics: bounds and negative indexes checked.
TWINS = {
    'engineio_fast.adapters.builtin._http_protocol_c':
        'engineio_fast/adapters/builtin/http_protocol.py',
    'engineio_fast.protocol._http_c': 'engineio_fast/protocol/http.py',
    'engineio_fast.protocol._outcome_c': 'engineio_fast/protocol/outcome.py',
    'engineio_fast.protocol._websocket_c':
        'engineio_fast/protocol/websocket.py',
    'engineio_fast.adapters.builtin._ws_protocol_c':
        'engineio_fast/adapters/builtin/ws_protocol.py',
    'engineio_fast.protocol._session_c': 'engineio_fast/protocol/session.py',
    'engineio_fast.protocol._queues_c': 'engineio_fast/protocol/queues.py',
    'engineio_fast.protocol._engine_c': 'engineio_fast/protocol/engine.py',
    'engineio_fast.adapters.builtin._context_c':
        'engineio_fast/adapters/builtin/context.py',
    'engineio_fast.adapters.builtin._wire_c':
        'engineio_fast/adapters/builtin/wire.py',
    'engineio_fast.adapters._environ_c': 'engineio_fast/adapters/environ.py',
}
TWIN_DIRECTIVES = {
    'language_level': 3,
    'embedsignature': True,
    'always_allow_keywords': True,
    # annotations are for mypy: a twin keeps the source's Python semantics
    # (with typing, ``x: float`` would refuse None and ``x: bool`` an int)
    'annotation_typing': False,
    # a variable or argument the .pxd types as an extension type may hold
    # None (Cython allows it): reading a field through it then raises
    # AttributeError, as the source would, instead of reading memory that
    # is not that type's
    'nonecheck': True,
}


def read_version():
    path = os.path.join(HERE, 'engineio_fast', '__init__.py')
    with open(path, encoding='utf-8') as f:
        match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]",
                          f.read(), re.M)
    if not match:
        raise RuntimeError('__version__ not found in ' + path)
    return match.group(1)


def _warn(message):
    sys.stderr.write('*' * 72 + '\nWARNING: ' + message +
                     '\nFalling back to the pure-Python kernels '
                     '(set ENGINEIO_FAST_REQUIRE_EXTENSIONS=1 to make this '
                     'an error).\n' + '*' * 72 + '\n')


class OptionalBuildExt(build_ext):
    """build_ext that degrades to a pure install unless told otherwise."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - compiler errors vary
            if REQUIRE_EXTENSIONS:
                raise
            _warn('could not build the C extension: %s' % exc)

    def finalize_options(self):
        super().finalize_options()
        # the extensions are separate C files: they compile side by side,
        # one per core (pip's builds give build_ext no -j of their own)
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            if REQUIRE_EXTENSIONS:
                raise
            _warn('could not build %s: %s' % (ext.name, exc))


SWITCH_PTH = 'engineio_fast_switch.pth'

# The demo's browser client: the npm package's file and licence (the version
# package-lock.json pins, installed by `npm ci`), carried in the package when
# node_modules has them. A checkout without node_modules builds without them
# (the demo page then loads the pinned CDN copy); an sdist carries them, so a
# wheel built from it has them too.
CLIENT_DIR = os.path.join('node_modules', 'engine.io-client')
CLIENT_FILES = {   # package file -> file in node_modules/engine.io-client
    'engine.io.min.js': os.path.join('dist', 'engine.io.min.js'),
    'LICENSE': 'LICENSE',
    'package.json': 'package.json',
}
VENDOR = os.path.join('engineio_fast', 'demo', 'vendor')


def client_sources():
    """{vendored name: path in node_modules}, or {} without them all."""
    found = {name: os.path.join(HERE, CLIENT_DIR, rel)
             for name, rel in CLIENT_FILES.items()}
    if all(os.path.isfile(path) for path in found.values()):
        return found
    return {}


class BuildPyWithSwitch(build_py):
    """build_py, plus the switch's .pth file at the top of the build (so a
    wheel installs it into site-packages itself, next to the package), and
    the demo's browser client from node_modules when it is there."""

    def run(self):
        super().run()
        self.copy_file(os.path.join(HERE, 'engineio_fast', SWITCH_PTH),
                       os.path.join(self.build_lib, SWITCH_PTH))
        sources = client_sources()
        if sources:
            self.mkpath(os.path.join(self.build_lib, VENDOR))
        for name, path in sources.items():
            self.copy_file(path, os.path.join(self.build_lib, VENDOR, name))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [
            os.path.join(self.build_lib, SWITCH_PTH)] + [
            os.path.join(self.build_lib, VENDOR, name)
            for name in client_sources()]


class SdistWithClient(sdist):
    """sdist, plus the demo's browser client from node_modules in
    engineio_fast/demo/vendor/ (package data, so a wheel built from the
    sdist carries it without node_modules)."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        sources = client_sources()
        if sources:
            self.mkpath(os.path.join(base_dir, VENDOR))
        for name, path in sources.items():
            dest = os.path.join(base_dir, VENDOR, name)
            if os.path.exists(dest):
                os.unlink(dest)   # a hard link from the tree, if any
            self.copy_file(path, dest)


def extensions():
    if NO_EXTENSIONS:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE_EXTENSIONS:
            raise
        _warn('Cython>=3 is not installed')
        return []
    from setuptools import Extension
    src = os.path.join('src_pyx')
    ext = Extension(
        'engineio_fast._speedups',
        sources=[os.path.join(src, '_speedups.pyx')],
        depends=[os.path.join(src, name) for name in
                 ('codec.pxi', 'sessions.pxi', 'timers.pxi', 'wsframe.pxi',
                  'frames.pxi')],
    )
    # every twin's .pxd is a dependency of every twin: one may cimport
    # another's (the ws_protocol twin's base class is the websocket twin's),
    # and so is a twinned module's mirror .pxd under its own name (what a
    # source importing from that module cimports: the engine's twin takes
    # queues.pxd and session.pxd)
    twin_pxds = [os.path.join(src, 'twins', *name.split('.')) + '.pxd'
                 for name in TWINS]
    twin_pxds += [pxd for pxd in (
        os.path.join(src, 'twins', path[:-len('.py')] + '.pxd')
        for path in TWINS.values()) if os.path.exists(pxd)]
    twins = [Extension(name, sources=[path], depends=twin_pxds)
             for name, path in TWINS.items()]
    try:
        # Generated C goes under build/ so it never lands in the source tree.
        return cythonize([ext], compiler_directives=CYTHON_DIRECTIVES,
                         include_path=[src],
                         build_dir=os.path.join('build', 'cython'),
                         quiet=True) + \
            cythonize(twins, compiler_directives=TWIN_DIRECTIVES,
                      # the checkout too: a twin's cimport of another's
                      # .pxd (``from engineio_fast.protocol cimport ...``)
                      # needs the package found, and a PEP 517 build does
                      # not put the checkout on sys.path as ``python
                      # setup.py`` does
                      include_path=[os.path.join(src, 'twins'), HERE],
                      build_dir=os.path.join('build', 'cython'),
                      quiet=True)
    except Exception as exc:  # noqa: BLE001 - Cython compile errors
        if REQUIRE_EXTENSIONS:
            raise
        _warn('Cython failed: %s' % exc)
        return []


setup(
    version=read_version(),
    ext_modules=extensions(),
    cmdclass={'build_ext': OptionalBuildExt, 'build_py': BuildPyWithSwitch,
              'sdist': SdistWithClient},
)
