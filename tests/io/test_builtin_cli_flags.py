"""The command line's uvicorn-like flags on real server processes
(``python -m engineio_fast tests.io.cli_app:app ...`` on 127.0.0.1): each
flag is seen doing what its help says. The env-file parser and argparse's
checks of bad values are unit-tested in tests/unit/test_cli_options.py."""

import json
import re
import shutil
import subprocess
import sys

import httpx
import pytest

import engineio_fast

from .builtin_helpers import (
    EIO_POLL,
    EIO_WS,
    WAIT,
    RawConn,
    RawWs,
    ServerProcess,
    connect_from,
    free_port,
    request,
    run_cli,
    sigterm,
    wait_for,
)

APP = 'tests.io.cli_app:app'
ACCESS = re.compile(r'^INFO: 127\.0\.0\.1:\d+ - "(.*)" (\d{3})$', re.M)


def access_lines(srv):
    return [(line, int(status)) for line, status in ACCESS.findall(srv.stderr)]


def get_json(srv, path):
    r = httpx.get(srv.url + path, timeout=WAIT)
    assert r.status_code == 200, r
    return r.json()


def exercise(srv):
    """A polling handshake, a page, a websocket accepted, one refused."""
    assert httpx.get(srv.url + EIO_POLL, timeout=WAIT).text[0] == '0'
    assert httpx.get(srv.url + '/page?x=1', timeout=WAIT).status_code == 200
    with RawWs(srv.port) as ws:
        ws.open_packet()
    with RawConn(srv.port) as conn:     # an unknown sid: refused
        conn.send(request('GET', EIO_WS + '&sid=nosuchsid', [
            ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
            ('Sec-WebSocket-Version', '13')]))
        assert conn.read_response().status == 400


# -- logging ---------------------------------------------------------------

@pytest.mark.parametrize('workers', [1, 2])
def test_access_log_one_line_per_request(tmp_path, workers):
    with ServerProcess([APP, '--access-log', '--workers', str(workers)],
                       tmp_path) as srv:
        srv.wait_listening()
        exercise(srv)
        expected = [
            ('GET %s HTTP/1.1' % EIO_POLL, 200),
            ('GET /page?x=1 HTTP/1.1', 200),
            ('GET %s HTTP/1.1' % EIO_WS, 101),
            ('GET %s&sid=nosuchsid HTTP/1.1' % EIO_WS, 400),
        ]
        assert wait_for(lambda: len(access_lines(srv)) >= len(expected))
        sigterm(srv)
    # (with two workers, two processes write their lines: any order)
    assert sorted(access_lines(srv)) == sorted(expected), srv.stderr
    # the websocket's messages are not logged: one line for it, its 101
    assert srv.stderr.count('transport=websocket HTTP/1.1" 101') == 1


@pytest.mark.parametrize('flags', [[], ['--no-access-log'],
                                   ['--access-log', '--log-level', 'warning']])
def test_no_access_log(tmp_path, flags):
    with ServerProcess([APP] + flags, tmp_path) as srv:
        srv.wait_listening()
        exercise(srv)
        sigterm(srv)
    assert access_lines(srv) == []
    assert 'HTTP/1.1' not in srv.stderr, srv.stderr
    # the engine's line for the refused websocket (unknown sid) follows
    # --log-level, whatever the access log: at INFO by default
    refused = 'refused (400 Session ID unknown)'
    if '--log-level' in flags:
        assert refused not in srv.stderr, srv.stderr
    else:
        assert srv.stderr.count(refused) == 1, srv.stderr


def test_rejected_requests_are_logged_with_their_status(tmp_path):
    with ServerProcess([APP, '--access-log', '--limit-concurrency', '100'],
                       tmp_path) as srv:
        srv.wait_listening()
        with RawConn(srv.port) as conn:
            conn.send(b'GET /' + b'x' * 9000 + b' HTTP/1.1\r\n\r\n')
            assert conn.read_response().status == 414
        with RawConn(srv.port) as conn:
            conn.send(b'NOT HTTP AT ALL\r\n\r\n')
            assert conn.read_response().status == 400
        with RawConn(srv.port) as conn:     # a 400 from the engine
            conn.send(request('GET', EIO_POLL + '&sid=nosuchsid'))
            assert conn.read_response().status == 400
        assert wait_for(lambda: len(access_lines(srv)) == 3)
        sigterm(srv)
    # a request whose line was not read whole is logged as "-"
    assert access_lines(srv) == [
        ('-', 414), ('-', 400),
        ('GET %s&sid=nosuchsid HTTP/1.1' % EIO_POLL, 400)]


# -- protocol limits ---------------------------------------------------------

