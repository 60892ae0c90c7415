"""What the asyncio adapters over a server framework share: ASGI (this
package's :mod:`.asgi`), aiohttp, Sanic and Tornado (:mod:`.frameworks`).

Each of them gets whole requests and whole websocket messages from its
framework; what differs is only how a request is read, a response written,
a websocket message taken or sent, and how (if at all) the framework says
that a client went away. Everything else is here, once:

- :func:`exchange`: one Engine.IO HTTP request, from the engine's
  :class:`~engineio_fast.protocol.engine.Outcome` to the response written
  (the connect handler, the events, a parked GET);
- :func:`park`: a parked GET (``WAIT``), watching for the client to leave;
- :func:`lost_post`: a POST whose client left before its body ended;
- :class:`WsSession`: one websocket carrying a session or an upgrade
  probe: the writer (woken by the engine, one flush at a time, no task per
  message) and the reader loop.

No protocol decisions are made here (see :mod:`engineio_fast.adapters`).
"""

import asyncio
from typing import Any, Awaitable, Callable, Optional, Sequence, Union

from ..protocol import engine as _engine
from ..protocol.http import Request, Response

#: the outcome kinds an adapter looks at itself (a websocket's handshake)
RESPOND = _RESPOND = _engine.RESPOND
CONNECT = _CONNECT = _engine.CONNECT

#: writes one response: ``await write(response)``
Write = Callable[[Response], Awaitable[Any]]
#: a websocket's next message: str or bytes, None once it closed cleanly;
#: it raises :class:`WsFailed` when the framework failed the connection
Receive = Callable[[], Awaitable[Union[str, bytes, None]]]
#: starts watching a parked GET's connection (see :func:`park`)
Watch = Callable[[], 'asyncio.Future[Any]']


class WsFailed(Exception):
    """Raised by a websocket's receive function when the framework closed
    the connection for a protocol violation (bad frames, a message over
    the limit): the session ends with 'transport error'."""


async def lost_post(driver: Any, req: Request) -> None:
    """The client of a POST left before the end of its body
    (:meth:`Engine.post_lost`): dispatch what that ends."""
    out = driver.engine.post_lost(req, driver.now())
    if out.events:
        await driver.dispatch(out.events)


async def exchange(driver: Any, req: Request, write: Write,
                   watch: Optional[Watch] = None,
                   is_gone: Optional[Callable[[], bool]] = None) -> None:
    """Serve one Engine.IO HTTP request (not a websocket) to its end.

    Args:
        driver: the server's :class:`~engineio_fast.async_server.AsyncDriver`.
        req: the request, its body read.
        write: writes the response (called at most once).
        watch, is_gone: how a parked GET learns that its client left (see
            :func:`park`).
    """
    out = driver.engine.handle_http(req, driver.now())
    if out.events:
        await driver.dispatch(out.events)
    kind = out.kind
    if kind == _RESPOND:
        await write(out.response)
        return
    if kind == _CONNECT:
        done = await driver.handshake(out, req)
        await write(done.response)
        if done.events:
            await driver.dispatch(done.events)
        return
    resp = await park(driver, out, req, watch, is_gone)
    if resp is not None:
        await write(resp)


class _Parked:
    """The wake-up of one parked GET: sets its current future."""

    __slots__ = ('fut',)

    def __init__(self) -> None:
        self.fut: Optional[asyncio.Future[None]] = None

    def wake(self, *_args: Any) -> None:
        fut = self.fut
        if fut is not None and not fut.done():
            fut.set_result(None)


async def park(driver: Any, out: Any, req: Request,
               watch: Optional[Watch] = None,
               is_gone: Optional[Callable[[], bool]] = None
               ) -> Optional[Response]:
    """A parked GET (``WAIT``): wait for the engine's answer.

    A client that leaves is reported (:meth:`Engine.poll_lost`, the session
    ends with 'transport error') as soon as the framework lets us see it:

    Args:
        watch: called once the GET really waits: a future that ends when
            the client's connection closes (its result true), or when there
            is nothing more to watch (false); cancelled when the GET is
            answered.
        is_gone: asked at every wake-up (and when the wait is cancelled,
            as some frameworks cancel a handler whose client left):
            whether the connection is closed.

    Returns:
        The response to write, or None when the client is gone.
    """
    engine = driver.engine
    s = out.session
    resp = engine.take_poll(s, req, out.jsonp)
    if resp is not None:
        return resp
    loop = asyncio.get_running_loop()
    parked = _Parked()
    gone = watch() if watch is not None else None
    if gone is not None:
        gone.add_done_callback(parked.wake)
    try:
        while True:
            parked.fut = loop.create_future()
            s.poll_waker = parked.wake
            await parked.fut
            if gone is not None and gone.done():
                lost = (not gone.cancelled() and gone.exception() is None
                        and gone.result())
                gone = None
                if lost:
                    _lost(driver, s)
                    return None
            if is_gone is not None and is_gone():
                _lost(driver, s)
                return None
            resp = engine.take_poll(s, req, out.jsonp)
            if resp is not None:
                return resp
    except BaseException:
        if is_gone is not None and is_gone():
            _lost(driver, s)
        else:
            engine.poll_aborted(s)
        raise
    finally:
        if gone is not None and not gone.done():
            gone.cancel()


