"""The command line of the test apps that run themselves with
``engineio_fast.run(app, workers=N)``::

    python -m <the app's module> --workers N --port P
"""

import argparse
import logging

import engineio_fast


def run_from_command_line(app):
    """Serve ``app`` (forked into each worker) on 127.0.0.1 as the command
    line says, the server's log on stderr."""
    logging.basicConfig(level=logging.INFO,
                        format='%(levelname)s: %(message)s')
    parser = argparse.ArgumentParser()
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--port', type=int, default=5000)
    args = parser.parse_args()
    engineio_fast.run(app, host='127.0.0.1', port=args.port,
                      workers=args.workers)
