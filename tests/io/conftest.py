"""Fixtures for the I/O tests: a real uvicorn server in a background thread
(the runner itself is tests/support.py, shared by every test folder)."""

import pytest

from ..support import LiveServer


@pytest.fixture
def live_server():
    """Factory fixture: ``live_server(app, **config)`` returns a started
    :class:`LiveServer`, stopped at teardown."""
    servers = []

    def start(app, **config):
        server = LiveServer(app, **config)
        servers.append(server)
        return server.start()

    yield start
    for server in reversed(servers):
        server.stop()
