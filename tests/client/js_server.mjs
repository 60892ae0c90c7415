// The official engine.io 6 server (from node_modules) for the Python client tests and the
// client benchmark.
//
//   node js_server.mjs '{"pingInterval": 500, "pingTimeout": 500, ...}'
//
// Listens on 127.0.0.1, port 0, and prints one line of JSON on stdout: {"port": N}.
// Exits when stdin closes (so it never outlives the Python process that started it).
//
// Options (argv[2], JSON, all optional): pingInterval, pingTimeout, maxHttpBufferSize,
// transports, allowUpgrades, path (default '/engine.io'), tls: {key, cert} (PEM file paths),
// cookie (engine.io's cookie option: true sets an `io=<sid>` cookie on the handshake).
//
// Requests carrying the header `x-reject: <message>` are refused by allowRequest with that
// message (polling: 403 + JSON {code: 4, message}; websocket: 400 + the message as text).
//
// Every message is echoed back with its type (text/binary), except these text commands:
//   bulk:N     send N text messages 'b0' .. 'b<N-1>' in one tick (one big poll)
//   big:N      send one text message of N characters (bigText(N))
//   binbig:N   send one binary message of N bytes (bigBytes(N))
//   close      the server closes the socket
//   die        process.exit(): the server is killed mid-session
//   mute       reply 'muted', then stop this socket's heartbeat (no more pings, no ping timeout)
//   headers    reply the handshake request headers as JSON
//   count      reply 'count:<number of messages received so far on this socket, this one included>'
//   quiet      stop echoing plain messages on this socket (commands still answer)
//
// GET /_record (same server, outside the engine.io path) returns what the server saw:
//   {sockets: {sid: {transport, upgradedTo, headers (handshake request), upgradeHeaders
//                    (websocket upgrade request, if any), query, messages: [{t, len, sha1}]
//                    (len in code points for text, bytes for binary; sha1 of the UTF-8/bytes),
//                    closed, reason, description, maxFlush (most packets in one flush),
//                    posts: [content-length of each POST], cookies: [Cookie header of each
//                    request after the handshake, or null], quiet, trace: [what the client
//                    sent, in order: [transport, packet type] for each packet (pings and
//                    pongs left out), 'upgrading' when the probe was answered, 'upgrade' when
//                    the upgrade packet came]}},
//    errors: [{code, message, context}]}
// GET /_record?sid=X returns just that socket (or null).

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Server } = require('engine.io');

const opts = JSON.parse(process.argv[2] || '{}');
const path = opts.path || '/engine.io';

function bigText(n) {
  // deterministic, mixes ASCII with a 2-byte and a 4-byte character every 64 characters
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-é😀';
  const points = Array.from(unit); // by code point (the emoji is 2 UTF-16 units)
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = points[i % points.length];
  return out.join('');
}

function bigBytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

const engineOpts = {
  pingInterval: opts.pingInterval ?? 500,
  pingTimeout: opts.pingTimeout ?? 500,
  maxHttpBufferSize: opts.maxHttpBufferSize ?? 1e6,
  transports: opts.transports ?? ['polling', 'websocket'],
  allowUpgrades: opts.allowUpgrades ?? true,
  cookie: opts.cookie ?? false,
  allowRequest: (req, fn) => {
    const reject = req.headers['x-reject'];
    if (reject !== undefined) fn(reject, false);
    else fn(null, true);
  },
};
const engine = new Server(engineOpts);

const record = { sockets: {}, errors: [] };

engine.on('connection_error', (err) => {
  record.errors.push({ code: err.code, message: err.message, context: err.context ?? null });
});

// sees every engine.io request (middlewares run before the transport reads the body)
engine.use((req, res, next) => {
  const sid = req._query && req._query.sid;
  const rec = sid ? record.sockets[sid] : undefined;
  if (rec && req.method === 'POST') {
    const len = req.headers['content-length'];
    rec.posts.push(len === undefined ? null : Number(len));
  }
  if (rec && req._query.transport === 'websocket') rec.upgradeHeaders = req.headers;
  if (rec) rec.cookies.push(req.headers.cookie ?? null);
  next();
});

engine.on('connection', (socket) => {
  const rec = {
    transport: socket.transport.name,
    upgradedTo: null,
    headers: socket.request.headers,
    query: socket.request._query ?? null,
    messages: [],
    closed: false,
    reason: null,
    description: null,
    maxFlush: 0,
    posts: [],
    upgradeHeaders: null,
    cookies: [],
    quiet: false,
    trace: [],
  };
  record.sockets[socket.id] = rec;

  socket.on('upgrade', (transport) => {
    rec.upgradedTo = transport.name;
    rec.trace.push('upgrade');
  });
  socket.on('upgrading', () => { rec.trace.push('upgrading'); });
  socket.on('packet', (packet) => {
    if (packet.type !== 'ping' && packet.type !== 'pong') {
      rec.trace.push([socket.transport.name, packet.type]);
    }
  });
  socket.on('flush', (wbuf) => {
    if (wbuf.length > rec.maxFlush) rec.maxFlush = wbuf.length;
  });
  socket.on('close', (reason, description) => {
    rec.closed = true;
    rec.reason = reason;
    rec.description = description ? String(description.message ?? description) : null;
  });

  socket.on('message', (data) => {
    // the parser gives no data for an empty text message
    if (data === undefined || data === null) data = '';
    const isText = typeof data === 'string';
    const buf = isText ? Buffer.from(data, 'utf8') : Buffer.from(data);
    rec.messages.push({
      t: isText ? 'text' : 'bin',
      len: isText ? Array.from(data).length : buf.length,
      sha1: crypto.createHash('sha1').update(buf).digest('hex'),
    });
    if (!isText) {
      if (!rec.quiet) socket.send(buf);
      return;
    }
    const m = /^(bulk|big|binbig):(\d+)$/.exec(data);
    if (m) {
      const n = Number(m[2]);
      if (m[1] === 'bulk') for (let i = 0; i < n; i++) socket.send('b' + i);
      else if (m[1] === 'big') socket.send(bigText(n));
      else socket.send(bigBytes(n));
      return;
    }
    switch (data) {
      case 'close':
        socket.close();
        return;
      case 'die':
        process.exit(0);
        return;
      case 'mute':
        socket.send('muted');
        // stop the heartbeat of this socket only: no more pings, and no ping timeout
        clearTimeout(socket.pingIntervalTimer);
        clearTimeout(socket.pingTimeoutTimer);
        socket.pingIntervalTimer = null;
        socket.pingTimeoutTimer = null;
        socket.schedulePing = () => {};
        socket.resetPingTimeout = () => {};
        return;
      case 'headers':
        socket.send(JSON.stringify(socket.request.headers));
        return;
      case 'count':
        socket.send('count:' + rec.messages.length);
        return;
      case 'quiet':
        rec.quiet = true;
        return;
      default:
        if (!rec.quiet) socket.send(data);
    }
  });
});

function onRequest(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/_record') {
    const sid = url.searchParams.get('sid');
    const body = sid === null ? record : (record.sockets[sid] ?? null);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
    return;
  }
  res.writeHead(404);
  res.end('not found');
}

const server = opts.tls
  ? https.createServer({ key: fs.readFileSync(opts.tls.key), cert: fs.readFileSync(opts.tls.cert) },
    onRequest)
  : http.createServer(onRequest);
engine.attach(server, { path });

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

// a bug here must not take down a server shared by many tests
process.on('uncaughtException', (err) => {
  process.stderr.write(`uncaught: ${err && err.stack}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
