# Session table: the compiled twin of engineio_fast/_pure/sessions.py.
#
# A final cdef class around one dict: lookups from the I/O layers become C
# calls (no Python frame per get/len/contains), and new_sid encodes the
# random bytes straight into a str instead of going through base64 +
# bytes.decode.

cdef enum:
    _SID_BYTES = 15  # 120 random bits -> 20 url-safe base64 characters


@cython.final
@cython.no_gc_clear  # tp_clear must not leave a table without its dict
cdef class SessionTable:
    """A map of sid -> session object that can mint unused sids."""

    cdef dict _map

    def __cinit__(self):
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

    def new_sid(self, str prefix=''):
        """Mint a random url-safe sid, ``prefix`` first (the process that
        owns it: see engineio_fast/cluster/node.py), that is not in the
        table."""
        cdef bytes raw
        cdef str sid
        while True:
            # os.urandom looked up at call time, as the pure twin does, so
            # both draw from the same source (and tests can patch it).
            raw = os.urandom(_SID_BYTES)
            sid = _b64_str(<const unsigned char *>PyBytes_AS_STRING(raw),
                           len(raw), False, _B64URL)
            if prefix:
                sid = prefix + sid
            if sid not in self._map:
                return sid
