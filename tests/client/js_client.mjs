// The official engine.io-client 6 (from node_modules), for comparing our clients with it
// (tests/client/test_js_client_parity.py).
//
//   node js_client.mjs '{"url": "http://127.0.0.1:N", "transports": [...], "command": "close",
//                        "closeAfterMs": null, "timeoutMs": 10000}'
//
// Connects (transports: the client's option; omitted: polling then upgrade), waits until the
// transport is settled (upgraded, or no upgrade to do), sends `command` as a message (if any),
// closes the socket itself after `closeAfterMs` (if given), and prints one line of JSON when
// the socket closes: {sid, upgraded, reason, description}. Exits 1 after `timeoutMs`.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Socket } = require('engine.io-client');

const opts = JSON.parse(process.argv[2]);
const socket = new Socket(opts.url, opts.transports ? { transports: opts.transports } : {});
let sid = null;
let upgraded = false;

function settled() {
  if (opts.command) socket.send(opts.command);
  if (opts.closeAfterMs != null) setTimeout(() => socket.close(), opts.closeAfterMs);
}

socket.on('open', () => {
  sid = socket.id;
  const upgrading = socket._upgrades && socket._upgrades.length > 0;
  if (!upgrading) settled();
});
socket.on('upgrade', () => {
  upgraded = true;
  settled();
});
socket.on('upgradeError', () => settled());
socket.on('close', (reason, description) => {
  const text = description && (description.description ?? description.message);
  process.stdout.write(JSON.stringify({
    sid, upgraded, reason, description: text === undefined ? null : String(text),
  }) + '\n');
  process.exit(0);
});
setTimeout(() => process.exit(1), opts.timeoutMs ?? 10000);
