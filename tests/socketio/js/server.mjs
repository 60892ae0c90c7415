// The matrix's reference row: Node's socket.io 4.8 server with the handlers of
// matrix_app.py, so the scenarios are checked against the JavaScript implementation.
//
//   node server.mjs MAIN_PORT HB_PORT
// serves the main instance (default heartbeat) on MAIN_PORT and the heartbeat instance
// (pingInterval 300 ms, pingTimeout 200 ms) on HB_PORT, on 127.0.0.1, until SIGTERM.
// Other HTTP requests get 404.
import { createServer } from "node:http";
import { Server } from "socket.io";

const WAIT_MS = 5000;
const REFUSAL = ["denied", { code: 42, why: "bad token" }];

function typesOf(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return "bytes";
  }
  if (Array.isArray(value)) return value.map(typesOf);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typesOf(v)]));
  }
  return { string: "str", number: Number.isInteger(value) ? "int" : "float",
           boolean: "bool" }[typeof value] || typeof value;
}

function admit(socket, next) {
  const auth = socket.handshake.auth;
  if (!auth || typeof auth !== "object" || !("token" in auth)) {
    return next(new Error("Connection rejected by server"));
  }
  if (auth.token !== "ok") {
    const err = new Error(REFUSAL[0]);
    err.data = REFUSAL[1];
    return next(err);
  }
  return next();
}

// the last argument of an event is its ack callback
function split(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : () => {};
  return [args, ack];
}

function start(port, options) {
  const http = createServer((req, res) => {
    res.writeHead(404);
    res.end();
  });
  const io = new Server(http, { cors: { origin: "*" }, ...options });
  const records = new Map();

  const whoami = (socket) => ({ ns: socket.nsp.name, auth: socket.handshake.auth,
                                transport: socket.conn.transport.name });

  io.of("/chat").use(admit);
  io.of("/chat").on("connection", (socket) => {
    socket.on("whoami", (ack) => ack(whoami(socket)));
    socket.on("disconnect", (reason) => records.set(`/chat ${socket.id}`, reason));
  });

  io.use(admit);
  io.on("connection", (socket) => {
    socket.on("disconnect", (reason) => records.set(`/ ${socket.id}`, reason));
    socket.on("whoami", (ack) => ack(whoami(socket)));
    socket.on("echo", (...all) => {
      const [args, ack] = split(all);
      ack(...args);
    });
    socket.on("ask", (text, ack) => {
      socket.timeout(WAIT_MS).emit("question", text, (err, ...answer) => {
        ack(err ? ["error", err.message] : ["got", answer]);
      });
    });
    socket.on("bin_echo", (...all) => {
      const [args, ack] = split(all);
      socket.emit("bin_back", ...args);
      ack(["ok", typesOf(args)]);
    });
    socket.on("bin_ack", (data, ack) => ack(Buffer.from(data).reverse()));
    socket.on("ask_bin", (data, ack) => {
      socket.timeout(WAIT_MS).emit("bin_question", data, (err, ...answer) => {
        ack(err ? ["error", err.message] : [typesOf(answer), answer]);
      });
    });
    socket.on("join", (room, ack) => {
      socket.join(room);
      ack("joined");
    });
    socket.on("leave", (room, ack) => {
      socket.leave(room);
      ack("left");
    });
    socket.on("to_room", (msg, ack) => {
      (msg.skip_self ? socket.to(msg.room) : io.to(msg.room)).emit("room_msg", msg.text);
      ack("sent");
    });
    socket.on("broadcast", (text, ack) => {
      io.emit("all_msg", text);
      ack("sent");
    });
    socket.on("kick_me", () => socket.disconnect());
    socket.on("flood", async (n, ack) => {
      // scenarios.mjs's whole_packets: binary and plain emits from three loops at once
      const turn = () => new Promise((ok) => setImmediate(ok));
      const binary = async () => {
        for (let i = 0; i < n; i++) {
          socket.emit("bin", i, Buffer.alloc(3, i % 256));
          await turn();
        }
      };
      const plain = async () => {
        for (let i = 0; i < n; i++) {
          socket.emit("txt", i);
          await turn();
        }
      };
      await Promise.all([binary(), plain(), plain()]);
      ack(n);
    });
  });

  io.of("/ctl").on("connection", (socket) => {
    socket.on("wait_disconnect", async (query, ack) => {
      const key = `${query.ns} ${query.sid}`;
      const until = Date.now() + WAIT_MS;
      while (!records.has(key) && Date.now() < until) {
        await new Promise((ok) => setTimeout(ok, 10));
      }
      ack(records.get(key) ?? null);
    });
  });

  http.listen(port, "127.0.0.1");
  return io;
}

const [mainPort, hbPort] = process.argv.slice(2).map(Number);
const servers = [start(mainPort, {}), start(hbPort, { pingInterval: 300, pingTimeout: 200 })];
process.on("SIGTERM", () => {
  for (const io of servers) io.close();
  process.exit(0);
});
