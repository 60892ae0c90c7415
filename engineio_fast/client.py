"""The synchronous Engine.IO client: python-engineio's ``engineio.Client``
API on threads. The protocol is the client machine's; the connection flow
is :mod:`engineio_fast.base_client`'s; this module performs the I/O:
polling over our own HTTP/1.1 client (or the ``http_session`` given, see
:mod:`engineio_fast.adapters.clients.http_sessions`), the websocket over the
websockets package (:mod:`engineio_fast.adapters.clients.sync_io`).

Threads per connection: one reader (the polling GET loop or the websocket
receive loop; the heartbeat deadline is its read timeout), one writer while
polling (POSTs, batched within the server's ``maxPayload``; on a websocket,
``send()`` writes directly), and the message-handler workers of
:class:`~engineio_fast.adapters.clients.sync_io.Dispatcher` (one, plus more
only while a handler is stalled). The websockets package adds its own
receive thread per websocket.
"""

import queue
import threading
import time
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Type,
    TypeVar,
    Union,
    cast,
)

from . import base_client
from .adapters.clients import sync_io
from .base_client import Flow
from .protocol.client_machine import CLOSE_SESSION as _CLOSE_SESSION
from .protocol.client_machine import CLOSED as _CLOSED
from .protocol.client_machine import DELIVER as _DELIVER
from .protocol.client_machine import SEND as _SEND
from .protocol.client_machine import WEBSOCKET as _WEBSOCKET
from .protocol.client_machine import Action, ClientMachine
from .protocol.packets import Data, Item

_monotonic = time.monotonic
_T = TypeVar('_T')


class _Connection(base_client.Connection):
    """A connection as the threads share it."""

    lock: threading.Lock

    def __init__(self, client: 'Client', machine: ClientMachine,
                 headers: Dict[str, str]) -> None:
        super().__init__(machine, headers,
                         sync_io.Outbox(client.max_queue_items,
                                        client.max_queue_bytes),
                         threading.Lock(), _monotonic)
        self.dispatcher = sync_io.Dispatcher(client.logger)
        # held while items queued for polling move to the websocket, so
        # that no send() slips between them
        self.switch_lock = threading.Lock()
        self.finished = threading.Event()
        self.writer_done = False
        self.close_http_later = False


