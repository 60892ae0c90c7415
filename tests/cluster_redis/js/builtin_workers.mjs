// Sessions of the official engine.io-client against the built-in server with
// several workers (engineio-fast app --workers N) whose AsyncServer has
// engineio_fast.AsyncRedisManager: broadcasts, cross-worker send(sid),
// get_participants and disconnect, every message counted.
// Driven by tests/cluster_redis/test_builtin_workers.py.
//
// Input: { url, sessions, minNodes, transports, bursts, kicks, timeoutMs }
// Output: { sessions: [{ sid, node, got: [str], close, error }], who: [sid] }
import { Socket } from "engine.io-client";
import { start, until } from "./common.mjs";

const { input, killer } = start("builtin_workers.mjs", 60000);

function open(k) {
  const r = { k, sid: null, node: null, got: [], close: null, error: null, sock: null };
  return new Promise((resolve) => {
    const sock = new Socket(input.url, { transports: input.transports });
    r.sock = sock;
    const t = setTimeout(() => { r.error = "open timeout"; resolve(r); }, 20000);
    sock.on("open", () => { clearTimeout(t); r.sid = sock.id; resolve(r); });
    sock.on("error", (e) => { clearTimeout(t); r.error = String(e); resolve(r); });
    sock.on("message", (m) => r.got.push(String(m)));
    sock.on("close", (reason) => { if (!sock.ours) r.close = reason; });
  });
}

const S = input.sessions;
const all = [];
// open in groups of 25 until S sessions are open on at least minNodes
// workers (the kernel may give one worker most accepts): at most 4 * S
const nodesOf = () => new Set(all.filter((r) => r.error === null)
  .map((r) => String(r.sid).slice(0, 6)));
for (let i = 0; i < 4 * S; i += 25) {
  if (all.length >= S && nodesOf().size >= input.minNodes) break;
  all.push(...await Promise.all(Array.from({ length: 25 }, (_, j) => open(i + j))));
}
const live = all.filter((r) => r.error === null);
const has = (r, p) => r.got.some((m) => m.startsWith(p));
const count = (r, m) => r.got.filter((x) => x === m).length;

// which worker owns each session
for (const r of live) r.sock.send("node");
await until(() => live.every((r) => has(r, "node ")), 20000);
for (const r of live) {
  const m = r.got.find((x) => x.startsWith("node "));
  r.node = m ? m.slice(5) : null;
}
// upgrades settle before the counted traffic (the upgrade test counts them)
await until(() => live.every((r) => r.sock.transport.name === input.transports.at(-1)), 10000);

// 1. one broadcast, then a burst of broadcasts, from session 0
live[0].sock.send("bcast B-one");
await until(() => live.every((r) => has(r, "B-one")), 20000);
live[1].sock.send(`bburst ${input.bursts} T`);
await until(() => live.every((r) => count(r, `T:${input.bursts - 1}`) >= 1), 30000);

// 2. every session has its server send to the next session (mostly owned
// by another worker)
for (let i = 0; i < live.length; i++) {
  const next = live[(i + 1) % live.length];
  live[i].sock.send(`send ${next.sid} s:${i}`);
}
await until(() => live.every((r, i) => has(r, `s:${(i - 1 + live.length) % live.length}`)), 30000);

// 3. participants across every worker (after a heartbeat published them)
let who = null;
for (let a = 0; a < 20 && who === null; a++) {
  const before = live[0].got.length;
  live[0].sock.send("who");
  await until(() => live[0].got.slice(before).some((m) => m.startsWith("who")), 5000);
  const m = live[0].got.slice(before).find((x) => x.startsWith("who"));
  const list = m && m.startsWith("who ") ? JSON.parse(m.slice(4)) : [];
  if (list.length >= live.length) who = list;
  else await new Promise((res) => setTimeout(res, 250));
}

// 4. session 0 has its server disconnect sessions owned by other workers
const victims = live.filter((r) => r.node !== live[0].node).slice(0, input.kicks);
for (const v of victims) live[0].sock.send(`kick ${v.sid}`);
await until(() => victims.every((v) => v.close !== null), 20000);
for (const v of victims) v.kicked = true;

// late duplicates would arrive now
await new Promise((res) => setTimeout(res, 500));
for (const r of live) {
  if (r.close === null) { r.sock.ours = true; r.sock.close(); }
}
clearTimeout(killer);
const sessions = all.map((r) => ({ sid: r.sid, node: r.node, got: r.got, close: r.close,
                                   error: r.error, kicked: !!r.kicked }));
process.stdout.write(JSON.stringify({ sessions, who }), () => process.exit(0));
