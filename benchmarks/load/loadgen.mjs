// Load generator for benchmarks/load: speaks raw Engine.IO v4 (websocket on node:net by default, or the `ws`
// package with client "ws"; polling on raw keep-alive HTTP/1.1 connections). One scenario per invocation:
//   node loadgen.mjs '<json config>'
// and one JSON object on stdout with the rate, the server's CPU time per operation (from
// /proc/<pid>/stat utime+stime of the server process, all threads), this process's own CPU use during
// the window (to show whether the generator was the limit), and every correctness counter (errors,
// lost, reordered, connect failures). Every loop is bounded in count and in time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'package.json'));
const WebSocket = require('ws');

const cfg = JSON.parse(process.argv[2] || '{}');
const HOST = '127.0.0.1';
const PORT = cfg.port;
const EIO_PATH = cfg.path || '/engine.io/';
const CLK = cfg.clk_tck || 100;
// A zero masking key makes `ws` skip client-side masking (RFC 6455 allows any key); the server still
// unmasks every frame as usual, so its work is unchanged and the generator's is smaller.
const ZERO_MASK = cfg.mask !== 'random';
const HARD_DEADLINE_MS = (cfg.deadline_s || 240) * 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now() / 1000;

function serverCpu() {
  if (!cfg.pid) return NaN;
  try {
    const s = fs.readFileSync(`/proc/${cfg.pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK; // utime + stime (fields 14, 15)
  } catch { return NaN; }
}
function serverRssKiB() {
  if (!cfg.pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${cfg.pid}/status`, 'latin1'));
    return m ? Number(m[1]) : NaN;
  } catch { return NaN; }
}
// Busy jiffies of cores 0 and 1 from /proc/stat: shows whether something other than the server (core 0)
// and the generator (core 1) was competing for the machine during the window.
function coreBusy() {
  const out = {};
  try {
    for (const line of fs.readFileSync('/proc/stat', 'latin1').split('\n')) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m) continue;
      const f = m[2].trim().split(/\s+/).map(Number);
      out[m[1]] = (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK; // user nice system irq softirq steal
    }
  } catch { /* not Linux */ }
  return out;
}
function genCpu() { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }
function genSys() { return process.cpuUsage().system / 1e6; }

class Window {
  start() { this.t0 = now(); this.s0 = serverCpu(); this.g0 = genCpu(); this.gs0 = genSys(); this.c0 = coreBusy(); }
  stop() { this.t1 = now(); this.s1 = serverCpu(); this.g1 = genCpu(); this.gs1 = genSys(); this.c1 = coreBusy(); }
  get seconds() { return this.t1 - this.t0; }
  fields(ops) {
    const sec = this.seconds;
    const scpu = this.s1 - this.s0;
    return {
      seconds: round(sec, 4),
      server_cpu_s: round(scpu, 3),
      server_cpu_frac: round(scpu / sec, 3),
      server_cpu_us_per_op: ops > 0 ? round((scpu / ops) * 1e6, 3) : null,
      gen_cpu_frac: round((this.g1 - this.g0) / sec, 3),
      gen_sys_frac: round((this.gs1 - this.gs0) / sec, 3),
      core0_busy_frac: round((this.c1['0'] - this.c0['0']) / sec, 3),
      core1_busy_frac: round((this.c1['1'] - this.c0['1']) / sec, 3),
    };
  }
}
const round = (x, d) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

// ---------------------------------------------------------------- websocket Engine.IO client
const wsUrl = `ws://${HOST}:${PORT}${EIO_PATH}?EIO=4&transport=websocket`;
const wsOptions = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
  maxPayload: 64 * 1024 * 1024,
  handshakeTimeout: 10000,
  ...(ZERO_MASK ? { generateMask: (m) => m.fill(0) } : {}),
};
const PONG = Buffer.from('3');
const stats = { pings: 0, unexpected: 0, closedEarly: 0 };

// A minimal websocket client on node:net (the default, `client: "raw"`): HTTP/1.1 upgrade with the
// Sec-WebSocket-Accept check, frames parsed without copying when they sit in one read, frames sent while
// handling one read sent in one write, zero masking key (no client-side XOR). 1.3-1.5x less generator CPU
// per message than the `ws` client (README, "The load generator").
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CRLF2 = Buffer.from('\r\n\r\n');
// All raw clients read into this one buffer (net's `onread`: no stream machinery and no allocation per
// read); whatever must outlive a read callback is copied out of it.
const READ_BUF = Buffer.allocUnsafe(256 * 1024);
function clientFrame(opcode, payload) {
  const len = payload.length;
  let h;
  if (len < 126) { h = Buffer.allocUnsafe(6); h[1] = 0x80 | len; h.fill(0, 2); }
  else if (len < 65536) { h = Buffer.allocUnsafe(8); h[1] = 0x80 | 126; h.writeUInt16BE(len, 2); h.fill(0, 4); }
  else { h = Buffer.allocUnsafe(14); h[1] = 0x80 | 127; h.writeBigUInt64BE(BigInt(len), 2); h.fill(0, 10); }
  h[0] = 0x80 | opcode;
  return h;
}

// More connections than one source address has ephemeral ports (~28k to one server port): the `idle`
// scenario spreads its clients over 127.0.0.1..127.0.0.N (all of 127/8 is loopback on Linux).
let SOURCES = 0;
const sourceFor = (id) => (SOURCES ? `127.0.0.${1 + (id % SOURCES)}` : undefined);

