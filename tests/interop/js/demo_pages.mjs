// Drives several tabs of the demo page (engineio_fast/demo) in Debian's headless Chromium
// through playwright-core, step by step, and prints what the pages reported.
//
// Input (JSON on stdin): {
//   "timeoutMs": 30000,            // for each step, and (+ 10 s) for the whole run
//   "cdn": {"url": URL, "path": FILE} | null,
//                                  // requests for URL are answered with FILE (with CORS
//                                  // headers, as a CDN does); no request leaves 127.0.0.1
//   "steps": [ {"open": NAME, "url": URL} | {"wait": NAME, "expr": JS}
//            | {"eval": NAME, "expr": JS, "as": KEY} | {"close": NAME} ]
// }
// Output (JSON on stdout): { "results": {KEY: value}, "console": [str], "pageErrors": [str],
//                            "blocked": [url], "cdnServed": int, "error": str | null,
//                            "step": index of the failing step | null }
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage"];

async function main() {
  const input = JSON.parse(readFileSync(0, "utf8"));
  const timeout = input.timeoutMs || 30000;
  const steps = input.steps || [];
  const killer = setTimeout(() => {
    process.stderr.write(`demo_pages.mjs: overall timeout\n`);
    process.exit(3);
  }, timeout * Math.max(steps.length, 1) + 10000);
  const out = { results: {}, console: [], pageErrors: [], blocked: [], cdnServed: 0,
                error: null, step: null };
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout });
    const context = await browser.newContext();
    const cdnBody = input.cdn ? readFileSync(input.cdn.path) : null;
    await context.route("**/*", async (route) => {
      const url = route.request().url();
      if (input.cdn && url === input.cdn.url) {
        out.cdnServed += 1;
        await route.fulfill({ status: 200, body: cdnBody, headers: {
          "content-type": "application/javascript; charset=utf-8",
          "access-control-allow-origin": "*" } });
      } else if (new URL(url).hostname === "127.0.0.1") {
        await route.continue();
      } else {
        out.blocked.push(url);
        await route.abort();
      }
    });
    const pages = {};
    for (let i = 0; i < steps.length; i++) {
      out.step = i;
      const s = steps[i];
      if (s.open !== undefined) {
        const page = pages[s.open] = await context.newPage();
        page.on("console", (m) => out.console.push(`${s.open} ${m.type()}: ${m.text()}`));
        page.on("pageerror", (e) => out.pageErrors.push(`${s.open}: ${e}`));
        await page.goto(s.url, { timeout });
      } else if (s.wait !== undefined) {
        await pages[s.wait].waitForFunction(s.expr, null, { timeout, polling: 50 });
      } else if (s.eval !== undefined) {
        out.results[s.as] = await pages[s.eval].evaluate(s.expr);
      } else if (s.close !== undefined) {
        await pages[s.close].close();
        delete pages[s.close];
      } else {
        throw new Error(`unknown step ${JSON.stringify(s)}`);
      }
    }
    out.step = null;
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
