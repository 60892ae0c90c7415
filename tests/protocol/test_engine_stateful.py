"""A hypothesis stateful test of the sans-I/O engine: random sequences of
requests (handshakes on both transports, GETs, parked GETs, POSTs, duplicate
polls, websocket messages, probes and upgrades, connections that vanish),
API calls (send, disconnect, close_all, connect verdicts that arrive late)
and clock steps, driven through a small model of an adapter. After every
step:

- no closed session is left in the session table or the closing table
  (which holds only server-closed sessions whose close packet still waits
  for a GET), and every closing entry has its deadline in the timer heap;
- every accepted connect gets exactly one disconnect, after it; a refused
  one gets none; no message event for a session that is not connected;
- no close packet is delivered twice, and a parked GET of a closed session
  is answered;
- a sid that is gone answers 400 (unknown sid) to every request;
- the tables are bounded (a far clock step leaves only live sessions), and
  the timer heap holds a few entries per session made, however many
  messages and pongs came (python-engineio's CVE-2026-48802 class);
- a session's queued byte count is the size of what it holds (the open
  packet of a websocket included), never over ``max_queue_bytes``;
- an OPEN session always has a timer (its heartbeat) ahead of it.

Run for both kernel sets (the session table and timer heap are kernels).
"""

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from engineio_fast.protocol import engine as E
from engineio_fast.protocol.http import HttpPolicy, Request
from engineio_fast.protocol.session import CLOSED, CLOSING, CONNECTING, OPEN


def _req(method='GET', body=None, ws=False, sid=None):
    q = {'EIO': '4', 'transport': 'websocket' if ws else 'polling'}
    if sid is not None:
        q['sid'] = sid
    return Request(method, q, {}, 'http', body, ws, {})


def _packets(resp):
    if resp.status != 200:
        return []
    return resp.body.decode().split('\x1e')


BODIES = ['4hi', '3', '1', '9', '6', '4a\x1e1', '', 'x', '4b\x1e3',
          '2probe', '4' + 'y' * 120]
WS_DATA = ['2probe', '5', '4ws', '3', '1', '9', '6', 'junk', b'\x01bin']


