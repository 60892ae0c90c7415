"""Handshake rate limiting per client address (sans-I/O: ``now`` in).

A token bucket per address: ``count`` handshakes at once, refilled at
``count / seconds`` a second. The table is bounded: past ``max_clients``
addresses the one unseen the longest is forgotten (it starts again with a
full bucket), so a flood of spoofed or distinct addresses costs memory in
proportion to the bound, not to the flood.
"""

from collections import OrderedDict
from typing import Optional, Tuple


class HandshakeLimiter:
    """Args:
        count: handshakes an address may make in a burst (>= 1).
        seconds: the time in which a full burst is allowed again (> 0).
        max_clients: addresses remembered at most.
    """

    __slots__ = ('count', 'rate', 'max_clients', '_buckets')

    def __init__(self, count: int, seconds: float,
                 max_clients: int = 65536) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or \
                count < 1 or not seconds > 0:
            raise ValueError('handshake_rate_limit must be (count >= 1, '
                             'seconds > 0)')
        self.count = count
        self.rate = count / float(seconds)
        self.max_clients = max_clients
        # address -> (tokens, when they were counted)
        self._buckets: 'OrderedDict[str, Tuple[float, float]]' = \
            OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, address: Optional[str], now: float) -> bool:
        """Take one handshake from ``address``'s bucket; False when empty.
        A request without an address (a Unix socket) is not limited."""
        if not address:
            return True
        buckets = self._buckets
        entry = buckets.pop(address, None)
        if entry is None:
            tokens = float(self.count)
            if len(buckets) >= self.max_clients:
                buckets.popitem(last=False)
        else:
            tokens, then = entry
            tokens = min(float(self.count),
                         tokens + max(0.0, now - then) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        buckets[address] = (tokens, now)      # now the most recently seen
        return allowed
