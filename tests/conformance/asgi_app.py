"""``tests.conformance.asgi_app:app``: the conformance app on the AsyncServer,
for ``uvicorn`` and ``python -m engineio_fast`` run by hand."""

from .apps import make_asgi_app

app = make_asgi_app()
