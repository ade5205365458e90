// The servers the listen bench measures gemwh against, each run as its own process:
//   node reference-servers.mjs bare
//       answers 200 to every request once its body is in: the baseline, and the sink app.
//   node reference-servers.mjs relay APP_URL
//       the least any forwarder in Node must do: read the body, answer 200, then POST the same
//       bytes with the same headers (minus the hop-by-hop ones, as listen) to the app with undici's
//       dispatch() (16 connections, as listen), ignoring the answer. No verification, journal,
//       output or retries. (It used to pass on only content-type and webhook-id: an app could not
//       have verified what it got, and undici checks every header it sends, so that made the
//       ceiling look higher than a relay worth the name can reach.)
//   node reference-servers.mjs verify-journal JOURNAL_FILE DIST_DIR SECRET
//       the least a verifying, journaling receiver must do: gemwh's own HMAC check, one JSON line
//       per delivery written in one write(2) per event-loop turn, then the answer. No events,
//       duplicates, state or forwarding.
// The references are there to show where the ceiling of a target lies on the machine at hand,
// not to be fast at any cost: each does its job the ordinary way.
// Prints {"url": …} on stdout once listening; answers an IPC message with the number of requests.
import { openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';

const [mode, ...args] = process.argv.slice(2);
let count = 0;

function readBody(req, then) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => then(Buffer.concat(chunks)));
}

function ok(res) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}\n');
}

// What no relay passes on: they describe the connection, not the message (as listen's forwardHeaders).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'expect']);

const DISCARD = { onConnect() {}, onHeaders() { return true; }, onData() { return true; }, onComplete() {}, onError() {} };

async function handlerFor(mode) {
  if (mode === 'bare') return (req, res) => readBody(req, () => ok(res));
  if (mode === 'relay') {
    const { Pool } = await import('undici');
    const app = new URL(args[0]);
    const pool = new Pool(app.origin, { connections: 16 });
    return (req, res) =>
      readBody(req, (body) => {
        ok(res);
        const headers = [];
        const raw = req.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1]);
        // dispatch() with a handler that ignores the answer: the cheapest way undici sends.
        pool.dispatch({ path: app.pathname, method: 'POST', headers, body }, DISCARD);
      });
  }
  if (mode === 'verify-journal') {
    const [file, dist, secret] = args;
    const { verifyStatic } = await import(new URL('core/standard-webhooks.js', `file://${dist.endsWith('/') ? dist : `${dist}/`}`).href);
    const fd = openSync(file, 'a', 0o600);
    const secrets = [{ secret, label: 'bench' }];
    let lines = '';
    let waiting = [];
    const commit = () => {
      writeSync(fd, lines);
      lines = '';
      const answered = waiting;
      waiting = [];
      for (const res of answered) ok(res);
    };
    return (req, res) =>
      readBody(req, (body) => {
        const verdict = verifyStatic({ headers: req.headers, rawBody: body, now: Date.now(), secrets });
        if (!verdict.ok) {
          res.writeHead(401).end();
          return;
        }
        lines += JSON.stringify({ id: verdict.webhookId, at: Date.now(), headers: req.rawHeaders, body: body.toString('utf8') }) + '\n';
        waiting.push(res);
        if (waiting.length === 1) setImmediate(commit);
      });
  }
  throw new Error(`unknown reference server ${mode}`);
}

const handler = await handlerFor(mode);
const server = createServer((req, res) => {
  count++;
  handler(req, res);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/` })));
process.on('message', () => process.send(count));
