"""Packet and payload codec: the executable spec of the compiled kernel.

Every function here has a twin in ``src_pyx`` that must return the same
values and raise the same exception classes for every input (the kernel
tests and the hypothesis differential test hold both to that).

Packet types: 0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop.

``decode_packet`` returns ``(packet_type, data, kind)`` where ``kind`` is

- ``KIND_NONE``   no data (``data`` is None), e.g. ``"2"``
- ``KIND_TEXT``   ``data`` is a str that cannot be JSON (starts with a digit
  or with a character no JSON document starts with)
- ``KIND_JSON``   ``data`` is a str that *may* be JSON: the caller tries its
  json module and falls back to the str (the rule in PROTOCOL.md)
- ``KIND_BINARY`` ``data`` is bytes (a raw binary frame or ``b`` + base64)

Malformed input raises ``ValueError`` (never another class).
"""

import binascii

KIND_NONE = 0
KIND_TEXT = 1
KIND_JSON = 2
KIND_BINARY = 3

MESSAGE = 4   # protocol/packets.py MESSAGE (a test checks)
SEPARATOR = '\x1e'

# Characters a JSON document (as Python's json.loads accepts it) can start
# with, digits excluded: digits are text by the protocol rule. Deciding from
# the first character avoids a json.loads + exception per plain message.
_JSON_START = frozenset('{["tfnNI- \t\n\r')

_B64_ALPHABET = (b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                 b'0123456789+/')


def decode_packet(encoded):
    """Decode one packet (str from text, bytes-like from binary frames)."""
    if not isinstance(encoded, str):
        return MESSAGE, bytes(encoded), KIND_BINARY
    if not encoded:
        raise ValueError('empty packet')
    first = encoded[0]
    if first == 'b':
        return MESSAGE, b64decode(encoded[1:]), KIND_BINARY
    if first < '0' or first > '6':
        raise ValueError('invalid packet type')
    ptype = ord(first) - 48
    if len(encoded) == 1:
        return ptype, None, KIND_NONE
    data = encoded[1:]
    if data[0] in _JSON_START:
        return ptype, data, KIND_JSON
    return ptype, data, KIND_TEXT


def encode_text(packet_type, data):
    """Encode a text packet: the type digit followed by ``data`` (a str)."""
    if packet_type < 0 or packet_type > 6:
        raise ValueError('invalid packet type')
    if data is None:
        return chr(48 + packet_type)
    return chr(48 + packet_type) + data


def b64encode(data):
    """``b`` + standard base64 of ``data`` (bytes-like), as a str."""
    return 'b' + binascii.b2a_base64(data, newline=False).decode('ascii')


def b64decode(text):
    """Decode standard base64 text (no ``b`` prefix); ValueError if bad.

    Strict: only the base64 alphabet and canonical padding (length a
    multiple of 4, ``=`` only as the last one or two characters) are
    accepted, as Node's and the browser's encoders produce. The rule is
    checked here rather than left to ``binascii``'s ``strict_mode``, which
    Python 3.9/3.10 lack and which accepts extra trailing ``=`` before 3.13.
    """
    try:
        raw = text.encode('ascii')
    except UnicodeEncodeError:
        raise ValueError('invalid base64 data') from None
    data = raw.rstrip(b'=')
    if (len(raw) % 4 or len(raw) - len(data) > 2
            or data.translate(None, _B64_ALPHABET)):
        raise ValueError('invalid base64 data')
    return binascii.a2b_base64(raw)


def decode_value(encoded, loads):
    """Decode one packet to ``(packet_type, value, is_binary)``.

    Like :func:`decode_packet`, then the text-data rule of PROTOCOL.md:
    data that may be JSON is passed to ``loads``; if that raises ValueError
    (or RecursionError: ``4[[[[...`` nested deeper than the interpreter's
    recursion limit is not JSON we can decode either) the str is kept.
    ``value`` is ``''`` for a packet with no data, as python-engineio
    gives it (an empty message ``4`` reaches the handler as ``''``).
    """
    ptype, data, kind = decode_packet(encoded)
    if kind == KIND_JSON:
        try:
            return ptype, loads(data), False
        except (ValueError, RecursionError):
            return ptype, data, False
    if kind == KIND_NONE:
        return ptype, '', False
    return ptype, data, kind == KIND_BINARY


def encode_value(packet_type, data, b64, dumps):
    """Encode a packet from its API-level data.

    str data follows the type digit; bytes-like data (message packets only)
    is returned as bytes, or as ``b`` + base64 when ``b64``; dict and list
    are serialised with ``dumps``; None adds nothing; anything else is
    ``str()``-ed as python-engineio does.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        if packet_type != MESSAGE:
            raise ValueError('binary packets can only be of type MESSAGE')
        return b64encode(data) if b64 else bytes(data)
    if data is None or isinstance(data, str):
        return encode_text(packet_type, data)
    if isinstance(data, (dict, list)):
        return encode_text(packet_type, dumps(data))
    return encode_text(packet_type, str(data))


def encode_payload(items):
    """Encode queued packets for a polling response.

    ``items`` are encoded text packets (str) and binary messages (bytes),
    which become ``b`` + base64; all joined with the record separator.
    """
    return SEPARATOR.join([
        item if isinstance(item, str) else b64encode(item) for item in items])


def split_payload(body):
    """Split a polling payload (str) into encoded packets.

    An empty body is invalid (a POST always carries at least one packet).
    """
    if not body:
        raise ValueError('empty payload')
    return body.split(SEPARATOR)


def decode_payload(body):
    """Decode a whole polling payload into a list of decoded packets.

    ``body`` is a str or UTF-8 bytes. Returns a list of
    ``(packet_type, data, kind)`` tuples as :func:`decode_packet` does.
    """
    if not isinstance(body, str):
        try:
            body = bytes(body).decode('utf-8')
        except UnicodeDecodeError:
            raise ValueError('payload is not valid UTF-8') from None
    return [decode_packet(p) for p in split_payload(body)]


def join_payload(encoded_packets):
    """Join already-encoded text packets (str) with the record separator."""
    return SEPARATOR.join(encoded_packets)


def jsonp_wrap(index, payload):
    """Wrap a payload for a JSONP poll: ``___eio[index]("...");``.

    ``payload`` is escaped so it is a valid JavaScript string literal that
    cannot close the script (backslash, quote, newlines, ``</``, U+2028/9).
    """
    escaped = (payload.replace('\\', '\\\\').replace('"', '\\"')
               .replace('\n', '\\n').replace('\r', '\\r')
               .replace('\u2028', '\\u2028').replace('\u2029', '\\u2029')
               .replace('</', '<\\/'))
    return '___eio[%d]("%s");' % (index, escaped)
