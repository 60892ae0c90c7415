"""The asyncio Engine.IO client: python-engineio's ``engineio.AsyncClient``
API; polling over our own HTTP/1.1 client (or the ``http_session`` given,
see :mod:`engineio_fast.adapters.clients.http_sessions`), the websocket
over the websockets package.

Tasks per connection: one reader (polling GET loop or websocket receive
loop) and, while polling, one writer (POSTs batched within the server's
``maxPayload``; on a websocket ``send()`` writes directly). The heartbeat is
one loop timer re-armed at the deadline, not a task: when no packet arrived
within ``pingInterval + pingTimeout`` it cancels the reader, which ends the
connection with ``reason.TRANSPORT_ERROR``. Coroutine message handlers run
as tasks (as in python-engineio), plain functions run inline in order.
"""

import asyncio
import inspect
import signal
import threading
import weakref
from typing import Any

from . import _accel, base_client, base_server, exceptions
from .adapters.clients.http_sessions import TooLarge as _TooLarge
from .protocol import client_machine as _core

try:
    from websockets.asyncio.client import connect as _ws_connect
    from websockets.exceptions import (
        ConnectionClosedOK,
        InvalidStatus,
        WebSocketException,
    )
    from websockets.protocol import State as _WsState
except ImportError:  # pragma: no cover
    _ws_connect = None  # type: ignore[assignment,misc]

_MESSAGE = _core.ACT_MESSAGE
_PONG = _core.ACT_PONG
_CLOSE = _core.ACT_CLOSE
# coroutine message handlers running at once per connection; past this the
# reader waits for one to finish (backpressure)
MAX_HANDLER_TASKS = 1024
# websocket messages queued in one turn of the event loop go out in one
# write (frames built by the compiled kernels); a batch this large is
# written at once
WS_BATCH_BYTES = 65536
_build_frames = _accel.active.build_frames

_sigint_loops: 'weakref.WeakSet[Any]' = weakref.WeakSet()
_background: 'set[Any]' = set()


def _install_sigint(loop):
    """Chain a SIGINT handler on ``loop``: disconnect the connected async
    clients, then run the handler that was there (``asyncio.run``'s, which
    cancels the main task, or ``KeyboardInterrupt``)."""
    if loop in _sigint_loops:
        return
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, _on_sigint, loop, previous)
    except (NotImplementedError, RuntimeError, ValueError):
        return
    _sigint_loops.add(loop)


def _on_sigint(loop, previous):
    async def run():
        for c in base_client.connected_clients[:]:
            if c.is_asyncio_based():
                try:
                    await asyncio.wait_for(c.disconnect(),
                                           c.request_timeout + 1)
                except Exception:  # pragma: no cover - best effort
                    pass
        if callable(previous):
            previous(signal.SIGINT, None)
        else:  # pragma: no cover
            signal.default_int_handler(signal.SIGINT, None)

    task = loop.create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)


class _AsyncOutbox:
    """Outgoing items waiting for the polling writer (or for the websocket
    to take over); bounded once ``bounded`` is set."""

    def __init__(self, max_items, max_bytes):
        self._items = []
        self._bytes = 0
        self._closed = False
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._ready = asyncio.Event()
        self._space = asyncio.Event()
        self.bounded = False

    def _full(self, size):
        return (self.bounded and self._items
                and (len(self._items) >= self._max_items
                     or self._bytes + size > self._max_bytes))

    async def put(self, item):
        size = _core.item_size(item)
        while not self._closed and self._full(size):
            self._space.clear()
            await self._space.wait()
        self._append(item, size)

    def put_nowait(self, item):
        self._append(item, _core.item_size(item))

    def _append(self, item, size):
        if self._closed:
            return
        self._items.append(item)
        self._bytes += size
        self._ready.set()

    def take_nowait(self):
        items = self._items
        if items:
            self._items = []
            self._bytes = 0
            self._space.set()
        return items

    async def take(self):
        """All waiting items; None once closed and drained."""
        while not self._items and not self._closed:
            self._ready.clear()
            await self._ready.wait()
        return self.take_nowait() or None

    def close(self, discard=False):
        self._closed = True
        if discard:
            self._items = []
            self._bytes = 0
        self._ready.set()
        self._space.set()


