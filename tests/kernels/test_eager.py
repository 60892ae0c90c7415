"""engineio_fast._eager: first steps run at once, inside a lent Task.

Every test runs on both implementations of the ``eager`` kernel (the pure
twin and the compiled one; the ``kernels`` fixture)."""

import asyncio
import contextvars
import sys
import types

import pytest

from engineio_fast import _accel, _eager
from engineio_fast._pure import eager as pure_eager

var = contextvars.ContextVar('var', default='outer')


async def _guard(rest):
    return await rest


def _starter(kernels):
    tracked = []
    return kernels.EagerStarter(tracked.append), tracked


def test_a_handler_that_does_not_suspend_costs_no_task(kernels):
    async def handler(i):
        assert asyncio.current_task() is not None
        var.set(i)
        return i * 2

    async def main():
        starter, tracked = _starter(kernels)
        before = len(asyncio.all_tasks())
        results = [starter.start(handler(i), _guard) for i in range(100)]
        assert results == [(True, i * 2) for i in range(100)]
        # one idle carrier lent 100 times; nothing tracked; context untouched
        assert len(asyncio.all_tasks()) == before + 1
        assert tracked == [] and var.get() == 'outer'
        starter.close()

    asyncio.run(main())


def test_the_caller_task_is_put_back_and_not_lent(kernels):
    async def handler():
        return asyncio.current_task()

    async def main():
        starter, _ = _starter(kernels)
        me = asyncio.current_task()
        done, lent = starter.start(handler(), _guard)
        assert done and lent is not me and lent is not None
        assert asyncio.current_task() is me
        # the same carrier again
        assert starter.start(handler(), _guard) == (True, lent)
        starter.close()

    asyncio.run(main())


class _Deadline:
    """``asyncio.timeout(delay)`` (3.11), or before it the same thing done
    by hand: the Task current on entry is cancelled after ``delay``."""

    def __init__(self, delay):
        self.delay = delay

    async def __aenter__(self):
        if hasattr(asyncio, 'timeout'):
            self.cm = asyncio.timeout(self.delay)
            return await self.cm.__aenter__()
        self.cm = None
        self.handle = asyncio.get_running_loop().call_later(
            self.delay, asyncio.current_task().cancel)

    async def __aexit__(self, *exc):
        if self.cm is not None:
            return await self.cm.__aexit__(*exc)
        self.handle.cancel()


# what a handler's deadline raises: TimeoutError from asyncio.timeout(), the
# CancelledError itself from the hand-made one
DEADLINE_ERROR = (TimeoutError if hasattr(asyncio, 'timeout')
                  else asyncio.CancelledError)


def test_a_handler_that_suspends_is_finished_by_the_task_it_started_in(kernels):
    async def handler():
        first = asyncio.current_task()
        var.set('mine')
        async with _Deadline(0.05):
            try:
                await asyncio.sleep(5)
            except asyncio.CancelledError:
                assert asyncio.current_task() is first
                raise
        return 'never'

    async def main():
        starter, tracked = _starter(kernels)
        done, task = starter.start(handler(), _guard)
        assert not done and tracked == [task]
        with pytest.raises(DEADLINE_ERROR):
            await task
        assert var.get() == 'outer'
        # the next one gets a new carrier
        done, other = starter.start(_quick(), _guard)
        assert done
        starter.close()

    asyncio.run(main())


async def _quick():
    return asyncio.current_task()


def test_nested_first_steps_get_their_own_tasks(kernels):
    async def inner(starter):
        me = asyncio.current_task()
        await asyncio.sleep(0)     # suspends: keeps its carrier
        return me

    async def outer(starter):
        me = asyncio.current_task()
        done, task = starter.start(inner(starter), _guard)
        assert not done
        assert asyncio.current_task() is me
        got = await task
        assert got is task and got is not me
        return me

    async def main():
        starter, _ = _starter(kernels)
        done, task = starter.start(outer(starter), _guard)
        assert not done
        assert await task is task
        starter.close()

    asyncio.run(main())


@pytest.fixture(params=['fresh', 'parked'])
def parked(request):
    """The carrier a handler cancels: a new one (not stepped yet) or one
    already parked on its slot (lent before)."""
    return request.param == 'parked'


async def _lent_before(starter, parked):
    if parked:
        assert starter.start(_quick(), _guard)[0]
        await asyncio.sleep(0)     # the carrier steps and parks


def _cancel_then_suspend(starter_class, parked):
    async def handler():
        asyncio.current_task().cancel()
        await asyncio.sleep(1)

    async def after():
        return asyncio.current_task()

    async def main():
        tracked = []
        starter = starter_class(tracked.append)
        await _lent_before(starter, parked)
        done, task = starter.start(handler(), _guard)
        assert not done and tracked == [task]
        with pytest.raises(asyncio.CancelledError):
            await task
        # the spent carrier is not lent again
        done, lent = starter.start(after(), _guard)
        assert done and lent is not task and not lent.done()
        assert not pure_eager._cancel_requested(lent)
        starter.close()

    asyncio.run(main())


def _cancel_and_end(starter_class, parked):
    async def handler():
        me = asyncio.current_task()
        me.cancel()
        return me

    async def main():
        starter = starter_class(lambda task: None)
        await _lent_before(starter, parked)
        done, spent = starter.start(handler(), _guard)
        assert done
        done, lent = starter.start(_quick(), _guard)
        assert done and lent is not spent
        await asyncio.sleep(0)
        assert spent.cancelled() and not lent.done()
        starter.close()

    asyncio.run(main())


def test_a_handler_that_cancels_itself_then_suspends_gets_cancelled(
        kernels, parked):
    _cancel_then_suspend(kernels.EagerStarter, parked)


