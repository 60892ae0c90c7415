"""Fixtures for the I/O tests: real servers in a background thread (the
runners themselves are tests/support.py, shared by every test folder)."""

import pytest

from ..support import BuiltinServer, LiveServer


def _servers(runner):
    servers = []

    def start(app, **options):
        server = runner(app, **options)
        servers.append(server)
        return server.start()

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def live_server():
    """Factory fixture: ``live_server(app, **uvicorn config)`` returns a
    started :class:`LiveServer` (uvicorn), stopped at teardown."""
    yield from _servers(LiveServer)


@pytest.fixture
def builtin():
    """Factory fixture: ``builtin(app, **BuiltinServer options)`` returns a
    started :class:`BuiltinServer`, stopped at teardown."""
    yield from _servers(BuiltinServer)
