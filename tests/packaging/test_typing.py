"""Typing: the compiled module's stub matches what the module and its pure
twin really expose, the package is marked typed, mypy is clean, and a
user's typed program type-checks against the package (its mistakes do not).
"""

import ast
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import types
import typing

import pytest

import engineio_fast
from engineio_fast import _accel
from engineio_fast.async_server import AsyncServer
from engineio_fast.base_server import BaseServer
from engineio_fast.server import Server

PKG = os.path.dirname(os.path.abspath(engineio_fast.__file__))
REPO = os.path.dirname(PKG)
STUB = os.path.join(PKG, '_speedups.pyi')
HERE = os.path.dirname(os.path.abspath(__file__))

# the modules whose every function is annotated (pyproject.toml's
# disallow_untyped_defs override): their annotations must also resolve at
# runtime, on every supported Python (3.9 cannot evaluate ``X | Y``)
TYPED_MODULES = [
    'engineio_fast', 'engineio_fast.server', 'engineio_fast.async_server',
    'engineio_fast.base_server', 'engineio_fast.client',
    'engineio_fast.async_client', 'engineio_fast.base_client',
    'engineio_fast.middleware', 'engineio_fast.packet',
    'engineio_fast.payload', 'engineio_fast.exceptions',
    'engineio_fast.json', 'engineio_fast.static_files',
    'engineio_fast.base_socket', 'engineio_fast.socket',
    'engineio_fast.async_socket', 'engineio_fast.protocol.instrument',
    'engineio_fast.adapters.asgi_app', 'engineio_fast.adapters.builtin.serve',
    'engineio_fast.adapters.builtin.launch',
    'engineio_fast.protocol.engine', 'engineio_fast.protocol.outcome',
    'engineio_fast.protocol.session', 'engineio_fast.protocol.http',
    'engineio_fast.protocol.websocket', 'engineio_fast.protocol.packets',
    'engineio_fast.protocol.client_machine',
    'engineio_fast.protocol.client_wire',
]


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
    assert '"Typing :: Typed"' in pyproject
    assert 'check_untyped_defs = true' in pyproject


def _defined_functions(module):
    """The functions and methods ``module`` defines (not imports)."""
    for obj in list(vars(module).values()):
        if getattr(obj, '__module__', None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield obj
        elif inspect.isclass(obj):
            for member in vars(obj).values():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                elif isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member) and \
                        member.__module__ == module.__name__:
                    yield member


def test_annotations_resolve_at_runtime():
    # tools that read annotations at runtime (typing.get_type_hints) get
    # real types: every name an annotation uses is importable, and no
    # annotation uses syntax this Python cannot evaluate
    checked = 0
    for name in TYPED_MODULES:
        module = importlib.import_module(name)
        for fn in _defined_functions(module):
            hints = typing.get_type_hints(fn)
            assert 'return' in hints, (name, fn.__qualname__)
            checked += 1
    assert checked > 300


@pytest.mark.parametrize('server_class', [Server, AsyncServer])
def test_server_options_are_the_base_options(server_class):
    # Server and AsyncServer spell the options out (so type checkers and
    # editors see them) and hand them to BaseServer in order
    def options(cls):
        params = list(inspect.signature(cls.__init__).parameters.values())
        return [(p.name, p.kind, p.default, p.annotation)
                for p in params[1:]]

    assert options(server_class) == options(BaseServer)


@pytest.mark.slow     # a mypy run in a subprocess
def test_mypy_is_clean():
    r = subprocess.run([sys.executable, '-m', 'mypy'], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'Success' in r.stdout


# -- a user's program under mypy --strict --------------------------------------

USER_FILES = ('typed_user_app.py', 'typed_user_mistakes.py')


@pytest.fixture(scope='module')
def strict_errors(tmp_path_factory):
    """``{file: {line: [message, ...]}}`` of one ``mypy --strict`` run on
    the user files, which find the package on PYTHONPATH: as an installed
    one (PEP 561), so mypy reads its py.typed and reports none of its own
    errors, only the user's. No config file is read."""
    tmp = tmp_path_factory.mktemp('user')
    for name in USER_FILES:
        shutil.copy(os.path.join(HERE, name), tmp)
    env = dict(os.environ, PYTHONPATH=REPO)
    r = subprocess.run(
        [sys.executable, '-m', 'mypy', '--strict', '--config-file=',
         '--no-error-summary', '--hide-error-context', '--show-error-codes',
         '--cache-dir', str(tmp / '.mypy_cache'), *USER_FILES],
        cwd=str(tmp), env=env, capture_output=True, text=True, timeout=300)
    assert not r.stderr.strip(), r.stderr
    errors = {name: {} for name in USER_FILES}
    for line in r.stdout.splitlines():
        m = re.match(r'(\S+\.py):(\d+): error: (.*)$', line)
        if m:
            errors[m.group(1)].setdefault(int(m.group(2)), []).append(
                m.group(3))
        else:
            assert ': note: ' in line, line
    return errors


@pytest.mark.slow     # a mypy run in a subprocess
def test_typed_user_program_type_checks(strict_errors):
    # an AsyncServer app with handlers behind an ASGIApp (and FastAPI), a
    # Server behind WSGIApp (and Flask), both clients, packets, payloads
    assert strict_errors['typed_user_app.py'] == {}


@pytest.mark.slow
def test_mistakes_in_a_typed_user_program_are_caught(strict_errors):
    path = os.path.join(HERE, 'typed_user_mistakes.py')
    expected = {}
    for number, line in enumerate(open(path).read().splitlines(), 1):
        marks = re.findall(r'(?<=  )# E: (.+?)(?=  # E: |$)', line)
        if marks:
            expected[number] = marks
    assert len(expected) >= 20
    found = strict_errors['typed_user_mistakes.py']
    assert sorted(found) == sorted(expected), (
        'errors on unmarked lines: %s; marked lines without an error: %s'
        % ({n: found[n] for n in found if n not in expected},
           sorted(n for n in expected if n not in found)))
    for number, marks in expected.items():
        for mark in marks:
            assert any(mark in message for message in found[number]), (
                number, mark, found[number])