def test_a_handler_that_cancels_itself_and_ends_spends_its_carrier(
        kernels, parked):
    _cancel_and_end(kernels.EagerStarter, parked)


def test_where_tasks_have_no_cancelling_a_cancel_is_still_seen(
        monkeypatch, parked):
    # Python 3.9 and 3.10 (Task.cancelling() is 3.11's): the pure twin asks
    # the Task's own state instead, and so does the compiled kernel there
    # (the pure twin's _cancelling, taken at import; on those Pythons
    # tests/packaging/other_pythons.sh runs this file on both kernels)
    monkeypatch.setattr(pure_eager, '_cancelling',
                        pure_eager._cancel_requested)
    _cancel_then_suspend(pure_eager.EagerStarter, parked)
    _cancel_and_end(pure_eager.EagerStarter, parked)


def test_the_fallback_agrees_with_cancelling_where_both_exist():
    if not hasattr(asyncio.Task, 'cancelling'):
        assert pure_eager._cancelling is pure_eager._cancel_requested
        return

    async def main():
        loop = asyncio.get_running_loop()
        fresh = loop.create_task(asyncio.sleep(1))
        parked = loop.create_task(asyncio.sleep(1))
        idle = loop.create_task(asyncio.sleep(1))
        await asyncio.sleep(0)
        fresh2 = loop.create_task(asyncio.sleep(1))
        for task in (fresh, parked, idle, fresh2):
            assert not pure_eager._cancel_requested(task)
            assert not task.cancelling()
        fresh2.cancel()
        parked.cancel()
        for task in (fresh2, parked):
            assert pure_eager._cancel_requested(task) and task.cancelling()
        for task in (fresh, idle):
            assert not pure_eager._cancel_requested(task)
            task.cancel()
        await asyncio.gather(fresh, parked, idle, fresh2,
                             return_exceptions=True)

    asyncio.run(main())


def test_first_step_errors_propagate_and_the_carrier_stays_usable(kernels):
    async def bad():
        raise ValueError('x')

    async def main():
        starter, _ = _starter(kernels)
        with pytest.raises(ValueError):
            starter.start(bad(), _guard)
        done, lent = starter.start(_quick(), _guard)
        assert done and lent is not None
        starter.close()
        await asyncio.sleep(0)
        assert lent.cancelled()

    asyncio.run(main())


def test_a_new_loop_gets_new_carriers(kernels):
    starter, _ = _starter(kernels)

    async def main():
        return starter.start(_quick(), _guard)[1]

    first = asyncio.run(main())
    second = asyncio.run(main())
    assert first is not second and first.done()


def test_without_a_running_loop_the_step_runs_bare(kernels):
    # a benchmark driving the server's hot path by hand, no loop running
    async def handler():
        return 'ran'

    starter, tracked = _starter(kernels)
    assert starter.start(handler(), _guard) == (True, 'ran')
    assert tracked == []


def test_the_same_loop_run_again_in_another_thread_lends_there(kernels):
    # the starter skips asyncio's running-loop look-up while its loop runs
    # in the thread it was found in; run elsewhere, it looks again
    import threading

    async def handler():
        return asyncio.current_task(), asyncio.get_running_loop()

    async def _bare():
        return asyncio._get_running_loop()

    starter, _ = _starter(kernels)
    loop = asyncio.new_event_loop()
    out = []

    async def main():
        out.append(starter.start(handler(), _guard))
        out.append(starter.start(handler(), _guard))

    try:
        loop.run_until_complete(main())
        thread = threading.Thread(
            target=loop.run_until_complete, args=(main(),))
        thread.start()
        thread.join(10)
        assert not thread.is_alive()
        assert [done for done, _ in out] == [True] * 4
        tasks = {value[0] for _, value in out}
        assert len(tasks) == 1 and all(v[1] is loop for _, v in out)
        # no loop running now: the step runs bare again
        assert starter.start(_bare(), _guard) == (True, None)
        starter.close()
        loop.run_until_complete(asyncio.sleep(0))   # the cancellations
    finally:
        loop.close()



def test_the_server_uses_the_active_implementation():
    assert _eager.EagerStarter is _accel.active.EagerStarter
    assert _eager.Resume is _accel.active.Resume


def test_a_generator_based_awaitable_is_stepped_as_a_coroutine(kernels):
    # not every awaitable a hook returns is a native coroutine
    @types.coroutine
    def legacy(n):
        got = yield n
        return got * 2

    async def main():
        starter, _ = _starter(kernels)
        done, task = starter.start(legacy(None), _guard)
        # a bare yield (None) hands the loop a turn, as in a Task
        assert not done
        with pytest.raises(TypeError):
            # None * 2: the rest runs in the carrier, errors surface there
            await task
        starter.close()

    asyncio.run(main())


def test_a_returned_value_keeps_one_reference(kernels):
    # the compiled kernel takes the value out of the send without a
    # StopIteration: it must neither leak it nor free it early
    marker = object()

    async def handler():
        return marker

    async def main():
        starter, _ = _starter(kernels)
        before = sys.getrefcount(marker)
        for _ in range(1000):
            done, value = starter.start(handler(), _guard)
            assert done and value is marker
        del value
        assert sys.getrefcount(marker) == before
        starter.close()

    asyncio.run(main())


def test_the_value_yielded_at_the_suspension_reaches_the_task(kernels):
    # the future the first step waits on is what the carrier then waits on
    async def handler(fut):
        return await fut

    async def main():
        starter, tracked = _starter(kernels)
        fut = asyncio.get_running_loop().create_future()
        done, task = starter.start(handler(fut), _guard)
        assert not done and tracked == [task]
        fut.set_result('later')
        assert await task == 'later'
        starter.close()

    asyncio.run(main())
