# the built-in server with Prometheus metrics at GET /metrics
# (pip install "engineio-fast[metrics]" adds prometheus_client)
engineio-fast echo_app:app --metrics --host 127.0.0.1 --port "${PORT:-5000}"
