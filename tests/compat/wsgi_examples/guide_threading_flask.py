# From the user guide ("Standard Threads"), not the WSGI middleware page.
# Harness preamble, not part of the documented snippet (which leaves out
# its imports); everything below the marker is verbatim.
import engineio_fast as engineio
from flask import Flask
# --- documented snippet ---
eio = engineio.Server(async_mode='threading')
app = Flask(__name__)
app.wsgi_app = engineio.WSGIApp(eio, app.wsgi_app)

# ... Engine.IO and Flask handler functions ...

if __name__ == '__main__':
    app.run()
