"""What starting a handler costs on the asyncio server, per call, for a
coroutine handler that does not suspend (most of them):

- bare: ``coro.send(None)``, no Task at all (what the server did before
  handlers got a Task of their own: wrong for ``asyncio.timeout()`` and
  every other user of ``current_task()``);
- lent: ``engineio_fast._eager.EagerStarter.start``, the first step inside
  a lent carrier Task and a fresh context copy (what the server does), on
  the active kernels (the compiled ``src_pyx/eager.pxi`` when built);
- lent-pure: the same on its pure twin, ``engineio_fast._pure.eager``
  (the server's path under ``ENGINEIO_FAST_NO_EXTENSIONS=1``);
- task: ``await asyncio.create_task(coro)``, a Task per call (what
  python-engineio does for every message).

    python benchmarks/eager_start.py [--calls 200000] [--runs 5]

Prints the median of the runs in µs per call, on uvloop.
"""

import argparse
import asyncio
import statistics
import time

import uvloop

from engineio_fast._eager import EagerStarter
from engineio_fast._pure.eager import EagerStarter as PureEagerStarter


async def handler(x):
    return x


async def guard(rest):
    return await rest


def bare(n):
    for i in range(n):
        coro = handler(i)
        try:
            coro.send(None)
        except StopIteration:
            pass


def lent(n, starter):
    for i in range(n):
        starter.start(handler(i), guard)


async def per_task(n):
    for i in range(n):
        await asyncio.create_task(handler(i))


async def main(calls, runs):
    starter = EagerStarter(lambda task: None)
    pure = PureEagerStarter(lambda task: None)
    got = {'bare': [], 'lent': [], 'lent-pure': [], 'task': []}
    for _ in range(runs):
        for name in got:
            t = time.perf_counter()
            if name == 'bare':
                bare(calls)
            elif name == 'lent':
                lent(calls, starter)
            elif name == 'lent-pure':
                lent(calls, pure)
            else:
                await per_task(calls)
            got[name].append((time.perf_counter() - t) / calls * 1e6)
    starter.close()
    pure.close()
    for name, values in got.items():
        print('%-5s %.2f µs per call (runs: %s)' % (
            name, statistics.median(values),
            ', '.join('%.2f' % v for v in values)))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--calls', type=int, default=200000)
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()
    uvloop.run(main(args.calls, args.runs))
