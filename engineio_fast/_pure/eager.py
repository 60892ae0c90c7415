"""Eager handler starts that still run inside a real asyncio Task: the
executable spec of the compiled kernel (``src_pyx/eager.pxi``).

The asyncio server runs a handler's first step at once, where the event is
read (no Task, no loop turn: most handlers never suspend). Code in a handler
may still ask for its Task at that point: ``asyncio.timeout()``,
``asyncio.TaskGroup``, anyio's cancel scopes and redis-py (through them) all
call ``asyncio.current_task()``, and a timeout cancels the Task it found.
So the first step must run with a Task of its own as the current task, not
with none (the built-in server's protocol callbacks) and not with the
adapter's (an ASGI connection's Task, which a handler's timeout would then
cancel).

:class:`EagerStarter` lends such a Task: an idle *carrier* Task, parked on a
future of its own, is made the loop's current task for the first step (the
step runs in a fresh copy of the context, as a Task's would). A handler that
ends without suspending gives the carrier back for the next one: no Task is
created per handler. One that suspends keeps it: the carrier takes the
coroutine over from where it paused, so everything that captured
``current_task()`` during the first step holds the Task that runs the rest.
Python 3.12's eager tasks do the same with a new Task per call.

The server imports these through :mod:`engineio_fast._eager`, which picks
this module or its compiled twin.
"""

import asyncio
import contextvars
import operator
import threading
import types
from asyncio import tasks as _tasks
from typing import (
    Any,
    Awaitable,
    Callable,
    Coroutine,
    List,
    Optional,
    Tuple,
    cast,
)

_enter_task = _tasks._enter_task
_leave_task = _tasks._leave_task
# current_task(loop) without a Python frame of its own where it is one
# (up to 3.11: a function around the dict of the loops' current Tasks)
_current_tasks = getattr(_tasks, '_current_tasks', None)
_current_task = (_current_tasks.get if isinstance(_current_tasks, dict) and
                 isinstance(_tasks.current_task, types.FunctionType)
                 else _tasks.current_task)
_copy_context = contextvars.copy_context
_get_running_loop = asyncio._get_running_loop
_get_ident = threading.get_ident
_NOTHING = object()


def _cancel_requested(task: 'asyncio.Task[Any]') -> bool:
    """Whether ``task.cancel()`` was called and not yet delivered, where
    Tasks have no ``cancelling()`` (before Python 3.11): a Task that has not
    stepped yet sets ``_must_cancel``; one parked on a future cancels it."""
    waiter = task._fut_waiter    # type: ignore[attr-defined]
    return bool(task._must_cancel    # type: ignore[attr-defined]
                or (waiter is not None and waiter.cancelled()))


#: ``task.cancelling()`` (3.11+: the number of cancellations requested),
#: or the same question asked without it
_cancelling: Callable[['asyncio.Task[Any]'], Any] = (
    operator.methodcaller('cancelling')
    if hasattr(asyncio.Task, 'cancelling') else _cancel_requested)