class Client(base_client.BaseClient):
    """An Engine.IO client for the standard library (threads).

    Args: as :class:`~engineio_fast.base_client.BaseClient` documents
    (``logger``, ``json``, ``request_timeout``, ``http_session`` — a
    ``requests.Session`` or ``httpx.Client``, or a factory of one —,
    ``ssl_verify``, ``handle_sigint``, ``websocket_extra_options``,
    ``timestamp_requests``).

    Message handlers run in arrival order on a worker thread, off the
    reader; if no ping or other packet arrives within the server's
    ``pingInterval + pingTimeout`` the connection ends with
    ``reason.TRANSPORT_ERROR``.
    """

    _conn: Optional[_Connection]

    def connect(self, url: str, headers: Optional[Dict[str, str]] = None,
                transports: Union[None, str, Sequence[str]] = None,
                engineio_path: str = 'engine.io') -> Optional[bool]:
        """Connect to an Engine.IO server.

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
                be reached or refused the connection. For a refusal its
                arguments are ``('Unexpected status code N in server
                response', body)`` where ``body`` is the server's JSON error
                body (or None).
        """
        return self._run(self._connect_flow(url, headers, transports,
                                            engineio_path))

    def wait(self) -> None:
        """Block until the connection ends."""
        conn = self._conn
        if conn is not None:
            conn.finished.wait()

    def send(self, data: Data) -> None:
        """Send a message: str, bytes, or a dict/list (sent as JSON).

        Returns at once unless the outgoing queue is full (then it waits for
        room); a client that is not connected drops the message. Text with
        a lone surrogate (which UTF-8 cannot carry) raises
        ``UnicodeEncodeError`` and is not sent."""
        conn = self._conn
        if conn is None:
            return
        item = self._outgoing(conn, data)
        if item is not None:
            self._send_item(conn, item)

    def disconnect(self, abort: bool = False,
                   reason: Optional[str] = None) -> None:
        """Disconnect from the server.

        Args:
            abort: do not wait for the background threads to end.
            reason: the reason passed to the disconnect handler (default
                ``reason.CLIENT_DISCONNECT``).
        """
        self._run(self._disconnect_flow(abort, reason))

    def start_background_task(self, target: Callable[..., Any], *args: Any,
                              **kwargs: Any) -> threading.Thread:
        """Run ``target(*args, **kwargs)`` in a daemon thread and return the
        thread (it has ``join()``)."""
        th = threading.Thread(target=target, args=args, kwargs=kwargs,
                              daemon=True)
        th.start()
        return th

    def sleep(self, seconds: float = 0) -> None:
        """Sleep for ``seconds``."""
        return time.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> 'queue.Queue[Any]':
        """Create a :class:`queue.Queue`."""
        return queue.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> Type[queue.Empty]:
        """The exception an empty queue raises: :class:`queue.Empty`."""
        return queue.Empty

    def create_event(self, *args: Any, **kwargs: Any) -> threading.Event:
        """Create a :class:`threading.Event`."""
        return threading.Event(*args, **kwargs)

    # -- running the flows (see base_client) ---------------------------------

    def _connection(self, machine: ClientMachine,
                    headers: Dict[str, str]) -> '_Connection':
        return _Connection(self, machine, headers)

    @staticmethod
    def _run(flow: Flow[_T]) -> _T:
        """Perform a flow in this thread; return what it returns."""
        try:
            cast('Flow[_T]', base_client.drive(flow, False)).send(None)
        except StopIteration as done:
            return done.value
        raise RuntimeError('a Client flow did not end')  # pragma: no cover

    def _io_request(self, conn: _Connection, method: str, url: str,
                    timeout: float, body: Optional[str] = None) -> Any:
        return conn.http.request(method, url, *self._request_args(
            conn, timeout, body))

    def _io_ws_open(self, conn: _Connection, url: str) -> Any:
        return sync_io.open_websocket(
            url, self._ws_options(url, conn.headers, conn.http),
            self.ssl_verify, self.request_timeout)

    @staticmethod
    def _io_ws_recv(ws: Any, timeout: float) -> Any:
        return ws.recv(timeout=timeout)

    @staticmethod
    def _io_ws_send(ws: Any, item: Item) -> None:
        ws.send(item)

    @staticmethod
    def _io_ws_abort(ws: Any) -> None:
        sync_io.close_websocket(ws, force=True)

    def _io_ws_close(self, ws: Any) -> None:
        sync_io.close_websocket(ws, False, self.request_timeout)

    def _io_send_last(self, conn: _Connection, item: Item) -> None:
        if conn.ws is None:
            conn.outbox.put(item, force=True)
        else:
            sync_io.send_or_drop(conn.ws, item, self.request_timeout)

    @staticmethod
    def _io_call(fn: Callable[..., _T], *args: Any) -> _T:
        return fn(*args)

    @staticmethod
    def _io_take(conn: _Connection) -> Optional[List[Item]]:
        return conn.outbox.take()

    def _io_switch(self, conn: _Connection, ws: Any) -> None:
        with conn.switch_lock:
            conn.ws = self.ws = ws
            self.current_transport = 'websocket'
            try:
                for item in conn.outbox.take(block=False) or ():
                    ws.send(item)
            except Exception as exc:
                self.logger.info('WebSocket send failed: %s', exc)
            with conn.lock:
                conn.machine.switched()

    @staticmethod
    def _spawn(target: Callable[[_Connection], Any], conn: _Connection,
               name: str) -> threading.Thread:
        th = threading.Thread(target=target, args=(conn,), daemon=True,
                              name='engineio-client-' + name)
        th.start()
        return th

    def _io_perform(self, conn: _Connection,
                    actions: Sequence[Action]) -> None:
        for kind, arg in actions:
            if kind == _DELIVER:
                handler = self.handlers.get('message')
                if handler is not None:
                    conn.dispatcher.put(handler, (arg,))
            elif kind == _SEND:
                self._send_item(conn, arg, force=True)
            elif kind == _CLOSE_SESSION:
                self._lost(conn, arg)

    def _send_item(self, conn: _Connection, item: Item,
                   force: bool = False) -> None:
        if conn.machine.state is not _WEBSOCKET:
            if conn.outbox.bounded:     # polling for good: no switch ahead
                conn.outbox.put(item, force)
                return
            with conn.switch_lock:
                if conn.machine.state is not _WEBSOCKET:
                    conn.outbox.put(item, force)
                    return
        try:
            conn.ws.send(item)
        except Exception as exc:
            self.logger.info('WebSocket send failed: %s', exc)

    # -- the reader and writer threads -------------------------------------

    def _read_loop(self, conn: _Connection) -> None:
        self._run(self._read_flow(conn))

    def _ws_reader(self, conn: _Connection) -> None:
        ws = conn.ws
        m = conn.machine
        lock = conn.lock
        acquire = lock.acquire    # (faster than ``with lock`` per message)
        release = lock.release
        receive = m.receive_message
        perform = self._io_perform
        while True:
            if m.state is _CLOSED:
                # ended by disconnect(): read until the closing handshake
                # completes (a full receive buffer would stall it)
                try:
                    ws.recv(timeout=self.request_timeout)
                except TimeoutError:
                    return
                continue
            # a message already buffered is taken even past the deadline
            # (the reader may have waited for the handlers)
            try:
                message = ws.recv(timeout=max(m.deadline - _monotonic(), 0))
            except TimeoutError:
                with lock:
                    actions = m.expire(_monotonic())
                if actions:
                    return perform(conn, actions)
                continue
            acquire()
            try:
                actions = receive(message, _monotonic())
            finally:
                release()
            if actions:
                perform(conn, actions)
                if actions[-1][0] == _CLOSE_SESSION:
                    return

    def _write_loop(self, conn: _Connection) -> None:
        self._run(self._post_flow(conn))
        with conn.lock:
            conn.writer_done = True
            close_later = conn.close_http_later
        if close_later:
            # finalized while this thread still flushed (abort)
            self._close_http(conn, detached=True)

    # -- teardown -------------------------------------------------------------

    def _lost(self, conn: _Connection, reason: str) -> None:
        """The session ended from the server's side (close, error,
        silence): the disconnect handler runs after the messages already
        received."""
        m = conn.machine
        self.logger.info('Connection ended: %s (%s)', reason, m.cause)
        conn.outbox.close(discard=True)
        if not conn.dispatcher.finish(self._finish_lost, (conn, reason)):
            self._finish_lost(conn, reason)
        sync_io.close_websocket(conn.ws, not m.clean, self.request_timeout)

    def _finish_lost(self, conn: _Connection, reason: str) -> None:
        if self._conn is conn and self.state == 'connected':
            self._run(self._disconnect_handler_flow(reason))
        self._io_finalize(conn)

    def _io_wait_end(self, conn: _Connection) -> None:
        if not conn.dispatcher.in_worker() and \
                threading.current_thread() is not conn.reader:
            conn.finished.wait(self.request_timeout)

    @staticmethod
    def _io_stop(conn: _Connection) -> None:
        conn.outbox.close()
        conn.dispatcher.close()

    def _io_join(self, conn: _Connection, abort: bool) -> None:
        if abort:
            return
        me = threading.current_thread()
        deadline = _monotonic() + self.request_timeout
        for th in (conn.writer, conn.reader):
            if th is not None and th is not me:
                th.join(max(deadline - _monotonic(), 0))

    def _io_finalize(self, conn: _Connection) -> None:
        if self._release(conn):
            with conn.lock:
                later = conn.close_http_later = (
                    conn.writer is not None and not conn.writer_done
                    and conn.writer is not threading.current_thread())
            # while the writer still flushes (abort) it closes the session
            self._close_http(conn, detached=later, close=not later)
        conn.finished.set()

    def _io_close_http(self, conn: _Connection) -> None:
        self._close_http(conn)

    def _close_http(self, conn: _Connection, detached: bool = False,
                    close: bool = True) -> None:
        http = conn.http
        if close and http is not None and http.own:
            try:
                http.close()
            except Exception:  # pragma: no cover
                pass
        self._forget_http(http, detached)
