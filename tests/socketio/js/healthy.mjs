// Healthy socket.io-client sessions that keep calling while the tests do
// something else to the server (tests/socketio/test_bad_input.py).
//
// Input (JSON, the first line of stdin): { "url", "path",
//   "clients": [{"name", "transports"}], "intervalMs": pause between
//   calls, "timeoutMs": overall limit }
// Each client connects, then calls echo(n) with an ack (5 s timeout) again
// and again, until a second line arrives on stdin (any text); then each
// makes one last call, disconnects, and the driver prints JSON:
//   { "ready": ms when all were connected, "clients": [{"name", "id",
//     "transport", "acks", "wrong", "failures": [error], "disconnects":
//     [reason]}], "error": null or a message }

import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const lines = createInterface({ input: process.stdin });
const inbox = [];
lines.on("line", (line) => inbox.push(line));

const t0 = Date.now();
let error = null;
let stop = false;
let finished = false;
const clients = [];

function waitFor(what, predicate, limit) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() > limit) return reject(new Error("timed out: " + what));
      setTimeout(check, 10);
    };
    check();
  });
}

async function loop(entry, pause) {
  let n = 0;
  while (true) {
    const last = stop;
    try {
      const ack = await entry.socket.timeout(5000).emitWithAck("echo", "n" + n);
      const value = Array.isArray(ack) ? ack[0] : ack;
      if (value === "n" + n) entry.acks++;
      else entry.wrong++;
    } catch (e) {
      entry.failures.push(String(e.message || e));
    }
    n++;
    if (last) return;
    await new Promise((r) => setTimeout(r, pause));
  }
}

let ready = null;
try {
  await waitFor("input", () => inbox.length > 0, t0 + 10000);
  const input = JSON.parse(inbox[0]);
  const limit = t0 + (input.timeoutMs || 60000);
  for (const spec of input.clients) {
    const socket = io(input.url, {
      path: input.path || "/socket.io", forceNew: true, reconnection: false,
      transports: spec.transports });
    const entry = { name: spec.name, socket, acks: 0, wrong: 0,
                    failures: [], disconnects: [] };
    socket.on("disconnect", (reason) => {
      if (!finished) entry.disconnects.push(reason);
    });
    clients.push(entry);
    await waitFor("connect " + spec.name, () => socket.connected, limit);
    entry.id = socket.id;
  }
  ready = Date.now() - t0;
  process.stderr.write("ready\n");
  const running = clients.map((e) => loop(e, input.intervalMs || 20));
  await waitFor("the stop line", () => inbox.length > 1, limit);
  stop = true;
  await Promise.all(running);
  finished = true;
  for (const entry of clients) {
    entry.transport = entry.socket.io.engine.transport.name;
    entry.socket.disconnect();
  }
} catch (e) {
  error = String(e && e.stack || e);
}
process.stdout.write(JSON.stringify({
  ready,
  clients: clients.map(({ socket, ...rest }) => rest),
  error,
}));
process.exit(0);
