# the same ASGIApp under uvicorn
uvicorn echo_app:app --host 127.0.0.1 --port "${PORT:-5000}"
