// Opens tests/interop/static/index.html (served by the server under test) in Debian's
// headless Chromium through playwright-core and prints what the page reported.
//
// Input (JSON on stdin): { "url": "http://127.0.0.1:PORT/", "timeoutMs": 30000,
//                          "waitFor": JS expression (default "window.__result !== null"),
//                          "resultExpr": JS expression (default "window.__result") }
// Output (JSON on stdout): { "result": <window.__result of the page> | null,
//                            "console": [str], "pageErrors": [str], "error": str | null }
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage"];

async function main() {
  const input = JSON.parse(readFileSync(0, "utf8"));
  const timeout = input.timeoutMs || 30000;
  const killer = setTimeout(() => {
    process.stderr.write(`browser.mjs: overall timeout ${timeout} ms\n`);
    process.exit(3);
  }, timeout + 5000);
  const out = { result: null, console: [], pageErrors: [], error: null };
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout });
    const page = await browser.newPage();
    page.on("console", (msg) => out.console.push(`${msg.type()}: ${msg.text()}`));
    page.on("pageerror", (err) => out.pageErrors.push(String(err)));
    await page.goto(input.url, { timeout });
    await page.waitForFunction(input.waitFor || "window.__result !== null", null,
                               { timeout, polling: 50 });
    out.result = await page.evaluate(input.resultExpr || "window.__result");
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e);
  } finally {
    if (browser) {
      await Promise.race([browser.close(), new Promise((ok) => setTimeout(ok, 5000))]);
    }
  }
  clearTimeout(killer);
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(2);
});
