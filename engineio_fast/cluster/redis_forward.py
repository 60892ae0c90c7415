"""Polling requests that reach a process which does not own their session
(``uvicorn --workers N``, ``gunicorn -w N`` with no sticky load balancer),
forwarded through Redis to the process that does, as
@socket.io/cluster-engine does between Node workers. The ASGI and WSGI
adapters ask the manager's ``forward_request`` first for a sid that is not
theirs.

The requester (any worker) puts the request (method, query string,
headers, body) on the owner's inbox with a random id and the node to
answer, and waits; the owner runs it through its own server, as if it had
come in on a connection of its own, and puts the answer (status, headers,
body) on the requester's inbox; the requester writes it to its client.

Costs per forwarded request: two stream entries (each one Lua call that
checks the addressee is alive and XADDs, and one XREAD), so about two Redis
round trips more than a request served where it landed, and the body twice
through Redis. A long-poll GET holds its waiter on the requester until the
owner answers (at most the ping interval). A websocket cannot be forwarded:
an upgrade that lands on another process fails like an unknown sid, and the
client (the JS client does) stays on polling.

Bounds: at most :data:`MAX_WAITING` requests wait per process (more are
answered as unknown sids, and logged); a request waits at most the ping
interval + ping timeout + :data:`EXTRA_WAIT` seconds (then 504, logged).
"""

import asyncio
import http
import io
import json
import logging
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import node as _node
from .redis_relay import REQUEST, RESPONSE, Relay

MAX_WAITING = 10000
EXTRA_WAIT = 5.0
MAX_HEADERS = 64
# how long (x 10 ms) a request waits for this process's first contact with
# Redis (the manager starts with the first request)
STARTING_POLLS = 300

# a forwarded answer: (status, [(name, value)], body)
Answer = Tuple[int, List[Tuple[str, str]], bytes]


def _wait_bound(server: Any) -> float:
    return float(server.ping_interval + server.ping_timeout + EXTRA_WAIT)


def _request_fields(relay: Relay, rid: bytes, method: str, query: bytes,
                    headers: List[List[str]]) -> Dict[bytes, bytes]:
    return {b'r': rid, b'y': relay.node_b, b'm': method.encode('latin-1'),
            b'u': query, b'h': json.dumps(headers[:MAX_HEADERS]).encode()}


# hop-by-hop headers: of one connection, never passed on
HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-authenticate',
                        'proxy-authorization', 'te', 'trailers',
                        'transfer-encoding', 'upgrade'))


def _answer_of(extra: Dict[bytes, bytes], body: Any) -> Answer:
    headers = [(k, v) for k, v in _parse_headers(extra)
               if k.lower() not in HOP_BY_HOP]
    return int(extra[b'm']), headers, bytes(body or b'')


def _parse_headers(extra: Dict[bytes, bytes]) -> List[Tuple[str, str]]:
    try:
        return [(str(k), str(v))
                for k, v in json.loads(extra[b'h'])][:MAX_HEADERS]
    except (ValueError, TypeError):
        return []


def _response_fields(extra: Dict[bytes, bytes], status: int,
                     headers: List[Tuple[str, str]]) -> Dict[bytes, bytes]:
    return {b'r': extra[b'r'], b'm': b'%d' % status,
            b'h': json.dumps(headers).encode()}


