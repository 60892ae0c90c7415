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

What they hook is recognised by identity (the functions python-socketio
defines), never by name: a python-socketio release that renames or moves
them gets its own code back, and ``tests/socketio/test_sio_accel.py``
fails loudly on it.

Measured and left out: starting python-socketio's per-event dispatch
(``AsyncServer._handle_event``'s ``start_background_task``, a Task per
event) at once in a lent Task, as the engine's own handlers start. Tried
twice. The second time (2026-12-06, an A/B in one run of
``benchmarks/load/run.py --group socketio``, medians of 3, the codec in
both) it cut emit echo 50 x 16 on the built-in server from 14.4 to 12.4 µs
of server CPU per message, but raised emit echo 500 x 1 from 23.7 to
26.5 µs and, under uvicorn, 50 x 16 from 27.3 to 45.3 µs and 500 x 1 from
67.6 to 84.2 µs; broadcast did not move. Not adopted while it costs
somewhere; why it costs is not found yet (the nested lending of a carrier
inside the message handler's own is one suspect).
"""

import os
import sys
from typing import Any

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


def attached(handler: Any, engine_class: Any) -> None:
    """Called with each handler registered on an engineio_fast server
    (whose class is ``engine_class``): a python-socketio server's gets
    :mod:`engineio_fast.sio_wire`'s behaviour, and an AsyncServer's turns
    the emit acceleration on (once per process)."""
    owner = getattr(handler, '__self__', None)
    if owner is None:
        return
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
        # python-socketio's AsyncManager.emit, each step as it does it,
        # the sends made here instead of in a task each
        if not callback:
            _wire.deliver(self, event_type, event, data, namespace,
                          to or room, skip_sid)
        else:
            for eio_sid, pkt in _wire.acked(self, event_type, event, data,
                                            namespace, to or room, skip_sid,
                                            callback):
                await server._send_packet(eio_sid, pkt)

    emit.__doc__ = original.__doc__
    emit.__wrapped__ = original         # type: ignore[attr-defined]
    return emit