class _Connection:
    def __init__(self, client, headers):
        self.core = None
        self.ws = None
        self.http = None        # a client_http adapter
        self.headers = headers
        self.base_url = None
        self.outbox = _AsyncOutbox(client.max_queue_items,
                                   client.max_queue_bytes)
        self.mode = 'queue'
        self.ended = False
        self.expired = False
        self.blocked = False
        self.finished = asyncio.Event()
        self.reader = None
        self.writer = None
        self.timer = None
        self.tasks = set()
        self.ws_batch = []      # websocket items waiting for this turn's
        self.ws_batch_bytes = 0     # write (see AsyncClient._ws_put)

    def end(self):
        if self.ended:
            return False
        self.ended = True
        return True


def _abort_ws(ws):
    transport = getattr(ws, 'transport', None)
    if transport is not None:
        transport.abort()


class AsyncClient(base_server.AsyncioUtilities,
                  base_client.BaseClient):
    """An Engine.IO client for asyncio.

    Args: as :class:`~engineio_fast.base_client.BaseClient` documents;
    ``http_session`` is an ``aiohttp.ClientSession`` or
    ``httpx.AsyncClient``, or a factory (function or coroutine function)
    returning one. ``connect``, ``wait``, ``send``,
    ``disconnect`` and ``sleep`` are coroutines. Handlers may be plain
    functions or coroutines.
    """

    def is_asyncio_based(self):
        return True

    async def connect(self, url, headers=None, transports=None,
                      engineio_path='engine.io'):
        """Connect to an Engine.IO server (a coroutine).

        Args:
            url: the server's URL (http, https, ws or wss); its query
                string is kept.
            headers: a dict of extra headers, sent with every polling
                request and with the websocket handshake.
            transports: ``'polling'``, ``'websocket'`` or a list; the
                default connects with polling, then upgrades to websocket.
            engineio_path: the endpoint's path (default ``'engine.io'``).

        Raises:
            ValueError: the client is already connected, or no valid
                transport was given.
            engineio_fast.exceptions.ConnectionError: the server could not
                be reached or refused the connection (for a refusal:
                ``('Unexpected status code N in server response', body)``
                with the server's JSON error body or None).
        """
        if self.handle_sigint and \
                threading.current_thread() is threading.main_thread():
            _install_sigint(asyncio.get_running_loop())
        self._check_connect_args(transports)
        headers = dict(headers or {})
        if self.transports[0] == 'polling':
            return await self._connect_polling(url, headers, engineio_path)
        return await self._connect_websocket(url, headers, engineio_path)

    async def wait(self):
        """Wait until the connection ends (a coroutine)."""
        conn = self._conn
        if conn is not None:
            await conn.finished.wait()

    async def send(self, data):
        """Send a message: str, bytes, or a dict/list (sent as JSON). A
        coroutine; it waits only when the outgoing queue is full. Text
        with a lone surrogate (which UTF-8 cannot carry) raises
        ``UnicodeEncodeError`` and is not sent."""
        conn = self._conn
        if conn is None or conn.ended or self.state != 'connected':
            return
        item = conn.core.encode_message(data)
        self._log_packet('Sending', _core.MESSAGE, data)
        await self._send_item(conn, item)

    async def disconnect(self, abort=False, reason=None):
        """Disconnect from the server (a coroutine).

        Args:
            abort: do not wait for the background tasks to end.
            reason: the reason passed to the disconnect handler (default
                ``reason.CLIENT_DISCONNECT``).
        """
        conn = self._conn
        if conn is None or conn.finished.is_set():
            self._reset()
            return
        current = asyncio.current_task()
        if not conn.end():
            if not abort and current is not conn.reader \
                    and current is not conn.writer:
                try:
                    await asyncio.wait_for(conn.finished.wait(),
                                           self.request_timeout)
                except asyncio.TimeoutError:
                    pass
            return
        if self.state == 'connected':
            self.state = 'disconnecting'
        self._stop_timer(conn)
        self._log_packet('Sending', _core.CLOSE, None)
        if conn.mode == 'ws':
            self._ws_put(conn, _core.CLOSE_PACKET)
            self._ws_flush(conn)
        else:
            conn.outbox.put_nowait(_core.CLOSE_PACKET)
        conn.outbox.close()
        await self._call_disconnect(reason or self.reason.CLIENT_DISCONNECT)
        if conn.ws is not None:
            await self._close_ws(conn.ws)
        tasks = [t for t in (conn.reader, conn.writer)
                 if t is not None and t is not current and not t.done()]
        if abort:
            if conn.reader in tasks:
                conn.reader.cancel()
        elif tasks:
            _, pending = await asyncio.wait(tasks,
                                            timeout=self.request_timeout)
            for t in pending:
                t.cancel()
        await self._finalize(conn)

    # -- connection setup -----------------------------------------------------

    async def _new_connection(self, headers):
        conn = _Connection(self, headers)
        if self.http is None and self.http_factory is not None:
            http = self.http_factory()
            if inspect.isawaitable(http):
                http = await http
            self.http = http
        conn.http = self._wrap_http()
        return conn

    async def _fail(self, conn, error):
        await self._close_http(conn)
        self._reset()
        raise error

    async def _connect_polling(self, url, headers, engineio_path):
        conn = await self._new_connection(headers)
        if conn.http is None:
            conn.http = self._default_http()
        conn.base_url = _core.engineio_url(url, engineio_path, 'polling')
        self.base_url = conn.base_url
        self.logger.info('Attempting polling connection to %s',
                         conn.base_url)
        try:
            status, body = await self._request(
                conn, 'GET', conn.base_url + self._url_timestamp(),
                self.request_timeout)
        except _TooLarge:
            await self._fail(conn, exceptions.ConnectionError(
                'Unexpected response from server'))
        except Exception as exc:
            self.logger.info('HTTP GET request to %s failed with error %s.',
                             conn.base_url, exc)
            await self._fail(conn, exceptions.ConnectionError(
                str(exc) or 'Connection refused by the server'))
        if status < 200 or status >= 300:
            await self._fail(conn, base_client.status_error(status, body))
        loads, dumps = self._json_codec()
        try:
            packets = _core.decode_payload(body, loads)
            if packets[0][0] != _core.OPEN:
                raise _core.ProtocolError('OPEN packet not returned by server')
            handshake = _core.Handshake(packets[0][1])
        except _core.ProtocolError as exc:
            await self._fail(conn, exceptions.ConnectionError(
                'OPEN packet not returned by server'
                if 'OPEN' in str(exc) else 'Unexpected response from server'))
        loop = asyncio.get_running_loop()
        conn.core = _core.ClientCore(handshake, loop.time(), loads, dumps)
        conn.base_url += _core.sid_param(handshake.sid)
        self.base_url = conn.base_url
        self.logger.info('Polling connection accepted with %s',
                         handshake.data)
        self._adopt_handshake(conn.core, 'polling')
        await self._opened(conn)
        for pkt in packets[1:]:
            reason = await self._on_packet(conn, pkt)
            if reason is not None:
                await self._lost(conn, reason)
                return None
        if conn.core.can_upgrade(self.transports) and \
                await self._upgrade(conn, url, engineio_path):
            self._start(conn, self._ws_reader)
            return None
        conn.mode = 'polling'
        conn.outbox.bounded = True
        self._start(conn, self._poll_reader, self._poll_writer)
        return None

    async def _opened(self, conn):
        self._conn = conn
        self.state = 'connected'
        base_client.connected_clients.append(self)
        handler = self.handlers.get('connect')
        if handler is None:
            return
        try:
            ret = handler()
            if inspect.isawaitable(ret):
                await ret
        except Exception as exc:
            self.logger.exception('connect handler error')
            self._remove_connected()
            conn.end()
            await self._abandon(conn)
            self._conn = None
            await self._close_http(conn)
            self._reset()
            raise exceptions.ConnectionError(
                'Connect handler failed: ' + str(exc)) from None

    async def _abandon(self, conn):
        """Tell the server a session we give up on is closed (best effort)."""
        if conn.ws is not None:
            self._ws_put(conn, _core.CLOSE_PACKET)
            self._ws_flush(conn)
            await self._close_ws(conn.ws)
        elif conn.http is not None and conn.base_url:
            try:
                await self._request(conn, 'POST', conn.base_url,
                                    self.request_timeout, _core.CLOSE_PACKET)
            except Exception:
                pass

    async def _ws_open(self, conn, ws_url):
        options = self._ws_options(ws_url, conn.headers, conn.http)
        return await _ws_connect(ws_url + self._url_timestamp(), **options)

    async def _upgrade(self, conn, url, engineio_path):
        if _ws_connect is None:  # pragma: no cover
            self.logger.error('websockets is not installed, only polling '
                              'is available')
            return False
        ws_url = (_core.engineio_url(url, engineio_path, 'websocket')
                  + _core.sid_param(conn.core.sid))
        self.logger.info('Attempting WebSocket upgrade to %s', ws_url)
        try:
            ws = await self._ws_open(conn, ws_url)
        except Exception as exc:
            # the session goes on over polling whatever went wrong here
            self.logger.warning('WebSocket upgrade failed: %r', exc)
            return False
        try:
            await ws.send(_core.PROBE)
            reply = await asyncio.wait_for(ws.recv(), self.request_timeout)
            if reply != _core.PROBE_REPLY:
                raise _core.ProtocolError('no PONG packet')
            await ws.send(_core.UPGRADE_PACKET)
        except Exception as exc:
            self.logger.warning('WebSocket upgrade failed: %s', exc)
            _abort_ws(ws)
            return False
        conn.ws = self.ws = ws
        self.current_transport = 'websocket'
        for item in conn.outbox.take_nowait():
            self._ws_put(conn, item)
        conn.mode = 'ws'
        self.logger.info('WebSocket upgrade was successful')
        return True

    async def _connect_websocket(self, url, headers, engineio_path):
        if _ws_connect is None:  # pragma: no cover
            self.logger.error('websockets is not installed')
            raise exceptions.ConnectionError('Connection error')
        conn = await self._new_connection(headers)
        ws_url = _core.engineio_url(url, engineio_path, 'websocket')
        conn.base_url = self.base_url = ws_url
        self.logger.info('Attempting WebSocket connection to %s', ws_url)
        try:
            ws = await self._ws_open(conn, ws_url)
        except InvalidStatus as exc:
            response = exc.response
            await self._fail(conn, base_client.status_error(
                response.status_code, response.body, text_fallback=True))
        except (OSError, WebSocketException, asyncio.TimeoutError) as exc:
            self.logger.info('WebSocket connection failed: %s', exc)
            await self._fail(conn,
                             exceptions.ConnectionError('Connection error'))
        loads, dumps = self._json_codec()
        try:
            message = await asyncio.wait_for(ws.recv(), self.request_timeout)
            if not isinstance(message, str):
                raise _core.ProtocolError('no OPEN packet')
            handshake = _core.decode_open(message, loads)
        except (_core.ProtocolError, asyncio.TimeoutError,
                WebSocketException) as e:
            _abort_ws(ws)
            await self._fail(conn, exceptions.ConnectionError(
                'no OPEN packet' if 'OPEN' in str(e)
                else 'Unexpected response from server'))
        loop = asyncio.get_running_loop()
        conn.core = _core.ClientCore(handshake, loop.time(), loads, dumps)
        conn.ws = self.ws = ws
        conn.mode = 'ws'
        self.logger.info('WebSocket connection accepted with %s',
                         handshake.data)
        self._adopt_handshake(conn.core, 'websocket')
        await self._opened(conn)
        self._start(conn, self._ws_reader)
        return True

    def _start(self, conn, reader, writer=None):
        if conn.ended:
            return
        # the time connect() spent (handler, upgrade) is not the server's
        conn.core.seen(asyncio.get_running_loop().time())
        if writer is not None:
            conn.writer = self.write_loop_task = asyncio.ensure_future(
                writer(conn))
        conn.reader = self.read_loop_task = asyncio.ensure_future(
            self._read_loop(conn, reader))
        self._arm_timer(conn)

    # -- heartbeat ------------------------------------------------------------

    def _arm_timer(self, conn):
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_at(conn.core.deadline, self._heartbeat, conn)

    def _stop_timer(self, conn):
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None

    def _heartbeat(self, conn):
        conn.timer = None
        if conn.ended:
            return
        now = asyncio.get_running_loop().time()
        if conn.blocked or now < conn.core.deadline:
            if conn.blocked:
                conn.core.seen(now)
            self._arm_timer(conn)
            return
        self.logger.warning('Server has stopped communicating, aborting')
        conn.expired = True
        if conn.reader is not None:
            conn.reader.cancel()

    # -- I/O ------------------------------------------------------------------

    async def _request(self, conn, method, url, read_timeout, body=None):
        return await conn.http.request(method, url, *self._request_args(
            conn, read_timeout, body))

    async def _send_item(self, conn, item):
        mode = conn.mode
        if mode == 'ws':
            self._ws_put(conn, item)
            ws = conn.ws
            if getattr(ws, 'paused', False):
                # the socket is behind (websockets' write buffer is past its
                # high-water mark): wait for it, as ws.send() would
                self._ws_flush(conn)
                await ws.drain()
        elif mode == 'polling':
            await conn.outbox.put(item)
        else:
            conn.outbox.put_nowait(item)

    def _ws_put(self, conn, item):
        """Queue an item for the websocket. Everything queued in one turn
        of the event loop is written together at its end: one frame each,
        all built at once by the compiled kernels, one write to the socket
        (the websockets package would write each frame on its own)."""
        batch = conn.ws_batch
        batch.append(item)
        conn.ws_batch_bytes += len(item)
        if len(batch) == 1:
            asyncio.get_running_loop().call_soon(self._ws_flush, conn)
        elif conn.ws_batch_bytes >= WS_BATCH_BYTES:
            self._ws_flush(conn)

    def _ws_flush(self, conn):
        items = conn.ws_batch
        if not items:
            return
        conn.ws_batch = []
        conn.ws_batch_bytes = 0
        ws = conn.ws
        transport = ws.transport
        if ws.protocol.state is not _WsState.OPEN or transport.is_closing():
            return      # closing: nothing more may be sent
        # (send() refused text that cannot be encoded)
        transport.write(_build_frames(items, True))

    async def _on_packet(self, conn, pkt):
        """Act on one decoded packet; returns a disconnect reason when the
        server closed the session."""
        ptype, data, _ = pkt
        self._log_packet('Received', ptype, data)
        action, arg = _core.ClientCore.classify(ptype, data)
        if action == _MESSAGE:
            handler = self.handlers.get('message')
            if handler is not None:
                await self._dispatch(conn, handler, data)
        elif action == _PONG:
            if conn.mode == 'ws':
                self._ws_put(conn, arg)
            else:
                conn.outbox.put_nowait(arg)
        elif action == _CLOSE:
            return self.reason.SERVER_DISCONNECT
        elif ptype not in (_core.NOOP, _core.PONG):
            self.logger.error('Received unexpected packet of type %s', ptype)
        return None

    async def _dispatch(self, conn, handler, data):
        try:
            ret = handler(data)
        except Exception:
            self.logger.exception('message handler error')
            return
        if not inspect.isawaitable(ret):
            return
        tasks = conn.tasks
        if len(tasks) >= MAX_HANDLER_TASKS:
            conn.blocked = True
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                conn.blocked = False
        task = asyncio.ensure_future(self._run_handler(ret))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _run_handler(self, awaitable):
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger.exception('message async handler error')

    async def _read_loop(self, conn, reader):
        reason = self.reason.TRANSPORT_ERROR
        try:
            reason = await reader(conn)
        except asyncio.CancelledError:
            if not conn.expired:
                self._drop(conn)
                raise
            # cancelled by our own heartbeat timer: carry on to the end
            uncancel = getattr(asyncio.current_task(), 'uncancel', None)
            if uncancel is not None:
                uncancel()
        except ConnectionClosedOK:
            # a clean close by the server without a close packet (what the
            # JavaScript server does): a server disconnect
            reason = self.reason.SERVER_DISCONNECT
        except WebSocketException as exc:
            if not conn.ended:
                self.logger.info('WebSocket connection closed: %s', exc)
        except _core.ProtocolError as exc:
            self.logger.warning('Invalid packet from server (%s), aborting',
                                exc)
        except Exception as exc:
            if not conn.ended:
                self.logger.warning('Read loop failed: %r', exc)
        await self._lost(conn, reason)

    async def _ws_reader(self, conn):
        ws = conn.ws
        core = conn.core
        loads = core.loads
        time = asyncio.get_running_loop().time
        while True:
            message = await ws.recv()
            if conn.ended:
                # ended by disconnect(): keep reading until the close
                # handshake completes (a full receive buffer would stall it)
                continue
            core.deadline = time() + core.window
            end = await self._on_packet(conn,
                                        _core.decode_frame(message, loads))
            if end is not None:
                return end

    async def _poll_reader(self, conn):
        core = conn.core
        loads = core.loads
        time = asyncio.get_running_loop().time
        # the heartbeat timer bounds the wait; this read timeout is a
        # backstop only
        read_timeout = core.window + self.request_timeout
        while not conn.ended:
            status, body = await self._request(
                conn, 'GET', conn.base_url + self._url_timestamp(),
                read_timeout)
            if conn.ended:
                break
            if status < 200 or status >= 300:
                self.logger.warning('Unexpected status code %s in server '
                                    'response, aborting', status)
                break
            packets = _core.decode_payload(body, loads)
            core.deadline = time() + core.window
            for pkt in packets:
                end = await self._on_packet(conn, pkt)
                if end is not None:
                    return end
            core.deadline = time() + core.window
        return self.reason.TRANSPORT_ERROR

    async def _poll_writer(self, conn):
        core = conn.core
        try:
            while True:
                items = await conn.outbox.take()
                if items is None:
                    break
                for body in _core.encode_payloads(items, core.max_payload):
                    status, _ = await self._request(
                        conn, 'POST', conn.base_url, self.request_timeout,
                        body)
                    if status < 200 or status >= 300:
                        raise exceptions.ConnectionError(
                            'Unexpected status code %s in server response'
                            % status)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not conn.ended:
                self.logger.warning('Polling POST failed: %r', exc)
            await self._lost(conn, self.reason.TRANSPORT_ERROR)

    # -- teardown -------------------------------------------------------------

    def _drop(self, conn):
        """The reader was cancelled from outside (loop shutdown): release
        the transports without awaiting anything."""
        if not conn.end():
            return
        self._stop_timer(conn)
        conn.outbox.close(discard=True)
        if conn.writer is not None:
            conn.writer.cancel()
        if conn.ws is not None:
            _abort_ws(conn.ws)
        if self._conn is conn:
            self._remove_connected()
            self._reset()
        conn.finished.set()

    async def _lost(self, conn, reason):
        """The transport ended (server close, error, silence)."""
        if not conn.end():
            return
        self.logger.info('Connection ended: %s', reason)
        self._stop_timer(conn)
        conn.outbox.close(discard=True)
        current = asyncio.current_task()
        for t in (conn.reader, conn.writer):
            if t is not None and t is not current:
                t.cancel()
        if conn.ws is not None:
            if reason == self.reason.SERVER_DISCONNECT:
                await self._close_ws(conn.ws)
            else:
                _abort_ws(conn.ws)
        if self._conn is conn and self.state == 'connected':
            await self._call_disconnect(reason)
        await self._finalize(conn)

    async def _close_ws(self, ws):
        # bounded: the websockets package waits without a deadline for a
        # full socket to drain before its close frame
        try:
            await asyncio.wait_for(ws.close(), self.request_timeout)
        except Exception:
            _abort_ws(ws)

    async def _call_disconnect(self, reason):
        handler = self.handlers.get('disconnect')
        if handler is None:
            return
        try:
            ret = handler(*self._disconnect_args(reason))
            if inspect.isawaitable(ret):
                await ret
        except asyncio.CancelledError:  # pragma: no cover
            pass
        except Exception:
            self.logger.exception('disconnect handler error')

    def _remove_connected(self):
        try:
            base_client.connected_clients.remove(self)
        except ValueError:
            pass

    async def _finalize(self, conn):
        if self._conn is conn:
            self._remove_connected()
            self._reset()
            writer = conn.writer
            if writer is not None and not writer.done() and \
                    writer is not asyncio.current_task():
                # the writer still flushes (abort): close the session after
                http = conn.http
                self._forget_http(http, False)
                if http is not None and http.own:
                    writer.add_done_callback(
                        lambda _: self._spawn(http.close()))
            else:
                await self._close_http(conn)
        conn.finished.set()

    @staticmethod
    def _spawn(coro):
        task = asyncio.ensure_future(coro)
        _background.add(task)
        task.add_done_callback(_background.discard)

    async def _close_http(self, conn):
        http = conn.http
        if http is not None and http.own:
            try:
                await http.close()
            except Exception:  # pragma: no cover
                pass
        self._forget_http(http, False)
