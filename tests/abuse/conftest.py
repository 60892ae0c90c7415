"""The abuse tests' fixtures: ``serve(**server_options)`` starts a server
of every mode in turn (``mode``), echoing every message (``limits=``: the
built-in server's HTTP limits); ``served`` is one with the default
options."""

import json
import os

import pytest

from tests.support import BuiltinServer, LiveServer
from tests.sync.servers import ServerProcess, kind_unavailable

from .servers import MODES, Served, echo_app


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def serve(mode):
    stops = []

    def start(limits=None, **options):
        # limits: the built-in server's HTTP limits (other modes have
        # their server's own)
        if mode in ('builtin', 'uvicorn'):
            if mode == 'builtin':
                srv = BuiltinServer(echo_app(**options), limits=limits)
            else:
                # uvicorn's default websocket implementation, as users
                # get it (websockets' sans-I/O one)
                srv = LiveServer(echo_app(**options), ws='auto')
            srv.start()
            stops.append(srv.stop)
            return Served(srv.port, os.getpid())
        reason = kind_unavailable(mode)
        if reason:
            pytest.fail(reason)
        proc = ServerProcess(mode, env={
            'EIO_SERVER_KWARGS': json.dumps(options)} if options else None)
        proc.__enter__()
        stops.append(lambda: proc.__exit__(None, None, None))
        return Served(proc.port, proc.pid)

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def served(serve):
    return serve()
