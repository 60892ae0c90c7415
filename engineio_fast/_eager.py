"""Eager handler starts that still run inside a real asyncio Task.

A handler's first step runs at once, where its event is read, inside an idle
*carrier* Task lent for it (no Task, no loop turn for the handlers that never
suspend); one that suspends keeps its carrier, which runs the rest. Why and
how: the pure twin, :mod:`engineio_fast._pure.eager`, the spec of the
compiled kernel (``src_pyx/eager.pxi``); :mod:`engineio_fast._accel` picks
the implementation, as for every kernel.
"""

from . import _accel

EagerStarter = _accel.active.EagerStarter
Resume = _accel.active.Resume

__all__ = ['EagerStarter', 'Resume']
