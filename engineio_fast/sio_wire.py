"""python-socketio on an engineio_fast server, on the wire as the
JavaScript Socket.IO server speaks (the official Socket.IO protocol suite's
expectations), whatever ``ENGINEIO_FAST_SOCKETIO_ACCEL`` says. Applied by
:func:`attach` once a python-socketio server registers its handlers on an
engineio_fast server; what is patched is recognised by identity (the
functions python-socketio defines); a python-socketio release that renames
them gets its own code back there, with a warning logged (``engineio_fast:
this python-socketio has no ...``), and ``tests/socketio/test_sio_wire.py``
fails loudly.

- **An invalid packet closes the connection.** Every text packet python-
  socketio is handed is first checked as socket.io-parser checks it
  (:func:`engineio_fast.protocol.sio_packets.check_text`: type, attachment
  count, ack id, payload shape, placeholders); so is the order of a binary
  packet's parts (a text message where an attachment is due, an attachment
  nobody announced). One that fails ends the Engine.IO session (a warning
  is logged), where python-socketio would raise from its handler and keep a
  connection that may be stuck waiting for attachments.
- **An unknown namespace** is refused with ``{"message": "Invalid
  namespace"}`` (python-socketio says ``"Unable to connect"``, which
  socket.io-client shows as an empty message).
- **A client must join a namespace in time**: ``connect_timeout`` seconds
  (a server option python-socketio hands to the Engine.IO server;
  default 45, the JavaScript server's ``connectTimeout``) after the
  Engine.IO handshake, a session connected to no namespace is closed
  (:attr:`engineio_fast.protocol.engine.Engine.join_timeout`).
- **A packet's parts stay together (sync servers).** python-socketio's
  ``Server._send_packet`` and ``Manager.emit`` send a binary packet's
  header and each attachment as separate Engine.IO messages, one
  ``send()`` each. Under real threads (``async_mode='threading'``,
  Flask-SocketIO on Werkzeug or gunicorn gthread) another thread's emit to
  the same client can land between them: the client's decoder then sees a
  text packet where it waits for an attachment and drops the connection
  ('parse error'; seen with a broadcast from one handler beside a binary
  emit from another). On python-engineio that happens too. Both functions
  are replaced by ones that do what they did and queue all of a packet's
  parts for a session in one step (``Server._send_items``); a
  ``socketio.Server`` subclass (or instance) with a ``_send_eio_packet`` of
  its own keeps python-socketio's emit, parts one by one, as its override
  expects. (On asyncio, python-socketio's sends to an engineio_fast
  AsyncServer never suspend between the parts.)
"""

import logging
import sys
from typing import Any, List, Set

from . import sio_packet as _sio_packet
from .packet import MESSAGE, Packet
from .protocol.sio_packets import (
    CONNECT_TIMEOUT,
    INVALID_NAMESPACE,
    InvalidPacket,
    loads_for,
    refusal,
)

_patched: Set[Any] = set()
# python-socketio's own Packet class: the checks apply to it (a server with
# another serializer, msgpack for one, is handed what it expects)
_text_packet: List[Any] = []


def attach(owner: Any, engine_class: Any) -> None:
    """``owner`` (a python-socketio server) registered a handler on an
    engineio_fast server of class ``engine_class``."""
    sio_sync = sys.modules.get('socketio.server')
    sio_async = sys.modules.get('socketio.async_server')
    if sio_sync is not None and isinstance(owner, sio_sync.Server):
        cls = sio_sync.Server
    elif sio_async is not None and isinstance(owner, sio_async.AsyncServer):
        cls = sio_async.AsyncServer
    else:
        return
    eio = getattr(owner, 'eio', None)
    if isinstance(eio, engine_class):
        timeout = eio.connect_timeout
        eio._engine.join_timeout = float(
            CONNECT_TIMEOUT if timeout is None else timeout)
    if cls in _patched:
        return
    packet_module = sys.modules.get('socketio.packet')
    if packet_module is None:
        untested('socketio.packet')
        return
    _patched.add(cls)
    if not _text_packet:
        _text_packet.append(packet_module.Packet)
    asyncio_based = cls is not getattr(sio_sync, 'Server', None)
    _patch(cls, '_handle_eio_message', _checked_message, asyncio_based)
    _patch(cls, '_handle_connect', _known_namespace, asyncio_based,
           packet_module.CONNECT_ERROR)
    if not asyncio_based:
        manager_cls: Any = getattr(sys.modules.get('socketio.manager'),
                                   'Manager', None)
        send_eio = cls.__dict__.get('_send_eio_packet')
        original_emit = getattr(manager_cls, '__dict__', {}).get('emit')
        original_send = cls.__dict__.get('_send_packet')
        if None in (send_eio, original_emit, original_send):
            untested('Server._send_packet, _send_eio_packet or '
                     'Manager.emit')
        else:
            manager_cls.emit = _whole_emit(original_emit, send_eio,
                                           packet_module.EVENT,
                                           engine_class)
            cls._send_packet = _whole_send_packet(original_send,
                                                  engine_class)


