"""The asyncio Engine.IO client: python-engineio's ``engineio.AsyncClient``
API. The protocol is the client machine's; the connection flow is
:mod:`engineio_fast.base_client`'s; this module performs the I/O with
asyncio: polling over our own HTTP/1.1 client (or the ``http_session``
given, see :mod:`engineio_fast.adapters.clients.http_sessions`), the
websocket over the websockets package, written through
:class:`~engineio_fast.adapters.clients.async_io.WsBatch`.

Tasks per connection: one reader (polling GET loop or websocket receive
loop) and, while polling, one writer (POSTs batched within the server's
``maxPayload``; on a websocket ``send()`` writes directly). The heartbeat is
one loop timer re-armed at the deadline, not a task: once the machine says
the deadline passed it cancels the reader, which then ends the session.
Coroutine message handlers run as tasks (as in python-engineio), plain
functions run inline in order.
"""

import asyncio
import contextlib
import inspect
import threading
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Set,
    TypeVar,
    Union,
    cast,
)

from . import base_client, base_server
from .adapters.clients import async_io
from .base_client import Flow
from .protocol.client_machine import CLOSE_SESSION as _CLOSE_SESSION
from .protocol.client_machine import CLOSED as _CLOSED
from .protocol.client_machine import DELIVER as _DELIVER
from .protocol.client_machine import SEND as _SEND
from .protocol.client_machine import WEBSOCKET as _WEBSOCKET
from .protocol.client_machine import Action, ClientMachine
from .protocol.packets import Data, Item

try:
    from websockets.asyncio.client import connect as _ws_connect
except ImportError:  # pragma: no cover - the client extra is not installed
    _ws_connect = None  # type: ignore[assignment,misc]

# coroutine message handlers running at once per connection; past this the
# reader waits for one to finish (backpressure)
MAX_HANDLER_TASKS = 1024
_NO_LOCK = contextlib.nullcontext()
_T = TypeVar('_T')


class _Connection(base_client.Connection):
    """A connection as the event loop's tasks share it."""

    batch: Optional[async_io.WsBatch]

    def __init__(self, client: 'AsyncClient', machine: ClientMachine,
                 headers: Dict[str, str]) -> None:
        super().__init__(machine, headers,
                         async_io.AsyncOutbox(client.max_queue_items,
                                              client.max_queue_bytes),
                         _NO_LOCK, asyncio.get_running_loop().time)
        self.finished = asyncio.Event()
        # the heartbeat's close actions
        self.expired: Optional[List[Action]] = None
        self.blocked = False    # the reader waits for handler tasks
        self.timer: Optional[asyncio.TimerHandle] = None
        self.tasks: Set['asyncio.Future[Any]'] = set()

    @property
    def ws(self) -> Any:
        """The websocket carrying the session; setting it makes its
        :class:`~engineio_fast.adapters.clients.async_io.WsBatch`
        (``batch``)."""
        return self._ws

    @ws.setter
    def ws(self, ws: Any) -> None:
        self._ws = ws
        self.batch = None if ws is None else async_io.WsBatch(ws)


