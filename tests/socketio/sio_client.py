"""A python-socketio ``Client`` on engineio_fast, run by the tests in a
subprocess (``engineio_fast.install()`` must come before ``import
socketio``, and the pytest process may hold python-engineio already).

    python -m tests.socketio.sio_client < scenario.json

The input (JSON): ``url`` and ``runs``, each run a connection of its own,
one after the other: ``transports`` (a list), ``calls`` (event names to
call in order, each without arguments) and ``upgrade_before`` (the index
of the call before which the client waits, at most 10 s, for the
websocket upgrade; None: no wait). Prints JSON: a list with, per run,
``welcome`` (the first ``welcome`` event's data), ``results`` (each
call's answer), ``transports`` (the client's transport at each call),
``joined`` (the ``joined`` events received) and ``engine`` (the module of
``client.eio``).
"""

import json
import sys
import threading
import time

import engineio_fast

engineio_fast.install()

import socketio  # noqa: E402

WAIT = 10.0


def wait_until(predicate):
    deadline = time.monotonic() + WAIT
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def run(url, transports, calls, upgrade_before=None):
    client = socketio.Client(reconnection=False)
    welcome = threading.Event()
    seen = {'welcome': None, 'joined': []}

    @client.on('welcome')
    def on_welcome(data):
        seen['welcome'] = data
        welcome.set()

    @client.on('joined')
    def on_joined(data):
        seen['joined'].append(data)

    client.connect(url, transports=transports, wait_timeout=WAIT)
    assert welcome.wait(WAIT), 'no welcome event'
    results, used = [], []
    for i, name in enumerate(calls):
        if i == upgrade_before:
            wait_until(lambda: client.transport() == 'websocket')
        used.append(client.transport())
        results.append(client.call(name, timeout=WAIT))
    if 'join' in calls:
        wait_until(lambda: seen['joined'])
    engine = type(client.eio).__module__
    client.disconnect()
    return {'welcome': seen['welcome'], 'results': results,
            'transports': used, 'joined': seen['joined'], 'engine': engine}


def main():
    scenario = json.load(sys.stdin)
    print(json.dumps([run(scenario['url'], **each)
                      for each in scenario['runs']]))


if __name__ == '__main__':
    main()
