"""The sans-I/O websocket pieces every server adapter shares
(engineio_fast.protocol.websocket): the opening handshake (headers in,
bytes or a refusal out) and the frames-to-messages assembly (frames parsed
by each kernel in, messages and close codes out).

The refusals are the JavaScript server's (engine.io 6.6 on ws 8): its
answers to each request below were read off the wire from node_modules'
server; the permessage-deflate offers follow RFC 7692."""

import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engineio_fast.protocol import websocket as W

from .ws_frames import frame

RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='          # RFC 6455 1.3
RFC_ACCEPT = b's3pPLMBiTxaQ9kYGzzhZRbK+xOo='

OK_HEADERS = {'upgrade': 'websocket', 'connection': 'Upgrade',
              'sec-websocket-key': RFC_KEY, 'sec-websocket-version': '13'}

PLAIN_101 = (b'HTTP/1.1 101 Switching Protocols\r\n'
             b'Upgrade: websocket\r\nConnection: Upgrade\r\n'
             b'Sec-WebSocket-Accept: ' + RFC_ACCEPT + b'\r\n\r\n')
DEFLATE_101 = (b'HTTP/1.1 101 Switching Protocols\r\n'
               b'Upgrade: websocket\r\nConnection: Upgrade\r\n'
               b'Sec-WebSocket-Accept: ' + RFC_ACCEPT + b'\r\n'
               b'Sec-WebSocket-Extensions: permessage-deflate; '
               b'server_no_context_takeover; client_no_context_takeover\r\n'
               b'\r\n')


def headers(**changes):
    """OK_HEADERS with changes (a value of None drops the header)."""
    out = dict(OK_HEADERS)
    for name, value in changes.items():
        name = name.replace('_', '-')
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


# -- the handshake -----------------------------------------------------------

def test_rfc_6455_example_key():
    hs = W.handshake('GET', headers())
    assert hs.refusal is None
    assert hs.response == PLAIN_101
    assert hs.deflate is None
    assert W.accept_key(RFC_KEY) == RFC_ACCEPT


@pytest.mark.parametrize('changes', [
    {'sec_websocket_version': '8'},          # the drafts' version: same framing
    {'sec_websocket_version': ' 13 '},
    {'upgrade': 'WebSocket'},
    {'upgrade': ' websocket '},
    {'sec_websocket_key': '  ' + RFC_KEY + ' '},
], ids=['version-8', 'version-spaces', 'upgrade-case', 'upgrade-spaces',
        'key-spaces'])
def test_accepted_as_the_js_server_accepts(changes):
    hs = W.handshake('GET', headers(**changes))
    assert hs.refusal is None and hs.response == PLAIN_101


KEY_REASON = b'Missing or invalid Sec-WebSocket-Key header'
VERSION_REASON = b'Missing or invalid Sec-WebSocket-Version header'
UPGRADE_REASON = b'Invalid Upgrade header'
VERSION_HEADER = ('Sec-WebSocket-Version', '13, 8')

