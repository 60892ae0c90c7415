"""Opt-in Prometheus metrics of an Engine.IO server
(``pip install engineio-fast[metrics]``).

Turn them on for a server with :func:`enable` (or the server option
``metrics=True``), then expose them: register an :class:`EngineCollector`
in the registry your application already serves
(``prometheus_client.REGISTRY.register(EngineCollector(eio))``), or serve
``/metrics`` from the built-in server (``engineio-fast --metrics``,
``run(app, metrics=True)``), which renders :func:`exposition`.

Counting happens in the one engine every server runs
(:mod:`engineio_fast.protocol.stats`), as plain integers read at scrape
time: the same metrics on the built-in server, ASGI and WSGI servers,
sync and asyncio. Labels are transports, disconnect reasons and refusal
causes only: never a session id or a client address.

The metrics (``namespace`` ``engineio`` by default):

- ``engineio_sessions{transport}`` (gauge): open sessions;
- ``engineio_sessions_upgrading`` (gauge): polling sessions mid-upgrade;
- ``engineio_handshakes_total{transport}``: sessions opened (accepted by
  the connect handler);
- ``engineio_upgrades_total``: polling sessions upgraded to websocket;
- ``engineio_messages_received_total``, ``engineio_messages_sent_total``:
  message packets from clients, and queued for them (pings excluded);
- ``engineio_received_bytes_total``: the size of websocket message
  packets and polling POST bodies received;
- ``engineio_sent_bytes_total``: the size of the message packets queued
  for clients; text counts in characters;
- ``engineio_disconnects_total{reason}``: by python-engineio's reasons;
- ``engineio_ping_timeouts_total``: disconnects for a missing pong;
- ``engineio_rejected_requests_total{cause}``: refused requests by the
  message of their error body (``Session ID unknown``, ``Transport
  unknown``, ``Not an accepted origin``, ...), ``Unauthorized`` for a
  connect handler's refusal;
- ``engineio_queued_bytes`` (gauge): bytes waiting in send queues now;
- ``engineio_queue_high_water_bytes`` (gauge): the largest send queue a
  send made since metrics were enabled;
- ``engineio_received_packet_high_water_bytes`` (gauge): the largest
  websocket message or POST body received (compare with
  ``max_http_buffer_size``).
"""

from typing import Any, Dict, Iterator, Mapping, Optional, Tuple, Union

from .protocol import stats as _stats


def _engine_of(server: Any) -> Any:
    """The protocol engine of an engineio_fast Server or AsyncServer, a
    python-socketio server running on one, or an ASGIApp / WSGIApp
    wrapping either."""
    seen = 0
    while seen < 4:
        engine = getattr(server, '_engine', None)
        if engine is not None and hasattr(engine, 'sessions'):
            return engine
        inner = None
        for name in ('eio', 'engineio_server', 'engineio_app'):
            inner = getattr(server, name, None)
            if inner is not None:
                break
        if inner is None:
            break
        server = inner
        seen += 1
    raise TypeError('%r is not an engineio_fast server (nor a '
                    'python-socketio server or ASGI/WSGI app running on '
                    'one)' % (server,))


def enable(server: Any) -> _stats.EngineStats:
    """Count what ``server`` does from now on (idempotent).

    Args:
        server: an engineio_fast ``Server`` or ``AsyncServer``, a
            python-socketio server on engineio_fast, or an
            ``ASGIApp``/``WSGIApp`` wrapping one.

    Returns:
        The engine's :class:`~engineio_fast.protocol.stats.EngineStats`.
    """
    return _stats.meter(_engine_of(server))


Servers = Union[Any, Mapping[str, Any]]