class Resume:
    """A coroutine that already ran up to its first suspension, as an
    awaitable whose first ``send`` yields the future the coroutine waits on
    (a Task picks it up exactly where it paused). Every later step runs in
    ``ctx``, the context of the first."""

    __slots__ = ('_coro', '_first', '_ctx')

    def __init__(self, coro: Any, first: Any,
                 ctx: Optional[contextvars.Context] = None) -> None:
        self._coro = coro
        self._first = first
        self._ctx = ctx

    def send(self, value: Any) -> Any:
        first = self._first
        if first is not _NOTHING:
            self._first = _NOTHING
            return first
        ctx = self._ctx
        if ctx is None:
            return self._coro.send(value)
        return ctx.run(self._coro.send, value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._first = _NOTHING
        exc = typ if val is None else val
        ctx = self._ctx
        if ctx is None:
            return self._coro.throw(exc)
        return ctx.run(self._coro.throw, exc)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Any:
        return self

    def __iter__(self) -> 'Resume':
        return self

    def __next__(self) -> Any:
        return self.send(None)


async def _carry(slot: 'asyncio.Future[Awaitable[Any]]') -> Any:
    """A carrier's body: idle until a suspended handler is handed over."""
    return await (await slot)


_Carrier = Tuple['asyncio.Task[Any]', 'asyncio.Future[Any]']


class EagerStarter:
    """Runs coroutines' first steps inside idle carrier Tasks.

    Args:
        track: called with a carrier Task once it carries a coroutine
            (the server keeps its running Tasks, for shutdown).
    """

    __slots__ = ('_loop', '_idle', '_track', '_thread')

    def __init__(self, track: Callable[['asyncio.Task[Any]'], None]) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        # the thread _loop was last found running in (see start)
        self._thread: Optional[int] = None
        # (carrier, its slot): one, or more while first steps nest
        self._idle: List[_Carrier] = []
        self._track = track

    def _carrier(self, loop: asyncio.AbstractEventLoop) -> _Carrier:
        if loop is not self._loop:
            self.close()
            self._loop = loop
        slot = loop.create_future()
        return loop.create_task(_carry(slot)), slot

    def start(self, coro: Any,
              guard: Callable[[Awaitable[Any]], Awaitable[Any]]) -> Any:
        """Run ``coro`` up to its first suspension in a carrier Task.

        Returns:
            ``(True, value)`` when it ended; else ``(False, task)``, the Task
            that finishes it, awaiting ``guard(rest)`` (``rest``: the
            suspended coroutine as an awaitable). An exception of the first
            step propagates.
        """
        # asyncio's running-loop look-up makes a getpid() system call (its
        # fork check) on every call: the loop this starter serves, still
        # running in the thread it was found running in, needs none
        loop = self._loop
        idle = self._idle
        if (idle and loop is not None and loop.is_running()
                and _get_ident() == self._thread):
            carrier, slot = idle.pop()
        else:
            loop = _get_running_loop()
            if loop is None:
                return self._start_bare(coro, guard)
            self._thread = _get_ident()
            if idle and loop is self._loop:
                carrier, slot = idle.pop()
            else:
                carrier, slot = self._carrier(loop)
        ctx = _copy_context()
        prev = _current_task(loop)
        if prev is not None:
            _leave_task(loop, prev)
        _enter_task(loop, carrier)
        try:
            first = ctx.run(coro.send, None)
        except BaseException as exc:
            # a handler may have cancelled its (lent) task: that carrier is
            # spent, the next one gets a new one
            if _cancelling(carrier):
                carrier.cancel()
            else:
                idle.append((carrier, slot))
            if exc.__class__ is StopIteration:
                # (the value without typing.cast: a call per handler)
                return True, exc.value
            raise
        finally:
            _leave_task(loop, carrier)
            if prev is not None:
                _enter_task(loop, prev)
        rest = guard(Resume(coro, first, ctx))
        if _cancelling(carrier):
            # it cancelled its own task, then suspended: a fresh Task takes
            # it over and hands it the cancellation at that suspension
            carrier.cancel()
            task: 'asyncio.Task[Any]' = loop.create_task(
                cast(Coroutine[Any, Any, Any], rest))
            task.cancel()
        else:
            slot.set_result(rest)
            task = carrier
        self._track(task)
        return False, task

    def _start_bare(self, coro: Any,
                    guard: Callable[[Awaitable[Any]], Awaitable[Any]]) -> Any:
        # no running loop (a benchmark that drives the server's hot path by
        # hand): no Task to lend, the step runs as it is
        try:
            first = coro.send(None)
        except StopIteration as stop:
            return True, stop.value
        task = asyncio.ensure_future(guard(Resume(coro, first)))
        self._track(task)
        return False, task

    def close(self) -> None:
        """Cancel the idle carriers (at shutdown, or for a new loop)."""
        idle = self._idle
        while idle:
            carrier, _ = idle.pop()
            loop = carrier.get_loop()
            if not loop.is_closed():
                carrier.cancel()
