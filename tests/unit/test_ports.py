"""The suite's free_port never hands out a port browsers refuse to load."""

from .. import ports


def test_browser_blocked_port_is_skipped(monkeypatch):
    # A block of three ports whose middle one is 10080, the turn at it.
    monkeypatch.setattr(ports, '_block', lambda: (10079, 10082))
    monkeypatch.setattr(ports, '_next', 10080)
    assert ports.free_port() in (10081, 10079)


def test_ports_are_in_this_process_block_and_distinct():
    first, end = ports._block()
    got = [ports.free_port() for _ in range(20)]
    assert len(set(got)) == 20
    assert all(first <= p < end for p in got)
