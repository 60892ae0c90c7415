"""``tests.conformance.wsgi_app:app``: the conformance app on the sync Server
(imported by tests/sync/serve.py after any monkey patching)."""

from .apps import make_wsgi_app

app = make_wsgi_app()