class AsyncForwarder:
    """The asyncio side of forwarding, for
    :class:`~engineio_fast.cluster.redis_manager.AsyncRedisManager`.

    Args:
        relay: the manager's relay (it queues the entries).
        kick: wakes the manager's writer.
        logger: where refusals and timeouts are logged.
    """

    def __init__(self, relay: Relay, kick: Any,
                 logger: logging.Logger) -> None:
        self.relay = relay
        self.kick = kick
        self.logger = logger
        self.waiting: Dict[bytes, 'asyncio.Future[Optional[Answer]]'] = {}
        #: requests this process forwarded, and served for another one
        self.forwarded = 0
        self.served = 0

    async def forward(self, server: Any, sid: str, scope: Dict[str, Any],
                      body: Optional[bytes], send: Any) -> bool:
        """Forward the request of ``scope`` to the owner of ``sid`` and
        write its answer with ASGI ``send``. False: not forwarded (the
        sid names this process or none, Redis is away, too many wait);
        the caller serves it (an unknown sid's 400)."""
        owner = _node.owner_of(sid)
        relay = self.relay
        if owner is None or owner == relay.node or not _node.valid(owner):
            return False
        for _ in range(STARTING_POLLS):
            if relay.up is not None:
                break
            await asyncio.sleep(0.01)     # this process's first contact
        if relay.up is not True:
            self.logger.warning('engineio_fast: cannot forward a request of '
                                '%s: Redis is unreachable', sid)
            return False
        if len(self.waiting) >= MAX_WAITING:
            self.logger.warning('engineio_fast: %d forwarded requests '
                                'wait already: not forwarding another',
                                len(self.waiting))
            return False
        rid = _node.random_tag(16).encode()
        headers = [[k.decode('latin-1'), v.decode('latin-1')]
                   for k, v in scope.get('headers', ())][:MAX_HEADERS]
        extra = _request_fields(relay, rid, scope.get('method', 'GET'),
                                bytes(scope.get('query_string', b'')),
                                headers)
        loop = asyncio.get_running_loop()
        fut: 'asyncio.Future[Optional[Answer]]' = loop.create_future()
        if not relay.push(REQUEST, relay.inbox_of(owner), sid, body or b'',
                          owner=owner, extra=extra):
            return False
        self.waiting[rid] = fut
        if not self.forwarded:
            self.logger.info('engineio_fast: node %s forwards polling '
                             "requests of other processes' sessions to "
                             'them through Redis', relay.node)
        self.forwarded += 1
        self.kick()
        try:
            answer = await asyncio.wait_for(fut, _wait_bound(server))
        except asyncio.TimeoutError:
            self.logger.warning('engineio_fast: the owner of %s did not '
                                'answer a forwarded request', sid)
            answer = (504, [('Content-Type', 'text/plain')],
                      b'the owner of this session did not answer')
        finally:
            self.waiting.pop(rid, None)
        if answer is None:
            return False
        status, out, payload = answer
        await send({'type': 'http.response.start', 'status': status,
                    'headers': [(k.encode('latin-1'), v.encode('latin-1'))
                                for k, v in out]})
        await send({'type': 'http.response.body', 'body': payload})
        return True

    def answered(self, extra: Dict[bytes, bytes], body: Any) -> None:
        """An answer came back (unknown ids are late: dropped)."""
        fut = self.waiting.get(extra[b'r'])
        if fut is None or fut.done():
            return
        fut.set_result(_answer_of(extra, body))

    def refused(self, rid: bytes) -> None:
        """The owner is not alive: serve the request here (unknown sid)."""
        self.logger.warning('engineio_fast: a forwarded request was refused:'
                            ' the owner of its session is not alive')
        fut = self.waiting.get(rid)
        if fut is not None and not fut.done():
            fut.set_result(None)

    def serve(self, server: Any, sid: str, extra: Dict[bytes, bytes],
              body: Any) -> None:
        """A request forwarded here by another process: run it through
        ``server`` and send the answer back."""
        server._spawn(self._serve(server, sid, extra, bytes(body or b'')))

    async def _serve(self, server: Any, sid: str, extra: Dict[bytes, bytes],
                     body: bytes) -> None:
        try:
            headers = [(k.encode('latin-1'), v.encode('latin-1'))
                       for k, v in _parse_headers(extra)]
        except UnicodeError:
            headers = []
        method = extra[b'm'].decode('ascii')
        scope = {'type': 'http', 'asgi': {'version': '3.0'},
                 'http_version': '1.1', 'method': method, 'scheme': 'http',
                 'path': '/engine.io/', 'raw_path': b'/engine.io/',
                 'query_string': extra[b'u'], 'headers': headers,
                 'client': None, 'server': None, 'root_path': ''}
        gone = asyncio.Event()
        state: Dict[str, Any] = {'read': False, 'status': 500, 'body': []}
        out: List[Tuple[str, str]] = []

        async def receive() -> Dict[str, Any]:
            if not state['read']:
                state['read'] = True
                return {'type': 'http.request', 'body': body,
                        'more_body': False}
            await gone.wait()
            return {'type': 'http.disconnect'}

        async def send(msg: Dict[str, Any]) -> None:
            if msg['type'] == 'http.response.start':
                state['status'] = msg['status']
                out.extend((k.decode('latin-1'), v.decode('latin-1'))
                           for k, v in msg.get('headers', ()))
            elif msg['type'] == 'http.response.body':
                state['body'].append(msg.get('body', b''))

        try:
            await asyncio.wait_for(server.handle_request(scope, receive,
                                                         send),
                                   _wait_bound(server))
        except Exception:
            self.logger.exception('engineio_fast: a forwarded request failed')
            state['status'] = 500
        finally:
            gone.set()
        self.served += 1
        reply = extra[b'y'].decode('ascii')
        relay = self.relay
        relay.push(RESPONSE, relay.inbox_of(reply), '',
                   b''.join(state['body']), owner=reply,
                   extra=_response_fields(extra, state['status'], out))
        self.kick()


