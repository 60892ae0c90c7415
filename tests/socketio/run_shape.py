"""``python -m tests.socketio.run_shape NAME --port P [--uvicorn]``: serve
``tests.socketio.shapes.NAME`` with ``engineio_fast.run()`` (or under
uvicorn, to show the same app answers at the same path there), the switch
made by ``engineio_fast.install()`` before the app imports socketio."""

import argparse
import importlib

import engineio_fast


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('name')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--uvicorn', action='store_true')
    args = parser.parse_args()
    engineio_fast.install()
    shapes = importlib.import_module('tests.socketio.shapes')
    print('run_shape: serving %s on port %d' % (args.name, args.port),
          flush=True)
    app = getattr(shapes, args.name)
    if args.uvicorn:
        import uvicorn
        uvicorn.run(app, host='127.0.0.1', port=args.port,
                    log_level='warning')
    else:
        engineio_fast.run(app, host='127.0.0.1', port=args.port)


if __name__ == '__main__':
    main()
