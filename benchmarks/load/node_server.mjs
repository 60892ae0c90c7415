// The benchmark app on the official JavaScript engine.io 6 server (repo-root node_modules).
// Same behaviour as apps/common.py: echo every message to its sender; "bcast:<text>" sends
// <text> to every connected socket. Usage: node node_server.mjs --port PORT
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'package.json'));
const { Server } = require('engine.io');

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1] || 5000);

const httpServer = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const eio = new Server({
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  perMessageDeflate: false,
  httpCompression: false,
  transports: ['polling', 'websocket'],
  cors: { origin: '*' },
});
eio.attach(httpServer, { path: '/engine.io/' });

eio.on('connection', (socket) => {
  socket.on('message', (data) => {
    if (typeof data === 'string' && data.startsWith('bcast:')) {
      const text = data.slice(6);
      for (const id in eio.clients) eio.clients[id].send(text);
    } else {
      socket.send(data);
    }
  });
});

httpServer.listen(port, '127.0.0.1');
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { eio.close(); httpServer.close(); process.exit(0); });
}
