"""An app that says which process imported its module: ``imported`` is
answered with ``<pid that imported the module> <pid answering>``, so a
test can tell whether a worker imported the app itself (the command line
with ``--workers``) or got it forked from the supervisor
(``engineio_fast.run(eio, workers=N)``)."""

import os

import engineio_fast as engineio

IMPORTED_BY = os.getpid()
eio = engineio.AsyncServer()


@eio.on('message')
async def message(sid, data):
    if data == 'imported':
        await eio.send(sid, '%d %d' % (IMPORTED_BY, os.getpid()))
    else:
        await eio.send(sid, data)


if __name__ == '__main__':
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--port', type=int, default=5000)
    args = parser.parse_args()
    engineio.run(eio, host='127.0.0.1', port=args.port, workers=args.workers)
