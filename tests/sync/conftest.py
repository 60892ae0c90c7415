"""Fixtures for the synchronous (WSGI) server tests: every server runs in a
subprocess (tests/sync/servers.py), never in the pytest process."""

import pytest

from .servers import ServerProcess


@pytest.fixture
def server_process():
    """Factory fixture: ``server_process(kind, app=..., env=...)`` returns a
    started :class:`ServerProcess`, stopped (and reaped) at teardown."""
    started = []

    def start(kind, **kwargs):
        srv = ServerProcess(kind, **kwargs)
        started.append(srv)
        return srv.start()

    yield start
    for srv in reversed(started):
        srv.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the output of every ServerProcess the test used
    (fixture values) to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.passed or report.skipped:
        return
    seen = set()
    for value in getattr(item, 'funcargs', {}).values():
        if isinstance(value, ServerProcess) and id(value) not in seen:
            seen.add(id(value))
            text = value.output()
            if len(text) > 8000:
                text = '[... cut ...]\n' + text[-8000:]
            report.sections.append(
                ('server %s (pid %s) output' % (value.kind, value.pid), text))
