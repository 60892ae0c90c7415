# a python-socketio app on the built-in server: the command makes the
# switch (install()) itself before it imports the app
engineio-fast socketio_app:app --host 127.0.0.1 --port "${PORT:-5000}"