REFUSALS = {
    # name: (method, header changes, status, body, extra header)
    'post': ('POST', {}, 405, b'Invalid HTTP method', None),
    'put': ('PUT', {}, 405, b'Invalid HTTP method', None),
    'no-upgrade': ('GET', {'upgrade': None}, 400, UPGRADE_REASON, None),
    'upgrade-foo': ('GET', {'upgrade': 'foo'}, 400, UPGRADE_REASON, None),
    'upgrade-list': ('GET', {'upgrade': 'foo, websocket'}, 400,
                     UPGRADE_REASON, None),
    'no-key': ('GET', {'sec_websocket_key': None}, 400, KEY_REASON, None),
    'short-key': ('GET', {'sec_websocket_key': 'c2hvcnQ='}, 400, KEY_REASON,
                  None),
    'bad-key': ('GET', {'sec_websocket_key': 'not base64 at all!!!!!='}, 400,
                KEY_REASON, None),
    'key-unpadded': ('GET', {'sec_websocket_key': RFC_KEY[:-2]}, 400,
                     KEY_REASON, None),
    'key-17-bytes': ('GET', {'sec_websocket_key': 'dGhlIHNhbXBsZSBub25jZTE='},
                     400, KEY_REASON, None),
    'key-twice': ('GET', {'sec_websocket_key': RFC_KEY + ', ' + RFC_KEY}, 400,
                  KEY_REASON, None),
    'no-version': ('GET', {'sec_websocket_version': None}, 400,
                   VERSION_REASON, VERSION_HEADER),
    'version-12': ('GET', {'sec_websocket_version': '12'}, 400,
                   VERSION_REASON, VERSION_HEADER),
    'version-x': ('GET', {'sec_websocket_version': 'x'}, 400, VERSION_REASON,
                  VERSION_HEADER),
    # checked in the JavaScript server's order: the method first, ...
    'post-and-bad-key': ('POST', {'sec_websocket_key': None}, 405,
                         b'Invalid HTTP method', None),
    # ... the key before the version
    'bad-key-and-version': ('GET', {'sec_websocket_key': 'x',
                                    'sec_websocket_version': '7'}, 400,
                            KEY_REASON, None),
}


@pytest.mark.parametrize('name', sorted(REFUSALS))
def test_refused_as_the_js_server_refuses(name):
    method, changes, status, body, extra = REFUSALS[name]
    hs = W.handshake(method, headers(**changes), per_message_deflate=True)
    assert hs.response == b'' and hs.deflate is None
    resp = hs.refusal
    assert resp.status == status
    assert resp.body == body
    expected = [('Content-Type', 'text/html')]
    if extra:
        expected.append(extra)
    assert resp.headers == expected


ACCEPTED_OFFERS = [
    'permessage-deflate',
    'permessage-deflate; client_max_window_bits',
    'permessage-deflate; client_max_window_bits=10',
    'permessage-deflate; client_max_window_bits="8"',
    'permessage-deflate; server_no_context_takeover',
    'permessage-deflate; client_no_context_takeover',
    'permessage-deflate;server_no_context_takeover;client_no_context_takeover',
    'Permessage-Deflate',
    'x-webkit-deflate-frame, permessage-deflate',
    # RFC 7692 5: an offer that cannot be taken is declined, the next one
    # is considered
    'permessage-deflate; server_max_window_bits=10, permessage-deflate',
]

DECLINED_OFFERS = [
    '',
    'x-webkit-deflate-frame',
    # the answer would have to carry server_max_window_bits
    'permessage-deflate; server_max_window_bits=10',
    # unknown parameter, bad values, a parameter twice (RFC 7692 7)
    'permessage-deflate; foo=1',
    'permessage-deflate; client_max_window_bits=99',
    'permessage-deflate; client_max_window_bits=7',
    'permessage-deflate; client_max_window_bits=x',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; client_no_context_takeover; '
    'client_no_context_takeover',
    'permessage-deflate;;',
]


@pytest.mark.parametrize('offer', ACCEPTED_OFFERS)
def test_deflate_offer_accepted(offer):
    assert W.deflate_offered(offer)
    hs = W.handshake('GET', headers(sec_websocket_extensions=offer), True)
    assert hs.refusal is None
    assert hs.response == DEFLATE_101
    assert isinstance(hs.deflate, W.Deflate)
    # off by default, as in the JavaScript server
    for option in (False, None):
        hs = W.handshake('GET', headers(sec_websocket_extensions=offer),
                         option)
        assert hs.response == PLAIN_101 and hs.deflate is None


@pytest.mark.parametrize('offer', DECLINED_OFFERS)
def test_deflate_offer_declined_and_the_connection_goes_on(offer):
    assert not W.deflate_offered(offer)
    hs = W.handshake('GET', headers(sec_websocket_extensions=offer), True)
    assert hs.refusal is None
    assert hs.response == PLAIN_101 and hs.deflate is None