def test_timeout_keep_alive_closes_idle_connections(tmp_path):
    with ServerProcess([APP, '--timeout-keep-alive', '1'], tmp_path) as srv:
        srv.wait_listening()
        with RawConn(srv.port) as conn:
            conn.send(request('GET', '/page'))
            assert conn.read_response().status == 200
            # kept alive: a second request on the same connection
            conn.send(request('GET', '/page'))
            assert conn.read_response().status == 200
            # not closed before the timeout (1 s), closed soon after it
            assert conn.nothing_for(0.5)
            assert conn.closed_within(WAIT)
        sigterm(srv)


def test_default_keep_alive_is_uvicorns_5_seconds(tmp_path):
    with ServerProcess([APP], tmp_path) as srv:
        srv.wait_listening()
        with RawConn(srv.port) as conn:
            conn.send(request('GET', '/page'))
            assert conn.read_response().status == 200
            assert conn.nothing_for(2.0)       # < 5 s: still open
            assert conn.closed_within(3 * WAIT)
        sigterm(srv)


def test_limit_concurrency_answers_503_beyond_it(tmp_path):
    with ServerProcess([APP, '--access-log', '--limit-concurrency', '2',
                        '--timeout-keep-alive', '60'], tmp_path) as srv:
        srv.wait_listening()
        first = RawConn(srv.port)
        first.send(request('GET', '/page'))
        assert first.read_response().status == 200
        ws = RawWs(srv.port)        # a websocket counts as a connection
        ws.open_packet()
        with RawConn(srv.port) as third:
            third.send(request('GET', '/page'))
            r = third.read_response()
            assert r.status == 503 and r.headers['connection'] == 'close'
        with RawConn(srv.port) as third:
            third.send(request('GET', EIO_POLL))
            assert third.read_response().status == 503
        ws.close()
        first.close()

        def served():
            with RawConn(srv.port) as conn:
                conn.send(request('GET', '/page'))
                return conn.read_response().status == 200
        # the two are gone (once the server has seen them close): served
        assert wait_for(served)
        sigterm(srv)
    assert ('GET /page HTTP/1.1', 503) in access_lines(srv)


def _send_big(ws, size):
    ws.send_text(b'4' + b'x' * (size - 1))


@pytest.mark.parametrize('flags, small, big', [
    # --ws-max-size below the app's max_http_buffer_size (4096): it wins
    (['--ws-max-size', '1000'], 900, 2000),
    # above it: max_http_buffer_size wins
    (['--ws-max-size', '100000'], 4000, 8000),
])
def test_ws_max_size(tmp_path, flags, small, big):
    with ServerProcess([APP] + flags, tmp_path) as srv:
        srv.wait_listening()
        with RawWs(srv.port) as ws:
            ws.open_packet()
            _send_big(ws, small)
            assert ws.recv_text() == '4' + 'x' * (small - 1)
            _send_big(ws, big)
            assert ws.expect_close() == 1009
        sigterm(srv)


@pytest.mark.parametrize('workers', [1, 2])
def test_ws_ping_options_win_over_the_apps(tmp_path, workers):
    with ServerProcess([APP, '--ws-ping-interval', '3.5',
                        '--ws-ping-timeout', '7', '--workers',
                        str(workers)], tmp_path) as srv:
        srv.wait_listening()
        r = httpx.get(srv.url + EIO_POLL, timeout=WAIT)
        opened = json.loads(r.text[1:])
        assert (opened['pingInterval'], opened['pingTimeout']) == (3500, 7000)
        with RawWs(srv.port) as ws:
            opened = ws.open_packet()
            assert (opened['pingInterval'], opened['pingTimeout']) == \
                (3500, 7000)
            # and the server pings at that interval: the first ping comes
            # after 3.5 s
            ws.sock.settimeout(3 * WAIT)
            assert ws.recv_text() == '2'
        sigterm(srv)


def test_without_ping_options_the_apps_stay(tmp_path):
    with ServerProcess([APP], tmp_path) as srv:
        srv.wait_listening()
        opened = json.loads(httpx.get(srv.url + EIO_POLL,
                                      timeout=WAIT).text[1:])
        assert (opened['pingInterval'], opened['pingTimeout']) == \
            (25000, 20000)
        assert opened['maxPayload'] == 4096
        sigterm(srv)


# -- socket ----------------------------------------------------------------

@pytest.mark.skipif(shutil.which('ss') is None,
                    reason='needs ss (iproute2) to read the listen backlog')
@pytest.mark.parametrize('flags, backlog', [(['--backlog', '37'], 37),
                                            ([], 2048)])
