"""``python -m tests.socketio.run_shape NAME --port P``: serve
``tests.socketio.shapes.NAME`` with ``engineio_fast.run()``, the switch made
by ``engineio_fast.install()`` before the app imports socketio."""

import argparse
import importlib

import engineio_fast


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('name')
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()
    engineio_fast.install()
    shapes = importlib.import_module('tests.socketio.shapes')
    print('run_shape: serving %s on port %d' % (args.name, args.port),
          flush=True)
    engineio_fast.run(getattr(shapes, args.name), host='127.0.0.1',
                      port=args.port)


if __name__ == '__main__':
    main()
