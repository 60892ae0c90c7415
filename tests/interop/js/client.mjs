// Node driver for the official engine.io-client (from the repository's node_modules).
//
// Input (JSON on stdin, or a file path as argv[2]):
//   { "scenarios": [SCENARIO, ...], "timeoutMs": overall limit (default 30000) }
// SCENARIO:
//   { "name": str, "url": "http://127.0.0.1:PORT", "path": "/engine.io",
//     "transports": ["polling"] | ["websocket"] | ["polling", "websocket"],
//     "upgrade": bool (default true), "timeoutMs": per-scenario limit (default 10000),
//     "steps": [STEP, ...] }
// All scenarios of one input run concurrently, each with its own socket.
// STEP (run in order once the socket is open):
//   {"send": MSG}                 send one message
//   {"sendMany": [MSG, ...]}      send several messages synchronously (same tick)
//   {"burst": {"prefix": "c", "n": 100}}   send "c0".."c99" synchronously
//   {"waitMessages": N}           wait until N messages were received in total
//   {"waitEvent": "upgrade"}      wait until the named event was seen
//   {"sleep": ms}
//   {"muteHeartbeat": true}       from now on ignore incoming pings entirely (no pong) and switch
//                                 off the client's own ping timer: only the server can end it
//   {"deafHeartbeat": true}       from now on answer pings but do not reset the client's ping timer
//   {"close": true}               socket.close()
//   {"waitClose": true}           wait until the socket reported "close"
// MSG: {"text": str} | {"b64": str, "as": "buffer"|"arraybuffer"|"uint8array"}
//      | {"gen": "text"|"bin", "size": N, "as": ...}   (deterministic content, see app.py)
//
// Output (JSON on stdout): { "results": [RESULT, ...] } with, per scenario:
//   name, ok, error, sid, handshake, transports (names in the order seen), finalTransport,
//   upgraded, openAtEnd (still open when the steps ended; the driver then closes it), close {reason, description, t}, messages [{type, cls, len, sha256, data|b64, t}],
//   events [{ev, t, ...}] (open, handshake, upgrading, upgrade, upgradeError, message, ping,
//   pollComplete, flush {n}, close, error), pings (count), t0 (epoch ms).
// Times "t" are milliseconds since the scenario started.

import { Socket } from "engine.io-client";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const SHORT = 4096;

function genText(n) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz";
  return alphabet.repeat(Math.floor(n / 26) + 1).slice(0, n);
}

function genBytes(n) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

function asBinary(buf, as) {
  if (as === "arraybuffer") {
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  }
  if (as === "uint8array") return new Uint8Array(buf);
  return buf;
}

function buildMessage(msg) {
  if ("text" in msg) return msg.text;
  if ("b64" in msg) return asBinary(Buffer.from(msg.b64, "base64"), msg.as);
  if (msg.gen === "text") return genText(msg.size);
  if (msg.gen === "bin") return asBinary(genBytes(msg.size), msg.as);
  throw new Error("bad message spec " + JSON.stringify(msg));
}

function describeMessage(data, t) {
  // engine.io-parser decodes the packet "4" (an empty text message) to data === undefined
  const absent = data === undefined;
  if (absent) data = "";
  if (typeof data === "string") {
    const bytes = Buffer.from(data, "utf8");
    const out = { type: "text", len: data.length, bytes: bytes.length, t, absent,
      sha256: createHash("sha256").update(bytes).digest("hex") };
    if (data.length <= SHORT) out.data = data;
    return out;
  }
  let cls = data && data.constructor ? data.constructor.name : typeof data;
  let buf;
  if (Buffer.isBuffer(data)) buf = data;
  else if (data instanceof ArrayBuffer) buf = Buffer.from(data);
  else if (ArrayBuffer.isView(data)) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  else return { type: "unknown", cls, t, repr: String(data) };
  const out = { type: "binary", cls, len: buf.length, t,
    sha256: createHash("sha256").update(buf).digest("hex") };
  if (buf.length <= SHORT) out.b64 = buf.toString("base64");
  return out;
}

function describeError(err) {
  if (err === undefined || err === null) return null;
  if (typeof err !== "object") return String(err);
  const out = { message: err.message !== undefined ? String(err.message) : undefined };
  for (const key of ["type", "description", "code", "context"]) {
    const v = err[key];
    if (v === undefined) continue;
    if (v && typeof v === "object") {
      out[key] = v.message !== undefined ? String(v.message) : (v.constructor ? v.constructor.name : "object");
    } else {
      out[key] = v;
    }
  }
  if (err.constructor) out.cls = err.constructor.name;
  return out;
}

// Heartbeat manipulation: the per-socket flags are honoured by a wrapper on the prototype,
// because each transport binds socket._onPacket when it is attached.
const originalOnPacket = Socket.prototype._onPacket;
Socket.prototype._onPacket = function (packet) {
  if (packet && packet.type === "ping" && this.__heartbeat) {
    if (this.__heartbeat === "mute") {
      this.__log("pingIgnored");
      return;
    }
    // deaf: answer the ping but leave the client's own timer running
    this.__log("pingDeaf");
    this.emitReserved("packet", packet);
    this._sendPacket("pong");
    return;
  }
  return originalOnPacket.call(this, packet);
};

