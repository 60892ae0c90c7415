# Timer heap: the compiled twin of engineio_fast/_pure/timers.py.
#
# The heap itself is a C array of (deadline, sequence, slot) structs, so
# sifting compares doubles and integers without touching Python objects.
# The items live in a Python list indexed by slot: that keeps them visible
# to the cycle collector (a raw PyObject* array would hide reference
# cycles such as session -> server -> heap -> session).

from libc.math cimport isnan

cdef struct _Entry:
    double when
    unsigned long long seq
    Py_ssize_t slot


cdef inline bint _before(_Entry *a, _Entry *b) noexcept:
    # (when, seq) order: the pure twin's tuple order; seq is unique so the
    # order is total and FIFO among equal deadlines.
    return a.when < b.when or (a.when == b.when and a.seq < b.seq)


@cython.final
@cython.no_gc_clear  # tp_clear must not leave the heap without its list
cdef class TimerHeap:
    """A min-heap of (deadline, item) with FIFO order for equal deadlines."""

    cdef _Entry *_heap
    cdef Py_ssize_t *_free     # stack of unused slots in _items
    cdef Py_ssize_t _n, _cap, _nfree
    cdef unsigned long long _seq
    cdef list _items

    def __cinit__(self):
        self._heap = NULL
        self._free = NULL
        self._n = 0
        self._cap = 0
        self._nfree = 0
        self._seq = 0
        self._items = []

    def __dealloc__(self):
        free(self._heap)
        free(self._free)

    def __len__(self):
        return self._n

    cdef int _grow(self) except -1:
        cdef Py_ssize_t cap = self._cap * 2 if self._cap else 64
        cdef _Entry *heap = <_Entry *>realloc(self._heap,
                                             cap * sizeof(_Entry))
        if heap == NULL:
            raise MemoryError()
        self._heap = heap
        # Free slots never outnumber heap entries ever held, so the free
        # stack can share the heap's capacity.
        cdef Py_ssize_t *fr = <Py_ssize_t *>realloc(
            self._free, cap * sizeof(Py_ssize_t))
        if fr == NULL:
            raise MemoryError()
        self._free = fr
        self._cap = cap
        return 0

    def push(self, when, item):
        """Schedule ``item`` at time ``when`` (a float); ValueError if NaN."""
        cdef double w
        if PyFloat_CheckExact(when):
            w = PyFloat_AS_DOUBLE(when)
        else:
            w = float(when)
        if isnan(w):
            raise ValueError('timer deadline is NaN')
        if self._n == self._cap:
            self._grow()
        cdef Py_ssize_t slot
        if self._nfree:
            self._nfree -= 1
            slot = self._free[self._nfree]
            self._items[slot] = item
        else:
            slot = len(self._items)
            self._items.append(item)
        self._seq += 1
        cdef _Entry e
        e.when = w
        e.seq = self._seq
        e.slot = slot
        cdef Py_ssize_t pos = self._n
        cdef Py_ssize_t parent
        self._n += 1
        while pos > 0:
            parent = (pos - 1) >> 1
            if not _before(&e, &self._heap[parent]):
                break
            self._heap[pos] = self._heap[parent]
            pos = parent
        self._heap[pos] = e

    def next_deadline(self):
        """The earliest deadline, or None when the heap is empty."""
        if self._n == 0:
            return None
        return self._heap[0].when

    cdef object _pop(self):
        cdef _Entry top = self._heap[0]
        cdef Py_ssize_t n = self._n - 1
        cdef _Entry last = self._heap[n]
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t child
        self._n = n
        if n:
            while True:
                child = 2 * pos + 1
                if child >= n:
                    break
                if child + 1 < n and _before(&self._heap[child + 1],
                                             &self._heap[child]):
                    child += 1
                if not _before(&self._heap[child], &last):
                    break
                self._heap[pos] = self._heap[child]
                pos = child
            self._heap[pos] = last
        item = self._items[top.slot]
        self._items[top.slot] = None
        self._free[self._nfree] = top.slot
        self._nfree += 1
        return item

    def pop_due(self, now):
        """Remove and return, earliest first, the items due at ``now``."""
        cdef list due = []
        cdef double t
        if self._n == 0:
            return due
        if PyFloat_CheckExact(now):
            t = PyFloat_AS_DOUBLE(now)
            while self._n and self._heap[0].when <= t:
                due.append(self._pop())
        else:
            # ints, Decimals, ...: Python's own mixed-type comparison, as
            # the pure twin does (exact for ints beyond 2**53).
            while self._n and self._heap[0].when <= now:
                due.append(self._pop())
        if self._n == 0:
            # Drained: drop the slot list so a burst does not pin memory.
            self._items = []
            self._nfree = 0
        return due

    def clear(self):
        """Drop every entry."""
        # Swap the list out before it is released: an item's __del__ may
        # call back into this heap and must find it consistent.
        old = self._items
        self._items = []
        self._n = 0
        self._nfree = 0
        del old
