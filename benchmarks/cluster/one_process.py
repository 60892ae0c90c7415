"""The hand-off alone, without a second process: two built-in servers in
ONE process and event loop, as workers 0 and 1 of a cluster (their own
AsyncServers, sids minted with slot A and slot B, the real hand-off
channel between them). Server 0 accepts on PORT; server 1 on PORT2 only
(where the generator opens half of its sessions: in one loop, one of two
servers sharing a socket would accept every connection). Run by ``run.py
--one-process``: the generator's ``cross`` mode makes every request cross
from one server to the other (descriptor over the channel, adoption), its
``local`` mode none; the difference is the hand-off's own CPU, with no
process switch in it.

    python benchmarks/cluster/one_process.py PORT PORT2
"""

import asyncio
import sys

import engineio_fast
from benchmarks.load.apps.common import build
from engineio_fast.adapters.builtin.serve import (
    BuiltinServer,
    new_event_loop,
)
from engineio_fast.cluster import handoff, workers

TAG = 'bench'


async def main(port, port2):
    socks = [workers.listen('127.0.0.1', port),
             workers.listen('127.0.0.1', port2)]
    channels = handoff.make_channels(2)
    servers = []
    for slot in (0, 1):
        eio, _ = build(engineio_fast)
        eio.driver.engine.sid_prefix = TAG + 'AB'[slot]
        router = handoff.Router(TAG, slot, channels)
        servers.append(BuiltinServer(eio, sock=socks[slot], router=router))
    for server in servers:
        await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for server in servers:
        await server.shutdown(2.0)


if __name__ == '__main__':
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main(int(sys.argv[1]), int(sys.argv[2])))
