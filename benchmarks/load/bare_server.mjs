// "ceiling" target: the cheapest server that speaks enough Engine.IO v4 for every scenario, on raw
// node:net (no HTTP library, no websocket library, one write per connection per read). It exists only to
// measure the load generator: if the generator drives this server faster than any real target, the
// generator is not what limits the real targets. Not a conforming Engine.IO server (no heartbeats,
// no upgrades, no limits). Usage: node bare_server.mjs --port PORT
// It also speaks enough Socket.IO for the python-socketio group (benchmarks/sio/), told apart by the
// message body (an Engine.IO message whose body starts with a digit is a Socket.IO packet; the engine.io
// scenarios never send one): `40` -> `40{"sid":…}`; `42<id>["echo",X]` -> `43<id>[X]`;
// `42["bcast",X]` -> `42["b",X]` to every websocket client; any path is accepted.
import net from 'node:net';
import crypto from 'node:crypto';

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1] || 5000);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CRLF2 = Buffer.from('\r\n\r\n');
let nextSid = 1;
const wsClients = new Set();
const pollSessions = new Map();
let dirty = []; let flushScheduled = false;
function flushDirty() {
  const list = dirty; dirty = []; flushScheduled = false;
  for (const c of list) { c.dirty = false; c.flush(); }
}

function openPacket(upgrades) {
  const sid = 'bare' + (nextSid++).toString(36).padStart(16, '0');
  return [sid, '0' + JSON.stringify({ sid, upgrades, pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 })];
}

function frameHeader(opcode, len) {
  if (len < 126) return Buffer.from([0x80 | opcode, len]);
  if (len < 65536) { const h = Buffer.allocUnsafe(4); h[0] = 0x80 | opcode; h[1] = 126; h.writeUInt16BE(len, 2); return h; }
  const h = Buffer.allocUnsafe(10); h[0] = 0x80 | opcode; h[1] = 127; h.writeBigUInt64BE(BigInt(len), 2); return h;
}

function unmask(buf, mask) {
  const n = buf.length;
  let i = 0;
  if (n >= 16) {
    const m = mask.readInt32LE(0);
    for (; i + 4 <= n; i += 4) buf.writeInt32LE(buf.readInt32LE(i) ^ m, i);
  }
  for (; i < n; i++) buf[i] ^= mask[i & 3];
}

