"""The engine's send queues: bounds, overflow and back-pressure (the
queueing part of :class:`.engine.Engine`, which inherits it).

A session's outgoing items wait in ``Session.queue`` until its transport
takes them (:meth:`Engine.take_poll`, :meth:`Engine.ws_take`).
``max_queue_bytes`` bounds them: past it, ``queue_overflow`` closes the
session ('transport error') or drops the item. ``queue_high_water`` is
where a sender waits: adapters register a waker with :meth:`wait_drain`,
called once when the queue is taken or the session ends.
"""

import logging
from typing import Any, Callable, Optional, Sequence, Union

from .. import _accel
from .outcome import DISCONNECT_TRANSPORT_ERROR, DROPPED, Event
from .packets import Item
from .session import OPEN, Session


class Queueing:
    """Queueing for :class:`.engine.Engine` (which sets the attributes
    below and provides ``_close``)."""

    _max_queue: int
    _queue_watch: int
    _drop: bool
    high_water: int
    logger: Optional[logging.Logger]
    now: float
    stats: Any

    def _close(self, s: Session, reason: str, now: float,
               how: int = 1) -> Optional[Event]:   # 1: engine.ERROR_CLOSE
        raise NotImplementedError

    def _enqueue(self, s: Session, item: Item) -> None:
        s.queue.append(item)
        s.queue_bytes += len(item)
        if s.transport == 'websocket':
            ws = s.ws
            if ws is not None and ws.waker is not None:
                ws.waker()
        elif s.poll_waker is not None:
            s.wake_poll()

    def send(self, session: Session,
             item: Item) -> Union[bool, Event, str, None]:
        """Queue an encoded packet (str) or binary message (bytes).

        Returns True when queued; False (and queues nothing) if the
        session is not open. A session whose queue would exceed
        ``max_queue_bytes`` is closed with 'transport error' (the returned
        value is then its disconnect event, None while its connect handler
        runs), or with ``queue_overflow='drop'`` the item is dropped and
        :data:`DROPPED` returned.
        """
        if session.state > OPEN:
            return False
        if session.queue_bytes + len(item) > self._queue_watch:
            if session.queue_bytes + len(item) > self._max_queue:
                return self._overflow(session)
            self._queue_seen(session.queue_bytes + len(item))
        self._enqueue(session, item)
        st = self.stats
        if st is not None:
            st.messages_out += 1
            st.bytes_out += len(item)
        return True

    def send_many(self, session: Session,
                  items: Sequence[Item]) -> Union[bool, Event, str, None]:
        """Queue several items as one: nothing another send queues can
        come between them (a Socket.IO binary packet's header and its
        attachments). As :meth:`send`, for their total size.
        """
        if session.state > OPEN:
            return False
        size = 0
        for item in items:
            size += len(item)
        if session.queue_bytes + size > self._queue_watch:
            if session.queue_bytes + size > self._max_queue:
                return self._overflow(session)
            self._queue_seen(session.queue_bytes + size)
        st = self.stats
        if st is not None:
            st.messages_out += len(items)
            st.bytes_out += size
        if items:
            last = items[-1]
            session.queue.extend(items[:-1])
            session.queue_bytes += size - len(last)
            self._enqueue(session, last)    # one wake-up for them all
        return True

    def _queue_seen(self, size: int) -> None:
        """A send makes a queue of ``size`` bytes, the largest so far (only
        a metered engine gets here below ``max_queue_bytes``)."""
        self._queue_watch = self.stats.max_queue = size

    def _overflow(self, s: Session) -> Union[Event, str, None]:
        """A send past ``max_queue_bytes``: the session is closed with
        'transport error' (its disconnect event, None while its connect
        handler runs), or with ``queue_overflow='drop'`` the item is
        dropped and counted (:data:`DROPPED`)."""
        if self._drop:
            s.dropped += 1
            if self.logger and s.dropped == 1:
                self.logger.warning('%s: send queue over %d bytes, '
                                    'dropping', s.sid, self._max_queue)
            return DROPPED
        if self.logger:
            self.logger.warning('%s: send queue over %d bytes, closing',
                                s.sid, self._max_queue)
        return self._close(s, DISCONNECT_TRANSPORT_ERROR, self.now)

    def wait_drain(self, s: Session,
                   callback: Callable[[], None]) -> bool:
        """Back-pressure: True when ``s`` holds ``queue_high_water``
        bytes or more and is open; ``callback`` (an adapter's waker: it may
        only schedule its sender, not call the engine) is then called once,
        from the engine, when its queue is taken by its transport or the
        session ends. False (nothing registered) when a sender need not
        wait."""
        if s.queue_bytes < self.high_water or s.state != OPEN:
            return False
        if s.drain_waiters is None:
            s.drain_waiters = [callback]
        else:
            s.drain_waiters.append(callback)
        return True

    @staticmethod
    def forget_drain(s: Session, callback: Callable[[], None]) -> None:
        """Take back a waker of :meth:`wait_drain` (its sender stopped
        waiting: a timeout)."""
        waiters = s.drain_waiters
        if waiters is not None and callback in waiters:
            waiters.remove(callback)

    @staticmethod
    def _drained(s: Session) -> None:
        waiters = s.drain_waiters
        if waiters is not None:
            s.drain_waiters = None
            for callback in waiters:
                callback()


# the compiled twin's names, when it is there (setup.py's TWINS: this
# source built by Cython with the attribute types of
# src_pyx/twins/engineio_fast/protocol/_queues_c.pxd, so Queueing is an
# extension type, the base of the engine's twin)
_TWIN = _accel.adopt_twin(globals())
