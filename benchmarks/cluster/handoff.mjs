// Load generator for benchmarks/cluster/run.py: polling round trips on raw keep-alive HTTP/1.1
// connections, each connection carrying two sessions whose requests alternate
// (POST a, POST b, GET a, GET b): when a and b belong to different workers ("cross"), every
// request reaches a worker that does not hold the connection and is handed over; when they belong
// to the same worker ("local"), nothing is handed over after the connection's first request.
// Connection i uses the workers i mod W and (for "cross") i+1 mod W, W the number of workers seen,
// so every worker is busy in both modes.
//
// "fresh": the same rounds (sessions of connection i's two workers, as "cross"), each request on
// a new connection, closed after its answer: every connection is accepted by the supervisor
// and handed to the session's worker (the cost of a client with no keep-alive).
//
// Usage: node handoff.mjs '{"port": P, "conns": C, "mode": "cross"|"local"|"fresh", "seconds": S}'
// ("handshakePorts": [P, P2] opens the sessions on those ports in turn: one_process.py)
// Prints "GO" on stdout when every session is open and the timed window starts, then one JSON line:
// { requests, seconds, rate, pairs: [[slot a, slot b], ...], errors }
import net from "node:net";
import http from "node:http";

const cfg = JSON.parse(process.argv[2]);
const PATH = "/engine.io/?EIO=4&transport=polling";

let handshakes = 0;
function handshake() {
  const ports = cfg.handshakePorts || [cfg.port];
  const port = ports[handshakes++ % ports.length];
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: PATH, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve(JSON.parse(body.slice(1)).sid));
    });
    req.on("error", reject);
  });
}

class Conn {
  constructor() {
    this.sock = net.connect(cfg.port, "127.0.0.1");
    this.sock.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    this.waiter = null;
    this.sock.on("data", (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.tryRead();
    });
    this.sock.on("error", (e) => { if (this.waiter) this.waiter.reject(e); });
  }
  tryRead() {
    if (!this.waiter) return;
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString("latin1");
    const m = /content-length: *(\d+)/i.exec(head);
    const n = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + n) return;
    const status = Number(head.slice(9, 12));
    const body = this.buf.subarray(end + 4, end + 4 + n).toString("utf8");
    this.buf = this.buf.subarray(end + 4 + n);
    const w = this.waiter;
    this.waiter = null;
    w.resolve({ status, body });
  }
  request(method, sid, body) {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      const extra = body ? `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : "";
      this.sock.write(`${method} ${PATH}&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n${body || ""}`);
      this.tryRead();
    });
  }
}

const fresh = cfg.mode === "fresh";

async function main() {
  // sessions by the worker that owns them (the 6th character of the sid)
  const bySlot = new Map();
  const perSlot = cfg.conns * 2;
  for (let tries = 0; tries < perSlot * 80; tries++) {
    const sid = await handshake();
    const slot = sid[5];
    if (!bySlot.has(slot)) bySlot.set(slot, []);
    bySlot.get(slot).push(sid);
    // stop once every worker seen has sessions enough, after a fair look
    if (tries >= 40 && [...bySlot.values()].every((s) => s.length >= perSlot)) break;
  }
  const slots = [...bySlot.keys()].sort();
  const W = slots.length;
  const take = (slot) => bySlot.get(slot).pop();
  const pairs = [];
  for (let i = 0; i < cfg.conns; i++) {
    const a = slots[i % W];
    const b = cfg.mode === "local" ? a : slots[(i + 1) % W];
    pairs.push([take(a), take(b)]);
  }
  if (cfg.mode === "cross" && W < 2) throw new Error("cross needs 2 workers or more");
  const conns = pairs.map(() => (fresh ? null : new Conn()));
  let requests = 0;
  let errors = 0;
  let stop = false;
  // one untimed round per connection, so every connection is where it will stay
  const once = async (c, method, sid, body) => {
    if (!fresh) return c.request(method, sid, body);
    const own = new Conn();
    try {
      return await own.request(method, sid, body);
    } finally {
      own.sock.destroy();
    }
  };
  const round = async (c, [a, b], k) => {
    const rs = [await once(c, "POST", a, `4a${k}`), await once(c, "POST", b, `4b${k}`),
                await once(c, "GET", a), await once(c, "GET", b)];
    for (const r of rs) if (r.status !== 200) errors += 1;
    if (rs[2].body !== `4a${k}` || rs[3].body !== `4b${k}`) errors += 1;
  };
  await Promise.all(conns.map((c, i) => round(c, pairs[i], 0)));
  process.stdout.write("GO\n");
  const t0 = process.hrtime.bigint();
  setTimeout(() => { stop = true; }, cfg.seconds * 1000);
  await Promise.all(conns.map(async (c, i) => {
    for (let k = 1; !stop; k++) {
      await round(c, pairs[i], k);
      requests += 4;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of conns) if (c) c.sock.destroy();
  process.stdout.write(JSON.stringify({
    requests, seconds, rate: requests / seconds, errors,
    pairs: pairs.map(([a, b]) => [a[5], b[5]]),
  }) + "\n", () => process.exit(0));
}

main().catch((e) => { process.stderr.write(String(e && e.stack || e) + "\n"); process.exit(2); });
