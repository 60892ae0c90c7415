# Eager handler starts: the compiled twin of engineio_fast/_pure/eager.py
# (read it for why a handler's first step runs inside a lent carrier Task).
#
# The same steps as the pure twin, without its two costliest calls: the
# first step is sent with PyIter_Send between PyContext_Enter and
# PyContext_Exit, so a handler that returns hands its value back without a
# StopIteration raised and caught and without ctx.run's call. The Task
# bookkeeping calls the functions the pure twin found in asyncio, so both
# follow the running Python's asyncio alike. Only EagerStarter is compiled:
# Resume, the rest of a handler that suspended, is the pure twin's own.

from cpython.ref cimport Py_XDECREF

from engineio_fast._pure import eager as _pure_eager

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030A0000
    #define __eio_iter_send(it, arg, res) ((int)PyIter_Send((it), (arg), (res)))
    #else
    /* 3.9 has no PyIter_Send: call send() and take a StopIteration's value
       (0: returned, 1: yielded, -1: raised, as PyIter_Send) */
    static int __eio_iter_send(PyObject *it, PyObject *arg, PyObject **res) {
        *res = PyObject_CallMethod(it, "send", "(O)", arg);
        if (*res != NULL) return 1;
        if (_PyGen_FetchStopIterationValue(res) == 0) return 0;
        return -1;
    }
    #endif
    """
    # 0: returned, *res its value; 1: suspended, *res what it yielded
    # (new references); -1: raised
    int __eio_iter_send(object it, object arg, PyObject **res) except -1
    object PyContext_CopyCurrent()
    int PyContext_Enter(object ctx) except -1
    int PyContext_Exit(object ctx) except -1

cdef object _eg_enter_task = _pure_eager._enter_task
cdef object _eg_leave_task = _pure_eager._leave_task
cdef object _eg_current_task = _pure_eager._current_task
cdef object _eg_get_running_loop = _pure_eager._get_running_loop
cdef object _eg_get_ident = _pure_eager._get_ident
cdef object _eg_carry = _pure_eager._carry
cdef object _eg_cancelling = _pure_eager._cancelling
cdef object _eg_ensure_future = _pure_eager.asyncio.ensure_future
# where the pure twin found Task.cancelling() (3.11+) it is called here
# directly: one call fewer than through the twin's methodcaller
cdef bint _EG_HAS_CANCELLING = (
    _eg_cancelling is not _pure_eager._cancel_requested)


cdef inline bint _eg_is_cancelling(carrier) except -1:
    if _EG_HAS_CANCELLING:
        return bool(carrier.cancelling())
    return bool(_eg_cancelling(carrier))


cdef inline int _eg_give_back(list idle, carrier, slot) except -1:
    # after a first step that ended: a carrier the handler cancelled is
    # spent (the next start gets a new one), any other is lent again
    if _eg_is_cancelling(carrier):
        carrier.cancel()
    else:
        idle.append((carrier, slot))
    return 0


# A suspended handler's rest runs at the pace of its Task, not per event:
# the pure twin's class serves both
Resume = _pure_eager.Resume


@cython.final
cdef class EagerStarter:
    """Runs coroutines' first steps inside idle carrier Tasks.

    Args:
        track: called with a carrier Task once it carries a coroutine
            (the server keeps its running Tasks, for shutdown).
    """

    cdef object _loop
    cdef object _thread
    cdef list _idle
    cdef object _track

    def __init__(self, track):
        self._loop = None
        self._thread = None
        self._idle = []
        self._track = track

    cdef tuple _carrier(self, loop):
        if loop is not self._loop:
            self.close()
            self._loop = loop
        slot = loop.create_future()
        return loop.create_task(_eg_carry(slot)), slot

    def start(self, coro, guard):
        """Run ``coro`` up to its first suspension in a carrier Task.

        Returns:
            ``(True, value)`` when it ended; else ``(False, task)``, the Task
            that finishes it, awaiting ``guard(rest)`` (``rest``: the
            suspended coroutine as an awaitable). An exception of the first
            step propagates.
        """
        cdef PyObject *res = NULL
        cdef int sent
        loop = self._loop
        idle = self._idle
        if (idle and loop is not None and loop.is_running()
                and _eg_get_ident() == self._thread):
            carrier, slot = idle.pop()
        else:
            loop = _eg_get_running_loop()
            if loop is None:
                return self._start_bare(coro, guard)
            self._thread = _eg_get_ident()
            if idle and loop is self._loop:
                carrier, slot = idle.pop()
            else:
                carrier, slot = self._carrier(loop)
        ctx = PyContext_CopyCurrent()
        prev = _eg_current_task(loop)
        if prev is not None:
            _eg_leave_task(loop, prev)
        _eg_enter_task(loop, carrier)
        try:
            PyContext_Enter(ctx)
            try:
                sent = __eio_iter_send(coro, None, &res)
            finally:
                PyContext_Exit(ctx)
        except BaseException:
            _eg_give_back(idle, carrier, slot)
            raise
        finally:
            _eg_leave_task(loop, carrier)
            if prev is not None:
                _eg_enter_task(loop, prev)
        value = <object>res
        Py_XDECREF(res)
        if sent == 0:
            _eg_give_back(idle, carrier, slot)
            return True, value
        rest = guard(Resume(coro, value, ctx))
        if _eg_is_cancelling(carrier):
            # it cancelled its own task, then suspended: a fresh Task takes
            # it over and hands it the cancellation at that suspension
            carrier.cancel()
            task = loop.create_task(rest)
            task.cancel()
        else:
            slot.set_result(rest)
            task = carrier
        self._track(task)
        return False, task

    cdef _start_bare(self, coro, guard):
        # no running loop (a benchmark that drives the server's hot path by
        # hand): no Task to lend, the step runs as it is
        try:
            first = coro.send(None)
        except StopIteration as stop:
            return True, stop.value
        task = _eg_ensure_future(guard(Resume(coro, first)))
        self._track(task)
        return False, task

    def close(self):
        """Cancel the idle carriers (at shutdown, or for a new loop)."""
        idle = self._idle
        while idle:
            carrier, _ = idle.pop()
            loop = carrier.get_loop()
            if not loop.is_closed():
                carrier.cancel()
