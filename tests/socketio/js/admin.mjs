// The Socket.IO admin UI's side of sio.instrument(), driven by the official
// socket.io-client 4 (from the repository's node_modules): an admin socket on
// the '/admin' namespace, connected the way @socket.io/admin-ui's UI connects
// (forceNew, no reconnection, transports polling then websocket), records
// every event the server emits to it while ordinary clients connect (polling
// only, websocket only, polling upgraded to websocket), emit events with
// acks and disconnect.
//
// Input (JSON on stdin):
//   { "url": "http://127.0.0.1:PORT", "path": "/socket.io",
//     "clients": [{"name": str, "transports": [...]}, ...],
//     "rounds": N (echo calls per client), "size": N (characters per echo),
//     "pingRounds": N (wait until each client was reported this many times by
//                      socket_connected: at connect, then once per ping),
//     "timeoutMs": overall limit }
// Output (JSON on stdout):
//   { "admin": [{"ev", "t", "args"}], "clients": [{"name", "id", "eioId",
//     "connectTransport", "finalTransport", "acks"}],
//     "marks": {"connected", "traffic", "pinged", "settled", "disconnected",
//               "end"},
//     "bytesSent": characters of echo payload sent by all clients,
//     "error": null or a message }
// Times are milliseconds since the start.

import { io } from "socket.io-client";
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const t0 = Date.now();
const now = () => Date.now() - t0;
const deadline = t0 + (input.timeoutMs || 40000);
const admin = [];
const marks = {};
const clients = [];
let error = null;

function waitFor(what, predicate) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error("timed out waiting for " + what));
      setTimeout(check, 20);
    };
    check();
  });
}

function seen(ev, filter = () => true) {
  return admin.filter((e) => e.ev === ev && filter(e.args));
}

const options = (transports) => ({
  path: input.path || "/socket.io",
  forceNew: true,
  reconnection: false,
  transports,
  timeout: 10000,
});

async function main() {
  const adminSocket = io(input.url + "/admin", {
    ...options(["polling", "websocket"]),
    withCredentials: true,
  });
  adminSocket.onAny((ev, ...args) => admin.push({ ev, t: now(), args }));
  await waitFor("admin config", () => seen("config").length > 0);
  await waitFor("admin all_sockets", () => seen("all_sockets").length > 0);

  for (const spec of input.clients) {
    const socket = io(input.url, options(spec.transports));
    const entry = { name: spec.name, socket, acks: [] };
    clients.push(entry);
    await waitFor("connect of " + spec.name, () => socket.connected);
    entry.id = socket.id;
    entry.eioId = socket.io.engine.id;
    entry.connectTransport = socket.io.engine.transport.name;
  }
  marks.connected = now();

  const payload = "p".repeat(input.size || 100);
  let bytesSent = 0;
  for (let r = 0; r < (input.rounds || 3); r++) {
    await Promise.all(clients.map(async (entry) => {
      const ack = await entry.socket.timeout(10000).emitWithAck("echo", payload + r);
      bytesSent += payload.length + String(r).length;
      entry.acks.push(Array.isArray(ack) ? ack[0] : ack);
    }));
  }
  marks.traffic = now();

  const upgrading = clients.filter((e) => e.name === "upgrade");
  await waitFor("upgrade", () =>
    upgrading.every((e) => e.socket.io.engine.transport.name === "websocket"));
  // each client reported again (python-socketio re-emits socket_connected
  // with every ping), the last report after its upgrade
  const rounds = input.pingRounds || 2;
  await waitFor("ping reports", () => clients.every((entry) =>
    seen("socket_connected", (a) => a[0].id === entry.id).length >= rounds));
  marks.pinged = now();
  // one server_stats with everyone connected and upgraded
  const ticks = seen("server_stats").length;
  await waitFor("server_stats after the ping reports",
    () => seen("server_stats").length > ticks);
  marks.settled = now();

  for (const entry of clients) {
    entry.finalTransport = entry.socket.io.engine.transport.name;
    entry.socket.disconnect();
  }
  await waitFor("socket_disconnected", () => clients.every((entry) =>
    seen("socket_disconnected", (a) => a[1] === entry.id).length > 0));
  marks.disconnected = now();
  // two more stats: the disconnections are counted in one of them
  const stats = seen("server_stats").length;
  await waitFor("server_stats after the disconnections",
    () => seen("server_stats").length >= stats + 2);
  adminSocket.disconnect();
  return bytesSent;
}

let bytesSent = 0;
try {
  bytesSent = await main();
} catch (e) {
  error = String(e && e.stack || e);
}
marks.end = now();
for (const entry of clients) {
  if (entry.socket.connected) entry.socket.disconnect();
}
process.stdout.write(JSON.stringify({
  admin,
  clients: clients.map(({ socket, ...rest }) => rest),
  marks,
  bytesSent,
  error,
}));
process.exit(0);
