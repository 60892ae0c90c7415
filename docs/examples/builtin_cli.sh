# the built-in server (uvloop + httptools), from the command line
engineio-fast echo_app:app --host 127.0.0.1 --port "${PORT:-5000}"
