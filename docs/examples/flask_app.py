"""Flask with the synchronous Server in threading mode.

    python flask_app.py              # Werkzeug, port 5000
    gunicorn -k gthread --threads 100 -w 1 flask_app:app
"""
import os

from flask import Flask

import engineio_fast as engineio

eio = engineio.Server(async_mode='threading')
app = Flask(__name__)
app.wsgi_app = engineio.WSGIApp(eio, app.wsgi_app)


@app.route('/hello')
def hello():
    return 'hello from Flask'


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)


if __name__ == '__main__':
    app.run(host='127.0.0.1', port=int(os.environ.get('PORT', 5000)),
            threaded=True)
