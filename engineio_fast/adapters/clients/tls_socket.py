"""A TLS client connection that two threads may read and write at once.

The websockets package's synchronous client reads its socket in a thread of
its own while ``send()`` writes from the caller's thread. On an
``ssl.SSLSocket`` that means two threads inside one OpenSSL connection
object, which OpenSSL does not support: now and then the websocket
handshake is lost, and a read blocked inside OpenSSL cannot be woken by
closing the socket, so the connection hangs for good. :class:`TLSSocket`
keeps the TLS state in an :class:`ssl.SSLObject` over memory buffers, touched
only under a lock that is never held across socket I/O; the socket itself
is read by one thread and written by another, which the OS allows. It has
the socket methods websockets uses.
"""

import socket
import ssl
import threading

RECV_SIZE = 65536


class TLSSocket:
    """TLS over the connected socket ``sock``; the handshake runs in the
    constructor within ``timeout`` seconds (``ssl.SSLError`` or
    ``OSError`` if it fails)."""

    def __init__(self, sock, context, server_hostname, timeout):
        self.sock = sock
        self.family = sock.family
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out,
                                     server_hostname=server_hostname)
        self._lock = threading.Lock()        # the SSLObject and its buffers
        self._send_lock = threading.Lock()   # the order of bytes sent
        sock.settimeout(timeout)
        while True:
            try:
                self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._feed(sock.recv(RECV_SIZE))
        self._flush()
        sock.settimeout(None)

    def _flush(self):
        if not self._out.pending:
            # nothing to send: do not wait behind a sender blocked on a
            # full socket (its peer may be waiting for us to read)
            return
        with self._send_lock:
            with self._lock:
                data = self._out.read()
            if data:
                self.sock.sendall(data)

    def _feed(self, data):
        with self._lock:
            if data:
                self._in.write(data)
            else:
                self._in.write_eof()

    def recv(self, size=RECV_SIZE):
        """Everything decrypted so far (possibly more than ``size``: what
        stays inside the TLS buffers would not make the socket readable
        again); b'' at the end of the stream."""
        while True:
            chunks = []
            end = False
            with self._lock:
                while True:
                    try:
                        chunk = self._tls.read(RECV_SIZE)
                    except ssl.SSLWantReadError:
                        break
                    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                        end = True
                        break
                    if not chunk:
                        end = True
                        break
                    chunks.append(chunk)
            self._flush()   # a read may have produced TLS records to send
            if chunks:
                return b''.join(chunks)
            if end:
                return b''
            self._feed(self.sock.recv(RECV_SIZE))

    def sendall(self, data):
        with self._send_lock:
            with self._lock:
                self._tls.write(data)
                out = self._out.read()
            self.sock.sendall(out)

    def shutdown(self, how):
        self.sock.shutdown(how)

    def close(self):
        # the shutdown wakes a thread blocked reading the socket
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def settimeout(self, timeout):
        self.sock.settimeout(timeout)

    def setsockopt(self, *args):
        self.sock.setsockopt(*args)

    def fileno(self):
        return self.sock.fileno()

    def getsockname(self):
        return self.sock.getsockname()

    def getpeername(self):
        return self.sock.getpeername()
