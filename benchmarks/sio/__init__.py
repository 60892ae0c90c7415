"""python-socketio benchmark (``python benchmarks/load/run.py --group socketio``; see README.md)."""
