# four processes on one port; python-socketio's Redis manager carries
# emits, rooms and disconnects between them
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}" \
    engineio-fast socketio_redis_app:sio --workers "${WORKERS:-4}" \
    --host 127.0.0.1 --port "${PORT:-5000}"
