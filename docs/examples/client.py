"""The synchronous client: connect, send a message, print the answer.

    pip install "engineio-fast[client]"
"""
import os
import threading

import engineio_fast as engineio

url = os.environ.get('SERVER_URL', 'http://127.0.0.1:5000')
answered = threading.Event()
eio = engineio.Client()


@eio.on('message')
def message(data):
    print('got', data)
    answered.set()


eio.connect(url)
print('connected over', eio.transport())
eio.send('hello')
answered.wait(timeout=10)
eio.disconnect()
