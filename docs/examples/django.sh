# Django under gunicorn's gthread worker
gunicorn -k gthread --threads 100 -w 1 -b "127.0.0.1:${PORT:-8000}" \
    django_project.wsgi:application