class EngineCollector:
    """A ``prometheus_client`` collector of one server's metrics, or of
    several (a mapping ``{name: server}``: each metric then carries a
    ``server`` label with the name), read at scrape time. Creating it
    enables counting (:func:`enable`).

    Register it once per registry: several servers in one registry go in
    one collector (the mapping), or in collectors with distinct
    ``namespace`` values.

    Args:
        servers: a server (as :func:`enable` takes), or a mapping of names
            to servers.
        namespace: the metric names' prefix.
    """

    def __init__(self, servers: Servers,
                 namespace: str = 'engineio') -> None:
        if isinstance(servers, Mapping):
            self._engines: Tuple[Tuple[Optional[str], Any], ...] = tuple(
                (str(name), _engine_of(server))
                for name, server in servers.items())
            for _, server in servers.items():
                enable(server)
        else:
            self._engines = ((None, _engine_of(servers)),)
            enable(servers)
        self.namespace = namespace

    def collect(self) -> Iterator[Any]:
        """The metric families (called by the registry at each scrape)."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
        )
        ns = self.namespace
        named = self._engines[0][0] is not None
        extra = ['server'] if named else []
        families: Dict[str, Any] = {}

        def family(kind: Any, name: str, doc: str,
                   labels: Tuple[str, ...] = ()) -> Any:
            fam = families.get(name)
            if fam is None:
                fam = families[name] = kind(
                    '%s_%s' % (ns, name), doc,
                    labels=list(labels) + extra)
            return fam

        for server_name, engine in self._engines:
            snap = _stats.snapshot(engine)
            st = snap.stats
            tail = [server_name] if named else []
            fam = family(GaugeMetricFamily, 'sessions', 'Open sessions',
                         ('transport',))
            for transport, n in snap.sessions.items():
                fam.add_metric([transport] + tail, n)
            family(GaugeMetricFamily, 'sessions_upgrading',
                   'Polling sessions with an upgrade under way'
                   ).add_metric(tail, snap.upgrading)
            fam = family(CounterMetricFamily, 'handshakes',
                         'Sessions opened (accepted handshakes)',
                         ('transport',))
            for transport, n in st.handshakes.items():
                fam.add_metric([transport] + tail, n)
            family(CounterMetricFamily, 'upgrades',
                   'Polling sessions upgraded to websocket'
                   ).add_metric(tail, st.upgrades)
            family(CounterMetricFamily, 'messages_received',
                   'Message packets received from clients'
                   ).add_metric(tail, st.messages_in)
            family(CounterMetricFamily, 'messages_sent',
                   'Message packets queued for clients'
                   ).add_metric(tail, st.messages_out)
            family(CounterMetricFamily, 'received_bytes',
                   'Size of websocket message packets and POST bodies '
                   'received').add_metric(tail, st.bytes_in)
            family(CounterMetricFamily, 'sent_bytes',
                   'Size of the message packets queued for clients'
                   ).add_metric(tail, st.bytes_out)
            fam = family(CounterMetricFamily, 'disconnects',
                         'Disconnects by reason', ('reason',))
            for reason, n in st.disconnects.items():
                fam.add_metric([reason] + tail, n)
            family(CounterMetricFamily, 'ping_timeouts',
                   'Sessions closed for a missing pong').add_metric(
                       tail, st.disconnects.get(
                           _stats.DISCONNECT_PING_TIMEOUT, 0))
            fam = family(CounterMetricFamily, 'rejected_requests',
                         'Refused requests by cause', ('cause',))
            for cause, n in st.rejected.items():
                fam.add_metric([cause] + tail, n)
            family(GaugeMetricFamily, 'queued_bytes',
                   'Bytes waiting in the send queues').add_metric(
                       tail, snap.queued)
            family(GaugeMetricFamily, 'queue_high_water_bytes',
                   'Largest send queue a send made so far'
                   ).add_metric(
                       tail, st.max_queue)
            family(GaugeMetricFamily, 'received_packet_high_water_bytes',
                   'Largest websocket message or POST body received so far'
                   ).add_metric(tail, st.max_packet)
        return iter(families.values())


class Exposition:
    """The text exposition of one server's metrics (and this process's:
    CPU, memory, file descriptors, GC), for a ``/metrics`` endpoint.

    Args:
        server: the server (as :func:`enable` takes).
    """

    def __init__(self, server: Any) -> None:
        try:
            import prometheus_client as _prom
        except ImportError:
            raise ImportError(
                'metrics need prometheus_client: pip install '
                '"engineio-fast[metrics]"') from None
        registry = _prom.CollectorRegistry(auto_describe=False)
        registry.register(EngineCollector(server))
        _prom.ProcessCollector(registry=registry)
        _prom.GCCollector(registry=registry)
        self._registry = registry
        self._generate = _prom.generate_latest
        #: the response's Content-Type
        self.content_type: str = _prom.CONTENT_TYPE_LATEST

    def render(self) -> bytes:
        """The metrics now, in the text exposition format."""
        return self._generate(self._registry)
