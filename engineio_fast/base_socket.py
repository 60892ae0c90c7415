"""python-engineio's socket classes, for code that reaches into the server:
python-socketio's admin instrumentation (``sio.instrument()``) reads
``eio.sockets`` and ``eio._get_socket(sid).upgraded``, wraps ``eio._ok``,
and replaces ``handle_post_request``, ``_websocket_handler`` and
``_send_ping`` on :class:`engineio_fast.socket.Socket` and
:class:`engineio_fast.async_socket.AsyncSocket` at class level.

The servers keep no socket object per client: a :class:`BaseSocket` is a
view of one session, made when asked for. The replaced methods take
effect through the engine's observation points
(:mod:`engineio_fast.protocol.instrument`): assigning one of them on the
class (or ``eio._ok`` on a server) turns the hooks on for every server of
that kind, and putting the class's own method back turns them off. Until
then nothing on any server's path looks for them.

What each method stands for, as in python-engineio:

- ``handle_post_request(environ)``: one POST of a polling client; the
  original reads its packets (the handlers run after it returns);
- ``_websocket_handler(ws)``: a websocket starts (the upgrade probe or a
  websocket-only connection); every message received then goes through
  ``ws.wait()`` and every message sent through ``ws.send(data)``, so
  replacing them on ``ws`` sees (or changes) each one. The original
  returns as soon as ``ws`` is attached: the websocket is served by the
  server's own I/O, not by this call;
- ``_send_ping()``: a ping is due; the original sends it;
- ``eio._ok(packets, headers, jsonp_index)``: renders every 200 answer to
  a polling request (packets None: the answer to a POST) as a dict with
  ``status``, ``headers`` and ``response`` (bytes); what it returns is
  sent, with the CORS headers and compression added.

Replacements run synchronously where the engine runs (under the sync
server's lock). On the asyncio servers they are coroutines run eagerly:
one that suspends before it returns is finished as a task, and the
server goes on without its result. They must not call the server back
(``send``, ``disconnect``), except the ``_send_ping`` one, which runs on
its own.
"""

import collections.abc
import inspect
import threading
import weakref
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Type,
)

from . import _accel
from .packet import MESSAGE, Packet
from .protocol import instrument as _instrument
from .protocol.engine import RESPOND, Outcome
from .protocol.http import Request, Response
from .protocol.packets import Item
from .protocol.session import CLOSED, CLOSING, CONNECTING, Session, WsLink

#: the methods python-socketio replaces on the socket classes
HOOKED = ('handle_post_request', '_websocket_handler', '_send_ping')

#: what ``_run_hook`` returns for a replacement that suspended
SUSPENDED = object()

# the servers alive, told when a socket class's hooks change
_SERVERS: 'weakref.WeakSet[Any]' = weakref.WeakSet()


class _WatchedClass(type):
    """Tells the servers when one of :data:`HOOKED` is assigned on the
    class (the only cost is here, at assignment)."""

    def __new__(mcs, name: str, bases: Tuple[type, ...],
                ns: Dict[str, Any]) -> '_WatchedClass':
        ns['_own_methods'] = {n: ns[n] for n in HOOKED if n in ns}
        return super().__new__(mcs, name, bases, ns)

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in HOOKED:
            _class_changed(cls)

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        if name in HOOKED:
            _class_changed(cls)


def _class_changed(cls: type) -> None:
    for server in list(_SERVERS):
        if issubclass(server._socket_class, cls):
            refresh(server)


def replaced(cls: type, name: str) -> bool:
    """True when ``cls.<name>`` is no longer the class's own method."""
    own = getattr(cls, '_own_methods', {}).get(name)
    return inspect.getattr_static(cls, name, None) is not own


def register(server: Any) -> None:
    """Follow ``server``'s socket class (its ``_socket_class``) from now
    on, and apply what is replaced already (nothing is touched when
    nothing is)."""
    _SERVERS.add(server)
    cls = server._socket_class
    if any(replaced(cls, name) for name in HOOKED):
        refresh(server)