class RawClient {
  constructor(id) {
    this.id = id; this.sock = null; this.sid = null; this.onMsg = null; this.corked = false;
    this.closing = false; this.closed = false; this.parts = []; this.partsLen = 0; this.need = 0;
    this.out = []; this.inRead = false; this.upgraded = false; this.frag = null; this.fragOp = 0;
  }
  connect(timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const key = crypto.randomBytes(16).toString('base64');
      const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
      const sock = net.connect({
        host: HOST, port: PORT, noDelay: true, localAddress: sourceFor(this.id),
        onread: { buffer: READ_BUF, callback: (nread, buf) => { this.inRead = true; try { this.onRead(buf.subarray(0, nread)); } finally { this.inRead = false; this.flush(); } } },
      });
      this.sock = sock;
      let opened = false; let settled = false;
      const fail = (e) => { if (!settled) { settled = true; clearTimeout(timer); sock.destroy(); reject(e); } };
      const timer = setTimeout(() => fail(new Error('open packet timeout')), timeoutMs);
      this.onOpen = (data) => {
        this.openedAt = now();
        try { this.sid = JSON.parse(data.toString('utf8', 1)).sid; } catch { this.sid = null; }
        opened = true;
        if (this.sid) { settled = true; clearTimeout(timer); resolve(this); } else fail(new Error('bad open packet'));
      };
      sock.on('connect', () => {
        sock.write(`GET ${EIO_PATH}?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\n` +
          `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
      this.onRead = (d) => {
        if (this.upgraded) { this.onData(d); return; }
        this.parts.push(Buffer.from(d)); this.partsLen += d.length;
        const buf = Buffer.concat(this.parts); this.parts = []; this.partsLen = 0;
        const end = buf.indexOf(CRLF2);
        if (end < 0) { this.parts.push(buf); this.partsLen = buf.length; return; }
        const head = buf.toString('latin1', 0, end);
        if (!/^HTTP\/1\.1 101 /.test(head) || !head.includes(accept)) { fail(new Error('bad upgrade response: ' + head.split('\r\n')[0])); return; }
        this.upgraded = true;
        if (buf.length > end + 4) this.onData(buf.subarray(end + 4));
      };
      sock.on('error', (e) => fail(e));
      sock.on('close', () => {
        this.closed = true;
        if (!opened) fail(new Error('closed before open'));
        else if (!this.closing) stats.closedEarly++;
        if (this.onClose) this.onClose();
      });
    });
  }
  onData(d) {
    let buf;
    if (this.partsLen) {
      this.parts.push(Buffer.from(d)); this.partsLen += d.length;
      if (this.partsLen < this.need) return;
      buf = Buffer.concat(this.parts, this.partsLen); this.parts = []; this.partsLen = 0;
    } else buf = d;
    let off = 0; const n = buf.length;
    while (off < n) {
      if (n - off < 2) { this.need = 14; break; }
      const b0 = buf[off]; let len = buf[off + 1] & 0x7f; let hl = 2;
      if (len === 126) { if (n - off < 4) { this.need = 4; break; } len = buf.readUInt16BE(off + 2); hl = 4; }
      else if (len === 127) { if (n - off < 10) { this.need = 10; break; } len = Number(buf.readBigUInt64BE(off + 2)); hl = 10; }
      if (n - off < hl + len) { this.need = hl + len; break; }
      const payload = buf.subarray(off + hl, off + hl + len);
      off += hl + len;
      this.onFrame(b0 & 0x0f, (b0 & 0x80) !== 0, payload);
    }
    if (off < n) { const rest = Buffer.from(buf.subarray(off)); this.parts.push(rest); this.partsLen = rest.length; }
    else this.need = 0;
  }
  onFrame(op, fin, payload) {
    if (op === 0 || !fin) {
      if (op !== 0) { this.fragOp = op; this.frag = [Buffer.from(payload)]; } else if (this.frag) this.frag.push(Buffer.from(payload));
      if (!fin) return;
      payload = Buffer.concat(this.frag); op = this.fragOp; this.frag = null;
    }
    if (op === 1) {
      const t = payload[0];
      if (t === 0x34) { if (this.onMsg) this.onMsg(payload, false); else stats.unexpected++; }
      else if (t === 0x32) { stats.pings++; this.send(PONG); if (this.onPing) this.onPing(); }
      else if (t === 0x30 && this.onOpen) { const f = this.onOpen; this.onOpen = null; f(payload); }
      else if (t !== 0x36) stats.unexpected++;
    } else if (op === 2) { if (this.onMsg) this.onMsg(payload, true); else stats.unexpected++; }
    else if (op === 9) this.write(10, Buffer.from(payload));
    else if (op === 8) {
      if (!this.closing) { this.closing = true; this.write(8, Buffer.from(payload.subarray(0, 2))); stats.closedEarly++; }
      this.sock.end();
    }
  }
  // Frames produced while handling one read leave in one write at the end of that read; frames sent
  // from elsewhere leave at once. Small frames are built as one buffer (header + payload).
  write(op, payload) {
    if (this.closed) return;
    const h = clientFrame(op, payload);
    if (payload.length <= 1024) { const f = Buffer.allocUnsafe(h.length + payload.length); h.copy(f); payload.copy(f, h.length); this.out.push(f); }
    else this.out.push(h, payload);
    if (!this.inRead) this.flush();
  }
  flush() {
    const out = this.out;
    if (out.length === 0 || this.closed) { this.out = []; return; }
    this.out = [];
    if (out.length === 1) { this.sock.write(out[0]); return; }
    this.sock.cork();
    for (const b of out) this.sock.write(b);
    this.sock.uncork();
  }
  send(buf, binary = false) { this.write(binary ? 2 : 1, buf); }
  close(timeoutMs = 5000) {
    if (this.closed) return Promise.resolve(true);
    this.closing = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.sock.destroy(); resolve(false); }, timeoutMs);
      this.onClose = () => { clearTimeout(timer); resolve(true); };
      const code = Buffer.alloc(2); code.writeUInt16BE(1000, 0);
      this.write(8, code);
    });
  }
}

// The same client on the `ws` package (`client: "ws"`), kept to compare the two generators.
class WsClient {
  constructor(id) {
    this.id = id; this.ws = null; this.sid = null; this.onMsg = null; this.corked = false;
    this.closing = false; this.closed = false;
  }
  connect(timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, wsOptions);
      this.ws = ws;
      const timer = setTimeout(() => { ws.terminate(); reject(new Error('open packet timeout')); }, timeoutMs);
      let opened = false;
      ws.on('message', (data, isBinary) => {
        if (isBinary) { if (this.onMsg) this.onMsg(data, true); else stats.unexpected++; return; }
        const t = data[0];
        if (t === 0x34) { if (this.onMsg) this.onMsg(data, false); else stats.unexpected++; }
        else if (t === 0x32) { stats.pings++; this.send(PONG); }
        else if (t === 0x30 && !opened) {
          try { this.sid = JSON.parse(data.toString('utf8', 1)).sid; } catch { this.sid = null; }
          opened = true; clearTimeout(timer);
          if (this.sid) resolve(this); else reject(new Error('bad open packet'));
        } else if (t !== 0x36) stats.unexpected++;
      });
      ws.on('error', (e) => { if (!opened) { clearTimeout(timer); reject(e); } });
      ws.on('close', () => {
        this.closed = true;
        if (!opened) { clearTimeout(timer); reject(new Error('closed before open')); }
        else if (!this.closing) stats.closedEarly++;
        if (this.onClose) this.onClose();
      });
    });
  }
  // Frames sent while handling one read are corked and leave in one write.
  send(buf, binary = false) {
    if (!this.corked) {
      const sock = this.ws._socket;
      if (sock) { sock.cork(); this.corked = true; process.nextTick(() => { this.corked = false; sock.uncork(); }); }
    }
    this.ws.send(buf, { binary });
  }
  close(timeoutMs = 5000) {
    if (this.closed) return Promise.resolve(true);
    this.closing = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.ws.terminate(); resolve(false); }, timeoutMs);
      this.onClose = () => { clearTimeout(timer); resolve(true); };
      try { this.ws.close(1000); } catch { clearTimeout(timer); resolve(false); }
    });
  }
}

const Client = cfg.client === 'ws' ? WsClient : RawClient;

async function pool(n, concurrency, fn, deadlineS = Infinity) {
  let next = 0;
  const t0 = now();
  const worker = async () => {
    while (next < n && now() - t0 < deadlineS) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return next;
}

async function openMany(n, concurrency = 100, firstId = 0) {
  const clients = [];
  let failures = 0; let firstError = null;
  await pool(n, concurrency, async (i) => {
    const c = new Client(firstId + i);
    try { clients.push(await c.connect()); } catch (e) { failures++; firstError = firstError || String(e.message || e); }
  }, 120);
  return { clients, failures, firstError };
}

async function closeMany(clients, concurrency = 200) {
  let failures = 0;
  await pool(clients.length, concurrency, async (i) => { if (!(await clients[i].close())) failures++; }, 60);
  return failures;
}

async function waitFor(pred, timeoutS) {
  const t0 = now();
  while (!pred()) {
    if (now() - t0 > timeoutS) return false;
    await sleep(5);
  }
  return true;
}

// ---------------------------------------------------------------- scenarios
function msg32(id, seq) {
  // '4' + 32 bytes of text that is not JSON (starts with a letter), unique per client and sequence.
  return Buffer.from(('4m' + String(id).padStart(6, '0') + '-' + String(seq).padStart(12, '0')).padEnd(33, 'x'), 'latin1');
}

async function echoScenario({ clients: C, inflight: K, binary_size: B }) {
  const warmup = cfg.warmup_s ?? 0.5; const duration = cfg.duration_s ?? 2;
  const { clients, failures, firstError } = await openMany(C);
  let received = 0; let errors = 0; let reordered = 0; let running = true; let sent = 0;
  const template = B ? Buffer.alloc(B) : null;
  if (template) for (let i = 0; i < B; i++) template[i] = (i * 31 + 7) & 0xff;
  for (const c of clients) {
    c.pending = []; c.seq = 0;
    const sendOne = () => {
      let m;
      if (template) {
        m = Buffer.allocUnsafe(B); template.copy(m);
        m.writeUInt32BE(c.id, 0); m.writeUInt32BE(c.seq++, 4);
        c.pending.push(m.readBigUInt64BE(0));
        c.send(m, true);
      } else {
        m = msg32(c.id, c.seq++); c.pending.push(m); c.send(m, false);
      }
      sent++;
    };
    c.sendOne = sendOne;
    c.onMsg = (buf, isBinary) => {
      let ok;
      if (template) {
        if (!isBinary || buf.length !== B || buf.compare(template, 8, B, 8, B) !== 0) { errors++; return; }
        const key = buf.readBigUInt64BE(0);
        if (c.pending[0] === key) { c.pending.shift(); ok = true; } else {
          const i = c.pending.indexOf(key);
          if (i >= 0) { c.pending.splice(i, 1); reordered++; ok = true; }
        }
      } else {
        if (isBinary) { errors++; return; }
        if (c.pending.length && c.pending[0].equals(buf)) { c.pending.shift(); ok = true; } else {
          const i = c.pending.findIndex((p) => p.equals(buf));
          if (i >= 0) { c.pending.splice(i, 1); reordered++; ok = true; }
        }
      }
      if (!ok) { errors++; return; }
      received++;
      if (running) sendOne();
    };
  }
  for (const c of clients) for (let k = 0; k < K; k++) c.sendOne();
  await sleep(warmup * 1000);
  const w = new Window(); const r0 = received; w.start();
  await sleep(duration * 1000);
  const r1 = received; w.stop();
  running = false;
  const drained = await waitFor(() => clients.every((c) => c.pending.length === 0), 15);
  const lost = clients.reduce((a, c) => a + c.pending.length, 0);
  const closeFailures = await closeMany(clients);
  const ops = r1 - r0;
  const out = {
    ops, rate: ops / w.seconds, unit: B ? 'MB/s' : 'msg/s', ...w.fields(ops),
    sent, received, errors, lost, reordered, drained, connect_failures: failures, first_error: firstError,
    close_failures: closeFailures, clients: clients.length,
  };
  if (B) { out.msgs_per_s = out.rate; out.rate = (ops * B) / 1e6 / w.seconds; }
  return out;
}

// stalled: the last S clients stop reading once connected (a client whose network or tab hangs): a
// broadcast is done when the N - S others have it; their deliveries are the rate, and the server's RSS
// growth over the window is reported (what it holds for the stalled ones). size: message bytes (32).
async function broadcastScenario({ clients: C, inflight: K = 2, max_broadcasts: MAXB = 2000, stalled: S = 0,
                                   size: Z = 32 }) {
  const warmup = cfg.warmup_s ?? 0.5; const duration = cfg.duration_s ?? 2;
  const { clients, failures, firstError } = await openMany(C);
  const N = clients.length;
  const texts = []; const expect = [];
  const makeText = (seq) => {
    const t = ('b' + String(seq).padStart(12, '0')).padEnd(Z, 'y');
    texts[seq] = Buffer.from('4bcast:' + t, 'latin1'); expect[seq] = Buffer.from('4' + t, 'latin1');
  };
  const active = N - S;
  for (let i = active; i < N; i++) { clients[i].sock.pause(); clients[i].stalled = true; }
  const rss0 = serverRssKiB();
  const counts = new Map();
  let delivered = 0; let errors = 0; let outOfOrder = 0; let sent = 0; let done = 0; let sending = true;
  const sender = clients[0];
  const pump = () => {
    while (sending && sent - done < K && sent < MAXB) { makeText(sent); sender.send(texts[sent]); sent++; }
  };
  for (const c of clients) {
    c.next = 0;
    c.onMsg = (buf, isBinary) => {
      if (isBinary || buf.length !== Z + 1) { errors++; return; }
      const seq = Number(buf.toString('latin1', 2, 14));
      if (!(seq < sent) || !expect[seq].equals(buf)) { errors++; return; }
      if (seq !== c.next) outOfOrder++;
      c.next = seq + 1;
      if (c.stalled) return;
      delivered++;
      const k = (counts.get(seq) || 0) + 1;
      if (k === active) { counts.delete(seq); done++; pump(); } else counts.set(seq, k);
    };
  }
  pump();
  await sleep(warmup * 1000);
  const w = new Window(); const d0 = delivered; w.start();
  await waitFor(() => sent >= MAXB, duration);
  const d1 = delivered; w.stop();
  const rss1 = serverRssKiB();
  sending = false;
  const drained = await waitFor(() => done === sent, 30);
  const lost = sent * active - delivered;
  for (let i = active; i < N; i++) clients[i].sock.destroy();
  const closeFailures = await closeMany(clients.slice(0, active));
  const ops = d1 - d0;
  return {
    ops, rate: ops / w.seconds, unit: 'deliveries/s', ...w.fields(ops),
    broadcasts_sent: sent, delivered, expected: sent * active, errors, lost, out_of_order: outOfOrder, drained,
    connect_failures: failures, first_error: firstError, close_failures: closeFailures, clients: N,
    stalled: S, server_rss_growth_kib: rss0 != null && rss1 != null ? rss1 - rss0 : null,
  };
}

async function connectScenario({ total: T, concurrency: CC = 50, warmup_connections: WU = 200 }) {
  let errors = 0; let firstError = null; let done = 0; let closeFailures = 0;
  const once = async (i) => {
    const c = new Client(i);
    try {
      await c.connect();
      if (!(await c.close())) closeFailures++;
      done++;
    } catch (e) { errors++; firstError = firstError || String(e.message || e); }
  };
  await pool(WU, CC, once, 30);
  const wu = { done, errors };
  done = 0; errors = 0;
  const w = new Window(); w.start();
  const attempted = await pool(T, CC, once, cfg.max_s ?? 30);
  w.stop();
  return {
    ops: done, rate: done / w.seconds, unit: 'conn/s', ...w.fields(done), attempted, completed: done,
    errors, first_error: firstError, close_failures: closeFailures, warmup: wu,
  };
}

// ------------------------------------------------------------------------------- polling
// Polling runs on raw keep-alive HTTP/1.1 connections (one per virtual client, one request at a time,
// Content-Length and chunked responses): node:http's client cost ~75 µs of generator CPU per request
// and saturated the generator's core before the fastest target did (README).
// With cfg.http_close (a server without keep-alive, such as uWSGI's --http-socket, which closes after
// every response and may send no length), each request gets a new connection and a response without
// a length ends at the server's close.
const HTTP_CLOSE = !!cfg.http_close;
class HttpConn {
  constructor() { this.sock = null; this.resolve = null; this.reject = null; this.buf = null; }
  connect() {
    const sock = net.connect({ host: HOST, port: PORT, noDelay: true });
    this.sock = sock; this.buf = null;
    sock.on('data', (d) => { this.buf = this.buf ? Buffer.concat([this.buf, d]) : d; this.parse(); });
    const gone = (e) => {
      if (this.sock !== sock) return;
      this.sock = null;
      if (!e && this.untilClose && this.buf) { this.finish(this.untilClose, this.buf.toString('utf8', this.untilClose.start)); return; }
      if (this.reject) { const r = this.reject; this.resolve = this.reject = null; r(e || new Error('connection closed')); }
    };
    sock.on('error', gone);
    sock.on('close', () => gone());
  }
  request(method, query, body) {
    if (HTTP_CLOSE) this.close();
    if (!this.sock) this.connect();
    this.untilClose = null;
    return new Promise((resolve, reject) => {
      this.resolve = resolve; this.reject = reject;
      let head = `${method} ${EIO_PATH}?${query} HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\n`;
      if (body !== undefined) head += `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
      this.sock.write(head + '\r\n' + (body || ''));
    });
  }
  parse() {
    const buf = this.buf;
    if (this.untilClose) return; // the body ends at the server's close (gone)
    const end = buf.indexOf(CRLF2);
    if (end < 0) return;
    const head = buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let body; let used;
    if (cl) {
      used = end + 4 + Number(cl[1]);
      if (buf.length < used) return;
      body = buf.toString('utf8', end + 4, used);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts = []; let off = end + 4;
      for (;;) {
        const le = buf.indexOf('\r\n', off);
        if (le < 0) return;
        const size = parseInt(buf.toString('latin1', off, le), 16);
        if (buf.length < le + 2 + size + 2) return;
        if (size === 0) { used = le + 4; break; }
        parts.push(buf.subarray(le + 2, le + 2 + size)); off = le + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString('utf8');
    } else if (HTTP_CLOSE) { this.untilClose = { status, start: end + 4 }; return; }
    else { this.fail(new Error('response without length')); return; }
    this.buf = buf.length > used ? buf.subarray(used) : null;
    if (HTTP_CLOSE || /\r\nconnection:\s*close/i.test(head)) this.close();
    this.finish({ status }, body);
  }
  finish({ status }, body) {
    this.untilClose = null;
    const r = this.resolve; this.resolve = this.reject = null;
    if (r) r({ status, body });
  }
  fail(e) { const r = this.reject; this.resolve = this.reject = null; if (this.sock) this.sock.destroy(); this.sock = null; if (r) r(e); }
  close() {
    if (!this.sock) return;
    const s = this.sock; this.sock = null; this.buf = null;
    s.removeAllListeners('close'); s.on('close', () => {}); s.destroy();
  }
}
const conns = [];
function request(conn, method, query, body) {
  const timer = setTimeout(() => conn.fail(new Error('request timeout')), 30000);
  return conn.request(method, query, body).finally(() => clearTimeout(timer));
}
let tcount = 0;
async function pollHandshake(conn) {
  const r = await request(conn, 'GET', `EIO=4&transport=polling&t=${(tcount++).toString(36)}`);
  if (r.status !== 200 || r.body[0] !== '0') throw new Error(`handshake ${r.status} ${r.body.slice(0, 80)}`);
  const sid = JSON.parse(r.body.split('\x1e')[0].slice(1)).sid;
  if (!sid) throw new Error('no sid');
  return sid;
}

async function pollingScenario({ mode, clients: C }) {
  const warmup = cfg.warmup_s ?? 0.5; const duration = cfg.duration_s ?? 2;
  let ops = 0; let errors = 0; let firstError = null; let running = true; let pings = 0; let lost = 0;
  const fail = (e) => { errors++; firstError = firstError || String(e.message || e); };
  let loops;
  if (mode === 'handshake') {
    loops = Array.from({ length: C }, async () => {
      const conn = new HttpConn(); conns.push(conn);
      while (running) {
        try { await pollHandshake(conn); ops++; } catch (e) { fail(e); await sleep(10); }
      }
    });
  } else {
    const sids = [];
    await pool(C, 50, async () => {
      const conn = new HttpConn(); conns.push(conn);
      try { sids.push([await pollHandshake(conn), conn]); } catch (e) { fail(e); }
    }, 30);
    // echo: the POST and then the GET on one keep-alive connection (a client
    // with one connection). echo-parked: the GET is sent first and stays
    // parked on its connection while the POST goes on a second one (what
    // engine.io-client does in a browser); the echo answers the parked GET.
    const parked = mode === 'echo-parked';
    loops = sids.map(async ([sid, conn], id) => {
      const q = `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
      const postConn = parked ? new HttpConn() : conn;
      if (parked) conns.push(postConn);
      let seq = 0;
      while (running) {
        const m = msg32(id, seq++).toString('latin1');
        let pending = null;
        try {
          if (parked) { pending = request(conn, 'GET', q); pending.catch(() => {}); }
          const p = await request(postConn, 'POST', q, m);
          if (p.status !== 200 || p.body.toLowerCase() !== 'ok') throw new Error(`POST ${p.status} ${p.body.slice(0, 80)}`);
          let got = false;
          for (let tries = 0; !got && tries < 5; tries++) {
            const g = pending ? await pending : await request(conn, 'GET', q);
            pending = null;
            if (g.status !== 200) throw new Error(`GET ${g.status} ${g.body.slice(0, 80)}`);
            for (const pkt of g.body.split('\x1e')) {
              if (pkt === m) got = true;
              else if (pkt === '2') { pings++; await request(postConn, 'POST', q, '3'); }
              else if (pkt !== '6') throw new Error(`unexpected packet ${pkt.slice(0, 40)}`);
            }
          }
          if (!got) { lost++; throw new Error('echo not received'); }
          ops++;
        } catch (e) {
          fail(e);
          if (pending) { try { await pending; } catch { /* already failed */ } }
          await sleep(10);
        }
      }
      try { await request(postConn, 'POST', q, '1'); } catch { /* session end; not timed */ }
    });
  }
  await sleep(warmup * 1000);
  const w = new Window(); const o0 = ops; w.start();
  await sleep(duration * 1000);
  const o1 = ops; w.stop();
  running = false;
  await Promise.race([Promise.all(loops), sleep(30000)]);
  const n = o1 - o0;
  return {
    ops: n, rate: n / w.seconds, unit: mode === 'handshake' ? 'handshakes/s' : 'round trips/s', ...w.fields(n),
    total_ops: ops, errors, lost, first_error: firstError, pings_answered: pings,
  };
}

async function rssScenario({ steps }) {
  const settle = async () => { await sleep(1500); };
  // warm the server's code paths and allocator first, so lazy imports and first-use caches are not counted
  const wu = await openMany(200);
  await closeMany(wu.clients);
  await settle();
  const base = serverRssKiB();
  const all = []; let failures = 0; let firstError = wu.firstError;
  const points = [];
  for (const n of steps) {
    const r = await openMany(n - all.length, 100, all.length + 1000);
    all.push(...r.clients); failures += r.failures; firstError = firstError || r.firstError;
    await settle();
    const rss = serverRssKiB();
    points.push({ sessions: all.length, target: n, rss_kib: rss, kib_per_session: round((rss - base) / all.length, 3) });
  }
  // correctness: every session is alive; one echo each (after the measurement)
  let echoed = 0; let errors = 0;
  for (const c of all) {
    c.onMsg = (buf) => { if (buf.equals(c.expect)) echoed++; else errors++; };
    c.expect = msg32(c.id, 0);
  }
  for (const c of all) if (!c.closed) c.send(c.expect);
  await waitFor(() => echoed + errors >= all.length, 30);
  const closedEarly = stats.closedEarly;
  const closeFailures = await closeMany(all);
  return {
    unit: 'KiB/session', base_rss_kib: base, points, rate: points.length ? points[points.length - 1].kib_per_session : null,
    connect_failures: failures + wu.failures, first_error: firstError, echo_ok: echoed, echo_errors: errors,
    lost: all.length - echoed - errors, closed_early: closedEarly, close_failures: closeFailures, errors: errors + failures,
  };
}

// Idle: N websocket sessions opened and left idle with the server's heartbeat on (run.py S7). Reports the
// server's RSS per session and how late each ping arrives: a session opened at t0 should get its k-th ping
// at t0 + k * interval_s; lateness is the arrival minus that (the open packet's arrival stands for t0).
async function idleScenario({ sessions: N, wait_s: WAIT = 60, interval_s: IV = 25, sources = 8 }) {
  SOURCES = sources;
  const wu = await openMany(200);
  await closeMany(wu.clients);
  await sleep(1500);
  const base = serverRssKiB();
  const lateness = new Hist(); let pings = 0; let maxLate = 0;
  const t0 = now();
  const { clients, failures, firstError } = await openMany(N, 200, 1000);
  const opened = now() - t0;
  for (const c of clients) c.openedAt = c.openedAt || now();
  const watch = (c) => {
    c.onPing = () => {
      const t = now(); const k = Math.max(1, Math.round((t - c.openedAt) / IV));
      const late = t - c.openedAt - k * IV;
      pings++; lateness.add(Math.max(0, late)); if (late > maxLate) maxLate = late;
    };
  };
  for (const c of clients) watch(c);
  await sleep(WAIT * 1000);
  const rss = serverRssKiB();
  // correctness: every session still open, 1,000 of them echo
  let echoed = 0; let errors = 0;
  const some = clients.filter((c) => !c.closed).slice(0, 1000);
  for (const c of some) { c.expect = msg32(c.id, 0); c.onMsg = (buf) => { if (buf.equals(c.expect)) echoed++; else errors++; }; c.send(c.expect); }
  await waitFor(() => echoed + errors >= some.length, 30);
  const alive = clients.filter((c) => !c.closed).length;
  const closeFailures = await closeMany(clients, 500);
  return {
    unit: 'KiB/session', sessions: clients.length, open_s: round(opened, 1), base_rss_kib: base, rss_kib: rss,
    rate: round((rss - base) / clients.length, 3), alive_after_wait: alive, pings, pings_expected_min: clients.length * Math.floor(WAIT / IV),
    ...lateness.fields('ping_late'), ping_late_max_ms: round(maxLate * 1000, 1),
    connect_failures: failures + wu.failures, first_error: firstError || wu.firstError, echo_ok: echoed, echo_errors: errors,
    lost: some.length - echoed - errors, close_failures: closeFailures, errors: errors + failures,
  };
}

// Soak (benchmarks/soak.py): W websocket and P polling sessions alive at once, churning. Each slot opens a
// session, echoes `messages` messages spread over up to `hold_s` seconds (each checked byte for byte,
// 10 s at most), then closes it, or, for a `vanish` fraction, drops its connection without a close, and
// starts again. Every `sample_s` the server's RSS, file descriptors and threads are sampled. Counts
// every message: sent = echoed + lost + errors.
function serverFds() {
  if (!cfg.pid) return NaN;
  try { return fs.readdirSync(`/proc/${cfg.pid}/fd`).length; } catch { return NaN; }
}
function serverThreads() {
  if (!cfg.pid) return NaN;
  try { return Number(/Threads:\s+(\d+)/.exec(fs.readFileSync(`/proc/${cfg.pid}/status`, 'latin1'))[1]); } catch { return NaN; }
}
async function soakScenario({ ws: W = 1000, polling: P = 100, messages: K = 3, hold_s: HOLD = 4, vanish = 0.1,
  sample_s: SAMPLE = 5, ramp_s: RAMP = 5 }) {
  const duration = cfg.duration_s ?? 60;
  const c = { ws_opened: 0, ws_closed: 0, ws_vanished: 0, polling_opened: 0, polling_closed: 0, polling_vanished: 0,
    sent: 0, echoed: 0, lost: 0, errors: 0, connect_failures: 0 };
  let firstError = null; let running = true; let wsAlive = 0; let pollAlive = 0;
  const fail = (e) => { c.errors++; firstError = firstError || String(e.message || e); };
  const t0 = now();
  const samples = [];
  const sample = () => samples.push({ t: round(now() - t0, 1), rss_kib: serverRssKiB(), fds: serverFds(),
    threads: serverThreads(), ws_alive: wsAlive, polling_alive: pollAlive, opened: c.ws_opened + c.polling_opened,
    echoed: c.echoed });
  const sampler = setInterval(sample, SAMPLE * 1000);
  const pause = () => sleep(Math.random() * (HOLD / K) * 1000);
  const wsSlot = async (slot) => {
    await sleep(Math.random() * RAMP * 1000);
    for (let gen = 0; running; gen++) {
      const cl = new Client(slot * 100000 + gen);
      try { await cl.connect(); } catch (e) { c.connect_failures++; firstError = firstError || String(e.message || e); await sleep(100); continue; }
      c.ws_opened++; wsAlive++;
      for (let i = 0; i < K && running && !cl.closed; i++) {
        await pause();
        const m = msg32(cl.id, i);
        const got = await new Promise((resolve) => {
          const timer = setTimeout(() => { cl.onMsg = null; resolve('lost'); }, 10000);
          cl.onMsg = (buf) => { clearTimeout(timer); cl.onMsg = null; resolve(buf.equals(m) ? 'ok' : 'bad'); };
          cl.send(m); c.sent++;
        });
        if (got === 'ok') c.echoed++; else if (got === 'lost') c.lost++; else fail(new Error('wrong echo'));
      }
      wsAlive--;
      if (Math.random() < vanish) { cl.closing = true; if (cl.sock) cl.sock.destroy(); c.ws_vanished++; }
      else if (await cl.close()) c.ws_closed++; else fail(new Error('close timed out'));
    }
  };
  const pollSlot = async (slot) => {
    await sleep(Math.random() * RAMP * 1000);
    for (let gen = 0; running; gen++) {
      const conn = new HttpConn(); conns.push(conn);
      let sid;
      try { sid = await pollHandshake(conn); } catch (e) { c.connect_failures++; firstError = firstError || String(e.message || e); conn.close(); await sleep(100); continue; }
      c.polling_opened++; pollAlive++;
      const q = `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
      try {
        for (let i = 0; i < K && running; i++) {
          await pause();
          const m = msg32(1e9 + slot * 100000 + gen, i).toString('latin1');
          const p = await request(conn, 'POST', q, m); c.sent++;
          if (p.status !== 200) throw new Error(`POST ${p.status} ${p.body.slice(0, 80)}`);
          let got = false;
          for (let tries = 0; !got && tries < 5; tries++) {
            const g = await request(conn, 'GET', q);
            if (g.status !== 200) throw new Error(`GET ${g.status} ${g.body.slice(0, 80)}`);
            for (const pkt of g.body.split('\x1e')) {
              if (pkt === m) got = true;
              else if (pkt === '2') await request(conn, 'POST', q, '3');
              else if (pkt !== '6') throw new Error(`unexpected packet ${pkt.slice(0, 40)}`);
            }
          }
          if (got) c.echoed++; else c.lost++;
        }
        if (Math.random() < vanish) c.polling_vanished++;
        else { await request(conn, 'POST', q, '1'); c.polling_closed++; }
      } catch (e) { fail(e); }
      pollAlive--;
      conn.close(); conns.splice(conns.indexOf(conn), 1);
    }
  };
  sample();
  const loops = [...Array.from({ length: W }, (_, i) => wsSlot(i)), ...Array.from({ length: P }, (_, i) => pollSlot(i))];
  await sleep(duration * 1000);
  running = false;
  await Promise.race([Promise.all(loops), sleep(60000)]);
  clearInterval(sampler);
  sample();
  return { unit: 'sessions', rate: (c.ws_opened + c.polling_opened) / (now() - t0), ...c,
    errors: c.errors + c.lost, first_error: firstError, samples, duration_s: round(now() - t0, 1) };
}

// ------------------------------------------------------------------------------- Socket.IO
// The python-socketio group (benchmarks/sio/): Socket.IO v5 packets over the same raw Engine.IO
// clients. A Socket.IO packet is the body of an Engine.IO message, so on the wire `40` is "message" +
// CONNECT, `42<id>["echo",data]` an EVENT asking for an ack, `43<id>[data]` its ACK; default namespace.

// Latency histogram: log-spaced buckets (4 % wide) from 1 µs; quantiles in ms (bucket centre).
class Hist {
  constructor() { this.b = new Float64Array(700); this.n = 0; }
  add(seconds) {
    const us = seconds * 1e6;
    this.b[us <= 1 ? 0 : Math.min(699, Math.floor(Math.log(us) * 25))]++; this.n++;
  }
  q(p) {
    if (!this.n) return null;
    let cum = 0; const want = p * this.n;
    for (let i = 0; i < 700; i++) { cum += this.b[i]; if (cum >= want) return round(Math.exp((i + 0.5) / 25) / 1000, 3); }
    return null;
  }
  fields(prefix = 'lat') { return { [`${prefix}_p50_ms`]: this.q(0.5), [`${prefix}_p99_ms`]: this.q(0.99), [`${prefix}_samples`]: this.n }; }
}

const SIO_CONNECT = Buffer.from('40');
// Socket.IO namespace connect on an open Engine.IO websocket client: send `40`, wait for `40{...}`.
function sioOpen(c, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { c.onMsg = null; reject(new Error('socket.io connect timeout')); }, timeoutMs);
    c.onMsg = (buf, isBinary) => {
      c.onMsg = null; clearTimeout(timer);
      if (!isBinary && buf.length > 2 && buf[1] === 0x30 && buf[2] === 0x7b) resolve(c); // 40{
      else reject(new Error('socket.io connect refused: ' + buf.toString('latin1', 0, 80)));
    };
    c.send(SIO_CONNECT);
  });
}