def test_backlog(tmp_path, flags, backlog):
    with ServerProcess([APP] + flags, tmp_path) as srv:
        srv.wait_listening()
        # a listening socket's Send-Q in ss is its backlog (capped by
        # net.core.somaxconn)
        out = subprocess.run(['ss', '-ltnH', 'sport = :%d' % srv.port],
                             capture_output=True, text=True,
                             timeout=10).stdout
        with open('/proc/sys/net/core/somaxconn') as f:
            cap = int(f.read())
        assert out.split()[2] == str(min(backlog, cap)), out
        sigterm(srv)


# -- proxy -----------------------------------------------------------------

def test_root_path(tmp_path):
    with ServerProcess([APP, '--root-path', '/chat'], tmp_path) as srv:
        srv.wait_listening()
        seen = get_json(srv, '/page')
        assert (seen['root_path'], seen['path'], seen['raw_path']) == \
            ('/chat', '/chat/page', '/chat/page')
        # the Engine.IO path is matched as received; the connect handler's
        # environ has the root path as its SCRIPT_NAME
        r = httpx.get(srv.url + EIO_POLL, timeout=WAIT)
        assert r.status_code == 200 and r.text[0] == '0'
        assert get_json(srv, '/page')['script_name'] == '/chat'
        sigterm(srv)


def test_no_root_path_by_default(tmp_path):
    with ServerProcess([APP], tmp_path) as srv:
        srv.wait_listening()
        seen = get_json(srv, '/page')
        assert (seen['root_path'], seen['path']) == ('', '/page')
        sigterm(srv)


# -- application ------------------------------------------------------------

@pytest.mark.parametrize('workers', [1, 2])
def test_factory(tmp_path, workers):
    with ServerProcess(['tests.io.cli_app:create_app', '--factory',
                        '--workers', str(workers)], tmp_path) as srv:
        srv.wait_listening()
        assert get_json(srv, '/page')['factory_calls'] == 1
        with RawWs(srv.port) as ws:
            ws.open_packet()
            ws.send_text('4factory')
            assert ws.recv_text() == '4factory'
        sigterm(srv)


def test_factory_errors():
    port = str(free_port())
    p = run_cli(['tests.io.cli_app:not_callable', '--factory', '--port',
                 port])
    assert p.returncode == 2 and 'not callable' in p.stderr, p.stderr
    # a factory given without --factory is not an app
    p = run_cli(['tests.io.cli_app:create_app', '--port', port])
    assert p.returncode == 2 and 'cannot serve' in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr


def test_env_file(tmp_path):
    env_file = tmp_path / 'app.env'
    env_file.write_text(
        '# settings\n'
        'CLI_APP_PLAIN=hello world  # a comment\n'
        'export CLI_APP_QUOTED="line one\\nline two"\n'
        "CLI_APP_SINGLE='$not # expanded'\n"
        'CLI_APP_KEPT=from the file\n'
        '\n')
    with ServerProcess([APP, '--env-file', str(env_file)], tmp_path,
                       env={'CLI_APP_KEPT': 'from the environment'}) as srv:
        srv.wait_listening()
        env = get_json(srv, '/page')['env']
        sigterm(srv)
    assert env == {'CLI_APP_PLAIN': 'hello world',
                   'CLI_APP_QUOTED': 'line one\nline two',
                   'CLI_APP_SINGLE': '$not # expanded',
                   'CLI_APP_KEPT': 'from the environment'}


def test_bad_env_file_names_the_line(tmp_path):
    env_file = tmp_path / 'bad.env'
    env_file.write_text('GOOD=1\nthis is not a setting\n')
    p = run_cli([APP, '--env-file', str(env_file), '--port',
                 str(free_port())])
    assert p.returncode == 2
    assert 'bad.env, line 2' in p.stderr and 'KEY=VALUE' in p.stderr
    assert 'Traceback' not in p.stderr
    p = run_cli([APP, '--env-file', str(tmp_path / 'missing.env'),
                 '--port', str(free_port())])
    assert p.returncode == 2 and 'cannot read --env-file' in p.stderr


def test_version():
    p = run_cli(['--version'])
    assert p.returncode == 0
    out = p.stdout.strip()
    assert out.startswith('engineio_fast %s (' % engineio_fast.__version__)
    assert '(%s kernels)' % engineio_fast.IMPLEMENTATION in out
    assert '%d.%d.%d' % sys.version_info[:3] in out


