# uvicorn's workers, no sticky load balancer: a polling request that lands
# on a worker that does not own its session is forwarded through Redis
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}" \
    uvicorn redis_app:app --workers 2 --host 127.0.0.1 --port "${PORT:-5000}"
