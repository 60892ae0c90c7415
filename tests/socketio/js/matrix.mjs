// The socket.io-client matrix in node: every scenario of scenarios.mjs, with the official
// socket.io-client 4.8, against one server (its main and heartbeat instances).
//
// Input (JSON on stdin): { "url", "hbUrl", "path": "/socket.io", "timeoutMs": 60000 }
// Output (JSON on stdout): runMatrix's result (see scenarios.mjs)
import { io, Manager } from "socket.io-client";
import { readFileSync } from "node:fs";
import { runMatrix } from "./scenarios.mjs";

const input = JSON.parse(readFileSync(0, "utf8"));
const killer = setTimeout(() => {
  process.stderr.write("matrix.mjs: overall timeout\n");
  process.exit(3);
}, input.timeoutMs || 60000);
const result = await runMatrix({ io, Manager }, input);
clearTimeout(killer);
process.stdout.write(JSON.stringify(result), () => process.exit(0));
