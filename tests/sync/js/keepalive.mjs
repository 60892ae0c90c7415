// Node driver: Engine.IO polling requests from Node's own HTTP clients, which
// reuse connections, in the request patterns of the official protocol test
// suite (socketio/engine.io-protocol, test-suite/). Node built-ins only.
//
// Input (JSON on stdin): { "url": "http://127.0.0.1:PORT", "rounds": N,
//                          "timeoutMs": overall limit (default 60000) }
// Three clients, one after the other:
//   close-header  node:http with a keep-alive agent and "Connection: close" on
//                 every request: what node-fetch 3 (the official suite's
//                 client) sends from Node >= 19, whose global agent keeps
//                 connections alive; such an agent reuses the connection
//                 unless the response says "Connection: close"
//   keep-alive    node:http with a keep-alive agent, no Connection header
//   fetch         Node's global fetch (undici), keep-alive
// Output (JSON on stdout):
//   { "requests": {client: n}, "reused": {client: n requests that went out on
//     a reused connection (node:http clients only)},
//     "completed": {client: rounds that ran to their end},
//     "failures": [{client, round, step, error}]   (a request that got no
//                  response: "socket hang up", ECONNRESET, a timeout, ...)
//     "mismatches": [{client, round, step, expected, got}] }

import http from "node:http";

const REQUEST_MS = 5000;
const SEP = "\x1e";

function readInput() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function httpClient(agent, extraHeaders) {
  return (url, { method = "GET", body, headers = {} } = {}) =>
    new Promise((resolve, reject) => {
      const all = { ...extraHeaders, ...headers };
      if (body !== undefined) all["content-length"] = Buffer.byteLength(body);
      const req = http.request(url, { method, agent, headers: all }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode,
            text: Buffer.concat(chunks).toString("utf8"),
            reused: req.reusedSocket,
          })
        );
        res.on("error", reject);
      });
      req.setTimeout(REQUEST_MS, () =>
        req.destroy(new Error("no response within " + REQUEST_MS + " ms"))
      );
      req.on("error", reject);
      req.end(body);
    });
}

async function fetchClient(url, { method = "GET", body, headers = {} } = {}) {
  const res = await fetch(url, {
    method,
    body,
    headers,
    signal: AbortSignal.timeout(REQUEST_MS),
  });
  return { status: res.status, text: await res.text(), reused: undefined };
}

function describe(e) {
  const cause = e.cause ? ` (${e.cause.code || e.cause.message})` : "";
  return `${e.code ? e.code + ": " : ""}${e.message}${cause}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const input = await readInput();
  const base = input.url + "/engine.io/?EIO=4&transport=polling";
  const deadline = Date.now() + (input.timeoutMs || 60000);
  const out = { requests: {}, reused: {}, completed: {}, failures: [],
                mismatches: [] };
  const clients = {
    "close-header": httpClient(new http.Agent({ keepAlive: true, maxSockets: 4 }),
                               { connection: "close" }),
    "keep-alive": httpClient(new http.Agent({ keepAlive: true, maxSockets: 4 }), {}),
    fetch: fetchClient,
  };

  for (const [name, send] of Object.entries(clients)) {
    out.requests[name] = 0;
    out.reused[name] = 0;
    out.completed[name] = 0;
    for (let round = 0; round < input.rounds && Date.now() < deadline; round++) {
      let step = "";
      const request = async (url, opts) => {
        out.requests[name]++;
        const res = await send(url, opts);
        if (res.reused) out.reused[name]++;
        return res;
      };
      const expect = (what, got, wanted) => {
        if (got !== wanted) {
          out.mismatches.push({ client: name, round, step: step + " " + what,
                                expected: wanted, got });
          return false;
        }
        return true;
      };
      const handshake = async () => {
        const res = await request(base);
        expect("status", res.status, 200);
        if (!expect("open packet", res.text.slice(0, 1), "0")) return null;
        return JSON.parse(res.text.slice(1)).sid;
      };
      // GET until PACKET arrived (at most 5 polls), answering pings
      const pollFor = async (sid, packet) => {
        for (let i = 0; i < 5; i++) {
          const res = await request(`${base}&sid=${sid}`);
          if (!expect("poll status", res.status, 200)) return;
          const packets = res.text.split(SEP);
          if (packets.includes("2")) {
            const pong = await request(`${base}&sid=${sid}`,
                                       { method: "POST", body: "3" });
            expect("pong status", pong.status, 200);
          }
          if (packets.includes(packet)) return;
        }
        expect("packet", "none in 5 polls", packet);
      };
      try {
        step = "handshake, POST, GET";
        let sid = await handshake();
        if (sid) {
          let res = await request(`${base}&sid=${sid}`,
                                  { method: "POST", body: "4hello" });
          expect("POST status", res.status, 200);
          expect("POST body", res.text, "ok");
          res = await request(`${base}&sid=${sid}`);
          expect("GET status", res.status, 200);
          expect("GET body", res.text, "4hello");
          step = "several packets";
          res = await request(`${base}&sid=${sid}`, {
            method: "POST",
            body: `4a${SEP}bAQIDBA==${SEP}4c`,
            headers: { "content-type": "text/plain;charset=UTF-8" },
          });
          expect("POST status", res.status, 200);
          res = await request(`${base}&sid=${sid}`);
          expect("GET body", res.text, `4a${SEP}bAQIDBA==${SEP}4c`);
          step = "heartbeat";
          await pollFor(sid, "2");
          step = "parked GET woken by a POST on another connection";
          const [get, post] = await Promise.all([
            request(`${base}&sid=${sid}`),
            sleep(50).then(() => request(`${base}&sid=${sid}`,
                                         { method: "POST", body: "4parked" })),
          ]);
          expect("POST status", post.status, 200);
          if (!get.text.split(SEP).includes("4parked")) {
            expect("GET status", get.status, 200);
            await pollFor(sid, "4parked");
          }
          step = "close packet";
          res = await request(`${base}&sid=${sid}`, { method: "POST", body: "1" });
          expect("POST status", res.status, 200);
        }
        step = "errors";
        let res = await request(base, { method: "POST", body: "" });
        expect("POST without sid", res.status, 400);
        res = await request(base, { method: "PUT", body: "" });
        expect("PUT", res.status, 400);
        res = await request(input.url + "/engine.io/?transport=polling");
        expect("no EIO", res.status, 400);
        res = await request(input.url + "/engine.io/?EIO=4&transport=abc");
        expect("unknown transport", res.status, 400);
        step = "CORS preflight";
        res = await request(base, {
          method: "OPTIONS",
          headers: { origin: "http://example.com",
                     "access-control-request-method": "POST" },
        });
        expect("OPTIONS status", res.status < 300, true);
        step = "parallel handshakes";
        const sids = await Promise.all([0, 1, 2, 3].map(() => handshake()));
        for (sid of sids) {
          if (!sid) continue;
          res = await request(`${base}&sid=${sid}`, { method: "POST", body: "1" });
          expect("close POST status", res.status, 200);
        }
        out.completed[name]++;
      } catch (e) {
        out.failures.push({ client: name, round, step, error: describe(e) });
      }
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(String(e && e.stack) + "\n");
    process.exit(1);
  }
);
