"""Trusted proxy headers for the built-in server, as uvicorn's
``--proxy-headers`` / ``--forwarded-allow-ips`` read them.

When the connection's peer is a trusted proxy, ``X-Forwarded-For`` gives
the client's address (the rightmost entry that is not itself a trusted
proxy: each proxy appends the address it saw) and ``X-Forwarded-Proto``
the scheme the client used. From any other peer both are ignored. A value
that is not an IP address (or a scheme) is ignored as a whole: the
request keeps the peer's address rather than a made-up one. The RFC 7239
``Forwarded`` header is not read (uvicorn does not read it either).
"""

import ipaddress
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

_Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
_SCHEMES = ('http', 'https', 'ws', 'wss')
# peers whose verdict is remembered (every connection asks for its peer's:
# parsing the address each time was a few per cent of a websocket
# connection's CPU); the memo is emptied when it reaches this many
_MEMO_MAX = 1024


def default_allow_ips() -> str:
    """uvicorn's default: ``$FORWARDED_ALLOW_IPS``, else ``127.0.0.1``."""
    return os.environ.get('FORWARDED_ALLOW_IPS', '127.0.0.1')


class ProxyHeaders:
    """Which peers are trusted, and what their headers say.

    Args:
        allow_ips: a comma-separated string or a list of addresses and
            networks (``10.0.0.0/8``), ``*`` for every peer; an entry that is
            neither (``unix:``, a host name) is matched as written.
    """

    def __init__(self, allow_ips: Union[str, Sequence[str]]) -> None:
        if isinstance(allow_ips, str):
            allow_ips = allow_ips.split(',')
        entries = [e.strip() for e in allow_ips if e.strip()]
        self.everyone = '*' in entries
        self.networks: List[_Network] = []
        self.literals = set()
        for entry in entries:
            if entry == '*':
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.literals.add(entry)
        self._memo: Dict[str, bool] = {}

    def trusts(self, host: Optional[str]) -> bool:
        """True if a connection from ``host`` may say who the client is."""
        if self.everyone:
            return True
        if host is None:
            return False
        memo = self._memo
        verdict = memo.get(host)
        if verdict is None:
            verdict = self._trusts(host)
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            memo[host] = verdict
        return verdict

    def _trusts(self, host: str) -> bool:
        if host in self.literals:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if any(address in net for net in self.networks):
            return True
        # a server listening on '::' sees IPv4 peers as ::ffff:a.b.c.d:
        # they match the IPv4 entries (127.0.0.1 by default) as themselves
        mapped = getattr(address, 'ipv4_mapped', None)
        return mapped is not None and any(mapped in net
                                          for net in self.networks)

    def resolve(self, headers: Sequence[Tuple[bytes, bytes]],
                peer: Optional[Tuple[str, int]],
                scheme: str) -> Tuple[Optional[Tuple[str, int]], str]:
        """``(client, scheme)`` of a request from trusted ``peer`` with
        ``headers`` (name, value) byte pairs; ``peer``/``scheme`` when its
        headers say nothing usable."""
        forwarded: List[bytes] = []
        proto: List[bytes] = []
        for name, value in headers:
            if len(name) == 15 and name.lower() == b'x-forwarded-for':
                forwarded.append(value)
            elif len(name) == 17 and name.lower() == b'x-forwarded-proto':
                proto.append(value)
        client = peer
        if forwarded:
            found = self._client(b','.join(forwarded))
            if found is not None:
                client = (found, 0)
        if proto:
            value = b','.join(proto).split(b',')[-1].strip().lower()
            try:
                text = value.decode('ascii')
            except UnicodeDecodeError:
                text = ''
            if text in _SCHEMES:
                scheme = text
        return client, scheme

    def _client(self, value: bytes) -> Optional[str]:
        try:
            text = value.decode('ascii')
        except UnicodeDecodeError:
            return None
        hops = [h.strip() for h in text.split(',')]
        for hop in reversed(hops):
            try:
                address = str(ipaddress.ip_address(hop))
            except ValueError:
                return None         # not an address: ignore the header
            if not self.trusts(address):
                return address
        # every hop is a trusted proxy: the first one is the client
        return str(ipaddress.ip_address(hops[0])) if hops else None
