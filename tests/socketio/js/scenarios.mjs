// The socket.io-client matrix's scenarios: the client side of every check, run by node
// (matrix.mjs) and by Chromium (static/matrix.html) alike; no import, the client library
// is handed in. The server side is matrix_app.py, matrix_wsgi.py and server.mjs.
//
// runMatrix(lib, config) -> { "<mode>/<scenario>": { obs: {...} } | { error: str } }
//   lib: { io, Manager } from socket.io-client
//   config: { url, hbUrl, path, modes: ["polling", "websocket", "upgrade"],
//             extra: names of EXTRA scenarios to run too (none by default) }
// Binary values are reported as { $bin: hex }. Every wait is bounded (STEP_MS).
// The main scenarios of the three modes run concurrently against `url` (their rooms and
// broadcast texts carry the mode, so they do not see each other's), then the heartbeat
// scenarios against `hbUrl` (ping interval 300 ms, timeout 200 ms).

export const STEP_MS = 5000;
const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};
const AUTH = { token: "ok", user: "ana" };

function bounded(promise, label, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${label}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitFor(predicate, label, ms = STEP_MS) {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`${label}: not within ${ms} ms`);
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

function isBinary(x) {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x);
}

function hex(x) {
  const bytes = x instanceof ArrayBuffer ? new Uint8Array(x)
    : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// JSON-safe copy: binary as { $bin: hex }
export function encode(value) {
  if (isBinary(value)) return { $bin: hex(value) };
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value;
}

function reversed(x) {
  const bytes = x instanceof ArrayBuffer ? new Uint8Array(x)
    : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return Uint8Array.from(bytes).reverse();
}

// one scenario's sockets, all closed when it ends
class Scene {
  constructor(lib, config, mode, url) {
    this.lib = lib;
    this.config = config;
    this.mode = mode;
    this.url = url;
    this.sockets = [];
  }

  options(extra = {}) {
    return { path: this.config.path, transports: TRANSPORTS[this.mode],
             reconnection: false, forceNew: true, timeout: STEP_MS, ...extra };
  }

  open(ns = "/", extra = { auth: AUTH }) {
    const socket = this.lib.io(this.url + ns, this.options(extra));
    this.sockets.push(socket);
    // why the connection closed, for an error message ("parse error":
    // what the decoder refused)
    socket.io.on("close", (reason, description) => {
      socket.closeWhy = `${reason}${description ? ": " + (description.message || description) : ""}`;
      if (reason === "parse error") socket.closeWhy += `; last packets: ${JSON.stringify(socket.lastPackets)}`;
    });
    // the last engine packets received, for that error message
    socket.lastPackets = [];
    const engine = socket.io.engine;
    if (engine) {
      engine.on("packet", (packet) => {
        const data = packet.data;
        socket.lastPackets.push([packet.type, isBinary(data) ? { $bin: hex(data) } : data]);
        if (socket.lastPackets.length > 12) socket.lastPackets.shift();
      });
    }
    return socket;
  }

  manager() {
    const manager = new this.lib.Manager(this.url, this.options());
    this.managers = [...(this.managers || []), manager];
    return manager;
  }

  close() {
    for (const socket of this.sockets) socket.disconnect();
    for (const manager of this.managers || []) manager.engine && manager.engine.close();
  }

  // the transport once settled: for "upgrade", after the switch to websocket
  async settle(socket) {
    if (this.mode === "upgrade") {
      await waitFor(() => socket.io.engine && socket.io.engine.transport.name === "websocket",
                    "upgrade");
    }
    return socket.io.engine.transport.name;
  }

  // what the server recorded as the disconnect reason of `sid` in `ns` (it waits for it)
  async serverReason(ns, sid) {
    const ctl = this.lib.io(this.url + "/ctl",
                            { ...this.options({ auth: {} }), transports: ["websocket"] });
    this.sockets.push(ctl);
    const refused = await connected(ctl);
    if (refused) throw new Error(`control namespace refused: ${JSON.stringify(refused)}`);
    try {
      return await ctl.timeout(STEP_MS + 2000).emitWithAck("wait_disconnect", { ns, sid });
    } finally {
      ctl.disconnect();
    }
  }
}

// null once connected, or the connect_error's { message, data }
function connected(socket, label = "connect") {
  return bounded(new Promise((done) => {
    socket.once("connect", () => done(null));
    socket.once("connect_error", (err) => done({ message: err.message, data: err.data ?? null }));
  }), label);
}

async function mustConnect(socket) {
  const refused = await connected(socket);
  if (refused) throw new Error(`refused: ${JSON.stringify(refused)}`);
}

// every argument of the ack of `event`
function ack(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(STEP_MS).emit(event, ...args, (err, ...answer) => {
      if (err) {
        // the manager's "close" listener (closeWhy) runs after the socket's,
        // which fails the pending acks: read it a moment later
        setTimeout(() => {
          const why = socket.closeWhy ? `; closed: ${socket.closeWhy}` : "";
          reject(new Error(`${event}: no ack (${err.message}${why})`));
        }, 0);
      }
      else resolve(answer);
    });
  });
}

