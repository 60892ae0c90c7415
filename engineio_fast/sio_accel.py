"""What engineio_fast does faster for python-socketio, through the hooks
python-socketio itself calls (issue 17). They change no behaviour a
python-socketio application can see; they are on by default and off with
``ENGINEIO_FAST_SOCKETIO_ACCEL=0`` in the environment or
``engineio_fast.install(accelerate=False)``.

- **Event dispatch without a task per event.** With ``async_handlers``
  (its default) python-socketio runs every incoming event through
  ``eio.start_background_task(self._handle_event_internal, ...)``: a Task
  per event, about a third of the server's CPU at emit echo. The
  AsyncServer starts that one target as it starts its own handlers (see
  :mod:`engineio_fast._eager`): at once, inside a lent Task, so a handler
  that does not suspend costs no Task, and one that suspends goes on in
  its own Task as before. Events still start in the order they came, and a
  suspended handler still lets the next ones run.

The targets are recognised by identity (the function python-socketio
defines), never by name: a subclass that overrides them, or a
python-socketio release that renames them, gets the Task as before, and
``tests/socketio/test_sio_accel.py`` fails loudly on the tested versions
if the fast path stops applying.
"""

import os
import sys
from typing import Any, FrozenSet, Optional

ENV_VAR = 'ENGINEIO_FAST_SOCKETIO_ACCEL'

#: whether the accelerations are on (see the module's doc)
enabled = os.environ.get(ENV_VAR, '1').strip().lower() not in (
    '0', 'false', 'no', 'off')

_eager: Optional[FrozenSet[Any]] = None


def set_enabled(flag: bool) -> None:
    """Turn the accelerations on or off (for servers made from now on and
    for the events of those running)."""
    global enabled
    enabled = bool(flag)


def _eager_functions() -> FrozenSet[Any]:
    global _eager
    if _eager is not None:
        return _eager
    module = sys.modules.get('socketio.async_server')
    if module is None:
        return frozenset()      # not imported yet: look again next time
    cls = getattr(module, 'AsyncServer', None)
    found = getattr(cls, '__dict__', {}).get('_handle_event_internal')
    _eager = frozenset([found]) if found is not None else frozenset()
    return _eager


def starts_eagerly(target: Any) -> bool:
    """Whether ``start_background_task(target, ...)`` may start ``target``
    at once: it is python-socketio's per-event dispatch and the
    accelerations are on."""
    if not enabled:
        return False
    func = getattr(target, '__func__', None)
    return func is not None and func in _eager_functions()
