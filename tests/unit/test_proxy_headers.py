"""The built-in server's trusted proxy headers (adapters/builtin/proxy.py):
who is trusted, which X-Forwarded-For entry is the client, and that a
malformed value never crashes and never gives a made-up address."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engineio_fast.adapters.builtin.proxy import (
    ProxyHeaders,
    default_allow_ips,
)

PEER = ('127.0.0.1', 40000)


def resolve(proxy, *headers, scheme='http'):
    return proxy.resolve([(n.encode(), v.encode() if isinstance(v, str)
                           else v) for n, v in headers], PEER, scheme)


def test_who_is_trusted():
    p = ProxyHeaders('127.0.0.1, 10.0.0.0/8,::1, unix:')
    assert p.trusts('127.0.0.1') and p.trusts('10.1.2.3') and p.trusts('::1')
    assert p.trusts('unix:')
    assert not p.trusts('127.0.0.2') and not p.trusts('11.0.0.1')
    assert not p.trusts(None) and not p.trusts('not an address')
    assert ProxyHeaders('*').trusts('203.0.113.9')
    assert ProxyHeaders(['192.168.0.0/16']).trusts('192.168.4.4')
    assert not ProxyHeaders('').trusts('127.0.0.1')


def test_ipv4_peers_of_a_dual_stack_listener():
    # listening on '::', an IPv4 peer's address is IPv4-mapped
    p = ProxyHeaders('127.0.0.1, 10.0.0.0/8')
    assert p.trusts('::ffff:127.0.0.1') and p.trusts('::ffff:10.9.8.7')
    assert not p.trusts('::ffff:127.0.0.2') and not p.trusts('::ffff:11.0.0.1')
    assert not ProxyHeaders('::1').trusts('::ffff:127.0.0.1')
    # a trusted mapped proxy in X-Forwarded-For is skipped like its IPv4 form
    assert resolve(p, ('X-Forwarded-For', '203.0.113.5, ::ffff:10.0.0.2')
                   )[0] == ('203.0.113.5', 0)


def test_remembered_verdicts_stay_right_and_bounded():
    # every connection asks for its peer's verdict: it is remembered, the
    # memo never grows past its bound, and asking again gives the same
    from engineio_fast.adapters.builtin import proxy as proxy_mod
    p = ProxyHeaders('10.0.0.0/8')
    for _round in range(2):
        for i in range(proxy_mod._MEMO_MAX + 50):
            host = f'10.{i >> 8 & 255}.{i & 255}.1'
            assert p.trusts(host)
            assert len(p._memo) <= proxy_mod._MEMO_MAX
        assert not p.trusts('11.0.0.1') and not p.trusts('11.0.0.1')
        assert not p.trusts('not an address') and \
            not p.trusts('not an address')


def test_default_is_uvicorns(monkeypatch):
    monkeypatch.delenv('FORWARDED_ALLOW_IPS', raising=False)
    assert default_allow_ips() == '127.0.0.1'
    monkeypatch.setenv('FORWARDED_ALLOW_IPS', '10.0.0.1,10.0.0.2')
    assert default_allow_ips() == '10.0.0.1,10.0.0.2'


@pytest.mark.parametrize('value, client', [
    ('203.0.113.7', '203.0.113.7'),
    # each proxy appends the address it saw: the rightmost untrusted one
    ('198.51.100.1, 203.0.113.7', '203.0.113.7'),
    ('198.51.100.1, 203.0.113.7, 10.0.0.5', '203.0.113.7'),
    # every hop trusted: the first is the client
    ('10.0.0.9, 10.0.0.5', '10.0.0.9'),
    ('2001:db8::1', '2001:db8::1'),
    ('2001:DB8:0::1', '2001:db8::1'),
])
def test_the_client_address(value, client):
    p = ProxyHeaders('127.0.0.1,10.0.0.0/8')
    assert resolve(p, ('X-Forwarded-For', value)) == ((client, 0), 'http')


def test_several_header_lines_are_one_list():
    p = ProxyHeaders('127.0.0.1')
    got = resolve(p, ('X-Forwarded-For', '198.51.100.1'),
                  ('x-forwarded-for', '203.0.113.7'))
    assert got == (('203.0.113.7', 0), 'http')


@pytest.mark.parametrize('value', [
    'unknown', '', ' , ', '203.0.113.7:8080', '[2001:db8::1]',
    'evil.example', '203.0.113.7, garbage', '999.1.1.1', '1.2.3.4/24',
    b'203.0.113.\xff', '203.0.113.7\x00',
])
def test_malformed_addresses_are_ignored(value):
    # never a made-up address: the peer's stays
    p = ProxyHeaders('127.0.0.1')
    assert resolve(p, ('X-Forwarded-For', value)) == (PEER, 'http')


@pytest.mark.parametrize('value, scheme', [
    ('https', 'https'), ('HTTPS', 'https'), ('http', 'http'), ('wss', 'wss'),
    (' https ', 'https'), ('http, https', 'https'),
    ('ftp', 'http'), ('', 'http'), (b'\xffhttps', 'http'), ('javascript', 'http'),
])
def test_the_scheme(value, scheme):
    p = ProxyHeaders('127.0.0.1')
    assert resolve(p, ('X-Forwarded-Proto', value))[1] == scheme


def test_forwarded_rfc7239_is_not_read():
    p = ProxyHeaders('*')
    assert resolve(p, ('Forwarded', 'for=203.0.113.7;proto=https')) == \
        (PEER, 'http')


@given(st.lists(st.tuples(st.sampled_from([b'x-forwarded-for',
                                           b'X-Forwarded-For',
                                           b'x-forwarded-proto', b'other']),
                          st.binary(max_size=60)), max_size=4))
def test_any_header_bytes(headers):
    p = ProxyHeaders('127.0.0.1,10.0.0.0/8')
    client, scheme = p.resolve(headers, PEER, 'http')
    assert scheme in ('http', 'https', 'ws', 'wss')
    if client != PEER:
        # a real address, taken from what the headers said
        host, port = client
        assert port == 0
        ipaddress.ip_address(host)
        said = b','.join(v for n, v in headers
                         if n.lower() == b'x-forwarded-for')
        assert host in [str(ipaddress.ip_address(h.strip()))
                        for h in said.decode('ascii').split(',')]