function httpResponse(status, body, extra = '') {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ${b.length}\r\n${extra}\r\n`), b]);
}

class Conn {
  constructor(sock) {
    this.sock = sock; this.buf = Buffer.alloc(0); this.ws = false; this.out = [];
    this.parts = []; this.partsLen = 0; this.need = 0;
    sock.setNoDelay(true);
    sock.on('data', (d) => this.onData(d));
    sock.on('error', () => {});
    sock.on('close', () => { wsClients.delete(this); });
  }
  flush() {
    const out = this.out;
    this.out = [];
    if (out.length === 1) this.sock.write(out[0]);
    else if (out.length > 1) { this.sock.cork(); for (const b of out) this.sock.write(b); this.sock.uncork(); }
  }
  onData(d) {
    // Partial frames wait in a list until the frame is complete (no copy per read of a large frame).
    if (this.need) {
      this.parts.push(d); this.partsLen += d.length;
      if (this.partsLen < this.need) return;
      this.buf = Buffer.concat(this.parts, this.partsLen); this.parts = []; this.partsLen = 0;
    } else this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    this.need = 0;
    if (this.ws) this.parseFrames(); else this.parseHttp();
    this.flush();
  }
  parseHttp() {
    for (;;) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const lines = head.split('\r\n');
      const [method, target] = lines[0].split(' ');
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].indexOf(':');
        headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
      }
      const clen = Number(headers['content-length'] || 0);
      if (this.buf.length < end + 4 + clen) return;
      const body = this.buf.subarray(end + 4, end + 4 + clen).toString('latin1');
      this.buf = this.buf.subarray(end + 4 + clen);
      const q = new URLSearchParams(target.slice(target.indexOf('?') + 1));
      if ((headers.upgrade || '').toLowerCase() === 'websocket') {
        const accept = crypto.createHash('sha1').update(headers['sec-websocket-key'] + GUID).digest('base64');
        this.out.push(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`));
        const [, pkt] = openPacket([]);
        const p = Buffer.from(pkt);
        this.out.push(frameHeader(1, p.length), p);
        this.ws = true; wsClients.add(this);
        this.parseFrames();
        return;
      }
      this.handlePolling(method, q, body);
    }
  }
  handlePolling(method, q, body) {
    const sid = q.get('sid');
    if (!sid) {
      const [newSid, pkt] = openPacket(['websocket']);
      pollSessions.set(newSid, { queue: [], parked: null });
      this.out.push(httpResponse('200 OK', pkt));
      return;
    }
    const s = pollSessions.get(sid);
    if (!s) { this.out.push(httpResponse('400 Bad Request', '{"code":1,"message":"Session ID unknown"}')); return; }
    if (method === 'POST') {
      for (const pkt of body.split('\x1e')) {
        if (pkt[0] === '4' && isDigit(pkt.charCodeAt(1))) { const r = sioReply(Buffer.from(pkt, 'latin1')); if (r) s.queue.push(r.toString('latin1')); }
        else if (pkt[0] === '4') s.queue.push(pkt);
        else if (pkt[0] === '1') { pollSessions.delete(sid); s.queue.push('6'); }
      }
      this.out.push(httpResponse('200 OK', 'ok'));
      if (s.parked && s.queue.length) {
        const c = s.parked; s.parked = null;
        c.sock.write(httpResponse('200 OK', s.queue.join('\x1e'))); s.queue = [];
      }
    } else if (s.queue.length) {
      this.out.push(httpResponse('200 OK', s.queue.join('\x1e'))); s.queue = [];
    } else {
      s.parked = this;
    }
  }
  parseFrames() {
    let buf = this.buf;
    for (;;) {
      if (buf.length < 2) break;
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + 4 + len) {
        if (off + 4 + len > 65536) { this.need = off + 4 + len; this.parts = [buf]; this.partsLen = buf.length; buf = Buffer.alloc(0); }
        break;
      }
      const mask = buf.subarray(off, off + 4);
      let payload = buf.subarray(off + 4, off + 4 + len); // read buffers are not reused: no copy needed
      buf = buf.subarray(off + 4 + len);
      if (mask[0] | mask[1] | mask[2] | mask[3]) { payload = Buffer.from(payload); unmask(payload, mask); } // the generator sends zero keys
      if (opcode === 8) { this.out.push(frameHeader(8, payload.length), payload); this.flush(); this.sock.end(); wsClients.delete(this); break; }
      if (opcode === 9) { this.out.push(frameHeader(10, payload.length), payload); continue; }
      if (opcode === 1 && len > 1 && payload[0] === 0x34 && isDigit(payload[1])) {
        if (len > 11 && payload.toString('latin1', 0, 11) === SIO_BCAST) {
          const text = Buffer.concat([SIO_B, payload.subarray(11)]);
          this.broadcast(Buffer.concat([frameHeader(1, text.length), text]));
          continue;
        }
        const r = sioReply(payload);
        if (r) this.out.push(frameHeader(1, r.length), r);
        continue;
      }
      if (opcode === 1 && len > 6 && payload.toString('latin1', 0, 7) === '4bcast:') {
        const text = Buffer.concat([Buffer.from('4'), payload.subarray(7)]);
        this.broadcast(Buffer.concat([frameHeader(1, text.length), text]));
        continue;
      }
      if (opcode === 1 || opcode === 2) this.out.push(frameHeader(opcode, payload.length), payload);
    }
    this.buf = buf;
  }
  broadcast(frame) {
    for (const c of wsClients) {
      c.out.push(frame);
      if (c !== this && !c.dirty) { c.dirty = true; dirty.push(c); }
    }
    if (!flushScheduled) { flushScheduled = true; setImmediate(flushDirty); }
  }
}

// Socket.IO, as little as the python-socketio scenarios need (the payload is a whole Engine.IO message).
const isDigit = (b) => b >= 0x30 && b <= 0x39;
const SIO_BCAST = '42["bcast",';
const SIO_B = Buffer.from('42["b",');
const SIO_ECHO = Buffer.from('["echo",');
let nextSioSid = 1;
function sioReply(payload) {
  const type = payload[1];
  if (type === 0x30) return Buffer.from(`40{"sid":"bare-sio-${(nextSioSid++).toString(36)}"}`); // CONNECT
  if (type !== 0x32) return null; // DISCONNECT and the rest: nothing to answer
  let i = 2;
  while (i < payload.length && isDigit(payload[i])) i++;
  if (i === 2 || payload.compare(SIO_ECHO, 0, SIO_ECHO.length, i, i + SIO_ECHO.length) !== 0) return null; // no ack asked
  // 42<id>["echo",X] -> 43<id>[X]
  return Buffer.concat([Buffer.from('43'), payload.subarray(2, i), Buffer.from('['), payload.subarray(i + SIO_ECHO.length)]);
}

const server = net.createServer({ noDelay: true }, (sock) => new Conn(sock));
server.listen({ port, host: '127.0.0.1', backlog: 4096 });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
