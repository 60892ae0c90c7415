"""What engineio_fast does faster for python-socketio, through the hooks
python-socketio itself calls (issue 17). They change no behaviour a
python-socketio application can see. (What is changed on the wire, to speak
as the JavaScript server does, is :mod:`engineio_fast.sio_wire`'s, on
whatever the switch below says.)

The accelerations below are on by default and off with
``ENGINEIO_FAST_SOCKETIO_ACCEL=0`` in the environment or
``engineio_fast.install(accelerate=False)``.

- **Emit without a task per recipient.** python-socketio's
  ``AsyncManager.emit`` starts a Task for every recipient's
  ``_send_eio_packet`` and then waits for them all (even for one sid).
  Once a python-socketio server registers its handlers on an engineio_fast
  AsyncServer, ``AsyncManager.emit`` is replaced, for every manager that
  inherits it (python-socketio's pub/sub managers deliver locally through
  it), by one that encodes the packet once, as python-socketio does, and
  hands it to each recipient's Engine.IO session directly; with a callback
  (``call()``) it sends each recipient's packet in turn, without a task.
  It goes back to python-socketio's own emit wherever the result could
  differ: a server whose ``_send_eio_packet`` is not python-socketio's (a
  subclass or an instance that replaced it), an Engine.IO server that is
  not engineio_fast's, or the accelerations turned off.

- **Events without a task each.** python-socketio's
  ``AsyncServer._handle_event`` starts a Task per event
  (``async_handlers=True``, its default) through
  ``start_background_task``. Replaced by one that takes the same steps and
  starts the handler at once in a lent Task (:mod:`engineio_fast._eager`,
  as the engine's own handlers start): a handler that does not suspend
  runs to its end there, with no Task made; one that suspends goes on in
  that Task by itself, so the next event does not wait for it
  (``async_handlers``' meaning). Events start in the order they came;
  ``asyncio.current_task()``, ``asyncio.timeout()`` and task groups work in
  a handler from its first line. python-socketio's own dispatch runs with
  ``async_handlers=False``, for a server whose ``start_background_task``
  or ``_handle_event_internal`` is not python-socketio's, and on an
  Engine.IO server that is not engineio_fast's. An error in a handler is
  logged (``event handler error``) and the connection goes on.

  This pays only because the adapters write what handlers sent after the
  burst of messages that caused it (a flush per connection per loop turn,
  ``WsSession`` and the built-in ``WsProtocol``): started at once but
  written at once, each answer was its own write between two reads, and
  on loopback that cost more than the Task it saved (measured
  2026-12-06: emit echo 500 x 1 on the built-in server 24.7 -> 28.8 µs of
  server CPU per message, under uvicorn 50 x 16 28.9 -> 53.2 µs). Both
  together, in one run of ``benchmarks/load/run.py --group socketio``
  (medians of 3): on the built-in server emit echo 50 x 16 14.8 -> 13.3
  µs, 500 x 1 24.7 -> 23.5 µs, broadcast to 1,000 clients 4.94 -> 2.81 µs
  per delivery; under uvicorn 28.9 -> 28.7, 67.7 -> 69.3 and 17.7 -> 15.0.

What they hook is recognised by identity (the functions python-socketio
defines), never by name: a python-socketio release that renames or moves
them gets its own code back, and ``tests/socketio/test_sio_accel.py``
fails loudly on it.

:class:`AsyncManager` and :class:`Manager` (built on first use) are
python-socketio's managers with the faster emit, for ``client_manager=``:
on an engineio_fast server as above; on python-engineio (no switch) the
AsyncManager awaits each recipient's send in turn instead of starting a
Task per recipient and part. Asked for by name, they are used whatever
``ENGINEIO_FAST_SOCKETIO_ACCEL`` says; python-socketio's Redis and other
pub/sub managers get the same local delivery from ``engineio_fast.install()``
(the patched ``AsyncManager.emit`` they inherit), not from these.
"""

import asyncio
import functools
import os
import sys
from typing import Any, Tuple

from . import sio_packet as _sio_packet
from . import sio_wire as _wire

ENV_VAR = 'ENGINEIO_FAST_SOCKETIO_ACCEL'

#: whether the accelerations are on (see the module's doc)
enabled = os.environ.get(ENV_VAR, '1').strip().lower() not in (
    '0', 'false', 'no', 'off')

def set_enabled(flag: bool) -> None:
    """Turn the accelerations on or off (for what runs from now on)."""
    global enabled
    enabled = bool(flag)


_emit_patched = False
# the engineio_fast server classes python-socketio servers registered on
# (what the manager classes below recognise as ours)
_engines: Tuple[type, ...] = ()