async function sioOpenMany(n, concurrency = 100) {
  const clients = [];
  let failures = 0; let firstError = null;
  await pool(n, concurrency, async (i) => {
    const c = new Client(i);
    try { await c.connect(); await sioOpen(c); clients.push(c); }
    catch (e) { failures++; firstError = firstError || String(e.message || e); if (c.sock) c.sock.destroy(); }
  }, 120);
  return { clients, failures, firstError };
}

function sioText(prefix, id, seq, fill) {
  // 32 characters of JSON-safe text, unique per client and sequence
  return (prefix + String(id).padStart(6, '0') + '-' + String(seq).padStart(12, '0')).padEnd(32, fill);
}

// Emit echo: each client keeps K `echo` emits with an ack id in flight; the server's handler returns
// the argument, which comes back as the ack. Checked: ack id and content (in order per client, or
// counted as reordered), nothing lost after the drain. Latency: emit -> ack, over the window.
async function sioEchoScenario({ clients: C, inflight: K }) {
  const warmup = cfg.warmup_s ?? 0.5; const duration = cfg.duration_s ?? 2;
  const { clients, failures, firstError } = await sioOpenMany(C);
  let received = 0; let errors = 0; let reordered = 0; let running = true; let sent = 0; let measuring = false;
  const hist = new Hist();
  for (const c of clients) {
    c.pending = []; c.seq = 0;
    c.sendOne = () => {
      const seq = c.seq++;
      const text = sioText('m', c.id, seq, 'x');
      c.pending.push({ exp: Buffer.from(`43${seq}["${text}"]`, 'latin1'), t: now() });
      c.send(Buffer.from(`42${seq}["echo","${text}"]`, 'latin1'));
      sent++;
    };
    c.onMsg = (buf, isBinary) => {
      if (isBinary || buf[1] !== 0x33) { errors++; return; } // not an ACK
      let p = null;
      if (c.pending.length && c.pending[0].exp.equals(buf)) p = c.pending.shift();
      else {
        const i = c.pending.findIndex((q) => q.exp.equals(buf));
        if (i >= 0) { p = c.pending.splice(i, 1)[0]; reordered++; }
      }
      if (!p) { errors++; return; }
      received++;
      if (measuring) hist.add(now() - p.t);
      if (running) c.sendOne();
    };
  }
  for (const c of clients) for (let k = 0; k < K; k++) c.sendOne();
  await sleep(warmup * 1000);
  const w = new Window(); const r0 = received; w.start(); measuring = true;
  await sleep(duration * 1000);
  const r1 = received; w.stop(); measuring = false;
  running = false;
  const drained = await waitFor(() => clients.every((c) => c.pending.length === 0), 15);
  const lost = clients.reduce((a, c) => a + c.pending.length, 0);
  const closeFailures = await closeMany(clients);
  const ops = r1 - r0;
  return {
    ops, rate: ops / w.seconds, unit: 'msg/s', ...w.fields(ops), ...hist.fields(),
    sent, received, errors, lost, reordered, drained, connect_failures: failures, first_error: firstError,
    close_failures: closeFailures, clients: clients.length,
  };
}

