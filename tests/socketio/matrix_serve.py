"""``python -m tests.socketio.matrix_serve MODE --port P``: serve
matrix_app.py's python-socketio AsyncServer in an asyncio async mode that
needs its own web framework: ``aiohttp``, ``sanic`` or ``tornado``, the way
python-socketio documents each (``sio.attach(app)``, or
``socketio.get_tornado_handler(sio)``). The ASGI mode is served by
``engineio-fast`` and uvicorn directly (tests/socketio/test_js_matrix.py).

:data:`SERVE` is also how tests/socketio/serve.py serves sio_app.py's
AsyncServer in these modes, with its plain HTTP routes beside Socket.IO
(``routes``: a GET's path -> ``(status line, body)``).

The browser page and what it loads (matrix_common.STATIC_FILES) are
served by each framework's own means, as an app of that framework would
serve its pages.
"""

import argparse
import asyncio

HOST = '127.0.0.1'
#: the plain HTTP routes served beside Socket.IO when ``routes`` is given
ROUTES = ('/_health', '/_record')


def _pages():
    """``(url path, file, content type)`` of the browser page's files."""
    from .matrix_common import STATIC_FILES
    return [(path, f['filename'], f['content_type'])
            for path, f in STATIC_FILES.items()]


def serve_aiohttp(sio, port, host=HOST, routes=None):
    from aiohttp import web
    app = web.Application()
    sio.attach(app)
    if routes is not None:
        async def get(request):
            status, body = routes(request.path)
            return web.Response(body=body, status=int(status.split()[0]),
                                content_type='application/json')
        for path in ROUTES:
            app.router.add_get(path, get)
    for path, filename, ctype in _pages():
        async def page(request, filename=filename, ctype=ctype):
            return web.FileResponse(filename, headers={'Content-Type': ctype})
        app.router.add_get(path, page)
    web.run_app(app, host=host, port=port, print=None)


def serve_sanic(sio, port, host=HOST, routes=None):
    from sanic import Sanic, response
    app = Sanic('matrix')
    sio.attach(app)
    if routes is not None:
        async def get(request):
            status, body = routes(request.path)
            return response.raw(body, status=int(status.split()[0]),
                                content_type='application/json')
        for path in ROUTES:
            app.add_route(get, path, name=path.strip('/'))
    for n, (path, filename, ctype) in enumerate(_pages()):
        app.static(path, filename, name='page%d' % n, content_type=ctype)
    app.run(host=host, port=port, single_process=True, access_log=False,
            motd=False)


def serve_tornado(sio, port, host=HOST, routes=None):
    import socketio
    import tornado.web

    class Get(tornado.web.RequestHandler):
        def get(self):
            status, body = routes(self.request.path)
            self.set_status(int(status.split()[0]))
            self.set_header('Content-Type', 'application/json')
            self.finish(body)

    handlers = [(r'/socket.io/', socketio.get_tornado_handler(sio))]
    if routes is not None:
        handlers += [(path, Get) for path in ROUTES]

    class Page(tornado.web.RequestHandler):
        def initialize(self, filename, ctype):
            self.filename, self.ctype = filename, ctype

        def get(self):
            self.set_header('Content-Type', self.ctype)
            with open(self.filename, 'rb') as f:
                self.write(f.read())

    handlers += [(path, Page, {'filename': filename, 'ctype': ctype})
                 for path, filename, ctype in _pages()]

    async def main():
        app = tornado.web.Application(handlers)
        app.listen(port, address=host)
        await asyncio.Event().wait()

    asyncio.run(main())


SERVE = {'aiohttp': serve_aiohttp, 'sanic': serve_sanic,
         'tornado': serve_tornado}


def main():
    parser = argparse.ArgumentParser(prog='python -m tests.socketio.matrix_serve')
    parser.add_argument('mode', choices=sorted(SERVE))
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()
    from .matrix_app import make_server  # makes the switch first
    SERVE[args.mode](make_server(args.mode), args.port)


if __name__ == '__main__':
    main()