class AsyncClient(base_server.AsyncioUtilities, base_client.BaseClient):
    """An Engine.IO client for asyncio.

    Args: as :class:`~engineio_fast.base_client.BaseClient` documents;
    ``http_session`` is an ``aiohttp.ClientSession`` or
    ``httpx.AsyncClient``, or a factory (function or coroutine function)
    returning one. ``connect``, ``wait``, ``send``, ``disconnect`` and
    ``sleep`` are coroutines. Handlers may be plain functions or
    coroutines.
    """

    _conn: Optional[_Connection]

    def is_asyncio_based(self) -> bool:
        """Whether this is an asyncio client: True."""
        return True

    async def connect(self, url: str, headers: Optional[Dict[str, str]] = None,
                      transports: Union[None, str, Sequence[str]] = None,
                      engineio_path: str = 'engine.io') -> Optional[bool]:
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
                be reached or refused it (a refusal carries ``('Unexpected
                status code N in server response', body)``, ``body`` the
                server's JSON error body or None).
        """
        if self.handle_sigint and \
                threading.current_thread() is threading.main_thread():
            async_io.install_sigint(asyncio.get_running_loop(),
                                    base_client.connected_clients)
        return await self._run(self._connect_flow(url, headers, transports,
                                                  engineio_path))

    async def wait(self) -> None:
        """Wait until the connection ends (a coroutine)."""
        conn = self._conn
        if conn is not None:
            await conn.finished.wait()

    async def send(self, data: Data) -> None:
        """Send a message: str, bytes, or a dict/list (sent as JSON). A
        coroutine; it waits only when the outgoing queue is full. Text
        with a lone surrogate (which UTF-8 cannot carry) raises
        ``UnicodeEncodeError`` and is not sent."""
        conn = self._conn
        if conn is None:
            return
        item = self._outgoing(conn, data)
        if item is None:
            return
        if conn.machine.state is _WEBSOCKET:
            # (a websocket carries the session: it has its batch)
            batch: async_io.WsBatch = conn.batch  # type: ignore[assignment]
            batch.put(item)
            if batch.behind():
                await batch.drain()
        elif conn.outbox.bounded:
            await conn.outbox.put(item)
        else:
            conn.outbox.put_nowait(item)

    async def disconnect(self, abort: bool = False,
                         reason: Optional[str] = None) -> None:
        """Disconnect from the server (a coroutine).

        Args:
            abort: do not wait for the background tasks to end.
            reason: the reason passed to the disconnect handler (default
                ``reason.CLIENT_DISCONNECT``).
        """
        await self._run(self._disconnect_flow(abort, reason))

    # -- running the flows (see base_client) ---------------------------------

    def _connection(self, machine: ClientMachine,
                    headers: Dict[str, str]) -> _Connection:
        return _Connection(self, machine, headers)

    @staticmethod
    async def _run(flow: Flow[_T]) -> _T:
        """Perform a flow; return what it returns."""
        return await base_client.drive(flow)

    async def _io_request(self, conn: _Connection, method: str, url: str,
                          timeout: float, body: Optional[str] = None) -> Any:
        return await conn.http.request(method, url, *self._request_args(
            conn, timeout, body))

    async def _io_ws_open(self, conn: _Connection, url: str) -> Any:
        if _ws_connect is None:  # pragma: no cover
            raise ImportError('the websockets package is not installed')
        return await _ws_connect(url, **self._ws_options(url, conn.headers,
                                                         conn.http))

    @staticmethod
    async def _io_ws_recv(ws: Any, timeout: float) -> Any:
        return await asyncio.wait_for(ws.recv(), timeout)

    @staticmethod
    async def _io_ws_send(ws: Any, item: Item) -> None:
        await ws.send(item)

    @staticmethod
    def _io_ws_abort(ws: Any) -> None:
        async_io.abort_websocket(ws)

    async def _io_ws_close(self, ws: Any) -> None:
        await async_io.close_websocket(ws, self.request_timeout)

    def _io_send_last(self, conn: _Connection, item: Item) -> None:
        self._send_now(conn, item)
        if conn.batch is not None:
            conn.batch.flush()      # before any closing handshake

    @staticmethod
    def _io_call(fn: Callable[..., _T], *args: Any) -> _T:
        return fn(*args)

    @staticmethod
    async def _io_take(conn: _Connection) -> Optional[List[Item]]:
        return await conn.outbox.take()

    def _io_switch(self, conn: _Connection, ws: Any) -> None:
        conn.ws = self.ws = ws
        self.current_transport = 'websocket'
        batch = cast(async_io.WsBatch, conn.batch)   # (made for ws)
        for item in conn.outbox.take_nowait():
            batch.put(item)
        conn.machine.switched()

    @staticmethod
    def _spawn(target: Callable[[_Connection], Awaitable[Any]],
               conn: _Connection, name: str) -> 'asyncio.Future[Any]':
        return asyncio.ensure_future(target(conn))

    async def _io_perform(self, conn: _Connection,
                          actions: Sequence[Action]) -> None:
        for kind, arg in actions:
            if kind == _DELIVER:
                handler = self.handlers.get('message')
                if handler is not None:
                    await self._dispatch(conn, handler, arg)
            elif kind == _SEND:
                self._send_now(conn, arg)
            elif kind == _CLOSE_SESSION:
                await self._lost(conn, arg)

    def _send_now(self, conn: _Connection, item: Item) -> None:
        """Queue an item that must not wait (a pong, the close packet)."""
        if conn.ws is not None:
            cast(async_io.WsBatch, conn.batch).put(item)   # (made for ws)
        else:
            conn.outbox.put_nowait(item)

    async def _dispatch(self, conn: _Connection, handler: Callable[..., Any],
                        data: Any) -> None:
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

    async def _run_handler(self, awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger.exception('message async handler error')

    # -- the heartbeat ----------------------------------------------------

    def _arm_timer(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_at(conn.machine.deadline, self._heartbeat,
                                  conn)

    def _stop_timer(self, conn: _Connection) -> None:
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None

    def _heartbeat(self, conn: _Connection) -> None:
        conn.timer = None
        m = conn.machine
        if m.state is _CLOSED:
            return
        if conn.blocked:
            m.touch(conn.now())
        actions = m.expire(conn.now())
        if not actions:
            self._arm_timer(conn)
            return
        conn.expired = actions
        if conn.reader is not None:
            conn.reader.cancel()

    # -- the reader task ----------------------------------------------------

    async def _read_loop(self, conn: _Connection) -> None:
        self._arm_timer(conn)
        try:
            await self._run(self._read_flow(conn))
        except asyncio.CancelledError:
            if conn.expired is None:
                self._drop(conn)
                raise
            # cancelled by our own heartbeat timer: end the session
            uncancel = getattr(asyncio.current_task(), 'uncancel', None)
            if uncancel is not None:
                uncancel()
            await self._io_perform(conn, conn.expired)

    async def _write_loop(self, conn: _Connection) -> None:
        await self._run(self._post_flow(conn))

    async def _ws_reader(self, conn: _Connection) -> None:
        ws = conn.ws
        m = conn.machine
        receive = m.receive_message
        perform = self._io_perform
        time = conn.now
        while True:
            message = await ws.recv()
            if m.state is _CLOSED:
                # ended by disconnect(): read until the closing handshake
                # completes (a full receive buffer would stall it)
                continue
            actions = receive(message, time())
            if actions:
                await perform(conn, actions)
                if actions[-1][0] == _CLOSE_SESSION:
                    return

    # -- teardown -------------------------------------------------------------

    def _drop(self, conn: _Connection) -> None:
        """The reader was cancelled from outside (loop shutdown): release
        the transports without awaiting anything."""
        if not conn.machine.disconnect():     # (only to mark it closed)
            return
        self._stop_timer(conn)
        conn.outbox.close(discard=True)
        if conn.writer is not None:
            conn.writer.cancel()
        if conn.ws is not None:
            async_io.abort_websocket(conn.ws)
        self._release(conn)
        conn.finished.set()

    async def _lost(self, conn: _Connection, reason: str) -> None:
        """The session ended from the server's side (close, error,
        silence)."""
        m = conn.machine
        self.logger.info('Connection ended: %s (%s)', reason, m.cause)
        self._stop_timer(conn)
        conn.outbox.close(discard=True)
        current = asyncio.current_task()
        for t in (conn.reader, conn.writer):
            if t is not None and t is not current:
                t.cancel()
        if conn.ws is not None:
            if m.clean:
                await async_io.close_websocket(conn.ws, self.request_timeout)
            else:
                async_io.abort_websocket(conn.ws)
        if self._conn is conn and self.state == 'connected':
            try:
                await self._run(self._disconnect_handler_flow(reason))
            except asyncio.CancelledError:  # pragma: no cover
                pass
        await self._io_finalize(conn)

    async def _io_wait_end(self, conn: _Connection) -> None:
        current = asyncio.current_task()
        if current is not conn.reader and current is not conn.writer:
            try:
                await asyncio.wait_for(conn.finished.wait(),
                                       self.request_timeout)
            except asyncio.TimeoutError:
                pass

    def _io_stop(self, conn: _Connection) -> None:
        self._stop_timer(conn)
        conn.outbox.close()

    async def _io_join(self, conn: _Connection, abort: bool) -> None:
        current = asyncio.current_task()
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

    async def _io_finalize(self, conn: _Connection) -> None:
        if self._release(conn):
            writer = conn.writer
            if writer is not None and not writer.done() and \
                    writer is not asyncio.current_task():
                # the writer still flushes (abort): close the session after
                http = conn.http
                self._forget_http(http, False)
                if http is not None and http.own:
                    writer.add_done_callback(
                        lambda _: async_io.spawn(http.close()))
            else:
                await self._io_close_http(conn)
        conn.finished.set()

    async def _io_close_http(self, conn: _Connection) -> None:
        http = conn.http
        if http is not None and http.own:
            try:
                await http.close()
            except Exception:  # pragma: no cover
                pass
        self._forget_http(http, False)