def refresh(server: Any) -> None:
    """Install on ``server``'s engine the hooks its socket class and its
    ``_ok`` call for, or none."""
    cls = server._socket_class
    ok = server._ok_hook is not None
    post, ws, ping = (replaced(cls, name) for name in HOOKED)
    hooks = None
    if ok or post or ws or ping:
        hooks = Instrumentation(server, cls, ok, post, ws, ping)
    _instrument.instrument(server._engine, hooks)


class BaseSocket(metaclass=_WatchedClass):
    """One client's session as python-engineio's socket object shows it.

    Args:
        server: the server.
        sid: the session id.

    Raises:
        KeyError: ``sid`` is not a connected session.
    """

    upgrade_protocols = ['websocket']
    _session: Session

    def __init__(self, server: Any, sid: str) -> None:
        session = server._engine.get(sid)
        if session is None:
            raise KeyError('Session not found')
        self.server = server
        self.sid = sid
        self._session = session

    @classmethod
    def _of(cls, server: Any, session: Session) -> Any:
        sock = cls.__new__(cls)
        sock.server = server
        sock.sid = session.sid
        sock._session = session
        return sock

    @property
    def connected(self) -> bool:
        """The handshake is done (its connect handler accepted it)."""
        return self._session.state != CONNECTING

    @property
    def upgrading(self) -> bool:
        """An upgrade to websocket is under way."""
        return self._session.probe is not None

    @property
    def upgraded(self) -> bool:
        """The session is on websocket (upgraded, or opened on it)."""
        return self._session.transport == 'websocket'

    @property
    def closing(self) -> bool:
        """Closed by the server; its close packet waits for a poll."""
        return self._session.state == CLOSING

    @property
    def closed(self) -> bool:
        """The session has ended."""
        return self._session.state == CLOSED

    @property
    def session(self) -> Dict[str, Any]:
        """The user session dict (``eio.get_session``)."""
        return self._session.user_session

    def __repr__(self) -> str:
        return '<%s %s>' % (type(self).__name__, self.sid)


class SocketsView(collections.abc.Mapping):
    """``eio.sockets``: sid -> socket object of every session the server
    holds (a live view; each socket object is made when asked for)."""

    def __init__(self, server: Any) -> None:
        self._server = server

    def __len__(self) -> int:
        return len(self._server._engine.sessions)

    def __iter__(self) -> Iterator[str]:
        return iter(self._server._engine.sessions.sids())

    def __contains__(self, sid: object) -> bool:
        return sid in self._server._engine.sessions

    def __getitem__(self, sid: str) -> Any:
        session = self._server._engine.get(sid)
        if session is None:
            raise KeyError(sid)
        return self._server._socket_class._of(self._server, session)

    def values(self) -> List[Any]:  # type: ignore[override]
        """Every session's socket object."""
        cls = self._server._socket_class
        return [cls._of(self._server, s)
                for s in self._server._engine.sessions.values()]


def packets_of(text: str) -> List[Packet]:
    """The packets of an encoded payload, each keeping its encoding (so
    that encoding them again gives the same text)."""
    kernels = _accel.active
    loads = Packet.json.loads
    out = []
    for part in kernels.split_payload(text):
        pkt = Packet.__new__(Packet)
        try:
            pkt.packet_type, pkt.data, pkt.binary = kernels.decode_value(
                part, loads)
        except ValueError:
            pkt.packet_type, pkt.data, pkt.binary = MESSAGE, part[1:], False
        pkt.encode_cache = part
        out.append(pkt)
    return out


class WebSocketTap:
    """The ``ws`` object handed to ``_websocket_handler``: ``wait()`` gives
    the message being received, ``send(data)`` sends ``data`` (see the
    sync and async forms in :mod:`.socket` and :mod:`.async_socket`)."""

    def __init__(self, instrumentation: 'Instrumentation',
                 link: WsLink) -> None:
        self._instrumentation = instrumentation
        self._link = link
        self._inbox: Optional[Item] = None
        self._out: Optional[List[Item]] = None

    def _attach(self) -> None:
        link = self._link
        s = link.session
        if (s.ws is link or s.probe is link) and s.state <= CLOSING:
            self._instrumentation.taps[link] = self

    def _take(self) -> Optional[Item]:
        data = self._inbox
        self._inbox = None
        return data

    def _put(self, data: Item) -> None:
        out = self._out
        if out is None:
            # not while the server is writing this websocket (a call of
            # the application's own, or a suspended replacement ending)
            self._instrumentation.server.logger.warning(
                'ws.send outside the server\'s write: dropped')
            return
        out.append(data)