def _lost(driver: Any, s: Any) -> None:
    events = driver.engine.poll_lost(s, driver.now())
    if events:
        # started now; a handler that suspends goes on by itself
        driver.fire(events)


class WsSession:
    """One accepted websocket and its :class:`~engineio_fast.protocol.
    session.WsLink`.

    Args:
        driver: the server's AsyncDriver.
        link: ``outcome.link``.
        write: ``await write(items)`` sends the items (str: a text message,
            bytes: a binary one), in order.
        close: ``await close(code)`` sends a close frame (``code`` None: one
            without a status, where the framework can say that) and ends
            the connection.

    The engine wakes :meth:`wake` when there is something to write; the
    writes of one connection never overlap, and what handlers send while a
    received message is handled leaves after it, in one flush.
    """

    __slots__ = ('driver', 'link', 'write', 'close', 'flushing',
                 'scheduled', 'in_reader', 'closed', 'dirty', 'drained',
                 'kick')

    def __init__(self, driver: Any, link: Any,
                 write: Callable[[Sequence[Any]], Awaitable[Any]],
                 close: Callable[[Optional[int]], Awaitable[Any]]) -> None:
        self.driver = driver
        self.link = link
        self.write = write
        self.close = close
        self.flushing = False
        self.scheduled = False
        self.in_reader = False
        self.closed = False
        self.dirty = False
        self.kick: Optional['asyncio.Future[None]'] = None
        self.drained: Optional['asyncio.Future[None]'] = None
        link.waker = self.wake

    def wake(self) -> None:
        if self.in_reader:
            # a handler sends while a received message is handled: written
            # once the reader has nothing more to hand over (deliver)
            self.dirty = True
            return
        if self.flushing or self.scheduled:
            return
        self.scheduled = True
        kick = self.kick
        if kick is None:
            self.driver.spawn(self._writer())
        else:
            self.kick = None
            kick.set_result(None)

    async def _writer(self) -> None:
        # this connection's writes, woken by wake() (a Task for the
        # connection's life, not one per flush)
        loop = asyncio.get_running_loop()
        while True:
            await self.flush()
            if self.closed:
                return
            kick = self.kick = loop.create_future()
            await kick

    async def flush(self) -> None:
        """Write what the engine has for this link, then close it if the
        link is closing."""
        self.scheduled = False
        if self.flushing or self.closed:
            return
        self.flushing = True
        link = self.link
        take = self.driver.engine.ws_take
        try:
            while True:
                items = take(link)
                if not items:
                    break
                await self.write(items)
            if link.closing and not self.closed:
                self.closed = True
                await self.close(link.close_code)
        except Exception:
            # the peer is gone; the reader sees the disconnect
            self.closed = True
        finally:
            self.flushing = False
            drained = self.drained
            if drained is not None:
                self.drained = None
                if not drained.done():
                    drained.set_result(None)

    async def start(self, later: Optional[Sequence[Any]] = None) -> None:
        """Right after the websocket was accepted: flush what is queued,
        then dispatch ``later`` (the events of a session closed while its
        connect handler ran)."""
        await self.flush()
        if later:
            await self.driver.dispatch(later)

    async def deliver(self, data: Union[str, bytes]) -> None:
        """Hand one received message to the engine, run its handlers, then
        write what they sent (one flush)."""
        driver = self.driver
        self.in_reader = True
        try:
            events = driver.engine.ws_receive(self.link, data, driver.now())
            if events:
                await driver.dispatch(events)
        finally:
            self.in_reader = False
        link = self.link
        if link is None or link.closing:
            await self.flush()
            return
        if self.dirty:
            # the answers leave in a flush of their own, after the messages
            # the framework has ready were handed over: one burst of writes
            # per burst of reads
            self.dirty = False
            self.wake()
        if self.flushing:
            # a write is under way (the client reads slowly): read no more
            # until it is done
            drained = self.drained
            if drained is None:
                drained = self.drained = \
                    asyncio.get_running_loop().create_future()
            await drained

    async def end(self, failed: bool = False) -> None:
        """The socket closed (``failed``: the framework failed it for a
        protocol violation): :meth:`Engine.ws_closed`, once."""
        if self.link is None:
            return
        link, self.link = self.link, None
        self.closed = True
        kick = self.kick
        if kick is not None:
            self.kick = None
            kick.set_result(None)       # the writer ends
        driver = self.driver
        events = driver.engine.ws_closed(link, driver.now(), failed)
        if events:
            await driver.dispatch(events)

    async def run(self, receive: Receive,
                  later: Optional[Sequence[Any]] = None) -> None:
        """The whole connection for frameworks that hand messages out one
        at a time: :meth:`start`, then :meth:`deliver` every message
        ``receive()`` returns until the socket closes (or this side closed
        it), then :meth:`end`.

        Args:
            receive: the next message (see :data:`Receive`).
            later: as for :meth:`start`.
        """
        failed = False
        try:
            await self.start(later)
            deliver = self.deliver
            while not self.closed:
                try:
                    data = await receive()
                except WsFailed:
                    failed = True
                    break
                if data is None:
                    break
                await deliver(data)
        finally:
            await self.end(failed)


__all__ = ['WsFailed', 'WsSession', 'exchange', 'lost_post', 'park']
