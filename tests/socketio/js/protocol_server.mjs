// tests/socketio/protocol_app.py on Node's socket.io 4.8: the configuration the official
// Socket.IO protocol suite documents for the JavaScript server (the reference target of
// test_sio_protocol.py).
//   node protocol_server.mjs PORT      (127.0.0.1, until SIGTERM)
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  connectTimeout: 1000,
  cors: { origin: "*" },
});

io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
});
io.of("/custom").on("connection", (socket) => socket.emit("auth", socket.handshake.auth));
http.listen(Number(process.argv[2]), "127.0.0.1");
