"""Client managers: what a server knows of the sessions of the other
processes serving the same service (``eio.manager``).

Every server has one. The in-process managers here are the default: a
process knows its own sessions and nothing else, as with python-engineio.
The Redis managers (``engineio_fast.RedisManager`` for :class:`Server`,
``engineio_fast.AsyncRedisManager`` for :class:`AsyncServer`) reach every
process that shares a Redis server: see
:mod:`engineio_fast.cluster.redis_relay` for how, and for the delivery
guarantee.

What a server asks of its manager (the interface the Redis managers
implement):

- ``attach(server)``: the manager serves this server (once);
- ``start()``: the server has started serving (first request, or the
  asyncio server's loop is known); idempotent;
- ``forward(sid, kind, item) -> bool``: ``sid`` is no session of this
  process: deliver ``item`` (kind ``b'm'``) or close the session (kind
  ``b'c'``) in the process that owns it. False: nobody can, the server
  logs its usual warning;
- ``publish(item, skip)``: a broadcast already delivered here, for every
  other process;
- ``get_participants(namespace)``: the connected sids;
- ``close()``: the server shuts down.
"""

from typing import Any, Generator, Iterable, List, Optional

from ..protocol.session import OPEN
from .redis_relay import Item

#: Engine.IO has one namespace
NAMESPACE = '/'


def _check_namespace(namespace: Optional[str]) -> bool:
    return namespace in (None, NAMESPACE)


class BaseManager:
    """What the in-process managers share."""

    server: Any = None

    def attach(self, server: Any) -> None:
        """Serve ``server``.

        Raises:
            RuntimeError: the manager already serves another server.
        """
        if self.server is not None and self.server is not server:
            raise RuntimeError('a client manager serves one server')
        self.server = server

    def forward(self, sid: str, kind: bytes, item: Optional[Item]) -> bool:
        """Deliver to a session of another process: none here."""
        return False

    def publish(self, item: Item, skip: Iterable[str] = ()) -> None:
        """Broadcast to the other processes: none here."""

    def local_sids(self) -> List[str]:
        """The sids of the sessions open in this process."""
        server = self.server
        if server is None:
            return []
        return [s.sid for s in server._engine.sessions.values()
                if s.state == OPEN]


class Manager(BaseManager):
    """The default client manager of :class:`engineio_fast.Server`: the
    sessions of this process only."""

    def start(self) -> None:
        """Nothing to start."""

    def get_participants(self, namespace: Optional[str] = '/') -> List[str]:
        """The sids of the connected clients.

        Args:
            namespace: ``'/'`` (Engine.IO's only namespace); any other
                gives an empty list.

        Returns:
            A list of sids (of this process).
        """
        if not _check_namespace(namespace):
            return []
        return self.local_sids()

    def close(self) -> None:
        """Nothing to close."""


class Participants(List[str]):
    """A list of sids that awaiting gives back (see
    :meth:`AsyncManager.get_participants`)."""

    def __await__(self) -> Generator[Any, None, 'Participants']:
        return self
        yield       # a generator that finishes at once


class AsyncManager(BaseManager):
    """The default client manager of :class:`engineio_fast.AsyncServer`:
    the sessions of this process only."""

    def start(self) -> None:
        """Nothing to start."""

    def get_participants(self,
                         namespace: Optional[str] = '/') -> 'Participants':
        """The sids of the connected clients, as a list that can also be
        awaited: ``await eio.manager.get_participants('/')`` (as with
        :class:`engineio_fast.AsyncRedisManager`, whose answer needs
        Redis) and ``for sid in eio.manager.get_participants('/')`` (as
        python-socketio's in-process manager is used) both work.

        Args:
            namespace: ``'/'`` (Engine.IO's only namespace); any other
                gives an empty list.

        Returns:
            A list of sids (of this process).
        """
        if not _check_namespace(namespace):
            return Participants()
        return Participants(self.local_sids())

    async def close(self) -> None:
        """Nothing to close."""
