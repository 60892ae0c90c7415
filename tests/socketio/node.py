"""Running the node drivers of tests/socketio/js (the official socket.io-client
from the repository's node_modules)."""

import json
import os
import subprocess

from ..interop.conftest import require_node

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'js')


def run_node(script, payload, timeout):
    """Run ``js/<script>`` with ``payload`` as JSON on stdin; its JSON
    stdout. The driver bounds itself; ``timeout`` is the hard limit."""
    require_node()
    try:
        proc = subprocess.run(['node', os.path.join(JS_DIR, script)],
                              input=json.dumps(payload).encode(),
                              capture_output=True, timeout=timeout,
                              cwd=JS_DIR)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError('node %s did not exit within %ss; stderr: %r'
                             % (script, timeout, (exc.stderr or b'')[-3000:])
                             ) from None
    out = proc.stdout.decode('utf-8', 'replace')
    err = proc.stderr.decode('utf-8', 'replace')
    assert proc.returncode == 0, 'node %s exited %d: %s\n%s' % (
        script, proc.returncode, err[-3000:], out[-2000:])
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError('node %s printed no JSON: %r; stderr: %s'
                             % (script, out[-2000:], err[-3000:])) from None
