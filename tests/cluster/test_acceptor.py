"""The supervisor's acceptor (engineio_fast.cluster.acceptor) on real
sockets: every connection reaches a worker's channel with the bytes read,
the one its sid names or the next in turn; slow, silent, oversized and
vanishing clients are bounded; a full channel is waited for."""

import array
import socket
import time

import pytest

from engineio_fast.cluster import acceptor as acc
from engineio_fast.cluster import handoff, workers

TAG = 'tEsT0'
FD_SPACE = socket.CMSG_SPACE(array.array('i').itemsize * 4)


class Rig:
    def __init__(self, slots=3, alive=None):
        self.listener = workers.listen('127.0.0.1', 0)
        self.port = self.listener.getsockname()[1]
        self.channels = handoff.make_channels(slots)
        self.alive = set(range(slots)) if alive is None else set(alive)
        self.acceptor = acc.Acceptor(
            self.listener, TAG, [tx for tx, _ in self.channels],
            self.alive.__contains__, line_limit=100)
        self.clients = []

    def connect(self, data=b''):
        c = socket.create_connection(('127.0.0.1', self.port), 2)
        if data:
            c.sendall(data)
        self.clients.append(c)
        return c

    def pump(self, until, seconds=3.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.acceptor.poll(0.01)
            if until():
                return True
        return False

    def received(self, slot):
        """(socket, carried bytes) handed to ``slot`` so far."""
        out = []
        rx = self.channels[slot][1]
        while True:
            try:
                data, anc, flags, _ = rx.recvmsg(1 << 20, FD_SPACE)
            except BlockingIOError:
                return out
            fds = array.array('i')
            for _, _, cdata in anc:
                fds.frombytes(cdata)
            assert len(fds) == 1
            out.append((socket.socket(fileno=fds[0]), data))

    def close(self):
        self.acceptor.close()
        for c in self.clients:
            c.close()
        for tx, rx in self.channels:
            tx.close()
            rx.close()


@pytest.fixture
def rig():
    made = []

    def make(**kw):
        r = Rig(**kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def request(sid=None):
    q = 'EIO=4&transport=polling' + ('&sid=' + sid if sid else '')
    return ('GET /engine.io/?%s HTTP/1.1\r\nHost: x\r\n\r\n' % q).encode()


def test_a_sid_goes_to_its_worker_with_the_bytes_read(rig):
    r = rig()
    client = r.connect(request(TAG + 'B' + 'x' * 14))
    got = []
    assert r.pump(lambda: got.extend(r.received(1)) or got)
    sock, data = got[0]
    assert data == request(TAG + 'B' + 'x' * 14)
    # the worker has the very connection: what it writes, the client reads
    sock.sendall(b'HTTP/1.1 200 OK\r\n\r\n')
    assert client.recv(100) == b'HTTP/1.1 200 OK\r\n\r\n'
    sock.close()
    assert r.received(0) == [] and r.received(2) == []


def test_handshakes_and_foreign_sids_go_round(rig):
    r = rig()
    for sid in (None, None, None, 'zzzzzB' + 'x' * 14, None, None):
        r.connect(request(sid))
    counts = [0, 0, 0]

    def six():
        for slot in range(3):
            counts[slot] += len(r.received(slot))
        return sum(counts) == 6
    assert r.pump(six)
    assert counts == [2, 2, 2]


def test_a_slot_with_no_worker_is_skipped(rig):
    r = rig(alive={0, 2})
    r.connect(request(TAG + 'B' + 'x' * 14))    # slot 1: not alive
    r.connect(request())
    counts = [0, 0, 0]

    def two():
        for slot in range(3):
            counts[slot] += len(r.received(slot))
        return sum(counts) == 2
    assert r.pump(two)
    assert counts[1] == 0


def test_a_request_line_in_pieces_is_waited_for(rig):
    r = rig()
    line = request(TAG + 'C' + 'y' * 14)
    client = r.connect(line[:10])
    r.pump(lambda: False, 0.1)
    assert r.received(2) == []
    client.sendall(line[10:])
    got = []
    assert r.pump(lambda: got.extend(r.received(2)) or got)
    assert got[0][1] == line


def test_a_silent_client_goes_on_after_the_line_wait(rig, monkeypatch):
    monkeypatch.setattr(acc, 'LINE_WAIT', 0.2)
    r = rig()
    r.connect()
    started = time.monotonic()
    got = []
    assert r.pump(lambda: got.extend(r.received(0)) or got)
    assert time.monotonic() - started >= 0.19
    assert got[0][1] == b''     # the worker reads on and applies its limits


def test_too_long_a_line_goes_on_unrouted(rig):
    r = rig()
    r.connect(b'GET /' + b'a' * 300)      # no line end within the limit
    got = []
    assert r.pump(lambda: got.extend(r.received(0)) or got)
    assert got[0][1].startswith(b'GET /aaa')


def test_a_client_that_leaves_is_forgotten(rig):
    r = rig()
    c = r.connect()
    r.pump(lambda: bool(r.acceptor.waiting), 1.0)
    c.close()
    assert r.pump(lambda: not r.acceptor.waiting)
    assert all(r.received(s) == [] for s in range(3))


def test_waiting_connections_are_bounded(rig, monkeypatch):
    monkeypatch.setattr(acc, 'MAX_WAITING', 5)
    r = rig()
    for _ in range(12):
        r.connect()
    counts = [0, 0, 0]

    def seven():
        for slot in range(3):
            counts[slot] += len(r.received(slot))
        return sum(counts) >= 7
    assert r.pump(seven, 2.0)
    assert len(r.acceptor.waiting) <= 5


def test_a_full_channel_is_waited_for(rig):
    r = rig(slots=1)
    # fill slot 0's channel
    tx = r.channels[0][0]
    filler = socket.socket()
    sent = 0
    while True:
        result = handoff.send_connection(tx, filler.fileno(), b'x' * 60000)
        if result != handoff.SENT:
            break
        sent += 1
    assert result == handoff.BUSY
    r.connect(request())
    assert r.pump(lambda: bool(r.acceptor.busy), 1.0)
    drained = r.received(0)
    assert len(drained) == sent
    for sock, _ in drained:
        sock.close()
    got = []
    assert r.pump(lambda: got.extend(r.received(0)) or got)
    assert got[0][1] == request()
    assert not r.acceptor.busy
    filler.close()


OUT_OF_FDS = r'''
import array, resource, socket, sys, time
sys.path.insert(0, sys.argv[1])
from engineio_fast.cluster import acceptor, handoff, workers
listener = workers.listen('127.0.0.1', 0)
channels = handoff.make_channels(2)
a = acceptor.Acceptor(listener, 'tEsT0', [tx for tx, _ in channels],
                      lambda slot: True)
# a few descriptors to spare, no more
import os
used = len(os.listdir('/proc/self/fd'))
resource.setrlimit(resource.RLIMIT_NOFILE, (used + 6, resource.getrlimit(
    resource.RLIMIT_NOFILE)[1]))
print(listener.getsockname()[1], flush=True)
space = socket.CMSG_SPACE(array.array('i').itemsize * 4)
handed = 0
cpu0 = time.process_time()
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    a.poll(0.02)
    for _, rx in channels:       # a worker: take what was handed, close it
        while True:
            try:
                _, anc, _, _ = rx.recvmsg(1 << 16, space)
            except BlockingIOError:
                break
            for _, _, data in anc:
                fds = array.array('i')
                fds.frombytes(data)
                for fd in fds:
                    os.close(fd)
                    handed += 1
print(handed, time.process_time() - cpu0, flush=True)
'''


def test_out_of_descriptors_neither_spins_nor_loses(tmp_path):
    """With almost no file descriptors left, silent clients are handed on
    early to free them, accepting pauses rather than spins, and every
    connection still reaches a worker."""
    import subprocess
    import sys
    script = tmp_path / 'oof.py'
    script.write_text(OUT_OF_FDS)
    root = str(__import__('pathlib').Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, str(script), root, '3'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    clients = []
    try:
        port = int(proc.stdout.readline())
        for i in range(40):      # silent ones, then ones that ask at once
            clients.append(socket.create_connection(('127.0.0.1', port), 2))
            if i >= 20:
                clients[-1].sendall(request())
        out = proc.stdout.readline().split()
        assert proc.wait(10) == 0
        err = proc.stderr.read()
    finally:
        for c in clients:
            c.close()
        if proc.poll() is None:
            proc.kill()
    assert 'Too many open files' in err, err     # it did run out
    handed, cpu = int(out[0]), float(out[1])
    assert handed == 40, handed
    assert cpu < 1.5, cpu       # 3 s of wall time: it did not spin
