// The official socket.io-client against python-socketio with its
// AsyncRedisManager on the built-in server's workers: rooms, broadcast,
// emits to a sid of another worker, acks of calls across workers.
// Driven by tests/cluster_redis/test_sio_workers.py.
//
// Input: { url, sessions, minNodes, transports, asks, timeoutMs }
// Output: { sessions: [{ sid, node, hostId, got: [[event, data]], error }],
//           extra: index, asked: [{ target, answer }], victim: index }
import { io } from "socket.io-client";
import { start, until } from "./common.mjs";

const { input, killer } = start("sio_workers.mjs", 60000);

function open(k) {
  const r = { k, sid: null, node: null, hostId: null, got: [], error: null, sock: null };
  return new Promise((resolve) => {
    const sock = io(input.url, { transports: input.transports, reconnection: false,
                                 forceNew: true });
    r.sock = sock;
    const t = setTimeout(() => { r.error = "connect timeout"; resolve(r); }, 20000);
    sock.on("connect", () => { clearTimeout(t); r.sid = sock.id; resolve(r); });
    sock.on("connect_error", (e) => { clearTimeout(t); r.error = String(e); resolve(r); });
    for (const ev of ["room", "all", "direct"]) sock.on(ev, (d) => r.got.push([ev, d]));
    sock.on("question", (d, cb) => cb(`answer:${d}:${k}`));
    sock.on("disconnect", (reason) => {
      if (r.kickExpected) r.kicked = reason;
      else if (!sock.ours) r.error = `disconnect ${reason}`;
    });
  });
}

const S = input.sessions;
const all = [];
// open in groups of 25 until S sessions are open on at least minNodes
// workers (the kernel may give one worker most accepts): at most 4 * S
const nodesOf = () => new Set(all.filter((r) => r.error === null)
  .map((r) => String(r.sock.io.engine.id).slice(0, 6)));
for (let i = 0; i < 4 * S; i += 25) {
  if (all.length >= S && nodesOf().size >= input.minNodes) break;
  all.push(...await Promise.all(Array.from({ length: 25 }, (_, j) => open(i + j))));
}
const live = all.filter((r) => r.error === null);
const ack = (r, ...args) => r.sock.timeout(15000).emitWithAck(...args);
const has = (r, ev, d) => r.got.some(([e, x]) => e === ev && x === d);

await Promise.all(live.map(async (r) => {
  const w = await ack(r, "whoami");
  r.node = w.node; r.hostId = w.host_id;
}));
await until(() => live.every((r) => r.sock.io.engine.transport.name === input.transports.at(-1)), 10000);

// rooms: session i joins g<i % 3>
await Promise.all(live.map((r, i) => ack(r, "join", `g${i % 3}`)));
// a broadcast from session 0
live[0].sock.emit("bcast", "A");
await until(() => live.every((r) => has(r, "all", "A")), 20000);
// a room emit from session 1 (its members are on every worker)
live[1].sock.emit("to_room", "g0", "R0");
await until(() => live.every((r, i) => i % 3 !== 0 || has(r, "room", "R0")), 20000);
// every session to the next one's sid
live.forEach((r, i) => r.sock.emit("to_sid", live[(i + 1) % live.length].sid, `d:${i}`));
await until(() => live.every((r, i) => has(r, "direct", `d:${(i - 1 + live.length) % live.length}`)), 20000);
// session 0 puts a session of another worker into room "extra"; session 2
// emits to it
const extra = live.findIndex((r) => r.node !== live[0].node);
await ack(live[0], "put", live[extra].sid, "extra");
await new Promise((res) => setTimeout(res, 300));    // the put is published
live[2].sock.emit("to_room", "extra", "X");
await until(() => has(live[extra], "room", "X"), 10000);
// session 0 calls sessions of other workers and waits for their answers
const targets = live.map((r, i) => i).filter((i) => live[i].node !== live[0].node)
  .slice(0, input.asks);
const asked = await Promise.all(targets.map(async (i) => {
  try {
    return { target: i, answer: await ack(live[0], "ask", live[i].sid, `q${i}`) };
  } catch (e) {
    return { target: i, answer: `client timeout ${e}` };
  }
}));
// session 0 has its server disconnect the last session of another worker
const victim = live.findLastIndex((r) => r.node !== live[0].node);
live[victim].kickExpected = true;
live[0].sock.emit("kick", live[victim].sid);
await until(() => live[victim].kicked !== undefined, 10000);
await new Promise((res) => setTimeout(res, 500));   // late duplicates
for (const r of live) { r.sock.ours = true; r.sock.close(); }
clearTimeout(killer);
const sessions = all.map((r) => ({ sid: r.sid, node: r.node, hostId: r.hostId,
                                   got: r.got, error: r.error, kicked: r.kicked ?? null }));
process.stdout.write(JSON.stringify({ sessions, extra, asked, victim }), () => process.exit(0));
