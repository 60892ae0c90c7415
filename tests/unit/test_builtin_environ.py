"""The connect handler's environ on the built-in server: built in one pass
over the request's headers (HttpProtocol._environ), it is the environ the
ASGI adapter makes of the same request's scope
(``adapters.asgi.make_environ(scope)``), key for key and in the same
order, for any headers."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engineio_fast
from engineio_fast.adapters.asgi import make_environ
from engineio_fast.adapters.builtin.context import ServerContext
from engineio_fast.adapters.builtin.http_protocol import HttpProtocol
from engineio_fast.adapters.builtin.proxy import ProxyHeaders


class _Transport:
    def __init__(self, peer):
        self.peer = peer

    def get_extra_info(self, name, default=None):
        return self.peer if name == 'peername' else ('127.0.0.1', 5000)

    def write(self, data):
        pass

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass

    def close(self):
        pass


def parsed(head, root_path='', ssl=False, proxy=None,
           peer=('127.0.0.1', 40000), body=b''):
    """The HttpProtocol and the ParsedRequest of one request."""
    loop = asyncio.new_event_loop()
    try:
        ctx = ServerContext(engineio_fast.AsyncServer(), None, loop,
                            ssl=ssl, proxy=proxy, root_path=root_path)
        taken = []

        class Taking(HttpProtocol):
            # the parsed request, kept instead of handed to the engine (a
            # subclass: the compiled twin's instances take no new attribute)
            def _engineio(self, r):
                taken.append(r)

        proto = Taking(ctx)
        proto.connection_made(_Transport(peer))
        if body:
            head += b'Content-Length: %d\r\n' % len(body)
        proto.data_received(head + b'\r\n' + body)
        assert len(taken) == 1
        return proto, taken[0]
    finally:
        loop.close()


def assert_same(built, expected):
    assert list(built) == list(expected)
    for key, value in expected.items():
        if key == 'wsgi.input':
            assert built[key].read() == value.read()
        else:
            assert built[key] == value, key


def check(proto, r):
    body = b''.join(r.body) if r.body else None
    assert_same(proto._environ(r, body),
                make_environ(proto.scope(r), None, None, body))


@pytest.mark.parametrize('root_path', ['', '/r'])
@pytest.mark.parametrize('ssl', [False, True])
def test_the_asgi_environ_of_the_request(root_path, ssl):
    head = (b'GET /engine.io/?EIO=4&transport=polling&x=%41+b HTTP/1.1\r\n'
            b'Host: example.com\r\nCookie: a=1\r\ncookie: b=2\r\n'
            b'X-Dash: 1\r\nX_Dash: 2\r\nContent-Type: text/plain\r\n'
            b'CONTENT-TYPE: text/html\r\nX-Latin: caf\xe9\r\n')
    check(*parsed(head, root_path, ssl))


def test_a_post_with_its_body():
    head = b'POST /engine.io/?EIO=4&transport=polling HTTP/1.0\r\n'
    check(*parsed(head, body=b'4hello'))


def test_a_trusted_proxy_and_an_untrusted_peer():
    head = (b'GET /engine.io/?EIO=4 HTTP/1.1\r\n'
            b'X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n')
    proxy = ProxyHeaders('127.0.0.1')
    proto, r = parsed(head, proxy=proxy)
    check(proto, r)
    assert proto._environ(r, None)['REMOTE_ADDR'] == '203.0.113.7'
    check(*parsed(head, proxy=proxy, peer=('10.0.0.1', 1)))


# names the parser takes (a token: no latin-1 beyond ASCII), values of
# any visible latin-1 bytes
_NAMES = st.sampled_from([b'host', b'Host', b'x-a', b'X_A', b'x-a',
                          b'content-type', b'Content-Type', b'cookie',
                          b'Accept', b'x-forwarded-for'])
_VALUES = st.binary(max_size=12).map(
    lambda v: bytes(b for b in v if b > 32 and b != 127))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=8))
def test_any_headers(headers):
    head = b'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n'
    head += b''.join(n + b': ' + v + b'\r\n' for n, v in headers)
    check(*parsed(head))


def test_repeated_headers_are_joined_as_python_engineio_joins_them():
    """A repeated header's values are joined with a comma; Content-Type
    and Content-Length (no HTTP_ prefix) keep the last one, in both
    forms (headers as str pairs, and as the bytes a server read)."""
    from engineio_fast.adapters import environ as adapters_environ
    pairs = [('X-A', '1'), ('x-a', '2'), ('Content-Type', 'a/b'),
             ('content-type', 'c/d'), ('Cookie', 'k=v')]
    args = ('s', 'GET', '/', '', 'http', '1.1')
    text = adapters_environ.make_environ(*args, pairs, None, None, None, {})
    raw = adapters_environ.make_environ_raw(
        *args, [(n.encode(), v.encode()) for n, v in pairs], [], None,
        None, None, {})
    for environ in (text, raw):
        assert environ['HTTP_X_A'] == '1,2'
        assert environ['CONTENT_TYPE'] == 'c/d'
        assert environ['HTTP_COOKIE'] == 'k=v'
        assert 'HTTP_CONTENT_TYPE' not in environ
