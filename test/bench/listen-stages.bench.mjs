// What each stage of `gemwh listen` costs per delivery, in CPU µs, measured in this process on
// dist/ (no sockets): the split of the figure listen.bench.mjs reports as "listen N µs" per
// delivery. The stages run in the order a delivery meets them, each over the same prepared
// deliveries in turn, so every figure is the same work as in a session minus node:http.
//   npm run build && node test/bench/listen-stages.bench.mjs     (BENCH_DIST=/other/dist/ as in listen.bench)
// Figures include the garbage collection each stage's allocations cause while it runs; what is
// kept across deliveries (dedup keys, the delivery cache, history) is kept here too.
import { isUtf8 } from 'node:buffer';
import { fileURLToPath } from 'node:url';

const dist = process.env.BENCH_DIST ?? fileURLToPath(new URL('../../dist/', import.meta.url));
const load = (path) => import(new URL(path, `file://${dist.endsWith('/') ? dist : `${dist}/`}`).href);
const { sign } = await load('core/standard-webhooks.js');
const { createListenVerifier } = await load('listen/verification.js');
const { decide, peekEventType } = await load('listen/decision.js');
const { SeenIds, dedupKeys } = await load('listen/dedup.js');
const { DeliveryCache } = await load('listen/delivery-cache.js');
const { EventBus } = await load('listen/event-bus.js');
const { headerPairs } = await load('listen/receiver.js');
const { forwardHeaders } = await load('listen/forwarder.js');
const { prepareAttempt } = await load('listen/forward-signing.js');

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const N = Number(process.env.BENCH_DELIVERIES ?? 20_000);
const ROUNDS = 5;
const now = Date.now();
const ts = Math.floor(now / 1000);

// What node:http hands over: raw header pairs, the parsed header object, the body.
const deliveries = Array.from({ length: N }, (_, n) => {
  const id = `msg_stage_${n}`;
  const text = JSON.stringify({ type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: `batches/${id}`, output_file_uri: 'files/batch-output-abc123' } });
  const signature = sign(id, ts, text, SECRET);
  const rawHeaders = ['Host', '127.0.0.1:8787', 'Content-Type', 'application/json', 'webhook-id', id, 'webhook-timestamp', String(ts), 'webhook-signature', signature, 'content-length', String(Buffer.byteLength(text))];
  const headers = { host: '127.0.0.1:8787', 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
  return { rawHeaders, headers, body: Buffer.from(text) };
});

const verifier = createListenVerifier({ secrets: [{ secret: SECRET, label: 'wh_bench' }], toleranceSec: 300, now: () => now });
const routes = { urls: [new URL('http://127.0.0.1:3000/')], hrefs: ['http://127.0.0.1:3000/'] };

// Each stage takes what the earlier ones made (state per delivery) and adds its own.
const stages = [
  ['request facts (header pairs)', (d, s) => (s.facts = { session: 'bench', seq: d.n, at: now, method: 'POST', path: '/', headers: headerPairs(d.rawHeaders), webhookIdHeader: d.headers['webhook-id'] })],
  ['body: UTF-8 check, text, event type', (d, s) => {
    const text = isUtf8(d.body) ? d.body.toString('utf8') : null;
    s.body = { body: d.body, bytes: d.body.length, text, eventType: peekEventType(d.body, text ?? undefined) };
  }],
  // The verifier answers with a promise: awaited as in a session, all of this stage's at once.
  ['verification (HMAC, awaited)', async (d, s) => (s.verdict = await verifier({ rawBody: d.body, headers: d.headers, now }))],
  ['dedup: keys, lookup, claim', (d, s, ctx) => {
    const keys = dedupKeys(s.verdict, s.verdict.webhookId, d.headers['webhook-signature']);
    s.dedup = { keys, first: ctx.seen.firstOf(keys) };
    s.claim = ctx.seen.claim(keys, `bench.${d.n}`, d.n);
  }],
  ['decision (record, kept state, event)', (d, s) => (s.outcome = decide(s.facts, s.body, { verified: s.verdict }, s.dedup, routes, now))],
  ['journal line (JSON + UTF-8 into the group buffer)', (d, s, ctx) => {
    const line = JSON.stringify(s.outcome.record);
    if (ctx.group.length < line.length * 3 + 1) ctx.group = Buffer.allocUnsafe(line.length * 3 + 1);
    ctx.group.write(line, 0, 'utf8');
  }],
  ['dedup settle, delivery cache', (d, s, ctx) => {
    ctx.seen.settle(s.claim, s.dedup.keys, true);
    ctx.deliveries.keep(s.outcome.keep);
  }],
  ['events: received + verified on the bus', (d, s, ctx) => {
    ctx.bus.emit({ type: 'received', at: now, seq: d.n, method: 'POST', path: '/', webhookId: s.facts.webhookIdHeader, eventType: s.body.eventType, bodyBytes: s.body.bytes });
    ctx.bus.emit(s.outcome.event);
  }],
  ['NDJSON of both events (--json)', (d, s, ctx) => {
    ctx.ndjson += JSON.stringify(ctx.lastTwo[0]) + '\n' + JSON.stringify(ctx.lastTwo[1]) + '\n';
    if (ctx.ndjson.length > 64 * 1024) ctx.ndjson = '';
  }],
  ['forward headers + first attempt', (d, s) => {
    const headers = forwardHeaders(s.facts.headers, []);
    prepareAttempt(s.outcome.keep, headers, 1, { now: () => now });
  }],
];

async function round() {
  const ctx = { seen: new SeenIds(50_000), deliveries: new DeliveryCache(), bus: new EventBus(), group: Buffer.allocUnsafe(64 * 1024), ndjson: '', lastTwo: [] };
  ctx.bus.on((event) => {
    ctx.lastTwo.push(event);
    if (ctx.lastTwo.length > 2) ctx.lastTwo.shift();
  });
  const states = deliveries.map(() => ({}));
  const micros = [];
  for (const [, run] of stages) {
    const before = process.cpuUsage();
    const waits = [];
    for (let n = 0; n < N; n++) {
      const d = deliveries[n];
      d.n = n;
      const result = run(d, states[n], ctx);
      if (result instanceof Promise) waits.push(result);
    }
    await Promise.all(waits);
    const used = process.cpuUsage(before);
    micros.push((used.user + used.system) / N);
  }
  return micros;
}

await round(); // warm-up: JIT and the first allocations
const results = [];
for (let i = 0; i < ROUNDS; i++) results.push(await round());
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`CPU µs per delivery by stage (median of ${ROUNDS} rounds of ${N.toLocaleString('en-US')} deliveries, in-process, no sockets)`);
let total = 0;
stages.forEach(([label], i) => {
  const m = median(results.map((r) => r[i]));
  total += m;
  console.log(`  ${label.padEnd(52)} ${m.toFixed(2).padStart(6)} µs`);
});
console.log(`  ${'all stages'.padEnd(52)} ${total.toFixed(2).padStart(6)} µs  (the rest of listen's figure in listen.bench is node:http, the write(2)s and the event loop)`);
