// The official Socket.IO admin UI (@socket.io/admin-ui's ui/dist, served by
// the test from another origin, as admin.socket.io is) in Debian's headless
// Chromium through playwright-core, connected to a python-socketio server
// instrumented with sio.instrument(): socket.io-client sockets (node)
// connect and call echo, the page opens, one more socket connects, the
// page's Sockets and Servers views are read back (waiting until they show
// every socket), then every socket disconnects and must leave the Sockets
// view.
//
// Input (JSON on stdin): { "uiUrl": "http://127.0.0.1:P/", "serverUrl":
//   "http://127.0.0.1:Q", "clients": [{"name", "transports"}],
//   "hostname": the server's host name, "timeoutMs" }
// Output (JSON on stdout): { "clients": [{"name", "id", "transport"}],
//   "rows": {socket id: the text of its row in the Sockets view},
//   "servers": the text of the Servers view's table, "gone": true when
//   the Sockets view dropped every client after they disconnected,
//   "console": [...], "pageErrors": [...], "error": null or a message }
import { chromium } from "playwright-core";
import { io } from "socket.io-client";
import { readFileSync } from "node:fs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage"];

// how the Sockets view names the transports
const LABELS = { polling: "HTTP long-polling", websocket: "WebSocket" };

const input = JSON.parse(readFileSync(0, "utf8"));
const timeout = input.timeoutMs || 40000;
const killer = setTimeout(() => {
  process.stderr.write(`admin_ui.mjs: overall timeout ${timeout} ms\n`);
  process.exit(3);
}, timeout + 5000);
const out = { clients: [], rows: {}, servers: null, gone: false, console: [],
              pageErrors: [], error: null };
const sockets = [];

function rowsOf(ids) {
  // the text of each table row that names one of ids
  const found = {};
  for (const tr of document.querySelectorAll("tr")) {
    for (const id of ids) {
      if (tr.innerText.includes(id)) found[id] = tr.innerText;
    }
  }
  return found;
}

let browser;
let page;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout });
  const context = await browser.newContext();
  // the UI connects at load to what its settings (localStorage) name
  await context.addInitScript((server) => {
    localStorage.setItem("server_url", server);
    localStorage.setItem("namespace", "/admin");
    localStorage.setItem("path", "/socket.io");
    localStorage.setItem("ws_only", "false");
  }, input.serverUrl);
  // no network here: the page's web fonts and icons (Google, jsDelivr) fail
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(input.uiUrl) || url.startsWith(input.serverUrl)) {
      return route.continue();
    }
    return route.abort();
  });
  page = await context.newPage();
  page.on("console", (msg) => out.console.push(`${msg.type()}: ${msg.text()}`));
  page.on("pageerror", (err) => out.pageErrors.push(String(err)));
  // the clients first: the Sockets view shows the namespace selected when
  // the UI got all_sockets ('/' when there are sockets there)
  for (const spec of input.clients) {
    const socket = io(input.serverUrl, { forceNew: true, reconnection: false,
                                         transports: spec.transports });
    sockets.push(socket);
    await new Promise((ok, fail) => {
      socket.once("connect", ok);
      socket.once("connect_error", fail);
    });
    await socket.timeout(5000).emitWithAck("echo", "from " + spec.name);
    out.clients.push({ name: spec.name, id: socket.id });
  }
  const upgrading = sockets.filter((s, i) => input.clients[i].name === "upgrade");
  const deadline = Date.now() + timeout / 2;
  while (upgrading.some((s) => s.io.engine.transport.name !== "websocket")) {
    if (Date.now() > deadline) throw new Error("no upgrade");
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const [i, s] of sockets.entries()) {
    out.clients[i].transport = s.io.engine.transport.name;
  }
  await page.goto(input.uiUrl + "#/sockets/", { timeout });
  // and one more once the page is up: it must appear live
  const late = io(input.serverUrl, { forceNew: true, reconnection: false,
                                     transports: ["websocket"] });
  sockets.push(late);
  await new Promise((ok, fail) => {
    late.once("connect", ok);
    late.once("connect_error", fail);
  });
  out.clients.push({ name: "late", id: late.id, transport: "websocket" });
  const ids = out.clients.map((c) => c.id);
  // every socket listed, each with the transport the server reports (the
  // upgraded one as websocket: python-socketio reports it again on a ping)
  await page.waitForFunction(([ids, want]) => {
    const rows = {};
    for (const tr of document.querySelectorAll("tr")) {
      for (const id of ids) if (tr.innerText.includes(id)) rows[id] = tr.innerText;
    }
    return ids.every((id, i) => rows[id] && rows[id].includes(want[i]));
  }, [ids, out.clients.map((c) => LABELS[c.transport])],
  { timeout: timeout / 2, polling: 100 });
  out.rows = await page.evaluate(rowsOf, ids);

  // this server, once its stats count every socket and the page's own
  await page.goto(input.uiUrl + "#/servers/", { timeout });
  await page.waitForFunction(([host, count]) => [...document.querySelectorAll("tr")]
    .some((tr) => tr.innerText.includes(host) &&
                  (tr.innerText.split("\t")[4] || "").trim() === count),
    [input.hostname, String(out.clients.length + 1)],
    { timeout: timeout / 4, polling: 100 });
  out.servers = await page.evaluate((host) => [...document.querySelectorAll("tr")]
    .map((tr) => tr.innerText)
    .find((text) => text.includes(host) && text.split("\t").length >= 7),
    input.hostname);

  for (const s of sockets) s.disconnect();
  await page.goto(input.uiUrl + "#/sockets/", { timeout });
  await page.waitForFunction((ids) => ![...document.querySelectorAll("tr")]
    .some((tr) => ids.some((id) => tr.innerText.includes(id))), ids,
    { timeout: timeout / 4, polling: 100 });
  out.gone = true;
} catch (e) {
  out.error = String(e && e.stack ? e.stack : e);
  try {
    out.pageText = await page.evaluate(() => document.body.innerText);
  } catch (e2) {
    out.pageText = String(e2);
  }
} finally {
  for (const s of sockets) if (s.connected) s.disconnect();
  if (browser) {
    await Promise.race([browser.close(), new Promise((ok) => setTimeout(ok, 5000))]);
  }
}
clearTimeout(killer);
process.stdout.write(JSON.stringify(out), () => process.exit(0));
