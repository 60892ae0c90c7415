// What the official socket.io-client would cost as the load generator: C clients (websocket only) each
// keep K `echo` emits with an ack in flight for S seconds against a server on 127.0.0.1:PORT, and this
// prints the acks per second and this process's CPU per ack. Compare with the raw generator's
// `gen_cpu_frac / rate` on the same server (benchmarks/sio/README.md, "The load generator").
//   node benchmarks/sio/client_cost.mjs --port PORT [--clients 50] [--inflight 16] [--seconds 3]
// Every loop is bounded in count and time.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'package.json'));
const { io } = require('socket.io-client');

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const PORT = arg('port', 5000); const C = arg('clients', 50); const K = arg('inflight', 16);
const S = Math.min(arg('seconds', 3), 60);

const sockets = [];
await Promise.race([
  Promise.all(Array.from({ length: C }, () => new Promise((resolve, reject) => {
    const s = io(`http://127.0.0.1:${PORT}`, { transports: ['websocket'], reconnection: false, timeout: 10000 });
    s.on('connect', () => resolve());
    s.on('connect_error', reject);
    sockets.push(s);
  }))),
  new Promise((_, reject) => setTimeout(() => reject(new Error('connect timeout')), 30000)),
]);
let acks = 0; let errors = 0; let running = true;
for (const [id, s] of sockets.entries()) {
  let seq = 0;
  const one = () => {
    const text = `m${id}-${seq++}`;
    s.emit('echo', text, (back) => { if (back === text) acks++; else errors++; if (running) one(); });
  };
  for (let k = 0; k < K; k++) one();
}
await new Promise((r) => setTimeout(r, 500));
const a0 = acks; const c0 = process.cpuUsage(); const t0 = performance.now();
await new Promise((r) => setTimeout(r, S * 1000));
const a1 = acks; const c1 = process.cpuUsage(c0); const t1 = performance.now();
running = false;
const n = a1 - a0; const sec = (t1 - t0) / 1000; const cpu = (c1.user + c1.system) / 1e6;
console.log(JSON.stringify({ clients: sockets.length, inflight: K, acks_per_s: Math.round(n / sec),
  gen_cpu_frac: +(cpu / sec).toFixed(3), gen_cpu_us_per_ack: +((cpu / n) * 1e6).toFixed(2), errors }));
for (const s of sockets) s.close();
process.exit(0);