def untested(what: str) -> None:
    """Say (once per thing) that this python-socketio lacks ``what``, which
    engineio_fast hooks: its own code then runs there."""
    if what not in _warned:
        _warned.add(what)
        logging.getLogger('engineio_fast').warning(
            'engineio_fast: this python-socketio has no %s (tested with '
            '5.18): python-socketio\'s own code runs there', what)


_warned: Set[str] = set()


def _patch(cls: Any, name: str, make: Any, asyncio_based: bool,
           *args: Any) -> None:
    original = cls.__dict__.get(name)
    if original is None:
        untested('%s.%s' % (cls.__name__, name))
        return
    new = make(original, asyncio_based, *args)
    new.__doc__ = original.__doc__
    new.__wrapped__ = original
    setattr(cls, name, new)


def ours(server: Any, engine_class: Any, send_eio: Any) -> bool:
    """Whether ``server`` (python-socketio's) sends through python-socketio's
    own ``_send_eio_packet`` to an engineio_fast server of ``engine_class``
    (a class or a tuple of them); else the patched functions run the
    original code."""
    return isinstance(getattr(server, 'eio', None), engine_class) and \
        getattr(type(server), '_send_eio_packet', None) is send_eio and \
        '_send_eio_packet' not in vars(server)


def eio_items(eio: Any, encoded: Any) -> List[Any]:
    """The Engine.IO items of a Socket.IO packet's ``encode()``: one, or a
    binary packet's header and attachments."""
    if not isinstance(encoded, list):
        encoded = [encoded]
    return [eio._encode_packet(Packet(MESSAGE, p)) for p in encoded]


def arguments(data: Any) -> List[Any]:
    """An emit's ``data`` as the event's arguments (python-socketio's rule:
    a tuple is several, None is none, anything else is one)."""
    if isinstance(data, tuple):
        return list(data)
    if data is not None:
        return [data]
    return []


def _recipients(manager: Any, namespace: str, room: Any,
                skip_sid: Any) -> Any:
    """python-socketio's emit: ``(sid, eio_sid)`` of each recipient (none
    when nobody joined ``namespace``), ``skip_sid`` (one or a list) left
    out."""
    if namespace not in manager.rooms:
        return
    skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    for sid, eio_sid in manager.get_participants(namespace, room):
        if sid not in skip:
            yield sid, eio_sid


def deliver(manager: Any, event_type: int, event: str, data: Any,
            namespace: str, room: Any, skip_sid: Any) -> None:
    """python-socketio's emit without a callback: the packet encoded once
    and queued for each recipient's session, all its parts in one step
    (the server is engineio_fast's: :func:`ours`)."""
    if namespace not in manager.rooms:
        return
    server = manager.server
    # encoded before the recipients are known, as python-socketio does (an
    # argument json cannot encode raises even for a room of nobody)
    pkt = server.packet_class(event_type, namespace=namespace,
                              data=[event] + arguments(data))
    items = eio_items(server.eio, pkt.encode())
    send_items = server.eio._send_items
    for _sid, eio_sid in _recipients(manager, namespace, room, skip_sid):
        send_items(eio_sid, items)


def acked(manager: Any, event_type: int, event: str, data: Any,
          namespace: str, room: Any, skip_sid: Any, callback: Any) -> Any:
    """python-socketio's emit with a callback: ``(eio_sid, packet)`` for
    each recipient, the packet with an ack id of its own."""
    server = manager.server
    data = arguments(data)
    for sid, eio_sid in _recipients(manager, namespace, room, skip_sid):
        ack = manager._generate_ack_id(sid, callback)
        yield eio_sid, server.packet_class(event_type, namespace=namespace,
                                           data=[event] + data, id=ack)


# -- invalid packets -------------------------------------------------------

def _refusal(server: Any, eio_sid: str, data: Any) -> Any:
    """Why ``data`` (a message of ``eio_sid``) must close the connection,
    or None."""
    cls = server.packet_class
    if cls in _text_packet:
        checked = False         # python-socketio's Packet: check it here
    elif cls in _sio_packet.fast_classes():
        checked = True          # its decode() checks (InvalidPacket)
    else:
        return None             # another serializer: left alone
    return refusal(data, eio_sid in server._binary_packet,
                   None if checked else loads_for(cls.json))