function runScenario(sc) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const now = () => Date.now() - t0;
    const res = { name: sc.name, ok: false, error: null, sid: null, handshake: null, transports: [],
      finalTransport: null, upgraded: false, close: null, messages: [], events: [], pings: 0, t0 };
    const waiters = [];
    let finished = false;
    let socket;

    const log = (ev, extra) => {
      res.events.push({ ev, t: now(), ...(extra || {}) });
      checkWaiters();
    };
    const checkWaiters = () => {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].cond()) {
          const w = waiters.splice(i, 1)[0];
          clearTimeout(w.timer);
          w.resolve();
        }
      }
    };
    const waitUntil = (what, cond, ms) => new Promise((ok, fail) => {
      if (cond()) return ok();
      const w = { cond, resolve: ok };
      w.timer = setTimeout(() => {
        const idx = waiters.indexOf(w);
        if (idx >= 0) waiters.splice(idx, 1);
        fail(new Error(`timeout waiting for ${what}`));
      }, ms);
      waiters.push(w);
    });
    const seen = (ev) => res.events.some((e) => e.ev === ev);

    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(hardTimer);
      for (const w of waiters.splice(0)) clearTimeout(w.timer);
      res.error = error ? String(error.message || error) : null;
      res.ok = !error;
      res.finalTransport = socket && socket.transport ? socket.transport.name : res.finalTransport;
      res.openAtEnd = res.close === null;
      try {
        if (socket && socket.readyState !== "closed") socket.close();
      } catch (e) { /* ignore */ }
      resolve(res);
    };

    const limit = sc.timeoutMs || 10000;
    const hardTimer = setTimeout(() => finish(new Error(`scenario timeout after ${limit} ms`)), limit);

    const opts = { path: sc.path || "/engine.io", transports: sc.transports || ["polling", "websocket"],
      upgrade: sc.upgrade !== false, ...(sc.options || {}) };
    try {
      socket = new Socket(sc.url, opts);
    } catch (e) {
      finish(e);
      return;
    }
    socket.__log = log;
    const watchTransport = (transport) => {
      if (!transport) return;
      res.transports.push(transport.name);
      transport.on("pollComplete", () => log("pollComplete"));
    };
    watchTransport(socket.transport);
    socket.on("handshake", (data) => { res.handshake = data; res.sid = data.sid; log("handshake"); });
    socket.on("open", () => { res.finalTransport = socket.transport.name; log("open", { transport: socket.transport.name }); });
    socket.on("upgrading", (tr) => { watchTransport(tr); log("upgrading", { transport: tr.name }); });
    socket.on("upgrade", (tr) => { res.upgraded = true; res.finalTransport = tr.name; log("upgrade", { transport: tr.name }); });
    socket.on("upgradeError", (err) => log("upgradeError", { error: describeError(err) }));
    socket.on("ping", () => { res.pings += 1; log("ping"); });
    socket.on("flush", () => log("flush", { n: socket._prevBufferLen }));
    socket.on("message", (data) => {
      res.messages.push(describeMessage(data, now()));
      log("message", { i: res.messages.length - 1 });
    });
    socket.on("error", (err) => log("error", { error: describeError(err) }));
    socket.on("close", (reason, description) => {
      res.close = { reason, description: describeError(description), t: now() };
      log("close", { reason });
    });

    const step = async (s) => {
      if ("send" in s) socket.send(buildMessage(s.send));
      else if ("sendMany" in s) {
        const built = s.sendMany.map(buildMessage);
        for (const m of built) socket.send(m);
      } else if ("burst" in s) {
        for (let i = 0; i < s.burst.n; i++) socket.send(`${s.burst.prefix}${i}`);
      } else if ("waitMessages" in s) {
        await waitUntil(`${s.waitMessages} messages (have ${res.messages.length})`,
          () => res.messages.length >= s.waitMessages, s.timeoutMs || limit);
      } else if ("waitEvent" in s) {
        await waitUntil(`event ${s.waitEvent}`, () => seen(s.waitEvent), s.timeoutMs || limit);
      } else if ("sleep" in s) {
        await new Promise((ok) => setTimeout(ok, s.sleep));
      } else if ("muteHeartbeat" in s) {
        // a client that stops answering: no pong, and its own heartbeat timer is switched off
        // so that what ends the session is the server's ping timeout
        socket.__heartbeat = "mute";
        socket.clearTimeoutFn(socket._pingTimeoutTimer);
        socket._pingTimeoutTime = Infinity;
        log("muted");
      } else if ("deafHeartbeat" in s) {
        socket.__heartbeat = "deaf";
        log("deafened");
      } else if ("close" in s) {
        socket.close();
      } else if ("waitClose" in s) {
        await waitUntil("close", () => res.close !== null, s.timeoutMs || limit);
      } else {
        throw new Error("unknown step " + JSON.stringify(s));
      }
    };

    (async () => {
      try {
        await waitUntil("open", () => seen("open") || res.close !== null, limit);
        if (!seen("open")) throw new Error("closed before open");
        for (const s of sc.steps || []) await step(s);
        finish(null);
      } catch (e) {
        finish(e);
      }
    })();
  });
}

async function main() {
  const raw = process.argv[2] ? readFileSync(process.argv[2], "utf8") : readFileSync(0, "utf8");
  const input = JSON.parse(raw);
  const overall = input.timeoutMs || 30000;
  const killer = setTimeout(() => {
    process.stderr.write(`client.mjs: overall timeout ${overall} ms\n`);
    process.exit(3);
  }, overall);
  const results = await Promise.all(input.scenarios.map(runScenario));
  clearTimeout(killer);
  // exit once stdout is flushed, giving sockets a moment to close politely
  process.stdout.write(JSON.stringify({ results }), () => setTimeout(() => process.exit(0), 100));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(2);
});