def test_deflate_options():
    offer = headers(sec_websocket_extensions='permessage-deflate')
    hs = W.handshake('GET', offer, {'threshold': 10, 'level': 1})
    assert (hs.deflate.threshold, hs.deflate.level) == (10, 1)
    hs = W.handshake('GET', offer, True)
    assert (hs.deflate.threshold, hs.deflate.level) == (1024, 6)


@pytest.mark.parametrize('given_headers, expected', [
    ({'upgrade': 'websocket', 'connection': 'Upgrade'}, True),
    ({'upgrade': 'websocket', 'connection': 'keep-alive, Upgrade'}, True),
    ({'upgrade': 'h2c', 'connection': 'Upgrade, HTTP2-Settings'}, True),
    ({'upgrade': 'websocket'}, False),
    ({'upgrade': 'websocket', 'connection': 'keep-alive'}, False),
    ({'upgrade': 'websocket', 'connection': 'upgraded'}, False),
    ({'connection': 'upgrade'}, False),
    ({}, False),
])
def test_upgrade_requested(given_headers, expected):
    assert W.upgrade_requested(given_headers) is expected


def test_valid_key_and_close_codes():
    assert W.valid_key(RFC_KEY)
    assert not W.valid_key(RFC_KEY + ' ')
    assert not W.valid_key('é' * 24)
    valid = [c for c in range(0, 6000) if W.valid_close_code(c)]
    assert valid == [1000, 1001, 1002, 1003] + list(range(1007, 1015)) + \
        list(range(3000, 5000))


def test_close_and_pong_frames():
    assert W.close_frame(1000) == b'\x88\x02\x03\xe8'
    assert W.close_frame(None) == b'\x88\x00'
    assert W.pong_frame(b'hi') == b'\x8a\x02hi'


# -- frames to messages ------------------------------------------------------

