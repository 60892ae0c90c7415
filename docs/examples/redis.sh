# one process of many: run it on every host (and/or with --workers N)
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}" \
    engineio-fast redis_app:app --host 127.0.0.1 --port "${PORT:-5000}"