// Room broadcast: C clients in room "all"; client 0 emits `bcast` (K in flight, at most MAXB), the server
// emits `b` to the room. A broadcast is done when all C clients have it. Checked per client: content and
// order; after the window the run waits until every client has every broadcast. Latency per delivery
// (emit by client 0 -> arrival at that client) and per broadcast (-> arrival at the last client).
async function sioBroadcastScenario({ clients: C, inflight: K = 2, max_broadcasts: MAXB = 2000 }) {
  const warmup = cfg.warmup_s ?? 0.5; const duration = cfg.duration_s ?? 2;
  const { clients, failures, firstError } = await sioOpenMany(C);
  const N = clients.length;
  const texts = []; const expect = []; const sentAt = [];
  const counts = new Map();
  let delivered = 0; let errors = 0; let outOfOrder = 0; let sent = 0; let done = 0; let sending = true;
  let measuring = false;
  const hist = new Hist(); const histAll = new Hist();
  const sender = clients[0];
  const pump = () => {
    while (sending && sent - done < K && sent < MAXB) {
      const text = sioText('b', 0, sent, 'y');
      texts[sent] = Buffer.from(`42["bcast","${text}"]`, 'latin1');
      expect[sent] = Buffer.from(`42["b","${text}"]`, 'latin1');
      sentAt[sent] = now();
      sender.send(texts[sent]); sent++;
    }
  };
  for (const c of clients) {
    c.next = 0;
    c.onMsg = (buf, isBinary) => {
      // 42["b","b000000-<seq 12>yyy…"]: the sequence number sits at bytes 16..28
      if (isBinary || buf.length !== 42) { errors++; return; }
      const seq = Number(buf.toString('latin1', 16, 28));
      if (!(seq < sent) || !expect[seq].equals(buf)) { errors++; return; }
      if (seq !== c.next) outOfOrder++;
      c.next = seq + 1;
      delivered++;
      const t = now();
      if (measuring) hist.add(t - sentAt[seq]);
      const k = (counts.get(seq) || 0) + 1;
      if (k === N) { counts.delete(seq); done++; if (measuring) histAll.add(t - sentAt[seq]); pump(); } else counts.set(seq, k);
    };
  }
  pump();
  await sleep(warmup * 1000);
  const w = new Window(); const d0 = delivered; w.start(); measuring = true;
  await waitFor(() => sent >= MAXB, duration);
  const d1 = delivered; w.stop(); measuring = false;
  sending = false;
  const drained = await waitFor(() => done === sent, 30);
  const lost = sent * N - delivered;
  const closeFailures = await closeMany(clients);
  const ops = d1 - d0;
  return {
    ops, rate: ops / w.seconds, unit: 'deliveries/s', ...w.fields(ops), ...hist.fields(), ...histAll.fields('all'),
    broadcasts_sent: sent, delivered, expected: sent * N, errors, lost, out_of_order: outOfOrder, drained,
    connect_failures: failures, first_error: firstError, close_failures: closeFailures, clients: N,
  };
}

