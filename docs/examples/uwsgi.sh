# uWSGI with gevent; --http-keepalive: without it uWSGI's router closes each
# connection after one response yet answers HTTP/1.1 without
# "Connection: close", and clients that reuse connections see resets
uwsgi --http "127.0.0.1:${PORT:-5000}" --http-keepalive --http-websockets \
    --gevent 1000 --gevent-early-monkey-patch --master --processes 1 \
    --die-on-term --module uwsgi_app:app