def _checked_message(original: Any, asyncio_based: bool) -> Any:
    if asyncio_based:
        async def _handle_eio_message(self: Any, eio_sid: str,
                                      data: Any) -> None:
            why = _refusal(self, eio_sid, data)
            if why is None:
                try:
                    return await original(self, eio_sid, data)
                except InvalidPacket as exc:    # from the packet's decode()
                    why = str(exc)
            self.logger.warning('%s: invalid Socket.IO packet (%s), '
                                'closing the connection', eio_sid, why)
            self._binary_packet.pop(eio_sid, None)
            await self.eio.disconnect(eio_sid)
            return None
        return _handle_eio_message

    def _handle_eio_message_sync(self: Any, eio_sid: str, data: Any) -> None:
        why = _refusal(self, eio_sid, data)
        if why is None:
            try:
                return original(self, eio_sid, data)
            except InvalidPacket as exc:        # from the packet's decode()
                why = str(exc)
        self.logger.warning('%s: invalid Socket.IO packet (%s), closing '
                            'the connection', eio_sid, why)
        self._binary_packet.pop(eio_sid, None)
        self.eio.disconnect(eio_sid)
        return None
    return _handle_eio_message_sync


# -- namespaces ------------------------------------------------------------

def _served(server: Any, namespace: str) -> bool:
    """python-socketio's own test for a namespace it serves."""
    return namespace in server.handlers or \
        namespace in server.namespace_handlers or \
        server.namespaces == '*' or namespace in server.namespaces


def _joined(server: Any, eio_sid: str, namespace: str) -> None:
    """Tell the engine once the client is connected to ``namespace``."""
    eio = server.eio
    engine = getattr(eio, '_engine', None)
    if engine is not None and \
            server.manager.sid_from_eio_sid(eio_sid, namespace) is not None:
        session = engine.get(eio_sid)
        if session is not None:
            engine.joined(session)


def _known_namespace(original: Any, asyncio_based: bool,
                     connect_error: int) -> Any:
    def invalid(server: Any, namespace: str) -> Any:
        return server.packet_class(connect_error,
                                   data=dict(INVALID_NAMESPACE),
                                   namespace=namespace)

    if asyncio_based:
        async def _handle_connect(self: Any, eio_sid: str, namespace: Any,
                                  data: Any) -> None:
            ns = namespace or '/'
            if not _served(self, ns):
                await self._send_packet(eio_sid, invalid(self, ns))
                return
            await original(self, eio_sid, namespace, data)
            _joined(self, eio_sid, ns)
        return _handle_connect

    def _handle_connect_sync(self: Any, eio_sid: str, namespace: Any,
                             data: Any) -> None:
        ns = namespace or '/'
        if not _served(self, ns):
            self._send_packet(eio_sid, invalid(self, ns))
            return
        original(self, eio_sid, namespace, data)
        _joined(self, eio_sid, ns)
    return _handle_connect_sync


# -- whole packets (sync) --------------------------------------------------

def _whole_send_packet(original: Any, engine_class: Any) -> Any:
    def _send_packet(self: Any, eio_sid: str, pkt: Any) -> None:
        eio = getattr(self, 'eio', None)
        if not isinstance(eio, engine_class) or 'send' in vars(eio) or \
                type(eio).send is not engine_class.send:
            return original(self, eio_sid, pkt)
        eio._send_items(eio_sid, eio_items(eio, pkt.encode()))
        return None

    _send_packet.__doc__ = original.__doc__
    _send_packet.__wrapped__ = original     # type: ignore[attr-defined]
    return _send_packet


def _whole_emit(original: Any, send_eio: Any, event_type: int,
                engine_class: Any) -> Any:
    def emit(self: Any, event: str, data: Any, namespace: str,
             room: Any = None, skip_sid: Any = None, callback: Any = None,
             to: Any = None, **kwargs: Any) -> None:
        server = self.server
        if not ours(server, engine_class, send_eio):
            return original(self, event, data, namespace, room=room,
                            skip_sid=skip_sid, callback=callback, to=to,
                            **kwargs)
        # python-socketio's Manager.emit, each step as it does it; a
        # recipient's parts are queued in one step
        if not callback:
            deliver(self, event_type, event, data, namespace, to or room,
                    skip_sid)
        else:
            for eio_sid, pkt in acked(self, event_type, event, data,
                                      namespace, to or room, skip_sid,
                                      callback):
                server._send_packet(eio_sid, pkt)
        return None

    emit.__doc__ = original.__doc__
    emit.__wrapped__ = original         # type: ignore[attr-defined]
    return emit
