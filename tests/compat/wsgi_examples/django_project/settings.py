"""Test harness: minimal settings for the Django example (no database, no
apps, no middleware)."""

SECRET_KEY = 'engineio-fast-tests-only'
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1']
ROOT_URLCONF = 'django_project.urls'
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
LOGGING_CONFIG = None