function nextEvent(socket, event) {
  return bounded(new Promise((done) => socket.once(event, (...args) => done(args))), event);
}

const MAIN = {
  async auth_ok(scene) {
    const socket = scene.open("/", { auth: AUTH });
    await mustConnect(socket);
    const transport = await scene.settle(socket);
    const [who] = await ack(socket, "whoami");
    return { who, transport, id: typeof socket.id };
  },

  async auth_refused(scene) {
    // both listen from the start: either may be refused first
    const bad = connected(scene.open("/", { auth: { token: "bad" } }), "connect (bad token)");
    const none = connected(scene.open("/", {}), "connect (no auth)");
    return { bad: await bad, none: await none };
  },

  async namespaces(scene) {
    const manager = scene.manager();
    const main = manager.socket("/", { auth: AUTH });
    const chat = manager.socket("/chat", { auth: AUTH });
    const nope = manager.socket("/nope", { auth: AUTH });
    scene.sockets.push(main, chat, nope);
    const [a, b, c] = await Promise.all([connected(main), connected(chat), connected(nope)]);
    if (a || b) throw new Error(`refused: ${JSON.stringify([a, b])}`);
    const transport = await scene.settle(main);
    const [[whoMain], [whoChat]] = await Promise.all([ack(main, "whoami"), ack(chat, "whoami")]);
    return { main: whoMain, chat: whoChat, nope: c, transport,
             one_engine: main.io === chat.io && manager.engine === main.io.engine };
  },

  async ack_up(scene) {
    const socket = scene.open();
    await mustConnect(socket);
    const answer = await ack(socket, "echo", "text", 42, { a: [1, "b", null] }, [true, false]);
    return { answer, transport: await scene.settle(socket) };
  },

  async ack_down(scene) {
    const socket = scene.open();
    const asked = [];
    socket.on("question", (text, answer) => {
      asked.push(text);
      answer(`answer:${text}`, text.length);
    });
    await mustConnect(socket);
    const answer = await ack(socket, "ask", "q1");
    return { answer, asked, transport: await scene.settle(socket) };
  },

  async binary_event(scene) {
    const socket = scene.open();
    const back = nextEvent(socket, "bin_back");
    await mustConnect(socket);
    const payload = { name: "pic", data: Uint8Array.from({ length: 256 }, (_, i) => i),
                      parts: [Uint8Array.from([1, 2, 3]), "text", new Uint8Array(0)] };
    const answer = await ack(socket, "bin_echo", payload, Uint8Array.from([255, 0, 7]));
    const echoed = await back;
    return { answer: encode(answer), echoed: encode(echoed),
             classes: echoed.map((v) => (isBinary(v) ? "binary" : typeof v)),
             transport: await scene.settle(socket) };
  },

  async binary_ack(scene) {
    const socket = scene.open();
    socket.on("bin_question", (data, answer) => answer(reversed(data), "tag"));
    await mustConnect(socket);
    const up = await ack(socket, "bin_ack", Uint8Array.from([1, 2, 3, 4, 250]));
    const down = await ack(socket, "ask_bin", Uint8Array.from([9, 8, 7]));
    return { up: encode(up), down: encode(down), transport: await scene.settle(socket) };
  },

  async rooms(scene) {
    const room = `room-${scene.mode}`;
    const end = `end-${scene.mode}`;
    const names = ["A", "B", "C"];
    const got = { A: [], B: [], C: [] };
    const sockets = names.map((name) => {
      const socket = scene.open();
      socket.on("room_msg", (text) => got[name].push(["room", text]));
      socket.on("all_msg", (text) => {
        if (text === end) got[name].push(["all", text]);   // not another mode's
      });
      return socket;
    });
    await Promise.all(sockets.map(mustConnect));
    const [a, b, c] = sockets;
    const steps = [];
    steps.push(await ack(a, "join", room), await ack(b, "join", room));
    steps.push(await ack(a, "to_room", { room, text: "hi", skip_self: false }));
    steps.push(await ack(a, "to_room", { room, text: "others", skip_self: true }));
    steps.push(await ack(b, "leave", room));
    steps.push(await ack(a, "to_room", { room, text: "after-leave", skip_self: false }));
    steps.push(await ack(c, "broadcast", end));
    // each connection delivers in order: once the broadcast arrived everywhere, every
    // room message sent before it has arrived too
    await waitFor(() => names.every((n) => got[n].some((m) => m[0] === "all")), "broadcast");
    return { got, steps, transport: await scene.settle(a) };
  },

  async client_disconnect(scene) {
    const socket = scene.open();
    await mustConnect(socket);
    const transport = await scene.settle(socket);
    const sid = socket.id;
    const reason = nextEvent(socket, "disconnect");
    socket.disconnect();
    const [client] = await reason;
    return { client, server: await scene.serverReason("/", sid), transport };
  },

  // a binary packet's attachments follow its header, whatever else the server sends the
  // same client at that moment: "flood" emits `bin` (binary) from one task and `txt`
  // from two more at once (threads on the threaded servers); a packet torn apart ends
  // the connection with a parse error
  async whole_packets(scene) {
    const n = 300;
    const socket = scene.open();
    const bins = [];
    let txts = 0;
    socket.on("bin", (i, data) => bins.push([i, isBinary(data) ? hex(data) : typeof data]));
    socket.on("txt", () => { txts += 1; });
    await mustConnect(socket);
    const [answer] = await ack(socket, "flood", n);
    await waitFor(() => bins.length >= n && txts >= 2 * n, "every flood event");
    const byte = (i) => (i % 256).toString(16).padStart(2, "0");
    const wrong = bins.filter(([i, h], k) => i !== k || h !== byte(i).repeat(3)).length;
    return { answer, bins: bins.length, txts, wrong, transport: await scene.settle(socket) };
  },

  async server_disconnect(scene) {
    const socket = scene.open();
    await mustConnect(socket);
    const transport = await scene.settle(socket);
    const sid = socket.id;
    const reason = nextEvent(socket, "disconnect");
    socket.emit("kick_me");
    const [client] = await reason;
    return { client, server: await scene.serverReason("/", sid), transport };
  },
};

