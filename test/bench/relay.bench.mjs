// Ingest-to-client latency (p50/p99) and throughput of `gemwh relay serve` (dist/, embedded store:
// fsync'd before each 200) with 1, 10 and 50 SSE clients, against a minimal SSE broadcast server
// measured in the same run (no storage, no auth, no resume: it writes each POST to every open
// stream and answers). Both run as child processes; the clients and the load live in this process.
//   npm run build && node test/bench/relay.bench.mjs        (BENCH_DELIVERIES=300 for a quick run)
// Deliveries are posted CONCURRENCY at a time; latency is from the POST leaving to the event's
// arrival at a client; throughput is deliveries per second until every client has every delivery.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
const CONCURRENCY = 8;
const CLIENT_COUNTS = [1, 10, 50];

const BROADCAST = `
const http = require('node:http');
const clients = new Set();
let id = 0;
http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: ready\\ndata: {}\\n\\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const data = JSON.stringify({ path: req.url, receivedAt: Date.now(), headers, body: Buffer.concat(chunks).toString('base64') });
    const event = 'id: ' + (++id) + '\\nevent: delivery\\ndata: ' + data + '\\n\\n';
    for (const c of clients) c.write(event);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
}).listen(0, '127.0.0.1', function () { console.log(JSON.stringify({ url: 'http://127.0.0.1:' + this.address().port })); });
`;

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function startChild(args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  return { child, url: JSON.parse(line).url };
}

function subscribe(url, token, onDelivery) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`subscribe: HTTP ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.includes('event: ready')) resolve(req);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: delivery') && data) {
            const body = JSON.parse(Buffer.from(JSON.parse(data.slice(6)).body, 'base64').toString());
            onDelivery(body.sentAt);
          }
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function run(ingestUrl, streamUrl, token, clients) {
  const latencies = [];
  let received = 0;
  let allDone;
  const done = new Promise((resolve) => (allDone = resolve));
  const expected = DELIVERIES * clients;
  const streams = [];
  for (let i = 0; i < clients; i++) {
    streams.push(
      await subscribe(streamUrl, token, (sentAt) => {
        latencies.push(performance.now() - sentAt);
        if (++received === expected) allDone();
      }),
    );
  }
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = (n) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: `batches/${n}`, user_metadata: { owner: 'bench' } }, sentAt: performance.now() });
      const req = httpRequest(ingestUrl, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'webhook-id': `msg_${n}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`ingest: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < DELIVERIES) await post(next++);
    }),
  );
  await done;
  const seconds = (performance.now() - started) / 1000;
  for (const s of streams) s.destroy();
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { rate: DELIVERIES / seconds, p50: pct(0.5), p99: pct(0.99) };
}

const dir = mkdtempSync(join(tmpdir(), 'gemwh-relay-bench-'));
try {
  const store = join(dir, 'store');
  const admin = (args) => JSON.parse(spawnSync(process.execPath, [cli, 'relay', ...args, '--store', store, '--json'], { encoding: 'utf8' }).stdout);
  const channel = admin(['channel', 'create']).id;
  const token = admin(['token', 'create']).token;
  const relay = await startChild([cli, 'relay', 'serve', '--port', '0', '--store', store, '--json']);
  const broadcast = await startChild(['-e', BROADCAST]);

  console.log(`${DELIVERIES} deliveries per run, ${CONCURRENCY} in flight; latency = POST sent → event at a client`);
  console.log('clients | server          | deliveries/s | p50 ms | p99 ms');
  const results = [];
  for (const clients of CLIENT_COUNTS) {
    const base = await run(`${broadcast.url}/in/x`, `${broadcast.url}/c/x`, '', clients);
    const ours = await run(`${relay.url}/in/${channel}`, `${relay.url}/c/${channel}`, token, clients);
    for (const [name, r] of [['minimal SSE', base], ['gemwh relay', ours]]) {
      console.log(`${String(clients).padStart(7)} | ${name.padEnd(15)} | ${r.rate.toFixed(0).padStart(12)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p99.toFixed(1).padStart(6)}`);
    }
    results.push({ clients, ratio: ours.rate / base.rate, p99: ours.p99 });
  }
  for (const r of results) console.log(`${r.clients} client(s): gemwh relay throughput ${r.ratio.toFixed(2)}× the minimal SSE server (its p99 ${r.p99.toFixed(1)} ms includes an fsync per group of deliveries)`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
