"""The abuse tests' fixture: ``served``, a server of every mode."""

import os

import pytest

from tests.support import BuiltinServer, LiveServer
from tests.sync.servers import ServerProcess, kind_unavailable

from .servers import MODES, Served, echo_app


@pytest.fixture(params=MODES)
def served(request):
    """A server of each mode, echoing every message."""
    mode = request.param
    if mode in ('builtin', 'uvicorn'):
        runner = BuiltinServer if mode == 'builtin' else LiveServer
        srv = runner(echo_app())
        srv.start()
        yield Served(srv.port, os.getpid())
        srv.stop()
        return
    reason = kind_unavailable(mode)
    if reason:
        pytest.fail(reason)
    with ServerProcess(mode) as srv:
        yield Served(srv.port, srv.pid)