const HEARTBEAT = {
  async hb_alive(scene) {
    const socket = scene.open();
    const handshake = new Promise((done) => socket.io.engine.once("handshake", done));
    let pings = 0;
    const disconnects = [];
    socket.io.on("ping", () => { pings += 1; });
    socket.on("disconnect", (reason) => disconnects.push(reason));
    await mustConnect(socket);
    const open = await bounded(handshake, "handshake");
    const engineId = socket.io.engine.id;
    await waitFor(() => pings >= 5, "five pings");
    const transport = await scene.settle(socket);
    const answer = await ack(socket, "echo", "still here");
    return { pingInterval: open.pingInterval, pingTimeout: open.pingTimeout,
             pings: pings >= 5, sameEngine: socket.io.engine.id === engineId,
             connected: socket.connected, disconnects: [...disconnects], answer, transport };
  },

  async hb_dropped(scene) {
    const socket = scene.open();
    let pings = 0;
    socket.io.on("ping", () => { pings += 1; });
    await mustConnect(socket);
    const transport = await scene.settle(socket);
    await waitFor(() => pings >= 1, "first ping");
    const sid = socket.id;
    const engine = socket.io.engine;
    const send = engine._sendPacket;
    let withheld = 0;
    engine._sendPacket = function (type, ...rest) {
      if (type === "pong") {     // stop answering the server's pings
        withheld += 1;
        return undefined;
      }
      return send.call(this, type, ...rest);
    };
    const [client] = await nextEvent(socket, "disconnect");
    return { client, server: await scene.serverReason("/", sid), withheld: withheld > 0,
             transport };
  },
};

// scenarios for one kind of server only, run when config.extra names them
const EXTRA = {
  // Flask-SocketIO (matrix_flask.py): a handler sees Flask's request context, the one of
  // the connect request, in every event: flask.request.sid (the socket's id), a query
  // argument of the connect request, the Flask session the client logged in with over
  // HTTP (the cookie sent with the connection), and a counter kept in the session
  // Flask-SocketIO manages, one more per event (before and after an upgrade)
  async flask_context(scene) {
    const user = `ana-${scene.mode}`;
    const login = await bounded(fetch(`${scene.url}/login?user=${user}`), "login");
    const cookie = (login.headers.get("set-cookie") || "").split(";")[0];
    if (login.status !== 200 || !cookie) {
      throw new Error(`login: ${login.status}, cookie ${JSON.stringify(cookie)}`);
    }
    const socket = scene.open("/", { auth: AUTH, query: { tag: scene.mode },
                                     extraHeaders: { cookie } });
    await mustConnect(socket);
    const seen = [(await ack(socket, "flask_ctx"))[0]];
    const transport = await scene.settle(socket);
    seen.push((await ack(socket, "flask_ctx"))[0]);
    seen.push((await ack(socket, "flask_ctx"))[0]);
    const calls = seen.map(({ sid, user: who, ...rest }) => (
      { ...rest, sid: sid === socket.id, user: who === user }));
    return { calls, transport };
  },
};

async function attempt(fn, scene) {
  try {
    return { obs: await fn(scene) };
  } catch (e) {
    return { error: String(e && e.stack ? e.stack : e) };
  } finally {
    scene.close();
  }
}

async function runGroup(lib, config, url, scenarios, out) {
  const modes = config.modes || Object.keys(TRANSPORTS);
  await Promise.all(modes.map(async (mode) => {
    for (const [name, fn] of Object.entries(scenarios)) {
      out[`${mode}/${name}`] = await attempt(fn, new Scene(lib, config, mode, url));
    }
  }));
}

export async function runMatrix(lib, config) {
  const out = {};
  const started = Date.now();
  const extra = Object.fromEntries((config.extra || []).map((name) => [name, EXTRA[name]]));
  await runGroup(lib, config, config.url, { ...MAIN, ...extra }, out);
  await runGroup(lib, config, config.hbUrl, HEARTBEAT, out);
  out.elapsedMs = Date.now() - started;
  return out;
}