class SyncForwarder:
    """The sync side of forwarding, for
    :class:`~engineio_fast.cluster.redis_sync.RedisManager` (a thread or
    greenlet waits for each forwarded request; the owner serves each in a
    task of the server's async mode).

    Args:
        relay: the manager's relay.
        push: queues an entry (``Relay.push``'s arguments) under the
            manager's lock and wakes its writer.
        logger: where refusals and timeouts are logged.
    """

    def __init__(self, relay: Relay, push: Callable[..., bool],
                 logger: logging.Logger) -> None:
        self.relay = relay
        self.push = push
        self.logger = logger
        # rid -> [event, answer]
        self.waiting: Dict[bytes, List[Any]] = {}
        self.forwarded = 0
        self.served = 0

    def forward(self, server: Any, sid: str, method: str, query: str,
                headers: Dict[str, str],
                body: Optional[bytes]) -> Optional[Answer]:
        """Forward a request of ``sid`` to its owner; its answer, or None:
        not forwarded (the caller serves it: an unknown sid's 400)."""
        owner = _node.owner_of(sid)
        relay = self.relay
        if owner is None or owner == relay.node or not _node.valid(owner):
            return None
        mode = server._mode
        for _ in range(STARTING_POLLS):
            if relay.up is not None:
                break
            mode.sleep(0.01)     # this process's first contact
        if relay.up is not True:
            self.logger.warning('engineio_fast: cannot forward a request of '
                                '%s: Redis is unreachable', sid)
            return None
        if len(self.waiting) >= MAX_WAITING:
            self.logger.warning('engineio_fast: %d forwarded requests '
                                'wait already: not forwarding another',
                                len(self.waiting))
            return None
        rid = _node.random_tag(16).encode()
        extra = _request_fields(relay, rid, method,
                                query.encode('latin-1'),
                                [[k, v] for k, v in headers.items()])
        event = mode.Event()
        slot: List[Any] = [event, None]
        self.waiting[rid] = slot
        if not self.forwarded:
            self.logger.info('engineio_fast: node %s forwards polling '
                             "requests of other processes' sessions to "
                             'them through Redis', relay.node)
        self.forwarded += 1
        try:
            if not self.push(REQUEST, relay.inbox_of(owner), sid,
                             body or b'', owner=owner, extra=extra):
                return None
            if not event.wait(_wait_bound(server)):
                self.logger.warning('engineio_fast: the owner of %s did '
                                    'not answer a forwarded request', sid)
                return (504, [('Content-Type', 'text/plain')],
                        b'the owner of this session did not answer')
            return slot[1]
        finally:
            self.waiting.pop(rid, None)

    def answered(self, extra: Dict[bytes, bytes], body: Any) -> None:
        """An answer came back (unknown ids are late: dropped)."""
        slot = self.waiting.get(extra[b'r'])
        if slot is not None:
            slot[1] = _answer_of(extra, body)
            slot[0].set()

    def refused(self, rid: bytes) -> None:
        """The owner is not alive: serve the request here (unknown sid)."""
        self.logger.warning('engineio_fast: a forwarded request was refused:'
                            ' the owner of its session is not alive')
        slot = self.waiting.get(rid)
        if slot is not None:
            slot[1] = None
            slot[0].set()

    def serve(self, server: Any, sid: str, extra: Dict[bytes, bytes],
              body: Any) -> None:
        """A request forwarded here by another process: run it through
        ``server`` in a task and send the answer back."""
        server._mode.spawn(self._serve, server, extra, bytes(body or b''))

    def _serve(self, server: Any, extra: Dict[bytes, bytes],
               body: bytes) -> None:
        environ: Dict[str, Any] = {
            'REQUEST_METHOD': extra[b'm'].decode('ascii'),
            'QUERY_STRING': extra[b'u'].decode('latin-1'),
            'SCRIPT_NAME': '', 'PATH_INFO': '/engine.io/',
            'SERVER_NAME': 'forwarded', 'SERVER_PORT': '0',
            'SERVER_PROTOCOL': 'HTTP/1.1', 'wsgi.version': (1, 0),
            'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(body),
            'wsgi.errors': sys.stderr, 'wsgi.multithread': True,
            'wsgi.multiprocess': True, 'wsgi.run_once': False,
            'CONTENT_LENGTH': str(len(body))}
        for name, value in _parse_headers(extra):
            key = name.upper().replace('-', '_')
            if key == 'CONTENT_TYPE':
                environ[key] = value
            elif key != 'CONTENT_LENGTH':
                environ['HTTP_' + key] = value
        state: Dict[str, Any] = {'status': 500, 'headers': []}

        def start_response(status: str, headers: List[Tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            state['status'] = int(status.split(' ', 1)[0])
            state['headers'] = list(headers)
            return lambda data: None

        chunks: List[bytes] = []
        try:
            result = server.handle_request(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, 'close', None)
                if close is not None:
                    close()
        except Exception:
            self.logger.exception('engineio_fast: a forwarded request failed')
            state['status'] = 500
            chunks = []
        self.served += 1
        reply = extra[b'y'].decode('ascii')
        self.push(RESPONSE, self.relay.inbox_of(reply), '', b''.join(chunks),
                  owner=reply,
                  extra=_response_fields(extra, state['status'],
                                         state['headers']))


def status_line(status: int) -> str:
    """``'200 OK'`` for 200."""
    try:
        return '%d %s' % (status, http.HTTPStatus(status).phrase)
    except ValueError:
        return '%d Unknown' % status
