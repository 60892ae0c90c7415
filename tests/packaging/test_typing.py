"""Typing: the compiled module's stub matches what the module and its pure
twin really expose, the package is marked typed, and mypy is clean."""

import ast
import importlib
import inspect
import os
import subprocess
import sys
import types

import pytest

import engineio_fast
from engineio_fast import _accel

PKG = os.path.dirname(os.path.abspath(engineio_fast.__file__))
REPO = os.path.dirname(PKG)
STUB = os.path.join(PKG, '_speedups.pyi')


def _stub_surface():
    """{name: ('def', [params]) | ('class', {method: [params]}) |
    ('const', None)} from the .pyi."""
    tree = ast.parse(open(STUB).read())
    out = {}

    def params(fn):
        a = fn.args
        return [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = ('def', params(node))
        elif isinstance(node, ast.ClassDef):
            out[node.name] = ('class', {
                m.name: params(m) for m in node.body
                if isinstance(m, ast.FunctionDef) and
                (not m.name.startswith('_') or m.name in (
                    '__init__', '__len__', '__contains__'))})
        elif isinstance(node, ast.AnnAssign) and node.simple:
            name = node.target.id
            if name != 'BytesLike':
                out[name] = ('const', None)
    return out


def _public(module):
    return {n for n, v in vars(module).items()
            if not n.startswith('_') and not isinstance(v, types.ModuleType)}


def _pure_twin():
    names = {}
    for mod, surface in _accel.SURFACE.items():
        m = importlib.import_module('engineio_fast._pure.' + mod)
        for n in surface:
            names[n] = getattr(m, n)
    return names


def test_stub_names_are_the_compiled_module_names():
    try:
        compiled = importlib.import_module('engineio_fast._speedups')
    except ImportError:
        # a pure build (ENGINEIO_FAST_NO_EXTENSIONS=1 when installed, as
        # in CI's no-extensions leg) has no compiled module to compare;
        # the stub is held to the pure twin below. Any other build without
        # it is a failure here and in tests/kernels/test_switch.py.
        assert _accel.NO_EXTENSIONS, 'engineio_fast._speedups is not built'
        return
    stub = _stub_surface()
    assert set(stub) == _public(compiled), (
        'in the stub only: %s; in the module only: %s' % (
            sorted(set(stub) - _public(compiled)),
            sorted(_public(compiled) - set(stub))))


def test_stub_matches_the_pure_twin():
    stub = _stub_surface()
    twin = _pure_twin()
    missing = sorted(n for n in stub if n not in twin)
    assert not missing, 'stub names the pure twin lacks: %s' % missing
    for name, (kind, detail) in stub.items():
        obj = twin[name]
        if kind == 'def':
            assert callable(obj) and not inspect.isclass(obj), name
            params = list(inspect.signature(obj).parameters)
            assert params == detail, (name, params, detail)
        elif kind == 'class':
            assert inspect.isclass(obj), name
            for method, sig in detail.items():
                impl = getattr(obj, method, None)
                assert impl is not None, (name, method)
                if method in ('__len__', '__contains__'):
                    continue
                params = list(inspect.signature(impl).parameters)
                assert params == sig, (name, method, params, sig)
            public = {m for m in vars(obj) if not m.startswith('_')}
            assert public <= set(detail), (name, public - set(detail))
        else:
            assert not callable(obj), name


def test_stub_is_the_kernel_surface():
    # the stub, the switch and the kernel tests read one list
    stub = _stub_surface()
    assert set(stub) == set(_accel.NAMES), (
        sorted(set(stub) ^ set(_accel.NAMES)))
    assert len(_accel.NAMES) == len(set(_accel.NAMES))


def test_package_is_typed_and_ships_the_stub():
    assert os.path.isfile(os.path.join(PKG, 'py.typed'))
    pyproject = open(os.path.join(REPO, 'pyproject.toml')).read()
    assert '"py.typed"' in pyproject and '"*.pyi"' in pyproject


@pytest.mark.slow     # a mypy run in a subprocess
def test_mypy_is_clean():
    r = subprocess.run([sys.executable, '-m', 'mypy'], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'Success' in r.stdout
