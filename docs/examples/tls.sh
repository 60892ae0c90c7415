# https:// and wss:// on the built-in server
engineio-fast echo_app:app --host 127.0.0.1 --port "${PORT:-5443}" \
    --ssl-certfile "${CERTFILE:-cert.pem}" --ssl-keyfile "${KEYFILE:-key.pem}"
