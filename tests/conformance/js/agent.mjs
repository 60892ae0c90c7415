// HTTP requests the way the official protocol test suite makes them: node-fetch on Node's
// global agent, which keeps connections alive (Node >= 19) while node-fetch adds
// `Connection: close` to every request. The agent puts a socket back in its pool unless the
// response says `Connection: close`, so a server that closes without saying so makes the next
// request fail ("socket hang up").
//
//   node agent.mjs PORT
//
// Runs a polling session's requests one after another and prints a JSON list:
// [{what, status (a number, or "ERR <message>"), expect}]. Each request is bounded (3 s).

import http from 'node:http';

const port = Number(process.argv[2]);
const EIO = '/engine.io/?EIO=4&transport=polling';

function request(method, path, body) {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: { connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, text }));
        res.on('error', (err) => resolve({ status: `ERR ${err.message}`, text: '' }));
      },
    );
    req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: `ERR ${err.message}`, text: '' }));
    req.end(body);
  });
}

const steps = [];
async function step(what, expect, method, path, body) {
  const res = await request(method, path, body);
  steps.push({ what, status: res.status, expect });
  return res;
}

const open = await step('handshake', 200, 'GET', EIO);
const sid = open.status === 200 ? JSON.parse(open.text.slice(1)).sid : 'none';
await step('bad EIO', 400, 'GET', '/engine.io/?EIO=abc&transport=polling');
await step('bad transport', 400, 'GET', '/engine.io/?EIO=4&transport=abc');
await step('post', 200, 'POST', `${EIO}&sid=${sid}`, '4hello');
await step('poll', 200, 'GET', `${EIO}&sid=${sid}`);
await step('bad method', 400, 'PUT', EIO);
await step('handshake again', 200, 'GET', EIO);
process.stdout.write(JSON.stringify(steps) + '\n');
