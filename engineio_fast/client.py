"""The synchronous Engine.IO client: python-engineio's ``engineio.Client``
API; polling over our own HTTP/1.1 client (or the ``http_session`` given,
see :mod:`engineio_fast.adapters.clients.http_sessions`), the websocket
over the websockets package.

Threads per connection: one reader (the polling GET loop or the websocket
receive loop; the heartbeat deadline is its read timeout), one writer while
polling (POSTs, batched within the server's ``maxPayload``; on a websocket,
``send()`` writes directly), and the message-handler workers of
:class:`~engineio_fast.base_client.Dispatcher` (one, plus more only while a
handler is stalled). The websockets package adds its own receive thread per
websocket.
"""

import inspect
import queue
import socket
import threading
import time
import urllib.parse

from . import base_client, exceptions
from .adapters.clients import http_sessions as client_http
from .adapters.clients.http_sessions import TooLarge as _TooLarge
from .adapters.clients.tls_socket import TLSSocket
from .protocol import client_machine as _core

try:
    from websockets.exceptions import (
        ConnectionClosedOK,
        InvalidStatus,
        WebSocketException,
    )
    from websockets.sync.client import connect as _ws_connect
except ImportError:  # pragma: no cover
    _ws_connect = None  # type: ignore[assignment]
    _WS_LEGACY = {}
else:
    # websockets 17 warns unless a direct connection is asked for by name;
    # older releases have no such argument
    _WS_LEGACY = ({'legacy': True} if 'legacy' in inspect.signature(
        _ws_connect).parameters else {})

_monotonic = time.monotonic
_MESSAGE = _core.ACT_MESSAGE
_PONG = _core.ACT_PONG
_CLOSE = _core.ACT_CLOSE


class _Connection:
    """The state of one connection; the client points at the current one."""

    def __init__(self, client):
        self.core = None
        self.ws = None
        self.http = None        # a client_http adapter
        self.headers = {}
        self.base_url = None
        self.outbox = base_client.Outbox(client.max_queue_items,
                                         client.max_queue_bytes)
        self.dispatcher = base_client.Dispatcher(client.logger)
        self.lock = threading.Lock()
        self.switch_lock = threading.Lock()
        self.mode = 'queue'     # 'queue' (until connect() settles),
        #                         'polling', or 'ws' (sends go direct)
        self.ended = False
        self.finished = threading.Event()
        self.reader = None
        self.writer = None
        self.writer_done = False
        self.close_http_later = False

    def end(self):
        """Mark the connection ended; True for the first caller only."""
        with self.lock:
            if self.ended:
                return False
            self.ended = True
            return True


def _bounded(fn, timeout):
    """Run ``fn()`` in a helper thread; True if it ended within ``timeout``
    seconds. For the websocket's close: the websockets package's sync
    connection takes one lock for every write, and a writer blocked on a
    socket the server no longer reads holds it for good."""
    def run():
        try:
            fn()
        except Exception:
            pass
    th = threading.Thread(target=run, daemon=True,
                          name='engineio-client-close')
    th.start()
    th.join(timeout)
    return not th.is_alive()


def _close_ws(ws, force, timeout=None):
    """Close the websocket: the close handshake, within ``timeout`` seconds
    (then as with ``force``), or at once with ``force``."""
    if ws is None:
        return
    if not force and _bounded(ws.close, timeout):
        return
    try:
        ws.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        ws.close_socket()
    except Exception:  # pragma: no cover - already closed
        pass


