// Polling-only sessions of the official engine.io-client against one port
// served by several workers (uvicorn --workers N) with no sticky sessions.
// Driven by tests/cluster_redis/test_workers.py.
//
// Input: { "url": "http://127.0.0.1:P", "sessions": S, "messages": M, "timeoutMs": T }
// Output: { results: [{ id, pid, got: [str], close: reason|null, error: str|null }] }
import { Socket } from "engine.io-client";
import { start, until } from "./common.mjs";

const { input, killer } = start("workers.mjs", 30000);

async function one(k) {
  const r = { id: null, pid: null, got: [], close: null, error: null };
  let s;
  try {
    s = await new Promise((resolve, reject) => {
      const sock = new Socket(input.url, { transports: ["polling"] });
      sock.on("open", () => resolve(sock));
      sock.on("error", (e) => reject(new Error(String(e))));
    });
    r.id = s.id;
    s.on("message", (m) => r.got.push(String(m)));
    s.on("close", (reason, desc) => {
      if (s.closingByUs) return;    // ours, at the end
      r.close = reason + (desc ? ` (${desc.description ?? ""} ${desc.message ?? ""})` : "");
    });
    s.send("pid");
    for (let j = 0; j < input.messages; j++) {
      s.send(`e${k}:${j}`);
      if (j % 5 === 4) await new Promise((res) => setTimeout(res, 10));
    }
    await until(() => r.got.filter((m) => m.startsWith("e")).length >= input.messages ||
                      r.close !== null, 20000);
    const pidMsg = r.got.find((m) => m.startsWith("pid "));
    r.pid = pidMsg ? Number(pidMsg.slice(4)) : null;
  } catch (e) {
    r.error = String(e && e.stack ? e.stack : e);
  }
  if (s && r.close === null) {
    s.closingByUs = true;
    s.close();
  }
  return r;
}

const results = await Promise.all(
  Array.from({ length: input.sessions }, (_, k) => one(k)));
clearTimeout(killer);
process.stdout.write(JSON.stringify({ results }), () => process.exit(0));