// Connect rate: a full Socket.IO connect, then the end of the session.
//   websocket: upgrade -> Engine.IO open packet -> `40` -> `40{sid}` -> client close frame -> close done;
//   polling:   GET handshake -> POST `40` -> GET `40{sid}` -> POST `1` (close): 4 HTTP requests on one
//              keep-alive connection per concurrent worker.
// T connections at concurrency CC, after WU warm-up ones; the window is capped at max_s seconds.
async function sioConnectScenario({ transport = 'websocket', total: T, concurrency: CC = 50, warmup_connections: WU = 200 }) {
  let errors = 0; let firstError = null; let done = 0; let closeFailures = 0;
  const hist = new Hist(); let measuring = false;
  const fail = (e) => { errors++; firstError = firstError || String(e.message || e); };
  const free = [];
  const once = transport === 'polling' ? async () => {
    const conn = free.pop() || new HttpConn();
    if (!conns.includes(conn)) conns.push(conn);
    try {
      const t0 = now();
      const sid = await pollHandshake(conn);
      const q = `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
      const p = await request(conn, 'POST', q, '40');
      if (p.status !== 200 || p.body.toLowerCase() !== 'ok') throw new Error(`POST 40: ${p.status} ${p.body.slice(0, 80)}`);
      let ok = false;
      for (let tries = 0; !ok && tries < 3; tries++) {
        const g = await request(conn, 'GET', q);
        if (g.status !== 200) throw new Error(`GET ${g.status} ${g.body.slice(0, 80)}`);
        for (const pkt of g.body.split('\x1e')) {
          if (pkt.startsWith('40{')) ok = true;
          else if (pkt !== '2') throw new Error(`unexpected packet ${pkt.slice(0, 40)}`);
        }
      }
      if (!ok) throw new Error('no socket.io connect packet');
      if (measuring) hist.add(now() - t0);
      const c = await request(conn, 'POST', q, '1');
      if (c.status !== 200) closeFailures++;
      done++;
    } catch (e) { fail(e); conn.close(); await sleep(10); }
    free.push(conn);
  } : async (i) => {
    const c = new Client(i);
    try {
      const t0 = now();
      await c.connect();
      await sioOpen(c);
      if (measuring) hist.add(now() - t0);
      if (!(await c.close())) closeFailures++;
      done++;
    } catch (e) { fail(e); if (c.sock) c.sock.destroy(); }
  };
  await pool(WU, CC, once, 30);
  const wu = { done, errors };
  done = 0; errors = 0; closeFailures = 0;
  const w = new Window(); w.start(); measuring = true;
  const attempted = await pool(T, CC, once, cfg.max_s ?? 30);
  w.stop(); measuring = false;
  return {
    ops: done, rate: done / w.seconds, unit: 'conn/s', ...w.fields(done), ...hist.fields(), transport, attempted,
    completed: done, errors, first_error: firstError, close_failures: closeFailures, warmup: wu,
  };
}

const scenarios = {
  echo: echoScenario, broadcast: broadcastScenario, connect: connectScenario,
  polling: pollingScenario, rss: rssScenario, soak: soakScenario, idle: idleScenario,
  sio_echo: sioEchoScenario, sio_broadcast: sioBroadcastScenario, sio_connect: sioConnectScenario,
};

async function main() {
  const fn = scenarios[cfg.scenario];
  if (!fn) throw new Error(`unknown scenario ${cfg.scenario}`);
  const kill = setTimeout(() => {
    process.stdout.write(JSON.stringify({ error: 'generator deadline exceeded' }) + '\n');
    process.exit(3);
  }, HARD_DEADLINE_MS);
  const res = await fn(cfg.params || {});
  clearTimeout(kill);
  res.pings_answered = (res.pings_answered || 0) + stats.pings;
  res.unexpected_packets = stats.unexpected;
  if (res.closed_early === undefined) res.closed_early = stats.closedEarly;
  process.stdout.write(JSON.stringify(res) + '\n');
  for (const c of conns) c.close();
  process.exit(0);
}
main().catch((e) => { process.stdout.write(JSON.stringify({ error: String(e.stack || e) }) + '\n'); process.exit(2); });
