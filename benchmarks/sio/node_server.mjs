// The python-socketio benchmark app on Node's socket.io 4.8 (repo-root node_modules), a plain
// `new Server(httpServer)` with the defaults (which are python-socketio's: ping 25 s / 20 s, max payload
// 1e6). Same behaviour as apps/common.py: every socket joins room "all"; "echo" acks its argument;
// "bcast" emits "b" with its argument to room "all". Usage: node node_server.mjs --port PORT
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'package.json'));
const { Server } = require('socket.io');

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1] || 5000);

const httpServer = http.createServer();
const io = new Server(httpServer);

io.on('connection', (socket) => {
  socket.join('all');
  socket.on('echo', (data, ack) => { if (typeof ack === 'function') ack(data); });
  socket.on('bcast', (data) => { io.to('all').emit('b', data); });
});

httpServer.listen(port, '127.0.0.1');
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { io.close(); process.exit(0); });
}
