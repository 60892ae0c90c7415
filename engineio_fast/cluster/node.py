"""The id of this process among the processes that serve one service.

Every sid a server mints starts with it (``NODE_LEN`` url-safe characters),
so any process can tell from a sid alone which process owns the session:
the built-in server's workers hand a request to its owner by it, and the
client managers address the owner's inbox by it.

The id is random per process (so two hosts, or two unrelated servers on one
Redis, do not meet), unless :data:`NODE_ENV` names it (read at a process's
first use) or :func:`set_node_id` does: the built-in server's supervisor
gives worker ``k`` the id ``<its own random tag><k>``, so a restarted
worker takes over its slot. A forked child (gunicorn's workers after
``--preload``, multiprocessing) draws a new random id, and the servers
created before the fork mint their sids with it.
"""

import os
import secrets
import weakref
from typing import Any, Optional

NODE_LEN = 6
NODE_ENV = 'ENGINEIO_FAST_NODE_ID'
ALPHABET = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
            '0123456789-_')

_node: Optional[str] = None
_engines: 'weakref.WeakSet[Any]' = weakref.WeakSet()


def valid(node: str) -> bool:
    """Whether ``node`` is a well-formed node id."""
    return len(node) == NODE_LEN and all(c in ALPHABET for c in node)


def random_tag(length: int) -> str:
    """``length`` random characters of the sid alphabet."""
    return ''.join(secrets.choice(ALPHABET) for _ in range(length))


def node_id() -> str:
    """This process's node id (from :data:`NODE_ENV`, else random).

    Raises:
        ValueError: if :data:`NODE_ENV` is set to a malformed id.
    """
    global _node
    if _node is None:
        named = os.environ.get(NODE_ENV)
        if named is not None and not valid(named):
            raise ValueError('%s must be %d characters of [A-Za-z0-9_-], '
                             'not %r' % (NODE_ENV, NODE_LEN, named))
        _node = named or random_tag(NODE_LEN)
    return _node


def owner_of(sid: str) -> Optional[str]:
    """The node id a sid starts with (None for a sid too short to have
    one)."""
    if len(sid) <= NODE_LEN:
        return None
    return sid[:NODE_LEN]


def is_mine(sid: str) -> bool:
    """Whether ``sid`` was minted by this process."""
    return sid.startswith(node_id())


def attach(engine: Any) -> None:
    """Make ``engine`` (a protocol Engine) mint its sids with this
    process's id, now and in forked children."""
    engine.sid_prefix = node_id()
    _engines.add(engine)


def set_node_id(node: str) -> None:
    """Name this process's node id (the built-in server's workers) and
    mint every attached engine's next sids with it.

    Raises:
        ValueError: if ``node`` is malformed.
    """
    global _node
    if not valid(node):
        raise ValueError('a node id is %d characters of [A-Za-z0-9_-], '
                         'not %r' % (NODE_LEN, node))
    _node = node
    for engine in list(_engines):
        engine.sid_prefix = node


def _after_fork() -> None:
    # a forked child never keeps its parent's id, not even one named in
    # the environment it inherits (gunicorn --preload -w 4 would give all
    # four workers one id); a supervisor names its workers' ids itself
    global _node
    _node = random_tag(NODE_LEN)
    for engine in list(_engines):
        engine.sid_prefix = _node


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_after_fork)
