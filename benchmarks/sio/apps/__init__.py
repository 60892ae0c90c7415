"""The python-socketio benchmark app, the same on every Python target."""
