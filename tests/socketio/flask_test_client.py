"""Flask-SocketIO's own test client (``socketio.test_client(app)``) against
``tests/socketio/flask_app.py``, run by the tests in a subprocess (the app
module switches to engineio_fast, or not, by ``EIO_IMPL``). Prints JSON of
what the test client saw."""

import json

from tests.socketio.flask_app import app, socketio


def main():
    flask_client = app.test_client()
    assert flask_client.get('/hello').status_code == 200
    client = socketio.test_client(app, flask_test_client=flask_client,
                                  auth={'token': 'x'})
    other = socketio.test_client(app)
    out = {'connected': client.is_connected(),
           'received': client.get_received(),
           'where': [client.emit('where', callback=True) for _ in range(3)],
           'eio_async_handlers': socketio.server.eio.async_handlers,
           'engine': type(socketio.server.eio).__module__}
    client.emit('join')
    other.emit('join')
    out['joined'] = [e['args'] for e in client.get_received()]
    out['other_joined'] = [e['args'] for e in other.get_received()]
    client.disconnect()
    other.disconnect()
    out['connected_after'] = client.is_connected()
    # the event that says how handlers run on this server
    inline = getattr(getattr(socketio.server.eio, '_dispatcher', None),
                     'inline', None)
    out['inline'] = inline
    print(json.dumps(out, default=str))


if __name__ == '__main__':
    main()
