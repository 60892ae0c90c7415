"""protocol.limits.HandshakeLimiter: token buckets per address, bounded."""

import pytest

from engineio_fast.protocol.limits import HandshakeLimiter


def test_burst_then_refill():
    lim = HandshakeLimiter(3, 1.5)          # 3 at once, then 2 a second
    assert [lim.allow('a', 0.0) for _ in range(4)] == [True] * 3 + [False]
    assert lim.allow('b', 0.0)              # another address: its own
    assert not lim.allow('a', 0.4)          # 0.8 of a token
    assert lim.allow('a', 0.5)              # 1.0
    assert not lim.allow('a', 0.5)
    assert [lim.allow('a', 100.0) for _ in range(4)] == [True] * 3 + [False]


def test_refused_attempts_do_not_push_the_refill_back():
    lim = HandshakeLimiter(1, 1.0)
    assert lim.allow('a', 0.0)
    for t in (0.1, 0.2, 0.3, 0.9):
        assert not lim.allow('a', t)
    assert lim.allow('a', 1.0)


def test_the_table_is_bounded_least_recently_seen_first():
    lim = HandshakeLimiter(1, 60.0, max_clients=100)
    for i in range(1000):
        assert lim.allow('10.0.%d.%d' % (i // 256, i % 256), 0.0)
    assert len(lim) == 100
    # a spent address that is still remembered is refused...
    assert not lim.allow('10.0.3.231', 1.0)
    # ...one forgotten starts again with a full bucket
    assert lim.allow('10.0.0.0', 1.0)
    assert len(lim) == 100


def test_no_address_is_not_limited():
    lim = HandshakeLimiter(1, 60.0)
    assert all(lim.allow(None, 0.0) for _ in range(10))
    assert all(lim.allow('', 0.0) for _ in range(10))
    assert len(lim) == 0


@pytest.mark.parametrize('count, seconds', [
    (0, 1), (-1, 1), (1.5, 1), (True, 1), (1, 0), (1, -1),
    (1, float('nan'))])
def test_bad_settings(count, seconds):
    with pytest.raises(ValueError):
        HandshakeLimiter(count, seconds)