def deflated(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


class Conn(W.MessageAssembly):
    """An assembly that records what it does; ``stop_on`` is a message
    after which ``_deliver`` says to stop."""

    __slots__ = ('kernels', 'got', 'pongs', 'closes', 'stop_on', 'buf')

    def __init__(self, kernels, deflate=None, max_payload=1000,
                 stop_on=None):
        W.MessageAssembly.__init__(self, deflate, max_payload)
        self.kernels = kernels
        self.got = []
        self.pongs = []
        self.closes = []
        self.stop_on = stop_on
        self.buf = bytearray()

    def _deliver(self, data):
        self.got.append(data)
        return data == self.stop_on

    def _pong(self, payload):
        self.pongs.append(payload)

    def _send_close(self, code):
        self.closes.append(code)

    def feed(self, data):
        """Parse with the kernel, as the adapters do; what receive()
        returned."""
        self.buf += data
        frames, consumed, error = self.kernels.parse_frames(
            self.buf, self.max_size, True)
        del self.buf[:consumed]
        return self.receive(frames, error)


@pytest.fixture
def conn(kernels):
    def make(**kw):
        return Conn(kernels, **kw)
    return make


def test_whole_text_and_binary_messages(conn):
    c = conn()
    assert c.feed(frame(W.OP_TEXT, '4hello') + frame(W.OP_BINARY, b'\x00\xff')
                  + frame(W.OP_TEXT, '4ünï ✓ 🎉') + frame(W.OP_TEXT, '')) \
        is None
    assert c.got == ['4hello', b'\x00\xff', '4ünï ✓ 🎉', '']
    assert c.closes == [] and not c.failed


def test_fragments_with_interleaved_control_frames(conn):
    c = conn(max_payload=4096)
    data = ('4' + 'Grüße, ' * 30 + '✓').encode()
    cut1 = data.index('ü'.encode()) + 1        # inside a character
    cut2 = len(data) - 2                         # inside the last one
    c.feed(frame(W.OP_TEXT, data[:cut1], fin=False) +
           frame(W.OP_PING, b'one') +
           frame(W.OP_CONT, data[cut1:cut2], fin=False) +
           frame(W.OP_PONG, b'unsolicited') +
           frame(W.OP_PING, b'two'))
    assert c.got == [] and c.pongs == [b'one', b'two']
    assert c.feed(frame(W.OP_CONT, data[cut2:])) is None
    assert c.got == [data.decode()]
    blob = os.urandom(3000)
    c.feed(frame(W.OP_BINARY, blob[:1000], fin=False) +
           frame(W.OP_CONT, b'', fin=False) +
           frame(W.OP_CONT, blob[1000:], fin=True))
    assert c.got[1] == blob
    assert c.closes == []


@settings(deadline=None, max_examples=60)
@given(st.text(min_size=1, max_size=300), st.data())
def test_any_fragmentation_gives_the_message(text, data):
    from engineio_fast import _accel
    for kernels in filter(None, (_accel.pure, _accel.compiled)):
        c = Conn(kernels, max_payload=4096)
        raw = text.encode()
        cuts = sorted(data.draw(st.lists(
            st.integers(0, len(raw)), max_size=6)))
        pieces = [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]
        wire = b''
        for i, piece in enumerate(pieces):
            op = W.OP_TEXT if i == 0 else W.OP_CONT
            wire += frame(op, piece, fin=i == len(pieces) - 1)
            if data.draw(st.booleans()):
                wire += frame(W.OP_PING, b'%d' % i)
        # delivered whatever the reads' boundaries
        split = data.draw(st.integers(0, len(wire)))
        c.feed(wire[:split])
        c.feed(wire[split:])
        assert c.got == [text] and c.closes == []


@pytest.mark.parametrize('wire', [
    frame(W.OP_TEXT, b'4\xff\xfe'),
    frame(W.OP_TEXT, b'4\xc0\xaf'),                      # overlong
    frame(W.OP_TEXT, b'4\xed\xa0\x80'),                  # surrogate
    frame(W.OP_TEXT, b'4ok\xe2\x82'),                    # cut short
    frame(W.OP_TEXT, b'4ok', fin=False) + frame(W.OP_CONT, b'\xe2\x82'),
    frame(W.OP_TEXT, b'4\xe2', fin=False) + frame(W.OP_CONT, b'\x82\x41'),
    frame(W.OP_TEXT, b'4\xf0\x9f', fin=False) +
    frame(W.OP_CONT, b'\x8e', fin=False) + frame(W.OP_CONT, b'x'),
], ids=['invalid', 'overlong', 'surrogate', 'truncated', 'split-truncated',
        'split-bad-continuation', 'split-in-three'])
def test_bad_utf8_fails_with_1007(conn, wire):
    c = conn()
    assert c.feed(wire + frame(W.OP_TEXT, '4after')) is not None
    assert c.got == [] and c.closes == [1007] and c.failed


def test_utf8_split_across_fragments_is_fine(conn):
    c = conn()
    c.feed(frame(W.OP_TEXT, b'4\xf0\x9f', fin=False) +
           frame(W.OP_CONT, b'\x8e', fin=False) +
           frame(W.OP_CONT, b'\x89'))
    assert c.got == ['4🎉'] and c.closes == []


@pytest.mark.parametrize('code', [1000, 1001, 1002, 1003, 1007, 1011, 1014,
                                  3000, 4000, 4999])
def test_close_frame_code_is_echoed(conn, code):
    c = conn()
    taken = c.feed(frame(W.OP_CLOSE, code.to_bytes(2, 'big') + b'bye') +
                   frame(W.OP_TEXT, '4not taken'))
    assert taken == 1
    assert c.closes == [code] and not c.failed and c.got == []


def test_empty_close_frame_gets_an_empty_one(conn):
    c = conn()
    assert c.feed(frame(W.OP_CLOSE)) == 1
    assert c.closes == [None] and not c.failed


@pytest.mark.parametrize('payload, code', [
    ((0).to_bytes(2, 'big'), 1002),
    ((999).to_bytes(2, 'big'), 1002),
    ((1004).to_bytes(2, 'big'), 1002),
    ((1005).to_bytes(2, 'big'), 1002),
    ((1006).to_bytes(2, 'big'), 1002),
    ((1015).to_bytes(2, 'big'), 1002),
    ((2999).to_bytes(2, 'big'), 1002),
    ((5000).to_bytes(2, 'big'), 1002),
    (b'\x03', 1002),
    (b'\x03\xe8\xff', 1007),
])
def test_bad_close_frame(conn, payload, code):
    c = conn()
    c.feed(frame(W.OP_CLOSE, payload))
    assert c.closes == [code] and c.failed


VIOLATIONS = {
    # name: (bytes, close code); the kernel's (parse_frames) and the
    # assembly's alike
    'unmasked': (frame(W.OP_TEXT, '4x', mask=False), 1002),
    'opcode-3': (frame(3, b'4x'), 1002),
    'opcode-11': (frame(11), 1002),
    'fragmented-ping': (frame(W.OP_PING, b'a', fin=False), 1002),
    'ping-126-bytes': (frame(W.OP_PING, b'p' * 126), 1002),
    'rsv1-no-extension': (frame(W.OP_TEXT, '4x', rsv=4), 1002),
    'rsv2': (frame(W.OP_TEXT, '4x', rsv=2), 1002),
    'rsv3': (frame(W.OP_BINARY, b'x', rsv=1), 1002),
    'continuation-first': (frame(W.OP_CONT, b'4x'), 1002),
    'text-inside-fragmented': (frame(W.OP_TEXT, b'4a', fin=False) +
                               frame(W.OP_TEXT, b'4b'), 1002),
    'binary-inside-fragmented': (frame(W.OP_TEXT, b'4a', fin=False) +
                                 frame(W.OP_BINARY, b'b', fin=False), 1002),
    'oversized-frame': (frame(W.OP_BINARY, b'x' * 1017), 1009),
    'oversized-by-header': (bytes([0x82, 0x80 | 127]) +
                            (10 ** 9).to_bytes(8, 'big'), 1009),
    'oversized-fragments': (frame(W.OP_TEXT, b'4' + b'a' * 599, fin=False) +
                            frame(W.OP_CONT, b'a' * 600, fin=False), 1009),
}


@pytest.mark.parametrize('name', sorted(VIOLATIONS))
def test_violation_fails_after_the_frames_before_it(conn, name):
    wire, code = VIOLATIONS[name]
    c = conn()
    c.feed(frame(W.OP_TEXT, '4before') + wire + frame(W.OP_TEXT, '4after'))
    assert c.got == ['4before']
    assert c.closes == [code] and c.failed


def test_size_limit_has_the_slack_over_max_payload(conn):
    c = conn(max_payload=1000)
    assert c.max_size == 1000 + W.SIZE_SLACK
    big = b'x' * c.max_size
    c.feed(frame(W.OP_BINARY, big))
    c.feed(frame(W.OP_BINARY, big[:500], fin=False) +
           frame(W.OP_CONT, big[500:]))
    assert c.got == [big, big] and c.closes == []


def test_stop_and_resume_in_order(conn):
    """_deliver says stop (a handler must end first): receive() tells how
    many frames it took; the rest, given back later, go on in order, and
    a kernel error after them waits for them."""
    c = conn(stop_on='4b')
    frames, _, error = c.kernels.parse_frames(
        frame(W.OP_TEXT, '4a') + frame(W.OP_TEXT, '4b') +
        frame(W.OP_PING, b'p') + frame(W.OP_TEXT, '4c') +
        frame(W.OP_TEXT, '4d', mask=False), c.max_size, True)
    assert error == 1002 and len(frames) == 4
    taken = c.receive(frames, error)
    assert taken == 2 and c.got == ['4a', '4b'] and c.pongs == []
    assert c.closes == []
    assert c.receive(frames[taken:], error) is None
    assert c.got == ['4a', '4b', '4c'] and c.pongs == [b'p']
    assert c.closes == [1002] and c.failed


def test_stop_after_the_last_frame_keeps_the_error_for_later(conn):
    c = conn(stop_on='4a')
    frames, _, error = c.kernels.parse_frames(
        frame(W.OP_TEXT, '4a') + frame(3), c.max_size, True)
    assert c.receive(frames, error) == 1 and c.closes == []
    assert c.receive(frames[1:], error) is None and c.closes == [1002]


def test_stop_in_a_fragmented_message(conn):
    c = conn(stop_on=b'ab')
    c.feed(frame(W.OP_BINARY, b'a', fin=False) + frame(W.OP_CONT, b'b') +
           frame(W.OP_TEXT, '4next'))
    assert c.got == [b'ab']


# -- permessage-deflate ------------------------------------------------------

def test_compressed_messages(conn):
    c = conn(deflate=W.Deflate(True), max_payload=100000)
    text = '4' + 'compress me ' * 1000
    blob = bytes(range(256)) * 20
    body = deflated(text.encode())
    c.feed(frame(W.OP_TEXT, body, rsv=4))
    # fragmented: RSV1 on the first frame only (RFC 7692 6.1)
    c.feed(frame(W.OP_TEXT, body[:10], fin=False, rsv=4) +
           frame(W.OP_PING, b'mid') +
           frame(W.OP_CONT, body[10:]))
    c.feed(frame(W.OP_BINARY, deflated(blob), rsv=4))
    # an uncompressed message on the same connection
    c.feed(frame(W.OP_TEXT, '4plain'))
    assert c.got == [text, text, blob, '4plain']
    assert c.pongs == [b'mid'] and c.closes == []


@pytest.mark.parametrize('wire_of, code', [
    (lambda: frame(W.OP_TEXT, b'\xff\xff\xff\xff', rsv=4), 1007),
    (lambda: frame(W.OP_TEXT, deflated(b'4\xff\xfe'), rsv=4), 1007),
    (lambda: frame(W.OP_BINARY, deflated(b'\0' * 500000), rsv=4), 1009),
    (lambda: frame(W.OP_TEXT, deflated(b'4x'), fin=False, rsv=4) +
     frame(W.OP_CONT, b'', rsv=4), 1002),
    (lambda: frame(W.OP_PING, b'', rsv=4), 1002),
], ids=['not-deflate', 'bad-utf8-inside', 'bomb', 'rsv1-on-continuation',
        'rsv1-on-ping'])
def test_compressed_violations(conn, wire_of, code):
    c = conn(deflate=W.Deflate(True))
    wire = wire_of()
    assert len(wire) < c.max_size
    c.feed(wire)
    assert c.got == [] and c.closes == [code] and c.failed


def test_deflate_frames_compress_the_large_items(kernels):
    d = W.Deflate({'threshold': 100})
    big = 'x' * 1000
    blob = b'\x01' * 500
    wire = d.frames(['small', big, b'tiny', blob])
    frames, consumed, error = kernels.parse_frames(wire, 10 ** 6, False)
    assert consumed == len(wire) and error == 0
    assert [(op, fin, rsv) for op, fin, rsv, _ in frames] == [
        (W.OP_TEXT, True, 0), (W.OP_TEXT, True, 4), (W.OP_BINARY, True, 0),
        (W.OP_BINARY, True, 4)]
    assert frames[0][3] == b'small' and frames[2][3] == b'tiny'
    assert d.inflate(frames[1][3], 10 ** 6) == big.encode()
    assert d.inflate(frames[3][3], 10 ** 6) == blob
    assert d.inflate(frames[1][3], 999) is None     # over the limit