class Client(base_client.BaseClient):
    """An Engine.IO client for the standard library (threads).

    Args: as :class:`~engineio_fast.base_client.BaseClient` documents
    (``logger``, ``json``, ``request_timeout``, ``http_session`` — a
    ``requests.Session`` or ``httpx.Client``, or a factory of one —,
    ``ssl_verify``,
    ``handle_sigint``, ``websocket_extra_options``, ``timestamp_requests``).

    Message handlers run in arrival order on a worker thread, off the
    reader; if no ping or other packet arrives within the server's
    ``pingInterval + pingTimeout`` the connection ends with
    ``reason.TRANSPORT_ERROR``.
    """

    def connect(self, url, headers=None, transports=None,
                engineio_path='engine.io'):
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
        self._check_connect_args(transports)
        headers = dict(headers or {})
        if self.transports[0] == 'polling':
            return self._connect_polling(url, headers, engineio_path)
        return self._connect_websocket(url, headers, engineio_path)

    def wait(self):
        """Block until the connection ends."""
        conn = self._conn
        if conn is not None:
            conn.finished.wait()

    def send(self, data):
        """Send a message: str, bytes, or a dict/list (sent as JSON).

        Returns at once unless the outgoing queue is full (then it waits for
        room); a client that is not connected drops the message. Text with
        a lone surrogate (which UTF-8 cannot carry) raises
        ``UnicodeEncodeError`` and is not sent."""
        conn = self._conn
        if conn is None or conn.ended or self.state != 'connected':
            return
        item = conn.core.encode_message(data)
        self._log_packet('Sending', _core.MESSAGE, data)
        self._send_item(conn, item)

    def disconnect(self, abort=False, reason=None):
        """Disconnect from the server.

        Args:
            abort: do not wait for the background threads to end.
            reason: the reason passed to the disconnect handler (default
                ``reason.CLIENT_DISCONNECT``).
        """
        conn = self._conn
        if conn is None or conn.finished.is_set():
            self._reset()
            return
        if not conn.end():
            # already ending (server close, transport error, another
            # thread): wait for it unless that would wait for ourselves
            if not abort and not conn.dispatcher.in_worker() and \
                    threading.current_thread() is not conn.reader:
                conn.finished.wait(self.request_timeout)
            return
        if self.state == 'connected':
            self.state = 'disconnecting'
        self._log_packet('Sending', _core.CLOSE, None)
        ws = conn.ws
        if conn.mode == 'ws':
            self._ws_close_packet(ws)
        else:
            conn.outbox.put(_core.CLOSE_PACKET, force=True)
        conn.outbox.close()
        conn.dispatcher.close()
        self._call_disconnect(reason or self.reason.CLIENT_DISCONNECT)
        if ws is not None:
            _close_ws(ws, False, self.request_timeout)
        if not abort:
            me = threading.current_thread()
            deadline = _monotonic() + self.request_timeout
            for th in (conn.writer, conn.reader):
                if th is not None and th is not me:
                    th.join(max(deadline - _monotonic(), 0))
        self._finalize(conn)

    def start_background_task(self, target, *args, **kwargs):
        """Run ``target(*args, **kwargs)`` in a daemon thread and return the
        thread (it has ``join()``)."""
        th = threading.Thread(target=target, args=args, kwargs=kwargs,
                              daemon=True)
        th.start()
        return th

    def sleep(self, seconds=0):
        """Sleep for ``seconds``."""
        return time.sleep(seconds)

    def create_queue(self, *args, **kwargs):
        """Create a :class:`queue.Queue`."""
        return queue.Queue(*args, **kwargs)

    def get_queue_empty_exception(self):
        """The exception an empty queue raises: :class:`queue.Empty`."""
        return queue.Empty

    def create_event(self, *args, **kwargs):
        """Create a :class:`threading.Event`."""
        return threading.Event(*args, **kwargs)

    # -- connection setup -----------------------------------------------------

    def _new_connection(self, headers):
        conn = _Connection(self)
        conn.headers = headers
        if self.http is None and self.http_factory is not None:
            self.http = self.http_factory()
        conn.http = self._wrap_http()
        return conn

    def _polling_http(self, conn):
        if conn.http is None:
            conn.http = self._default_http()
        return conn.http

    def _fail(self, conn, error):
        self._close_http(conn)
        self._reset()
        raise error

    def _connect_polling(self, url, headers, engineio_path):
        conn = self._new_connection(headers)
        self._polling_http(conn)
        conn.base_url = _core.engineio_url(url, engineio_path, 'polling')
        self.base_url = conn.base_url
        self.logger.info('Attempting polling connection to %s',
                         conn.base_url)
        try:
            status, body = self._request(
                conn, 'GET', conn.base_url + self._url_timestamp(),
                self.request_timeout)
        except _TooLarge:
            self._fail(conn, exceptions.ConnectionError(
                'Unexpected response from server'))
        except Exception as exc:
            self.logger.info('HTTP GET request to %s failed with error %s.',
                             conn.base_url, exc)
            self._fail(conn, exceptions.ConnectionError(
                str(exc) or 'Connection refused by the server'))
        if status < 200 or status >= 300:
            self._fail(conn, base_client.status_error(status, body))
        loads, dumps = self._json_codec()
        try:
            packets = _core.decode_payload(body, loads)
            if packets[0][0] != _core.OPEN:
                raise _core.ProtocolError('OPEN packet not returned by server')
            handshake = _core.Handshake(packets[0][1])
        except _core.ProtocolError as exc:
            self._fail(conn, exceptions.ConnectionError(
                'OPEN packet not returned by server'
                if 'OPEN' in str(exc) else 'Unexpected response from server'))
        conn.core = _core.ClientCore(handshake, _monotonic(), loads, dumps)
        conn.base_url += _core.sid_param(handshake.sid)
        self.base_url = conn.base_url
        self.logger.info('Polling connection accepted with %s',
                         handshake.data)
        self._adopt_handshake(conn.core, 'polling')
        if not self._opened(conn):
            return None
        for pkt in packets[1:]:
            reason = self._on_packet(conn, pkt)
            if reason is not None:
                self._lost(conn, reason)
                return None
        if conn.core.can_upgrade(self.transports) and \
                self._upgrade(conn, url, engineio_path):
            self._start(conn, self._ws_reader)
            return None
        conn.mode = 'polling'
        conn.outbox.bounded = True
        self._start(conn, self._poll_reader, self._poll_writer)
        return None

    def _opened(self, conn):
        """The session is open: run the connect handler."""
        self._conn = conn
        self.state = 'connected'
        base_client.connected_clients.append(self)
        handler = self.handlers.get('connect')
        if handler is None:
            return True
        try:
            handler()
        except Exception as exc:
            self.logger.exception('connect handler error')
            self._remove_connected()
            conn.end()
            conn.dispatcher.close()
            self._abandon(conn)
            self._conn = None
            self._close_http(conn)
            self._reset()
            raise exceptions.ConnectionError(
                'Connect handler failed: ' + str(exc)) from None
        return True

    def _ws_close_packet(self, ws):
        """Send the close packet, or give up on the socket if it cannot be
        written within ``request_timeout``."""
        if not _bounded(lambda: ws.send(_core.CLOSE_PACKET),
                        self.request_timeout):
            _close_ws(ws, force=True)

    def _abandon(self, conn):
        """Tell the server a session we give up on is closed (best effort)."""
        if conn.ws is not None:
            self._ws_close_packet(conn.ws)
            _close_ws(conn.ws, False, self.request_timeout)
        elif conn.http is not None and conn.base_url:
            try:
                self._request(conn, 'POST', conn.base_url,
                              self.request_timeout, _core.CLOSE_PACKET)
            except Exception:
                pass

    def _ws_open(self, conn, ws_url):
        options = dict(_WS_LEGACY)
        options.update(self._ws_options(ws_url, conn.headers, conn.http))
        url = ws_url + self._url_timestamp()
        if url.startswith('wss://') and 'sock' not in options:
            url, options['sock'] = self._tls_socket(url, options)
        return _ws_connect(url, **options)

    def _tls_socket(self, url, options):
        """Open the TLS connection for a ``wss://`` URL ourselves (see
        :mod:`engineio_fast.adapters.clients.tls_socket`); returns the
        ``ws://`` URL with an explicit port that websockets then speaks over
        it."""
        parts = urllib.parse.urlsplit(url)
        context = options.pop('ssl', None) or client_http.ssl_context(
            self.ssl_verify)
        hostname = options.pop('server_hostname', None) or parts.hostname
        timeout = options.get('open_timeout') or self.request_timeout
        port = parts.port or 443
        sock = socket.create_connection((parts.hostname, port), timeout)
        try:
            tls = TLSSocket(sock, context, hostname, timeout)
        except BaseException:
            sock.close()
            raise
        netloc = parts.netloc if parts.port else '%s:443' % parts.netloc
        return urllib.parse.urlunsplit(parts._replace(
            scheme='ws', netloc=netloc)), tls

    def _upgrade(self, conn, url, engineio_path):
        if _ws_connect is None:  # pragma: no cover
            self.logger.error('websockets is not installed, only polling '
                              'is available')
            return False
        ws_url = (_core.engineio_url(url, engineio_path, 'websocket')
                  + _core.sid_param(conn.core.sid))
        self.logger.info('Attempting WebSocket upgrade to %s', ws_url)
        try:
            ws = self._ws_open(conn, ws_url)
        except Exception as exc:
            # the session goes on over polling whatever went wrong here
            self.logger.warning('WebSocket upgrade failed: %r', exc)
            return False
        try:
            ws.send(_core.PROBE)
            reply = ws.recv(timeout=self.request_timeout)
            if reply != _core.PROBE_REPLY:
                raise _core.ProtocolError('no PONG packet')
            ws.send(_core.UPGRADE_PACKET)
        except Exception as exc:
            self.logger.warning('WebSocket upgrade failed: %s', exc)
            _close_ws(ws, force=True)
            return False
        conn.ws = self.ws = ws
        self.current_transport = 'websocket'
        with conn.switch_lock:
            items = conn.outbox.take(block=False) or []
            try:
                for item in items:
                    ws.send(item)
            except Exception as exc:
                self.logger.info('WebSocket send failed: %s', exc)
            conn.mode = 'ws'
        self.logger.info('WebSocket upgrade was successful')
        return True

    def _connect_websocket(self, url, headers, engineio_path):
        if _ws_connect is None:  # pragma: no cover
            self.logger.error('websockets is not installed')
            raise exceptions.ConnectionError('Connection error')
        conn = self._new_connection(headers)
        ws_url = _core.engineio_url(url, engineio_path, 'websocket')
        conn.base_url = self.base_url = ws_url
        self.logger.info('Attempting WebSocket connection to %s', ws_url)
        try:
            ws = self._ws_open(conn, ws_url)
        except InvalidStatus as exc:
            response = exc.response
            self._fail(conn, base_client.status_error(
                response.status_code, response.body, text_fallback=True))
        except (OSError, WebSocketException, TimeoutError) as exc:
            self.logger.info('WebSocket connection failed: %s', exc)
            self._fail(conn, exceptions.ConnectionError('Connection error'))
        loads, dumps = self._json_codec()
        try:
            message = ws.recv(timeout=self.request_timeout)
            if not isinstance(message, str):
                raise _core.ProtocolError('no OPEN packet')
            handshake = _core.decode_open(message, loads)
        except (_core.ProtocolError, TimeoutError, WebSocketException) as e:
            _close_ws(ws, force=True)
            self._fail(conn, exceptions.ConnectionError(
                'no OPEN packet' if 'OPEN' in str(e)
                else 'Unexpected response from server'))
        conn.core = _core.ClientCore(handshake, _monotonic(), loads, dumps)
        conn.ws = self.ws = ws
        conn.mode = 'ws'
        self.logger.info('WebSocket connection accepted with %s',
                         handshake.data)
        self._adopt_handshake(conn.core, 'websocket')
        if self._opened(conn) and not conn.ended:
            self._start(conn, self._ws_reader)
        return True

    def _start(self, conn, reader, writer=None):
        if conn.ended:
            return
        # the time connect() spent (handler, upgrade) is not the server's
        conn.core.seen(_monotonic())
        if writer is not None:
            conn.writer = self.write_loop_task = threading.Thread(
                target=writer, args=(conn,), daemon=True,
                name='engineio-client-writer')
            conn.writer.start()
        conn.reader = self.read_loop_task = threading.Thread(
            target=self._read_loop, args=(conn, reader), daemon=True,
            name='engineio-client-reader')
        conn.reader.start()

    # -- I/O ------------------------------------------------------------------

    def _request(self, conn, method, url, read_timeout, body=None):
        """One HTTP request; returns ``(status, body bytes)``. The body is
        read within ``max_receive_size``."""
        return conn.http.request(method, url, *self._request_args(
            conn, read_timeout, body))

    def _send_item(self, conn, item, force=False):
        mode = conn.mode
        if mode == 'queue':
            with conn.switch_lock:
                mode = conn.mode
                if mode == 'queue':
                    conn.outbox.put(item, force)
                    return
        if mode == 'ws':
            try:
                conn.ws.send(item)
            except Exception as exc:
                self.logger.info('WebSocket send failed: %s', exc)
        else:
            conn.outbox.put(item, force)

    def _on_packet(self, conn, pkt):
        """Act on one decoded packet; returns a disconnect reason when the
        server closed the session."""
        ptype, data, _ = pkt
        self._log_packet('Received', ptype, data)
        action, arg = _core.ClientCore.classify(ptype, data)
        if action == _MESSAGE:
            handler = self.handlers.get('message')
            if handler is not None:
                conn.dispatcher.put(handler, (data,))
        elif action == _PONG:
            self._send_item(conn, arg, force=True)
        elif action == _CLOSE:
            return self.reason.SERVER_DISCONNECT
        elif ptype not in (_core.NOOP, _core.PONG):
            self.logger.error('Received unexpected packet of type %s', ptype)
        return None

    def _read_loop(self, conn, reader):
        """The reader thread: ``reader(conn)`` returns the disconnect
        reason; whatever ends it, the connection ends here."""
        reason = self.reason.TRANSPORT_ERROR
        try:
            reason = reader(conn)
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
        except Exception:  # pragma: no cover - never escape the thread
            self.logger.exception('Unexpected error in the read loop')
        self._lost(conn, reason)

    def _ws_reader(self, conn):
        ws = conn.ws
        core = conn.core
        loads = core.loads
        while True:
            # a message already buffered is taken even past the deadline
            # (the reader may have waited for the handlers)
            try:
                message = ws.recv(
                    timeout=max(core.deadline - _monotonic(), 0)
                    if not conn.ended else self.request_timeout)
            except TimeoutError:
                if conn.ended:
                    break
                if core.deadline <= _monotonic():
                    self.logger.warning(
                        'Server has stopped communicating, aborting')
                    break
                continue
            if conn.ended:
                # ended by disconnect(): keep reading until the close
                # handshake completes (a full receive buffer would stall it)
                continue
            core.deadline = _monotonic() + core.window
            end = self._on_packet(conn, _core.decode_frame(message, loads))
            if end is not None:
                return end
        return self.reason.TRANSPORT_ERROR

    def _poll_reader(self, conn):
        core = conn.core
        loads = core.loads
        while not conn.ended:
            left = core.deadline - _monotonic()
            if left <= 0:
                self.logger.warning(
                    'Server has stopped communicating, aborting')
                break
            try:
                status, body = self._request(
                    conn, 'GET', conn.base_url + self._url_timestamp(),
                    left)
            except Exception as exc:
                if not conn.ended:
                    self.logger.warning('Polling GET failed: %s', exc)
                break
            if conn.ended:
                break
            if status < 200 or status >= 300:
                self.logger.warning('Unexpected status code %s in server '
                                    'response, aborting', status)
                break
            packets = _core.decode_payload(body, loads)
            core.deadline = _monotonic() + core.window
            for pkt in packets:
                end = self._on_packet(conn, pkt)
                if end is not None:
                    return end
            # time spent waiting for the handlers is not the server's
            core.deadline = _monotonic() + core.window
        return self.reason.TRANSPORT_ERROR

    def _poll_writer(self, conn):
        core = conn.core
        try:
            while True:
                items = conn.outbox.take()
                if items is None:
                    break
                for body in _core.encode_payloads(items, core.max_payload):
                    status, _ = self._request(conn, 'POST', conn.base_url,
                                              self.request_timeout, body)
                    if status < 200 or status >= 300:
                        raise exceptions.ConnectionError(
                            'Unexpected status code %s in server response'
                            % status)
        except Exception as exc:
            if not conn.ended:
                self.logger.warning('Polling POST failed: %s', exc)
            self._lost(conn, self.reason.TRANSPORT_ERROR)
        with conn.lock:
            conn.writer_done = True
            close_later = conn.close_http_later
        if close_later:
            # finalized while this thread still flushed (abort)
            self._close_http(conn, detached=True)

    # -- teardown -------------------------------------------------------------

    def _lost(self, conn, reason):
        """The transport ended (server close, error, silence)."""
        if not conn.end():
            return
        self.logger.info('Connection ended: %s', reason)
        conn.outbox.close(discard=True)
        if not conn.dispatcher.finish(self._finish_lost, (conn, reason)):
            self._finish_lost(conn, reason)
        if conn.ws is not None:
            _close_ws(conn.ws, reason != self.reason.SERVER_DISCONNECT,
                      self.request_timeout)

    def _finish_lost(self, conn, reason):
        if self._conn is conn and self.state == 'connected':
            self._call_disconnect(reason)
        self._finalize(conn)

    def _call_disconnect(self, reason):
        handler = self.handlers.get('disconnect')
        if handler is None:
            return
        try:
            handler(*self._disconnect_args(reason))
        except Exception:
            self.logger.exception('disconnect handler error')

    def _remove_connected(self):
        try:
            base_client.connected_clients.remove(self)
        except ValueError:
            pass

    def _finalize(self, conn):
        if self._conn is conn:
            self._remove_connected()
            self._reset()
            with conn.lock:
                later = conn.close_http_later = (
                    conn.writer is not None and not conn.writer_done
                    and conn.writer is not threading.current_thread())
            # while the writer still flushes (abort) it closes the session
            self._close_http(conn, detached=later, close=not later)
        conn.finished.set()

    def _close_http(self, conn, detached=False, close=True):
        http = conn.http
        if close and http is not None and http.own:
            try:
                http.close()
            except Exception:  # pragma: no cover
                pass
        self._forget_http(http, detached)
