"""Fixtures of the conformance suite (see README.md here).

``target`` is parametrised over every server in ``wire.TARGETS`` (the
official server 'node' first), or over ``wire.OURS`` for a test marked
``@pytest.mark.ours`` (behaviours only our side has: connect-handler hooks,
the app's disconnect reasons). It is session scoped: pytest runs every test
of one server before it starts the next, and one server runs at a time.
Pick servers with ``-k``, e.g. ``-k 'node or gevent'``.
"""

import pytest

from .wire import OURS, TARGETS, Agent, start_target


def pytest_configure(config):
    registered = config.getini('markers')
    if not any(line.split(':')[0].strip() == 'interop' for line in registered):
        config.addinivalue_line(
            'markers', 'interop: real servers and official JavaScript peers '
            '(excluded from the fast tier)')
    config.addinivalue_line(
        'markers', 'ours: a conformance test that runs on our servers only')


def pytest_generate_tests(metafunc):
    if 'target' in metafunc.fixturenames:
        ours = metafunc.definition.get_closest_marker('ours') is not None
        metafunc.parametrize('target', OURS if ours else TARGETS,
                             indirect=True, scope='session')


@pytest.fixture(scope='session')
def target(request):
    """The server under test, running the conformance app (a Target)."""
    server = start_target(request.param)
    yield server
    server.stop()


@pytest.fixture
def agent(target):
    """A keep-alive HTTP/1.1 client for ``target``."""
    client = Agent(target.port)
    yield client
    client.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the output of a subprocess target."""
    outcome = yield
    report = outcome.get_result()
    if report.passed or report.skipped:
        return
    server = getattr(item, 'funcargs', {}).get('target')
    text = server.output() if server is not None else ''
    if text:
        report.sections.append(('server %s output' % server.kind,
                                text[-6000:]))