def test_help_groups_every_option():
    p = run_cli(['--help'])
    assert p.returncode == 0
    for group in ('application:', 'socket:', 'workers:', 'protocol limits:',
                  'behind a proxy:', 'logging:', 'TLS (https and wss):',
                  'examples:'):
        assert '\n' + group in p.stdout, group
    for flag in ('--factory', '--env-file', '--backlog', '--root-path',
                 '--timeout-keep-alive', '--limit-concurrency',
                 '--ws-max-size', '--ws-ping-interval', '--ws-ping-timeout',
                 '--access-log', '--version'):
        assert flag in p.stdout, flag
    # every option says its default
    for option in re.split(r'\n  (?=-)', p.stdout)[1:]:
        if not option.startswith(('-h', '--version')):
            assert 'default' in option, option


def test_bad_values_are_refused(tmp_path):
    for flags, message in [
            (['--timeout-keep-alive', '-1'], 'timeout-keep-alive must be'),
            (['--limit-concurrency', 'ten'], 'limit-concurrency must be'),
            (['--ws-max-size', '0'], 'ws-max-size must be'),
            (['--ws-ping-interval', '0'], 'ws-ping-interval must be'),
            (['--backlog', '-5'], 'backlog must be'),
            (['--root-path', 'chat'], 'root-path must be')]:
        p = run_cli([APP] + flags)
        assert p.returncode == 2, (flags, p.stderr)
        assert message in p.stderr and 'usage' in p.stderr, p.stderr


def test_access_log_names_the_proxys_client(tmp_path):
    """From a trusted proxy (127.0.0.1 by default) the line names the
    client of X-Forwarded-For; from another peer, the peer."""
    with ServerProcess([APP, '--access-log'], tmp_path) as srv:
        srv.wait_listening()
        forwarded = [('X-Forwarded-For', '203.0.113.7')]
        with RawConn(srv.port) as conn:
            conn.send(request('GET', '/page', forwarded))
            assert conn.read_response().status == 200
        with RawConn(srv.port, sock=connect_from('127.0.0.2',
                                                 srv.port)) as conn:
            conn.send(request('GET', '/untrusted', forwarded))
            assert conn.read_response().status == 200
        assert wait_for(lambda: '/untrusted' in srv.stderr)
        sigterm(srv)
    assert 'INFO: 203.0.113.7:0 - "GET /page HTTP/1.1" 200' in srv.stderr
    assert re.search(r'INFO: 127\.0\.0\.2:\d+ - "GET /untrusted HTTP/1\.1" '
                     r'200', srv.stderr), srv.stderr
    assert '203.0.113.7' not in srv.stderr.split('/page')[1]


# -- the same options from Python (BuiltinServer, which run() builds) -------

def test_builtin_server_options_in_process(caplog):
    from ..support import BuiltinServer
    from .builtin_helpers import echo_server

    caplog.set_level('INFO', logger='engineio_fast.access')
    eio = echo_server(ping_interval=25, ping_timeout=20)
    live = BuiltinServer(eio, access_log=True, root_path='/r',
                         limit_concurrency=1, ws_max_size=100,
                         ping_interval=2, ping_timeout=3).start()
    try:
        port = live.port
        with RawWs(port) as ws:
            opened = ws.open_packet()
            assert (opened['pingInterval'], opened['pingTimeout']) == \
                (2000, 3000)
            # a second connection is over the limit of one
            with RawConn(port) as other:
                other.send(request('GET', EIO_POLL))
                assert other.read_response().status == 503
            ws.send_text('4' + 'x' * 50)
            assert ws.recv_text() == '4' + 'x' * 50
            ws.send_text('4' + 'x' * 200)
            assert ws.expect_close() == 1009
        assert wait_for(lambda: len(eio.rec.of('connect')) == 1)
        environ = eio.rec.of('connect')[0][2]
        assert environ['SCRIPT_NAME'] == '/r'
        assert environ['asgi.scope']['root_path'] == '/r'
        assert wait_for(lambda: len([
            r for r in caplog.records
            if r.name == 'engineio_fast.access']) >= 2)
    finally:
        live.stop()
    lines = [r.getMessage() for r in caplog.records
             if r.name == 'engineio_fast.access']
    assert any(line.endswith('HTTP/1.1" 503') for line in lines), lines
    assert any(line.endswith('transport=websocket HTTP/1.1" 101')
               for line in lines), lines
    assert eio.ping_interval == 2 and eio.ping_timeout == 3


def test_builtin_server_access_log_is_off_by_default(caplog):
    from ..support import BuiltinServer
    from .builtin_helpers import echo_server

    caplog.set_level('INFO', logger='engineio_fast.access')
    live = BuiltinServer(echo_server()).start()
    try:
        assert live.server.ctx.access_log is None
        assert httpx.get('http://127.0.0.1:%d' % live.port + EIO_POLL,
                         timeout=WAIT).status_code == 200
    finally:
        live.stop()
    assert not [r for r in caplog.records
                if r.name == 'engineio_fast.access']
