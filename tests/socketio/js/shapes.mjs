// The official socket.io-client 4.8 against each server of
// tests/socketio/test_serve.py, all at once: a refused connect (wrong auth), then a
// connect with auth, the server's question answered, "hello" acked, the upgrade to
// websocket awaited, and a disconnect.
//
// Input (JSON on stdin): { "targets": [{ "name", "url", "path" }], "timeoutMs": 20000 }
// Output (JSON on stdout): { name: { "refused": {message, data} | "connected",
//                                    "hello": ack, "transport": str } | { "error": str } }
import { io } from "socket.io-client";
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const STEP = 8000;
const killer = setTimeout(() => {
  process.stderr.write("shapes.mjs: overall timeout\n");
  process.exit(3);
}, input.timeoutMs || 30000);

function bounded(promise, label) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${label}: no answer in ${STEP} ms`)), STEP);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function open(target, auth) {
  const socket = io(target.url, { path: target.path, auth, reconnection: false,
                                  forceNew: true, timeout: STEP });
  socket.on("question", (text, ack) => ack(text.toUpperCase() + "!"));
  const outcome = new Promise((done) => {
    socket.once("connect", () => done(null));
    socket.once("connect_error", (err) => done({ message: err.message, data: err.data }));
  });
  return { socket, outcome: bounded(outcome, "connect") };
}

async function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return;
  await bounded(new Promise((done) => engine.once("upgrade", done)), "upgrade");
}

async function one(target) {
  const out = {};
  try {
    const bad = open(target, { token: "bad" });
    const refusal = await bad.outcome;
    bad.socket.close();
    out.refused = refusal === null ? "connected" : refusal;
    const good = open(target, { token: "ok" });
    const error = await good.outcome;
    if (error !== null) throw new Error(`refused: ${JSON.stringify(error)}`);
    try {
      out.hello = await good.socket.timeout(STEP).emitWithAck("hello", "hi");
      await upgraded(good.socket);
      out.transport = good.socket.io.engine.transport.name;
    } finally {
      good.socket.disconnect();
    }
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e);
  }
  return [target.name, out];
}

const results = await Promise.all(input.targets.map(one));
clearTimeout(killer);
process.stdout.write(JSON.stringify(Object.fromEntries(results)), () => process.exit(0));