def attached(handler: Any, engine_class: Any) -> None:
    """Called with each handler registered on an engineio_fast server
    (whose class is ``engine_class``): a python-socketio server's gets
    :mod:`engineio_fast.sio_wire`'s behaviour, and an AsyncServer's turns
    the emit acceleration on (once per process)."""
    owner = getattr(handler, '__self__', None)
    if owner is None:
        return
    global _engines
    if engine_class not in _engines:
        _engines += (engine_class,)
    _wire.attach(owner, engine_class)
    if not enabled:
        return
    _use_fast_packets(owner, engine_class)
    global _emit_patched
    if _emit_patched:
        return
    sio_module = sys.modules.get('socketio.async_server')
    if sio_module is None or \
            not isinstance(owner, sio_module.AsyncServer):
        return
    manager_module = sys.modules.get('socketio.async_manager')
    cls: Any = getattr(manager_module, 'AsyncManager', None)
    original = getattr(cls, '__dict__', {}).get('emit')
    send_eio = sio_module.AsyncServer.__dict__.get('_send_eio_packet')
    packet_module = sys.modules.get('socketio.packet')
    if original is None or send_eio is None or packet_module is None:
        _wire.untested('AsyncManager.emit or AsyncServer._send_eio_packet')
        return
    cls.emit = _fast_emit(original, send_eio, packet_module.EVENT,
                          engine_class)
    _emit_patched = True
    _patch_dispatch(sio_module.AsyncServer, engine_class)


def _patch_dispatch(cls: Any, engine_class: Any) -> None:
    """python-socketio's ``AsyncServer._handle_event`` starts a Task per
    event (``async_handlers``); ours starts the handler at once in a lent
    Task (:mod:`engineio_fast._eager`), which only becomes a running Task
    if the handler suspends."""
    original = cls.__dict__.get('_handle_event')
    internal = cls.__dict__.get('_handle_event_internal')
    background = cls.__dict__.get('start_background_task')
    if None in (original, internal, background):
        _wire.untested('AsyncServer._handle_event, _handle_event_internal '
                       'or start_background_task')
        return
    engine_start = engine_class.start_background_task

    async def _handle_event(self: Any, eio_sid: str, namespace: Any,
                            id: Any, data: Any) -> None:
        eio = self.eio
        cls_ = type(self)
        own = vars(self)
        if not (enabled and self.async_handlers and
                isinstance(eio, engine_class) and
                cls_.start_background_task is background and
                cls_._handle_event_internal is internal and
                type(eio).start_background_task is engine_start and
                'start_background_task' not in own and
                '_handle_event_internal' not in own and
                'start_background_task' not in vars(eio)):
            return await original(self, eio_sid, namespace, id, data)
        # python-socketio's _handle_event, each step as it does it, the
        # handler started at once instead of in a new Task
        namespace = namespace or '/'
        manager = self.manager
        sid = manager.sid_from_eio_sid(eio_sid, namespace)
        self.logger.info('received event "%s" from %s [%s]', data[0], sid,
                         namespace)
        if not manager.is_connected(sid, namespace):
            self.logger.warning('%s is not connected to namespace %s',
                                sid, namespace)
            return None
        try:
            eio._eager.start(internal(self, self, sid, eio_sid, data,
                                      namespace, id),
                             functools.partial(_guarded, self.logger))
        except Exception:
            self.logger.exception('event handler error')
        return None

    _handle_event.__doc__ = original.__doc__
    _handle_event.__wrapped__ = original   # type: ignore[attr-defined]
    cls._handle_event = _handle_event


async def _guarded(logger: Any, rest: Any) -> None:
    # the rest of an event handler that suspended, in its lent Task
    try:
        await rest
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception('event handler error')


def _use_fast_packets(owner: Any, engine_class: Any) -> None:
    """A python-socketio server (on an engineio_fast server) with
    python-socketio's default serializer gets
    :func:`engineio_fast.sio_packet.packet_class`'s."""
    packet_module = sys.modules.get('socketio.packet')
    default = getattr(packet_module, 'Packet', None)
    if default is not None and \
            getattr(owner, 'packet_class', None) is default and \
            isinstance(getattr(owner, 'eio', None), engine_class):
        owner.packet_class = _sio_packet.packet_class(default)


