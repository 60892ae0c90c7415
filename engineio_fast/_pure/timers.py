"""Timer heap: the executable spec of the compiled kernel.

One heap per server drives every session's heartbeat, so there is no timer
handle or task per session. Entries are never cancelled: the caller stores
the deadline it wants on its own object and ignores entries that no longer
match it when they come due (lazy deletion).
"""

import heapq


class TimerHeap:
    """A min-heap of (deadline, item) with FIFO order for equal deadlines."""

    __slots__ = ('_heap', '_seq')

    def __init__(self):
        self._heap = []
        self._seq = 0

    def __len__(self):
        return len(self._heap)

    def push(self, when, item):
        """Schedule ``item`` at time ``when`` (a float); ValueError if NaN.

        A NaN deadline compares false with everything, which would silently
        break the heap order for every other entry.
        """
        when = float(when)
        if when != when:
            raise ValueError('timer deadline is NaN')
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, item))

    def next_deadline(self):
        """The earliest deadline, or None when the heap is empty."""
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now):
        """Remove and return, earliest first, the items due at ``now``."""
        heap = self._heap
        due = []
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap)[2])
        return due

    def clear(self):
        """Drop every entry."""
        self._heap.clear()
