// Node driver for the cluster tests: many official engine.io-client sockets against the
// built-in server's workers, every message counted both ways.
//
// Input (JSON on stdin):
//   { "url": "http://127.0.0.1:PORT", "sessions": 300, "messages": 10,
//     "transports": ["polling"] | ["websocket"] | ["polling", "websocket"],
//     "upgrade": bool, "keepAlive": bool (one shared keep-alive http.Agent for every socket,
//     so one connection carries requests of many sessions and a session's requests use many
//     connections; false: a new connection per request), "durationMs": 0 | N (instead of
//     "messages": each socket echoes until N ms passed, reconnecting after a close, at most
//     "reconnects" times), "startedFile": path written once every socket is open (JSON: the
//     number of sessions per worker slot, and the driver's start time t0 in epoch ms),
//     "timeoutMs": overall limit }
// Each socket sends "<i>.<k>" and waits for its echo "<i>.<k>@<owner>" before the next
// message; <owner> must be the first 6 characters of the socket's sid (the worker that owns
// the session answered).
// Output (JSON on stdout): { "sessions": [{ "i", "runs": [{ "sid", "sent", "echoed", "wrong",
//   "transport", "upgraded", "close": reason|null, "error": str|null, "endAt": epoch ms }] }],
//   "elapsedMs" }
import { Socket } from "engine.io-client";
import http from "node:http";
import { readFileSync, writeFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const timeout = input.timeoutMs || 60000;
const t0 = Date.now();
const killer = setTimeout(() => {
  process.stderr.write(`echo.mjs: overall timeout ${timeout} ms\n`);
  process.stdout.write(JSON.stringify({ timedOut: true, sessions: results }));
  process.exit(3);
}, timeout);
const agent = input.keepAlive ? new http.Agent({ keepAlive: true, maxFreeSockets: 64 }) : false;
const results = [];
let opened = 0;
const slots = {};     // sessions per worker slot, for "startedFile"

function run(i, state) {
  return new Promise((resolve) => {
    const r = { sid: null, sent: 0, echoed: 0, wrong: [], transport: null, upgraded: false,
                close: null, error: null };
    state.runs.push(r);
    const socket = new Socket(input.url, {
      path: "/engine.io/", transports: input.transports, upgrade: input.upgrade !== false,
      agent, rememberUpgrade: false,
    });
    let expected = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      r.transport = socket.transport ? socket.transport.name : null;
      r.endAt = Date.now();
      resolve(r);
    };
    const next = () => {
      const more = input.durationMs ? Date.now() - t0 < input.durationMs : r.sent < input.messages;
      if (!more) {
        r.transport = socket.transport.name;
        socket.close();
        return;
      }
      expected = `${i}.${r.sent}`;
      r.sent += 1;
      socket.send(expected);
    };
    socket.on("open", () => {
      r.sid = socket.id;
      if (!state.opened) {
        state.opened = true;
        opened += 1;
        (slots[r.sid[5]] = (slots[r.sid[5]] || 0) + 1);
        if (opened === input.sessions && input.startedFile) {
          writeFileSync(input.startedFile, JSON.stringify({ slots, t0 }));
        }
      }
      next();
    });
    socket.on("upgrade", () => { r.upgraded = true; });
    // the last transport events, for a session that stalls
    r.last = [];
    const note = (ev) => {
      r.last.push(`${ev}@${Date.now() - t0}`);
      if (r.last.length > 8) r.last.shift();
    };
    socket.on("packet", (p) => note(`in:${p.type}`));
    socket.on("packetCreate", (p) => note(`out:${p.type}`));
    const watch = (t) => {
      t.on("poll", () => note("poll"));
      t.on("pollComplete", () => note("pollComplete"));
      t.on("drain", () => note("drain"));
    };
    if (socket.transport) watch(socket.transport);
    socket.on("message", (data) => {
      if (data === `${expected}@${r.sid.slice(0, 6)}`) {
        r.echoed += 1;
        next();
      } else if (r.wrong.length < 5) {
        r.wrong.push(String(data).slice(0, 80));
      }
    });
    socket.on("error", (e) => { r.error = String(e && e.message || e); finish(); });
    socket.on("close", (reason) => {
      r.close = reason === "forced close" ? null : reason;
      finish();
    });
  });
}

async function session(i) {
  const state = { i, runs: [], opened: false };
  results.push(state);
  const reconnects = input.reconnects || 0;
  for (let n = 0; n <= reconnects; n++) {
    const r = await run(i, state);
    if (r.close === null && r.error === null) break;       // the driver closed it
    if (!input.durationMs || Date.now() - t0 >= input.durationMs) break;
    await new Promise((ok) => setTimeout(ok, 50 + 50 * n));  // back off, then reconnect
  }
}

const all = [];
for (let i = 0; i < input.sessions; i++) {
  all.push(session(i));
  if (i % 20 === 19) await new Promise((ok) => setTimeout(ok, 5));
}
await Promise.all(all);
clearTimeout(killer);
if (agent) agent.destroy();
process.stdout.write(JSON.stringify({ sessions: results, elapsedMs: Date.now() - t0 }),
                     () => process.exit(0));
