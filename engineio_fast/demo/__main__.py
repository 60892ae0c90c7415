"""``python -m engineio_fast.demo``: the demo on the built-in server (what
``engineio-fast demo`` runs) or, with ``--uvicorn``, on uvicorn."""

import argparse
import sys

import engineio_fast as engineio
from engineio_fast.demo import app_for_cli


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m engineio_fast.demo',
        description='engineio_fast chat/echo demo.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5000)
    parser.add_argument('--client-js', default=None,
                        help='path to engine.io.min.js (default: the '
                             'copy in the package or in node_modules, else '
                             'the pinned CDN copy)')
    parser.add_argument('--uvicorn', action='store_true',
                        help='serve with uvicorn instead of the built-in '
                             'server')
    args = parser.parse_args(argv)
    if not args.uvicorn:
        from engineio_fast.cli import main as cli_main
        rest = ['demo', '--host', args.host, '--port', str(args.port)]
        if args.client_js:
            rest += ['--client-js', args.client_js]
        return cli_main(rest)
    app = app_for_cli(args.client_js, sys.stderr)
    if app is None:
        return 2
    import uvicorn
    print('engineio_fast %s (%s kernels) demo on uvicorn, http://%s:%d/'
          % (engineio.__version__, engineio.IMPLEMENTATION, args.host,
             args.port), flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
    return 0


if __name__ == '__main__':
    sys.exit(main())
