"""SessionTable and TimerHeap: behaviour every implementation must have."""

import math
import re
from unittest import mock

import pytest


def test_session_table_basics(kernels):
    table = kernels.SessionTable()
    assert len(table) == 0 and 'a' not in table and table.get('a') is None
    table.add('a', 1)
    table.add('b', None)
    assert len(table) == 2 and 'a' in table and 'b' in table
    assert table.get('a') == 1 and table.get('b') is None
    with pytest.raises(ValueError):
        table.add('a', 2)
    assert table.sids() == ['a', 'b'] and table.values() == [1, None]
    for sid in table.sids():   # a snapshot: removing while walking is fine
        table.remove(sid)
    assert table.remove('a') is None and len(table) == 0
    with pytest.raises(TypeError):
        table.add([], 1)
    with pytest.raises(TypeError):
        [] in table  # noqa: B015 - the lookup itself must raise


def test_new_sid_is_urlsafe_and_unused(kernels):
    table = kernels.SessionTable()
    sids = {table.new_sid() for _ in range(200)}
    assert len(sids) == 200
    for sid in sids:
        assert re.fullmatch(r'[A-Za-z0-9_-]{20}', sid)


def test_new_sid_retries_on_collision(kernels):
    draws = iter([b'\xfb\xef\xbe' * 5, b'\xfb\xef\xbe' * 5, b'\x00' * 15])
    table = kernels.SessionTable()
    with mock.patch('os.urandom', lambda n: next(draws)):
        first = table.new_sid()
        table.add(first, object())
        second = table.new_sid()
    assert first == '-' * 20 and second == 'A' * 20


def test_new_sid_with_prefix(kernels):
    draws = iter([b'\x00' * 15, b'\x00' * 15, b'\xfb\xef\xbe' * 5])
    table = kernels.SessionTable()
    with mock.patch('os.urandom', lambda n: next(draws)):
        first = table.new_sid('nOdE1z')
        table.add(first, object())
        second = table.new_sid('nOdE1z')   # taken: drawn again
    assert first == 'nOdE1z' + 'A' * 20
    assert second == 'nOdE1z' + '-' * 20
    with pytest.raises(TypeError):
        table.new_sid(b'bytes')


def test_timer_heap_order_and_fifo(kernels):
    heap = kernels.TimerHeap()
    assert len(heap) == 0 and heap.next_deadline() is None
    assert heap.pop_due(1e9) == []
    for when, item in [(5, 'e'), (1.5, 'a'), (3, 'c1'), (3.0, 'c2'),
                       (2, 'b'), (3, 'c3'), (-math.inf, 'first'),
                       (math.inf, 'never')]:
        heap.push(when, item)
    assert len(heap) == 8 and heap.next_deadline() == -math.inf
    assert heap.pop_due(1.0) == ['first']
    assert heap.pop_due(3) == ['a', 'b', 'c1', 'c2', 'c3']
    assert heap.next_deadline() == 5.0
    assert type(heap.next_deadline()) is float
    assert heap.pop_due(4.999) == []
    assert heap.pop_due(1e308) == ['e']
    assert len(heap) == 1
    heap.clear()
    assert len(heap) == 0 and heap.next_deadline() is None
    heap.push(1, 'x')
    assert heap.pop_due(1) == ['x']


def test_timer_heap_rejects_bad_deadlines(kernels):
    heap = kernels.TimerHeap()
    with pytest.raises(ValueError):
        heap.push(math.nan, 'x')
    with pytest.raises(TypeError):
        heap.push(None, 'x')
    with pytest.raises(OverflowError):
        heap.push(10 ** 400, 'x')
    heap.push('2.5', 'str deadline')   # float() accepts it, as the pure spec
    assert heap.next_deadline() == 2.5
    assert len(heap) == 1
    with pytest.raises(TypeError):
        heap.pop_due('now')
    assert heap.pop_due(math.nan) == []


def test_timer_heap_many(kernels):
    heap = kernels.TimerHeap()
    whens = [(i * 7919) % 1000 / 10 for i in range(2000)]
    for i, when in enumerate(whens):
        heap.push(when, i)
    expected = [i for _, i in sorted((w, i) for i, w in enumerate(whens))]
    got = []
    for now in range(0, 101, 5):
        got.extend(heap.pop_due(now))
    assert got == expected and len(heap) == 0


def test_timer_heap_releases_items(kernels):
    import gc
    import weakref

    class Item:
        pass

    heap = kernels.TimerHeap()
    item = Item()
    ref = weakref.ref(item)
    heap.push(1, item)
    heap.push(2, Item())
    del item
    assert ref() is not None
    heap.pop_due(1)
    gc.collect()
    assert ref() is None
    item = Item()
    item.heap = heap            # a cycle through the heap
    heap.push(3, item)
    ref = weakref.ref(item)
    del item, heap
    gc.collect()
    assert ref() is None
