// The reference target of the conformance suite: the official engine.io 6 server from
// node_modules with the app the protocol's own test suite expects (every message echoed, with
// its type), at pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6, CORS for every origin.
//
//   node server.mjs [PORT] [HOST]      (defaults: 0 = a free port, 127.0.0.1)
//
// Prints one line of JSON on stdout once listening: {"port": N}. Exits when its stdin closes,
// so it never outlives the process that started it (give it a pipe, not /dev/null).
//
// Beyond the echo, the same hooks as our apps (tests/conformance/apps.py):
//   text message 'close'          the server closes that socket (socket.close())
//   GET /_health                  'ok'
//   GET /_conf/state              {"sessions": <open sockets>, "reasons": {sid: [reason, ...]}}
//   GET /_conf/disconnect?sid=X   closes socket X from outside any request of its own

import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Server } = require('engine.io');

const port = Number(process.argv[2] || 0);
const host = process.argv[3] || '127.0.0.1';
const MAX_RECORDED = 10000;

const engine = new Server({
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  cors: { origin: '*' },
});

const reasons = new Map();

engine.on('connection', (socket) => {
  socket.on('message', (data) => {
    if (data === 'close') {
      socket.close();
      return;
    }
    socket.send(data);
  });
  socket.on('close', (reason) => {
    if (reasons.size >= MAX_RECORDED) return;
    const list = reasons.get(socket.id) || [];
    list.push(reason);
    reasons.set(socket.id, list);
  });
});

function json(res, value) {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/engine.io')) {
    engine.handleRequest(req, res);
  } else if (url.pathname === '/_health') {
    res.writeHead(200, { 'Content-Length': 2 });
    res.end('ok');
  } else if (url.pathname === '/_conf/state') {
    json(res, { sessions: engine.clientsCount, reasons: Object.fromEntries(reasons) });
  } else if (url.pathname === '/_conf/disconnect') {
    const socket = engine.clients[url.searchParams.get('sid')];
    if (socket) socket.close();
    json(res, { found: Boolean(socket) });
  } else {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  }
});

server.on('upgrade', (req, socket, head) => {
  if (new URL(req.url, 'http://x').pathname.startsWith('/engine.io')) {
    engine.handleUpgrade(req, socket, head);
  } else {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  }
});

server.listen(port, host, () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
