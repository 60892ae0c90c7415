"""Serve the python-socketio app on engineio_fast's built-in server, as a user would.

    python -m benchmarks.sio.serve_builtin MODULE [--host H] [--port P]
    python -m benchmarks.sio.serve_builtin MODULE --which     # print the form used, exit

MODULE defines ``app`` (``socketio.ASGIApp(sio)``) and ``eio_app`` (an engineio_fast ASGIApp around
``sio.eio`` at ``/socket.io/``). The server is started through the command line a user types,
``python -m engineio_fast MODULE:app`` (= ``engineio-fast MODULE:app``), as soon as it accepts a
python-socketio app (issue 12, item 2); until then ``MODULE:eio_app``. The choice is the CLI's own
check (``split_app``), so the target switches by itself when that lands; the suite's report says
which form it measured.
"""
import argparse
import importlib
import sys


def choose(module_name):
    """``'app'`` when the built-in server's CLI accepts ``MODULE:app``, else ``'eio_app'``."""
    module = importlib.import_module(module_name)
    from engineio_fast.adapters.builtin.serve import split_app
    try:
        split_app(module.app)
        return 'app'
    except TypeError:
        return 'eio_app'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('module')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', default='5000')
    ap.add_argument('--which', action='store_true', help='print the MODULE:attr the server would use, and exit')
    args = ap.parse_args(argv)
    spec = '%s:%s' % (args.module, choose(args.module))
    if args.which:
        print(spec)
        return 0
    sys.stderr.write('serve_builtin: python -m engineio_fast %s\n' % spec)
    from engineio_fast.cli import main as cli_main
    return cli_main([spec, '--host', args.host, '--port', str(args.port), '--log-level', 'warning'])


if __name__ == '__main__':
    sys.exit(main())
