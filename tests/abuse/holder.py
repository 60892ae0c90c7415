"""Hold N TCP connections to 127.0.0.1:PORT (tests/abuse/test_slow_clients):
``python holder.py PORT N silent|half-request``.

Connects them all (non-blocking, a few hundred at a time, 60 s at most),
prints ``connected K``; with ``half-request`` each then sends the first half
of a request (its request line and one header), and nothing more. Then
watches them: when the server has closed all of them (or after 30 s, or
when stdin closes) prints ``closed-by-server C``. Holds everything until its
stdin closes (300 s at most). Bounded in count and time.
"""

import errno
import resource
import select
import socket
import sys
import threading
import time

HALF = b'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n'


def main():
    port, count, how = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    ep = select.epoll()
    socks = {}
    connected = set()
    deadline = time.monotonic() + 60
    started = 0
    while len(connected) < count and time.monotonic() < deadline:
        # at most 512 connects in flight
        while started < count and started - len(connected) < 512:
            s = socket.socket()
            s.setblocking(False)
            err = s.connect_ex(('127.0.0.1', port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                break
            socks[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLOUT)
            started += 1
        for fd, _ev in ep.poll(0.5):
            s = socks[fd]
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected.add(fd)
                if how == 'half-request':
                    try:
                        s.send(HALF)
                    except OSError:
                        pass
            else:
                s.close()
                del socks[fd]
                started -= 1
    print('connected %d' % len(connected), flush=True)
    # watch for the server's closes (EOF or reset)
    for fd in connected:
        ep.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()),
                     daemon=True).start()
    closed = set()
    watch_until = time.monotonic() + 30
    while len(closed) < len(connected) and time.monotonic() < watch_until \
            and not done.is_set():
        for fd, _ev in ep.poll(0.5):
            try:
                data = socks[fd].recv(4096)
            except OSError:
                data = b''
            if not data:
                closed.add(fd)
                ep.unregister(fd)
    print('closed-by-server %d' % len(closed), flush=True)
    done.wait(300)
    for s in socks.values():
        s.close()


if __name__ == '__main__':
    main()
