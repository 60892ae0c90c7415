"""The hand-off channel of the built-in server's workers
(engineio_fast.cluster.handoff), one piece at a time: which requests are
routed to a sibling, and a connection's descriptor and bytes travelling
over a real channel (socket pairs, no server)."""

import asyncio
import socket

import pytest

from engineio_fast.cluster import handoff, node

TAG = 'Ab3_x'


def router(slot=0, workers=4):
    return handoff.Router(TAG, slot, handoff.make_channels(workers))


def close(r):
    for sock in r.sends:
        sock.close()
    r.inbox.close()


def line(query, method='GET'):
    return ('%s /engine.io/?%s HTTP/1.1\r\nHost: x\r\n\r\n'
            % (method, query)).encode()


@pytest.mark.parametrize('query, slot', [
    ('EIO=4&transport=polling&sid=Ab3_xBrest', 1),
    ('sid=Ab3_xDrest&EIO=4&transport=websocket', 3),
    ('EIO=4&transport=polling&sid=Ab3_xArest', None),     # mine
    ('EIO=4&transport=polling&sid=Ab3_xErest', None),     # no such slot
    ('EIO=4&transport=polling&sid=Zb3_xBrest', None),     # another tag
    ('EIO=4&transport=polling&sid=Ab3_x', None),          # too short
    ('EIO=4&transport=polling&xsid=Ab3_xBrest', None),    # another key
    ('EIO=4&transport=polling', None),                    # a handshake
    ('EIO=4&transport=polling&t=1&sid=Ab3_xC', 2),        # 6 characters
])
def test_slot_for(query, slot):
    r = router()
    try:
        assert r.slot_for(line(query)) == slot
    finally:
        close(r)


def test_slot_for_a_partial_or_long_request_line():
    r = router()
    try:
        assert r.slot_for(b'GET /engine.io/?sid=Ab3_xB') == handoff.INCOMPLETE
        assert r.slot_for(b'') == handoff.INCOMPLETE
        long = b'GET /' + b'a' * (r.line_limit + 10)
        assert r.slot_for(long) is None
        # a sid in the headers or the body is not routed on
        assert r.slot_for(b'GET / HTTP/1.1\r\nX: sid=Ab3_xB\r\n\r\n') is None
    finally:
        close(r)


def test_router_rejects_bad_arguments():
    channels = handoff.make_channels(2)
    try:
        with pytest.raises(ValueError):
            handoff.Router('abc', 0, channels)
        with pytest.raises(ValueError):
            handoff.Router('ab$cd', 0, channels)
        with pytest.raises(ValueError):
            handoff.Router(TAG, 2, channels)
        assert handoff.Router(TAG, 1, channels).node_id == TAG + 'B'
        assert node.valid(TAG + node.ALPHABET[63])
    finally:
        for tx, rx in channels:
            tx.close()
            rx.close()


def test_a_connection_travels_to_its_sibling():
    channels = handoff.make_channels(2)
    sender = handoff.Router(TAG, 0, channels)
    owner = handoff.Router(TAG, 1, channels)
    client, server_side = socket.socketpair()
    adopted = []
    loop = asyncio.new_event_loop()
    try:
        owner.start(loop, lambda sock, data: adopted.append((sock, data)))
        carried = line('EIO=4&transport=polling&sid=Ab3_xBxyz')
        assert sender.send(1, server_side.fileno(), carried) == handoff.SENT
        server_side.close()          # the sender forgets it: no shutdown
        loop.run_until_complete(asyncio.sleep(0.05))
        assert len(adopted) == 1
        sock, data = adopted[0]
        assert data == carried
        # the adopted descriptor is the same connection, still open
        sock.sendall(b'from the owner')
        client.settimeout(2)
        assert client.recv(100) == b'from the owner'
        client.sendall(b'to the owner')
        sock.settimeout(2)
        assert sock.recv(100) == b'to the owner'
        sock.close()
        assert (sender.handed, owner.adopted) == (1, 1)
    finally:
        owner.stop()
        loop.close()
        client.close()
        for tx, rx in channels:
            tx.close()
            rx.close()


def test_too_much_carried_is_served_here(caplog):
    r = router()
    a, b = socket.socketpair()
    try:
        big = b'x' * (handoff.MAX_CARRY + 1)
        assert r.send(1, a.fileno(), big) == handoff.FAILED
        assert 'not handed on' in caplog.text
    finally:
        a.close()
        b.close()
        close(r)


def test_a_malformed_datagram_is_dropped(caplog):
    channels = handoff.make_channels(2)
    owner = handoff.Router(TAG, 1, channels)
    adopted = []
    loop = asyncio.new_event_loop()
    try:
        owner.start(loop, lambda sock, data: adopted.append(data))
        channels[1][0].send(b'no descriptor')    # bytes without an fd
        loop.run_until_complete(asyncio.sleep(0.05))
        assert adopted == []
        assert 'dropped a malformed hand-off' in caplog.text
    finally:
        owner.stop()
        loop.close()
        for tx, rx in channels:
            tx.close()
            rx.close()


def test_a_full_channel_says_busy():
    channels = handoff.make_channels(2)
    sender = handoff.Router(TAG, 0, channels)
    a, b = socket.socketpair()
    try:
        results = set()
        for _ in range(10000):     # bounded: the queue fills long before
            result = sender.send(1, a.fileno(), b'x' * 60000)
            results.add(result)
            if result != handoff.SENT:
                break
        assert results == {handoff.SENT, handoff.BUSY}
    finally:
        a.close()
        b.close()
        for tx, rx in channels:
            tx.close()
            rx.close()