async def _emit_here(manager: Any, event_type: int, event: str, data: Any,
                     namespace: str, room: Any, skip_sid: Any,
                     callback: Any) -> None:
    """python-socketio's AsyncManager.emit, each step as it does it, on an
    engineio_fast server (:func:`engineio_fast.sio_wire.ours`): the sends
    made here instead of in a Task each."""
    if not callback:
        _wire.deliver(manager, event_type, event, data, namespace, room,
                      skip_sid)
        return
    server = manager.server
    for eio_sid, pkt in _wire.acked(manager, event_type, event, data,
                                    namespace, room, skip_sid, callback):
        await server._send_packet(eio_sid, pkt)


def _fast_emit(original: Any, send_eio: Any, event_type: int,
               engine_class: Any) -> Any:

    async def emit(self: Any, event: str, data: Any, namespace: str,
                   room: Any = None, skip_sid: Any = None,
                   callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        server = self.server
        if not enabled or not _wire.ours(server, engine_class, send_eio):
            return await original(self, event, data, namespace, room=room,
                                  skip_sid=skip_sid, callback=callback,
                                  to=to, **kwargs)
        await _emit_here(self, event_type, event, data, namespace,
                         to or room, skip_sid, callback)

    emit.__doc__ = original.__doc__
    emit.__wrapped__ = original         # type: ignore[attr-defined]
    return emit


# -- the managers, for client_manager= ------------------------------------

def _make_managers() -> Any:
    """Build :class:`AsyncManager` and :class:`Manager` (python-socketio is
    imported here, not when engineio_fast is)."""
    import engineio.packet as eio_packet  # ours after the switch
    import socketio
    from socketio import packet as sio_packet_module

    sio_async = sys.modules['socketio.async_server'].AsyncServer
    async_send_eio = sio_async.__dict__['_send_eio_packet']
    event_type = sio_packet_module.EVENT

    class AsyncManager(socketio.AsyncManager):
        """python-socketio's ``AsyncManager`` (rooms, namespaces, acks: all
        its own) whose ``emit`` starts no task: on an engineio_fast server
        the packet is encoded once and queued on each recipient's session
        (all its parts in one step); on another Engine.IO server (python-
        engineio: no switch) each recipient's send is awaited in turn
        instead of a Task per recipient and part. For
        ``socketio.AsyncServer(client_manager=AsyncManager())``, used
        whatever ``ENGINEIO_FAST_SOCKETIO_ACCEL`` says."""

        async def emit(self, event: str, data: Any, namespace: str,
                       room: Any = None, skip_sid: Any = None,
                       callback: Any = None, to: Any = None,
                       **kwargs: Any) -> None:
            server = self.server
            room = to or room
            if _wire.ours(server, _engines, async_send_eio):
                return await _emit_here(self, event_type, event, data,
                                        namespace, room, skip_sid, callback)
            if not callback:
                if namespace not in self.rooms:
                    return
                pkt = server.packet_class(
                    event_type, namespace=namespace,
                    data=[event] + _wire.arguments(data))
                encoded = pkt.encode()
                if not isinstance(encoded, list):
                    encoded = [encoded]
                parts = [eio_packet.Packet(eio_packet.MESSAGE, p)
                         for p in encoded]
                sends = [server._send_eio_packet(eio_sid, p)
                         for _sid, eio_sid in _wire._recipients(
                             self, namespace, room, skip_sid)
                         for p in parts]
            else:
                sends = [server._send_packet(eio_sid, pkt)
                         for eio_sid, pkt in _wire.acked(
                             self, event_type, event, data, namespace,
                             room, skip_sid, callback)]
            for i, send in enumerate(sends):
                # one recipient's failure is not the others' (as with
                # python-socketio's tasks)
                try:
                    await send
                except Exception:
                    self._get_logger().exception('emit to a client failed')
                except BaseException:
                    for rest in sends[i + 1:]:
                        rest.close()
                    raise

    class Manager(socketio.Manager):
        """python-socketio's ``Manager``, for
        ``socketio.Server(client_manager=Manager())`` beside
        :class:`AsyncManager`. Its ``emit`` is the one
        :mod:`engineio_fast.sio_wire` gives python-socketio's ``Manager``
        (on every python-socketio Server on an engineio_fast server, with
        or without the accelerations): all of a packet's parts queued for a
        session in one step, no task (python-socketio's threads start
        none either); on python-engineio, python-socketio's own."""

    AsyncManager.__module__ = Manager.__module__ = __name__
    return AsyncManager, Manager


_managers: list = []


def __getattr__(name: str) -> Any:
    # AsyncManager and Manager are built on first use (they subclass
    # python-socketio's, which engineio_fast does not import by itself)
    if name in ('AsyncManager', 'Manager'):
        if not _managers:
            _managers.extend(_make_managers())
        return _managers[0] if name == 'AsyncManager' else _managers[1]
    raise AttributeError(name)
