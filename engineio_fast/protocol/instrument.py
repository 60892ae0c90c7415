"""The engine's observation points, for instrumentation (python-socketio's
admin UI replaces python-engineio's methods that these steps stand for).

An :class:`EngineHooks` names a callable for each step that the
application wants to see or change; :func:`instrument` installs them on
one :class:`~engineio_fast.protocol.engine.Engine` as instance attributes
that shadow the engine's own methods. An engine that was never
instrumented runs its own methods and nothing else: no step checks for a
hook. The hooks change what a step carries, never what the engine decides
about it; which requests and messages reach each step is the engine's
decision, made here once for every server:

- ``answer(req, text, jsonp, cookie) -> Response``: every 200 answer to
  a polling request of a session: the handshake, a GET (``text`` is the
  payload) and a POST that was taken (``text`` is None);
- ``post(session, req, run) -> Outcome``: a POST of an open polling
  session; ``run()`` reads its packets (the engine's own step) and
  returns the Outcome to answer with; a hook that never calls it takes
  the POST without reading it;
- ``received(link, data) -> data``: every websocket message, before the
  engine reads it (the upgrade probe's too);
- ``sent(link, items) -> items``: what the adapter is about to write on a
  websocket (never empty);
- ``closed(link)``: a websocket ended (the adapter reported it);
- ``ping(session)``: a ping is due (the engine has started waiting for
  its pong); the hook sends it with ``Engine.send_ping`` when it chooses.

A hook runs where the engine runs: under the sync server's lock, on the
asyncio servers' loop, synchronously. It must not call back into the
server (``send``, ``disconnect``); ``ping`` hooks defer such work.
"""

from typing import Any, Callable, Optional, Sequence

from .http import Request, Response
from .outcome import Outcome
from .packets import Item
from .session import Session, WsLink

#: the engine attributes :func:`instrument` may shadow
SHADOWED = ('_reply', '_ok', '_post', 'ws_receive', 'ws_take', 'ws_closed',
            '_ping')


class EngineHooks:
    """The hooks of one instrumented engine; None: that step is not
    observed (the engine's own method runs)."""

    answer: Optional[Callable[[Request, Optional[str], Optional[int],
                               Optional[str]], Response]] = None
    post: Optional[Callable[[Session, Request, Callable[[], Outcome]],
                            Outcome]] = None
    received: Optional[Callable[[WsLink, Item], Item]] = None
    sent: Optional[Callable[[WsLink, Sequence[Item]], Sequence[Item]]] = None
    closed: Optional[Callable[[WsLink], None]] = None
    ping: Optional[Callable[[Session], None]] = None


def instrument(engine: Any, hooks: Optional[EngineHooks]) -> None:
    """Install ``hooks`` on ``engine`` (replacing any installed before);
    None restores the engine's own methods.

    Args:
        engine: an :class:`~engineio_fast.protocol.engine.Engine`.
        hooks: the :class:`EngineHooks`, or None.
    """
    for name in SHADOWED:
        # (never engine.__dict__: on CPython >= 3.11 materializing an
        # instance dict makes every attribute read of the engine slower)
        try:
            delattr(engine, name)
        except AttributeError:
            pass
    engine._reply = engine.policy.text
    if hooks is None:
        return
    cls = type(engine)
    answer = hooks.answer
    if answer is not None:
        def reply(req: Request, text: str, jsonp: Optional[int] = None,
                  cookie: Optional[str] = None,
                  jsonp_wrap: Any = None) -> Response:
            return answer(req, text, jsonp, cookie)

        def ok(req: Request) -> Response:
            return answer(req, None, None, None)

        engine._reply = reply
        engine._ok = ok
    post = hooks.post
    if post is not None:
        real_post = cls._post

        def post_hooked(s: Session, req: Request, now: float,
                        jsonp: Optional[int]) -> Outcome:
            return post(s, req, lambda: real_post(engine, s, req, now, jsonp))

        engine._post = post_hooked
    received = hooks.received
    if received is not None:
        real_receive = cls.ws_receive

        def ws_receive(link: WsLink, data: Item, now: float) -> Any:
            return real_receive(engine, link, received(link, data), now)

        engine.ws_receive = ws_receive
    sent = hooks.sent
    if sent is not None:
        real_take = cls.ws_take

        def ws_take(link: WsLink) -> Sequence[Item]:
            items = real_take(engine, link)
            return sent(link, items) if items else items

        engine.ws_take = ws_take
    closed = hooks.closed
    if closed is not None:
        real_closed = cls.ws_closed

        def ws_closed(link: WsLink, now: float, error: bool = False) -> Any:
            closed(link)
            return real_closed(engine, link, now, error)

        engine.ws_closed = ws_closed
    if hooks.ping is not None:
        engine._ping = hooks.ping
