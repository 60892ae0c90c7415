# gunicorn's gthread worker: one thread per open connection (parked poll
# or websocket), so size --threads for the clients you expect
gunicorn -k gthread --threads 100 -w 1 -b "127.0.0.1:${PORT:-5000}" flask_app:app
