"""Fixtures and settings shared by every test directory, and the test tiers.

Tiers (``TIERS`` below gives every test folder one; the markers are
registered in pyproject.toml):

- fast (no marker): kernels, the sans-I/O protocol, unit tests of one piece
  (which may use a loopback socket pair, never a server); no subprocess.
  Seconds: ``python -m pytest -m "not slow and not interop"``.
- ``slow``: our servers and clients over real sockets on 127.0.0.1, servers
  in subprocesses, packaging checks: ``python -m pytest -m slow``.
- ``interop``: against the official JavaScript peers (node) or in headless
  Chromium: ``python -m pytest -m interop``.

A test of the fast tier that starts a subprocess fails (``_fast_tier_guard``):
it belongs in another tier.
"""

import os
import subprocess

import pytest
from hypothesis import HealthCheck, settings

from engineio_fast import _accel

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_sessionstart(session):
    # a compiled twin built from an older copy of its module's source
    # (built in place, then the .py edited) would be what the compiled pass
    # tests: stop and say so rather than test stale code
    if _accel.IMPLEMENTATION != 'cython':
        return
    for module_name in _accel.TWINS:
        twin = _accel.twin(module_name)
        source = os.path.join(os.path.dirname(HERE),
                              *module_name.split('.')) + '.py'
        if twin is not None and os.path.exists(source) and \
                os.path.dirname(twin.__file__) == os.path.dirname(source) \
                and os.path.getmtime(source) > \
                os.path.getmtime(twin.__file__):
            pytest.exit('%s is older than %s: python setup.py build_ext '
                        '--inplace' % (twin.__file__, source), returncode=4)

# path under tests/ (a folder or a file) -> its tier ('' is the fast tier);
# the longest matching path wins, and a test under no path here is an error.
# A test may also carry its own @pytest.mark.slow / interop, which wins.
TIERS = {
    'kernels': '',
    'protocol': '',
    'unit': '',
    'compat': 'slow',
    'compat/test_packet_payload.py': '',
    'io': 'slow',
    'sync': 'slow',
    'sync/test_js_interop.py': 'interop',
    'client': 'slow',
    'cluster': 'slow',
    'cluster/test_js_workers.py': 'interop',
    'client/test_js_server.py': 'interop',
    'interop': 'interop',
    'conformance': 'interop',
    'packaging': 'slow',
    'socketio': 'slow',
    'frameworks': 'slow',
    'socketio/test_js_matrix.py': 'interop',
    'packaging/test_typing.py': '',
    'cluster_redis': 'slow',
    'cluster_redis/test_js_client.py': 'interop',
    'abuse': 'slow',
    'fuzz': '',
    'proxy': 'slow',
    # the documentation's examples on their servers; the pages' checks
    'docs': 'slow',
    'docs/test_pages.py': '',
}
TIER_MARKS = ('slow', 'interop')

# Hypothesis: no deadline (a shared, loaded machine makes timings flaky),
# the too_slow health check off for the same reason. Failing examples are
# kept in .hypothesis/ (ignored by git) and replayed first on the next run.
settings.register_profile(
    'default', deadline=None, max_examples=150,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    'thorough', deadline=None, max_examples=3000,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'default'))

KERNEL_SETS = [pytest.param(_accel.pure, id='pure')]
if _accel.compiled is not None:
    KERNEL_SETS.append(pytest.param(_accel.compiled, id='compiled'))


@pytest.fixture(scope='session', params=KERNEL_SETS)
def kernels(request):
    """Each available kernel implementation in turn: the pure twin always,
    the compiled extension when it is built (tests/kernels/test_switch.py
    makes a missing build a failure rather than a silent second pure run),
    so the same assertions hold for both."""
    return request.param


def tier_of(path):
    """The tier of the test file ``path`` from ``TIERS``.

    Args:
        path: the test file's path.

    Returns:
        ``''`` for the fast tier, else ``'slow'`` or ``'interop'``.

    Raises:
        pytest.UsageError: no entry of ``TIERS`` covers the file.
    """
    rel = os.path.relpath(os.path.abspath(path), HERE).replace(os.sep, '/')
    parts = rel.split('/')
    for n in range(len(parts), 0, -1):
        tier = TIERS.get('/'.join(parts[:n]))
        if tier is not None:
            return tier
    raise pytest.UsageError(
        'tests/%s has no tier: add its folder to TIERS in tests/conftest.py'
        % rel)


# The test files that take longest (seconds of one compiled pass in two
# processes, 2026-12-07, from --junitxml): tests/run.sh hands whole files
# to its pytest processes in collection order (--dist loadfile
# --no-loadscope-reorder), and these are collected first, longest first, so
# that no long file starts last and runs alone at the end of a pass (xdist's
# own order, by number of tests, put the one-test demo file and the
# six-test bad-input file last). The others keep their order after them.
LONG_FILES = {
    'client/test_js_server.py': 105,
    'sync/test_session_rules.py': 88,
    'socketio/test_js_matrix.py': 86,
    'socketio/test_bad_input.py': 84,
    'packaging/test_readme_demo.py': 76,
    'io/test_session_rules.py': 72,
    'abuse/test_slow_clients.py': 66,
    'conformance/test_upgrade.py': 59,
    'conformance/test_heartbeat.py': 39,
    'abuse/test_backpressure.py': 37,
    'socketio/test_admin.py': 31,
    'sync/test_keepalive.py': 30,
    'sync/test_js_interop.py': 28,
    'cluster_redis/test_delivery.py': 27,
}


def pytest_collection_modifyitems(config, items):
    tiers = {}
    for item in items:
        if any(item.get_closest_marker(m) for m in TIER_MARKS):
            continue
        path = str(item.path)
        if path not in tiers:
            tiers[path] = tier_of(path)
        if tiers[path]:
            item.add_marker(tiers[path])
    # the long files first (see LONG_FILES); a stable sort: each file's
    # tests keep their order
    weights = {}
    for item in items:
        path = str(item.path)
        if path not in weights:
            rel = os.path.relpath(path, HERE).replace(os.sep, '/')
            weights[path] = LONG_FILES.get(rel, 0)
    items.sort(key=lambda item: -weights[str(item.path)])


@pytest.fixture(autouse=True)
def _fast_tier_guard(request, monkeypatch):
    """Hold the fast tier to its rule: no subprocess (a server process, node,
    a build, mypy...)."""
    if any(request.node.get_closest_marker(m) for m in TIER_MARKS):
        return

    def refused(*args, **kwargs):
        raise AssertionError(
            'a fast-tier test starts a subprocess: mark it slow or interop '
            '(TIERS in tests/conftest.py)')
    monkeypatch.setattr(subprocess.Popen, '__init__', refused)
