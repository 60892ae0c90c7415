"""The app the cluster tests serve: an echo that names the worker which
answered (``<data>@<node id>``), so a test can tell that each message of a
session was handled by the worker that owns it; ``pid`` is answered with
the worker's process id."""

import os
import sys

import engineio_fast as engineio
from engineio_fast.cluster import node

eio = engineio.AsyncServer(ping_interval=5, ping_timeout=20,
                           max_http_buffer_size=1_000_000)


@eio.on('message')
async def message(sid, data):
    if data == 'pid':
        await eio.send(sid, str(os.getpid()))
    elif isinstance(data, str):
        await eio.send(sid, '%s@%s' % (data, node.node_id()))
    else:
        await eio.send(sid, data)


if __name__ == '__main__':
    # python -m tests.cluster.app --workers N --port P: through run()
    from tests.cluster.run_main import run_from_command_line
    run_from_command_line(eio)
    sys.stdout.write('supervisor %d exited\n' % os.getpid())
