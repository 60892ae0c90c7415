"""Flask-SocketIO on engineio_fast."""
import os

import engineio_fast

engineio_fast.install()         # before "from flask_socketio import ..."

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode='threading')


@socketio.on('echo')
def echo(data):
    return data                 # the acknowledgement


if __name__ == '__main__':
    socketio.run(app, host='127.0.0.1', port=int(os.environ.get('PORT', 5000)),
                 allow_unsafe_werkzeug=True)
