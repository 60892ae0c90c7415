// What the drivers of tests/cluster_redis share: their input (JSON on stdin) under an overall
// deadline, and a bounded wait for a condition.
import { readFileSync } from "node:fs";

// The input, and a timer that ends the process (exit 3) after input.timeoutMs (or fallbackMs);
// clear it with clearTimeout when the driver is done.
export function start(name, fallbackMs) {
  const input = JSON.parse(readFileSync(0, "utf8"));
  const timeout = input.timeoutMs || fallbackMs;
  const killer = setTimeout(() => {
    process.stderr.write(`${name}: overall timeout ${timeout} ms\n`);
    process.exit(3);
  }, timeout);
  return { input, killer };
}

// Polls pred every step ms for at most ms; its last answer.
export async function until(pred, ms, step = 20) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return pred();
}
