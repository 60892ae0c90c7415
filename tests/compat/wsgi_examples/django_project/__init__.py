"""Test harness, not from the reference page: the smallest real Django
project that the page's Django example (``django_project/wsgi.py``, stored
as ../django_integration.py) can load via
DJANGO_SETTINGS_MODULE='django_project.settings'."""
