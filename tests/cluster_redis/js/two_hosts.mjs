// The official engine.io-client against two server processes sharing one
// Redis: X on host A (polling, then the websocket upgrade), Y on host B
// (polling only). Driven by tests/cluster_redis/test_js_client.py.
//
// Input (JSON on stdin): { "a": "http://127.0.0.1:PA", "b": "http://127.0.0.1:PB",
//                          "n": messages per burst, "timeoutMs": overall limit }
// Output (JSON on stdout): { xId, yId, who: [sids] | null, xUpgraded,
//   yGot: [str], xGot: [str], yClose: reason | null, error: str | null }
import { Socket } from "engine.io-client";
import { start, until } from "./common.mjs";

const { input, killer } = start("two_hosts.mjs", 30000);

function open(url, transports) {
  return new Promise((resolve, reject) => {
    const s = new Socket(url, { transports });
    s.got = [];
    s.on("message", (m) => s.got.push(typeof m === "string" ? m : "<binary>"));
    s.on("open", () => resolve(s));
    s.on("error", (e) => reject(new Error(String(e))));
  });
}

async function main() {
  const out = { xId: null, yId: null, who: null, xUpgraded: false, yGot: [], xGot: [],
                yClose: null, error: null };
  let x, y;
  try {
    x = await open(input.a, ["polling", "websocket"]);
    y = await open(input.b, ["polling"]);
    out.xId = x.id;
    out.yId = y.id;
    y.on("close", (reason) => { out.yClose = reason; });
    await until(() => x.transport && x.transport.name === "websocket", 5000);
    out.xUpgraded = x.transport.name === "websocket";
    // presence: A lists both sessions (within a few heartbeats)
    for (let i = 0; i < 50 && out.who === null; i++) {
      const start = x.got.length;
      x.send("who");
      await until(() => x.got.slice(start).some((m) => m.startsWith("who")), 3000);
      const answer = x.got.slice(start).find((m) => m.startsWith("who "));
      const sids = answer ? JSON.parse(answer.slice(4)) : [];
      if (sids.includes(x.id) && sids.includes(y.id)) out.who = sids;
      else await new Promise((r) => setTimeout(r, 100));
    }
    const n = input.n;
    x.send(`burst ${y.id} ${n} j`);
    y.send(`bburst ${n} h`);
    await until(() => y.got.filter((m) => m.startsWith("j:")).length >= n &&
                      x.got.filter((m) => m.startsWith("h:")).length >= n, 15000);
    x.send(`kick ${y.id}`);
    await until(() => out.yClose !== null, 10000);
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e);
  }
  if (y) { out.yGot = y.got; y.close(); }
  if (x) { out.xGot = x.got; x.close(); }
  clearTimeout(killer);
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
}

main();
