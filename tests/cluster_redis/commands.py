"""The test apps' message commands, shared by the asyncio app (the built-in
server) and the sync app (gunicorn): a client of one process makes its
server act on sessions of the other process, as an application would.

``send SID TEXT``, ``packet SID TEXT``, ``burst SID N TAG`` (N sends of
``TAG:i``), ``bcast TEXT [SKIP]``, ``bburst N TAG`` (N broadcasts of
``TAG:i``), ``flood SID SECONDS TAG`` (sends of ``TAG:i`` as fast as
they go, yielding after each, for up to 5 s), ``kick SID``, ``who`` (answers ``who <json list>``), ``node``
(answers ``node <id>``), ``pid`` (answers ``pid <process id>``); anything
else is echoed.
"""

import asyncio
import json
import logging
import os
import sys
import time

from engineio_fast.cluster import node
from engineio_fast.packet import MESSAGE, Packet

MAX_BURST = 20000
MAX_FLOOD = 5.0


def setup_logging():
    """The server's log lines on stderr (the tests read them)."""
    logger = logging.getLogger('engineio.server')
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter('%(levelname)s %(message)s'))
    logger.addHandler(handler)
    return logger


def parse(data):
    """``(command, args)`` of a message, or None for an echo."""
    if not isinstance(data, str):
        return None
    parts = data.split(' ')
    cmd = parts[0]
    if cmd in ('send', 'packet') and len(parts) == 3:
        return cmd, parts[1:]
    if cmd == 'burst' and len(parts) == 4 and parts[2].isdigit():
        return cmd, [parts[1], min(int(parts[2]), MAX_BURST), parts[3]]
    if (cmd == 'flood' and len(parts) == 4 and
            parts[2].replace('.', '', 1).isdigit()):
        return cmd, [parts[1], min(float(parts[2]), MAX_FLOOD), parts[3]]
    if cmd == 'bcast' and len(parts) in (2, 3):
        return cmd, [parts[1], parts[2] if len(parts) == 3 else None]
    if cmd == 'bburst' and len(parts) == 3 and parts[1].isdigit():
        return cmd, [min(int(parts[1]), MAX_BURST), parts[2]]
    if cmd == 'kick' and len(parts) == 2:
        return cmd, parts[1:]
    if cmd in ('who', 'node', 'pid') and len(parts) == 1:
        return cmd, []
    return None


async def run_async(eio, sid, data):
    """Run a command on an AsyncServer."""
    parsed = parse(data)
    if parsed is None:
        return await eio.send(sid, data)
    cmd, args = parsed
    if cmd == 'send':
        await eio.send(args[0], args[1])
    elif cmd == 'packet':
        await eio.send_packet(args[0], Packet(MESSAGE, args[1]))
    elif cmd == 'burst':
        for i in range(args[1]):
            await eio.send(args[0], '%s:%d' % (args[2], i))
    elif cmd == 'flood':
        end = time.monotonic() + args[1]
        i = 0
        while time.monotonic() < end:
            await eio.send(args[0], '%s:%d' % (args[2], i))
            i += 1
            await asyncio.sleep(0)
    elif cmd == 'bcast':
        await eio.broadcast(args[0], skip_sid=args[1])
    elif cmd == 'bburst':
        for i in range(args[0]):
            await eio.broadcast('%s:%d' % (args[1], i))
    elif cmd == 'kick':
        await eio.disconnect(args[0])
    elif cmd == 'who':
        try:
            sids = await eio.manager.get_participants('/')
            await eio.send(sid, 'who ' + json.dumps(sorted(sids)))
        except Exception as exc:
            await eio.send(sid, 'who-error %s' % exc)
    elif cmd == 'node':
        await eio.send(sid, 'node ' + node.node_id())
    elif cmd == 'pid':
        await eio.send(sid, 'pid %d' % os.getpid())


def run_sync(eio, sid, data):
    """Run a command on a sync Server."""
    parsed = parse(data)
    if parsed is None:
        return eio.send(sid, data)
    cmd, args = parsed
    if cmd == 'send':
        eio.send(args[0], args[1])
    elif cmd == 'packet':
        eio.send_packet(args[0], Packet(MESSAGE, args[1]))
    elif cmd == 'burst':
        for i in range(args[1]):
            eio.send(args[0], '%s:%d' % (args[2], i))
    elif cmd == 'flood':
        end = time.monotonic() + args[1]
        i = 0
        while time.monotonic() < end:
            eio.send(args[0], '%s:%d' % (args[2], i))
            i += 1
            time.sleep(0)
    elif cmd == 'bcast':
        eio.broadcast(args[0], skip_sid=args[1])
    elif cmd == 'bburst':
        for i in range(args[0]):
            eio.broadcast('%s:%d' % (args[1], i))
    elif cmd == 'kick':
        eio.disconnect(args[0])
    elif cmd == 'who':
        try:
            sids = eio.manager.get_participants('/')
            eio.send(sid, 'who ' + json.dumps(sorted(sids)))
        except Exception as exc:
            eio.send(sid, 'who-error %s' % exc)
    elif cmd == 'node':
        eio.send(sid, 'node ' + node.node_id())
    elif cmd == 'pid':
        eio.send(sid, 'pid %d' % os.getpid())


def manager_options():
    """Short heartbeats and liveness bound, so tests wait little; a small
    entry bound, so the oversized-entry test stays small."""
    return dict(heartbeat=0.2, presence_ttl=1.5, max_entry_bytes=65536,
                max_pending=int(os.environ.get('EIO_MAX_PENDING', '10000')))
