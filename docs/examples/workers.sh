# two worker processes on one port, no sticky load balancer needed
engineio-fast echo_app:app --workers 2 --host 127.0.0.1 --port "${PORT:-5000}"