class Instrumentation(_instrument.EngineHooks):
    """The engine hooks of one server, calling its socket class's methods,
    its ``_ok`` and the ``ws`` objects (see the module docstring)."""

    def __init__(self, server: Any, cls: Type[Any], ok: bool, post: bool,
                 ws: bool, ping: bool) -> None:
        self.server = server
        self.cls = cls
        self.engine = server._engine
        self.run = cls._run_hook      # a hook's call: plain, or eager
        self.taps: Dict[WsLink, Optional[WebSocketTap]] = {}
        self.pings: List[Any] = []
        self.pings_lock = threading.Lock()
        if ok:
            self.answer = self._answer
        if post:
            self.post = self._post
        if ws:
            self.received = self._received
            self.sent = self._sent
            self.closed = self._closed
        if ping:
            self.ping = self._ping

    def _answer(self, req: Request, text: Optional[str],
                jsonp: Optional[int], cookie: Optional[str]) -> Response:
        server = self.server
        headers = [('Set-Cookie', cookie)] if cookie is not None else None
        packets = packets_of(text) if text is not None else None
        try:
            ret = server._ok(packets, headers=headers, jsonp_index=jsonp)
            status = int(str(ret['status']).split()[0])
            out_headers = list(ret['headers'])
            body = bytes(ret['response'])
        except Exception:
            server.logger.exception('_ok error')
            ret = server._render_ok(packets, headers=headers,
                                    jsonp_index=jsonp)
            status, out_headers, body = 200, ret['headers'], ret['response']
        return self.engine.policy.finish(req, status, out_headers, body)

    def _post(self, session: Session, req: Request,
              run: Callable[[], Outcome]) -> Outcome:
        done: List[Outcome] = []
        live = [True]

        def original() -> None:
            if live[0]:     # (not when a suspended replacement ends)
                live[0] = False
                done.append(run())

        sock = self.cls._of(self.server, session)
        sock._post_run = original
        try:
            if self.run(self.server, sock.handle_post_request,
                        req.environ) is SUSPENDED:
                original()
        except Exception:
            self.server.logger.exception('handle_post_request error')
        live[0] = False
        if done:
            return done[0]
        # not read (as python-engineio, which answers it all the same)
        return Outcome(RESPOND, self.engine._ok(req))

    def _tap(self, link: WsLink) -> Optional[WebSocketTap]:
        taps = self.taps
        if link in taps:
            return taps[link]
        taps[link] = None
        s = link.session
        if s.ws is link or s.probe is link:
            ws = self.cls._tap_class(self, link)
            sock = self.cls._of(self.server, s)
            try:
                self.run(self.server, sock._websocket_handler, ws)
            except Exception:
                self.server.logger.exception('_websocket_handler error')
        return taps[link]

    def _received(self, link: WsLink, data: Item) -> Item:
        ws: Any = self._tap(link)
        if ws is None:
            return data
        ws._inbox = data
        try:
            ret = self.run(self.server, ws.wait)
        except Exception:
            self.server.logger.exception('ws.wait error')
            ret = None
        ws._inbox = None
        return data if ret is None or ret is SUSPENDED else ret

    def _sent(self, link: WsLink, items: Sequence[Item]) -> Sequence[Item]:
        ws: Any = self._tap(link)
        if ws is None:
            return items
        out: List[Item] = []
        ws._out = out
        for item in items:
            # a replacement that fails or suspends before it passed the
            # item on: the item goes as it is
            n = len(out)
            try:
                if self.run(self.server, ws.send, item) is not SUSPENDED:
                    continue
            except Exception:
                self.server.logger.exception('ws.send error')
            if len(out) == n:
                out.append(item)
        ws._out = None
        return out

    def _closed(self, link: WsLink) -> None:
        self.taps.pop(link, None)

    def _ping(self, session: Session) -> None:
        self.cls._schedule_ping(self, self.cls._of(self.server, session))
