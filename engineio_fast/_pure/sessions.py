"""Session table: the executable spec of the compiled kernel.

Maps session ids to session objects and mints new ids. Snapshots
(``sids``/``values``) are lists, so callers may close sessions while they
walk them.
"""

import base64
import os

SID_BYTES = 15  # 120 random bits -> 20 url-safe base64 characters


class SessionTable:
    """A map of sid -> session object that can mint unused sids."""

    __slots__ = ('_map',)

    def __init__(self):
        self._map = {}

    def __len__(self):
        return len(self._map)

    def __contains__(self, sid):
        return sid in self._map

    def get(self, sid):
        """Return the session for ``sid`` or None."""
        return self._map.get(sid)

    def add(self, sid, session):
        """Store ``session`` under ``sid``; ValueError if ``sid`` is taken."""
        if sid in self._map:
            raise ValueError('session id already in use')
        self._map[sid] = session

    def remove(self, sid):
        """Remove and return the session for ``sid`` (None if absent)."""
        return self._map.pop(sid, None)

    def sids(self):
        """A list of the sids now in the table."""
        return list(self._map)

    def values(self):
        """A list of the sessions now in the table."""
        return list(self._map.values())

    def new_sid(self, prefix=''):
        """Mint a random url-safe sid, ``prefix`` first (the process that
        owns it: see engineio_fast/cluster/node.py), that is not in the
        table."""
        while True:
            sid = prefix + \
                base64.urlsafe_b64encode(os.urandom(SID_BYTES)).decode()
            if sid not in self._map:
                return sid
