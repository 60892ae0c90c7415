"""The sans-I/O websocket pieces every server adapter shares
(engineio_fast.protocol.websocket): the opening handshake (headers in,
bytes or a refusal out).

The refusals are the JavaScript server's (engine.io 6.6 on ws 8): its
answers to each request below were read off the wire from node_modules'
server; the permessage-deflate offers follow RFC 7692."""

import pytest

from engineio_fast.protocol import websocket as W

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