class EngineMachine(RuleBasedStateMachine):
    kernels = None   # set by the subclass

    def __init__(self):
        super().__init__()
        self.engine = E.Engine(
            E.EngineConfig(ping_interval=1, ping_timeout=1,
                           upgrade_timeout=2, close_grace=1.5,
                           max_queue_bytes=60, max_http_buffer_size=100),
            HttpPolicy(), json.loads,
            lambda o: json.dumps(o, separators=(',', ':')),
            kernels=self.kernels)
        self.now = 0.0
        self.sids = []              # every sid the engine ever minted
        self.pending = []           # CONNECT outcomes awaiting a verdict
        self.connected = set()      # sids whose connect was accepted
        self.refused = set()
        self.disconnected = set()
        self.reasons = {}
        self.parked = {}            # sid -> (session, woken list)
        self.links = []             # [link, woken list]
        self.closes = {}            # sid -> close packets delivered
        self.handshakes = 0

    # -- the model adapter -------------------------------------------------
    def events(self, events):
        for name, sid, _arg in events or ():
            assert sid in self.connected, (name, sid)
            assert sid not in self.disconnected, (name, sid)
            if name == 'disconnect':
                self.disconnected.add(sid)
                self.reasons[sid] = _arg

    def delivered(self, sid, packets):
        n = sum(1 for p in packets if p == '1')
        if n:
            self.closes[sid] = self.closes.get(sid, 0) + n
            assert self.closes[sid] == 1, (sid, self.closes[sid])
            assert self.engine.get(sid) is None

    def settle(self):
        """What an adapter does after the engine woke it: answer parked
        GETs, write websocket items, close links the engine ended."""
        engine = self.engine
        for _ in range(8):
            busy = False
            for sid, (s, woken) in list(self.parked.items()):
                if not woken:
                    continue
                woken.clear()
                resp = engine.take_poll(s, _req(sid=sid))
                if resp is None:
                    s.poll_waker = lambda w=woken: w.append(1)
                    continue
                del self.parked[sid]
                self.delivered(sid, _packets(resp))
                busy = True
            for entry in list(self.links):
                link, woken = entry
                woken.clear()
                items = engine.ws_take(link)
                if items:
                    busy = True
                    if not link.is_probe or items != ['3probe']:
                        self.delivered(link.session.sid, items)
                if link.closing:
                    self.links.remove(entry)
                    self.events(engine.ws_closed(link, self.now))
                    busy = True
            if not busy:
                return

    def pick(self, i):
        return self.sids[i % len(self.sids)] if self.sids else 'nosuchsid'

    def session(self, i):
        sid = self.pick(i)
        return self.engine.get(sid)

    def handle(self, r):
        out = self.engine.handle_http(r, self.now)
        self.events(out.events)
        return out

    def park(self, out, sid):
        woken = []
        out.session.poll_waker = lambda: woken.append(1)
        self.parked[sid] = (out.session, woken)

    def add_link(self, link):
        woken = []
        link.waker = lambda: woken.append(1)
        self.links.append([link, woken])
        woken.append(1)

    # -- requests ----------------------------------------------------------
    @rule(ws=st.booleans())
    def handshake(self, ws):
        out = self.handle(_req(ws=ws))
        assert out.kind == E.CONNECT
        self.handshakes += 1
        self.sids.append(out.session.sid)
        self.pending.append((out, ws))

    @rule(i=st.integers(0, 50), accept=st.booleans())
    def verdict(self, i, accept):
        if not self.pending:
            return
        out, ws = self.pending.pop(i % len(self.pending))
        sid = out.session.sid
        done = self.engine.connect_done(out, _req(ws=ws), (accept, None),
                                        self.now)
        if not accept:
            assert done.kind == E.RESPOND and done.response.status == 401
            assert not done.events
            self.refused.add(sid)
            return
        self.connected.add(sid)
        if ws:
            assert done.kind == E.WEBSOCKET
            self.add_link(done.link)
        else:
            assert done.response.status == 200
            self.delivered(sid, _packets(done.response)[1:])
        self.events(done.events)
        self.settle()

    @rule(i=st.integers(0, 50))
    def get(self, i):
        sid = self.pick(i)
        out = self.handle(_req(sid=sid))
        if out.kind == E.WAIT:
            assert sid not in self.parked
            self.park(out, sid)
        else:
            assert out.kind == E.RESPOND
            self.delivered(sid, _packets(out.response))
        self.settle()

    @rule(i=st.integers(0, 50), body=st.sampled_from(BODIES))
    def post(self, i, body):
        out = self.handle(_req('POST', body.encode(), sid=self.pick(i)))
        assert out.kind == E.RESPOND
        self.settle()

    @rule(i=st.integers(0, 50), body=st.binary(max_size=24))
    def post_bytes(self, i, body):
        out = self.handle(_req('POST', body, sid=self.pick(i)))
        assert out.kind == E.RESPOND
        assert out.response.status in (200, 400), out.response
        self.settle()

    @rule(i=st.integers(0, 50), n=st.integers(1, 60))
    def ws_pongs(self, i, n):
        if not self.links:
            return
        link = self.links[i % len(self.links)][0]
        for _ in range(n):
            self.events(self.engine.ws_receive(link, '3', self.now))
        self.settle()

    @rule(i=st.integers(0, 50))
    def post_cut_short(self, i):
        out = self.engine.post_lost(_req('POST', None, sid=self.pick(i)),
                                    self.now)
        self.events(out.events)
        self.settle()

    @rule(i=st.integers(0, 50))
    def parked_get_vanishes(self, i):
        sid = self.pick(i)
        if sid in self.parked:
            s, _ = self.parked.pop(sid)
            self.events(self.engine.poll_lost(s, self.now))
            self.settle()

    @rule(i=st.integers(0, 50))
    def websocket(self, i):
        out = self.handle(_req(ws=True, sid=self.pick(i)))
        if out.kind == E.WEBSOCKET:
            self.add_link(out.link)
        else:
            assert out.kind == E.RESPOND and out.response.status == 400
        self.settle()

    @rule(i=st.integers(0, 50), data=st.sampled_from(WS_DATA))
    def ws_message(self, i, data):
        if not self.links:
            return
        link = self.links[i % len(self.links)][0]
        self.events(self.engine.ws_receive(link, data, self.now))
        self.settle()

    @rule(i=st.integers(0, 50))
    def ws_vanishes(self, i):
        if not self.links:
            return
        entry = self.links.pop(i % len(self.links))
        self.events(self.engine.ws_closed(entry[0], self.now))
        self.settle()

    # -- the application ---------------------------------------------------
    @rule(i=st.integers(0, 50), size=st.integers(0, 40))
    def send(self, i, size):
        s = self.session(i)
        if s is None:
            return
        ret = self.engine.send(s, '4' + 'z' * size)
        if ret is not True and ret is not False and ret is not None:
            self.events([ret])
        self.settle()

    @rule(i=st.integers(0, 50))
    def disconnect(self, i):
        s = self.session(i)
        if s is not None:
            ev = self.engine.close(s, 'server disconnect', self.now)
            self.events([ev] if ev else None)
            self.settle()

    @rule()
    def close_all(self):
        self.events(self.engine.close_all('server disconnect', self.now))
        self.settle()

    # -- time --------------------------------------------------------------
    @rule(dt=st.sampled_from([0.01, 0.05, 0.1, 0.5, 1.0, 1.6]))
    def step(self, dt):
        self.now += dt
        self.events(self.engine.tick(self.now))
        self.settle()

    @rule()
    def far_step(self):
        engine = self.engine
        for _ in range(3):
            self.now += 1000
            self.events(engine.tick(self.now))
            self.settle()
        # every timer still in the heap belongs to a live session
        assert not engine.closing
        assert len(engine.timers) <= 2 * len(engine.sessions)

    # -- invariants --------------------------------------------------------
    @invariant()
    def tables_hold_no_closed_session(self):
        engine = self.engine
        for s in engine.sessions.values():
            assert s.state in (CONNECTING, OPEN)
            assert s.sid not in engine.closing
            assert s.sid not in self.disconnected
        for sid, s in engine.closing.items():
            assert s.state == CLOSING and sid in self.disconnected
            # only a server close keeps anything for a later GET
            assert self.reasons[sid] == 'server disconnect'
            nd = engine.next_deadline()
            assert nd is not None and nd <= s.deadline
            heap = getattr(engine.timers, '_heap', None)
            if heap is not None:
                assert any(item is s and when == s.deadline
                           for when, _seq, item in heap)
        assert len(engine.sessions) + len(engine.closing) <= self.handshakes

    @invariant()
    def queues_add_up(self):
        for s in self.engine.sessions.values():
            assert s.queue_bytes == sum(len(x) for x in s.queue), s.sid
            assert s.queue_bytes <= 60 + 1, s.sid

    @invariant()
    def open_sessions_have_a_timer(self):
        engine = self.engine
        if any(s.state == OPEN for s in engine.sessions.values()):
            assert engine.next_deadline() is not None
        assert len(engine.timers) <= 4 * self.handshakes + 4, (
            len(engine.timers), self.handshakes)

    @invariant()
    def connects_and_disconnects_pair(self):
        engine = self.engine
        assert self.disconnected <= self.connected
        assert not (self.connected & self.refused)
        for sid in self.connected - self.disconnected:
            s = engine.get(sid)
            assert s is not None and s.state == OPEN, sid

    @invariant()
    def parked_gets_of_closed_sessions_are_answered(self):
        for sid, (s, _) in self.parked.items():
            assert s.state in (OPEN, CLOSING), (sid, s.state)
            assert s.poll_pending

    @invariant()
    def gone_sids_answer_400(self):
        engine = self.engine
        pending = {out.session.sid for out, _ in self.pending}
        for sid in self.sids:
            if sid in pending or engine.get(sid) is not None or \
                    sid in engine.closing:
                continue
            for r in (_req(sid=sid), _req('POST', b'4x', sid=sid),
                      _req(ws=True, sid=sid)):
                out = engine.handle_http(r, self.now)
                assert out.kind == E.RESPOND
                assert out.response.status == 400
                assert json.loads(out.response.body)['code'] == 1
        for s in engine.sessions.values():
            assert s.state != CLOSED


def _machine(kernels):
    return type('Machine', (EngineMachine,), {'kernels': kernels})


SETTINGS = settings(max_examples=150, stateful_step_count=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_engine_state_machine(kernels):
    # ``kernels``: each available kernel set (tests/conftest.py)
    machine = _machine(kernels)
    machine.TestCase.settings = SETTINGS
    machine.TestCase('runTest').runTest()
