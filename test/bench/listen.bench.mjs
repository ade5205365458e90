// Throughput and acknowledgement latency of `gemwh listen` (dist/), against a bare node:http
// server that answers 200 to the same requests, measured in the same run on the same machine.
//   npm run build && node test/bench/listen.bench.mjs        (BENCH_MS=1000 for a quick run;
//   BENCH_DIST=/other/dist/ measures another build of gemwh, e.g. to compare before/after)
// Every server runs in its own process (as listen does for real); the load comes from this
// process through undici with a fixed number of connections, the app behind listen is one more
// process. Each delivery is a real signed one with a unique webhook-id (no duplicates), and every
// contender gets the same deliveries, client, connection pool and keep-alive.
//
// Each contender is measured alone: its slice runs while the others sit idle, rounds alternate
// (the order rotates every round, so that no contender always follows the same one), and the
// forwards a slice causes must have reached the app before the slice ends. listen acknowledges
// first and forwards behind, so without that wait a forwarding contender's forwards would run
// in the next contender's slice: its own rate would leave out work it still owed, and whoever
// came next (the baseline, in the previous order) would be measured on a busy machine.
// listen's NDJSON goes to a pipe that this process reads line by line as it comes, as a consumer
// would (splitting the lines here instead of just draining the pipe made no measurable difference).
//
// 1. closed loop, CONNECTIONS requests in flight: deliveries/s of
//    a. the bare server (baseline), b. listen with journal + forwarding, c. listen with journal,
//       no forwarding, d. like b with --fsync (the cost of surviving power loss), and the two
//       in-repo reference servers (reference-servers.mjs): the least a relay and the least a
//       verifying, journaling receiver must do in Node.
//    For the forwarding ones the rate is through to the app: acknowledged deliveries over the
//    time until the app had them all (the acknowledgement rate alone is shown beside it).
//    Targets, as ratios to the reference that does the same job, measured in this run:
//    c ≥ 0.85× the verify + journal reference, b ≥ 0.8× the relay reference. The same ratio of
//    CPU per delivery (reference's µs / listen's µs) is printed beside: on a shared machine the
//    rates swing with the neighbours' load, the CPU a delivery costs much less.
// 2. paced at 1,000 deliveries/s: acknowledgement latency p50/p99 of the same contenders.
//    Target: listen's p99 ≤ 1.5× the bare server's p99.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startServerProcess, stopServerProcess } from './server-processes.mjs';

const dist = process.env.BENCH_DIST ?? fileURLToPath(new URL('../../dist/', import.meta.url));
const { sign } = await import(new URL('core/standard-webhooks.js', `file://${dist.endsWith('/') ? dist : `${dist}/`}`).href);

const RUN_MS = Number(process.env.BENCH_MS ?? 3000);
const WARMUP_MS = Math.round(Math.min(1000, RUN_MS / 3));
const PACED_MS = Math.min(3000, RUN_MS);
const PACED_RATE = 1000;
const CONNECTIONS = 32;
const SLICE_MS = 250;
/** The longest wait for a slice's forwards to reach the app before the bench gives up on them. */
const DRAIN_LIMIT_MS = 30_000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const home = mkdtempSync(join(tmpdir(), 'gemwh-bench-listen-'));
process.on('exit', () => rmSync(home, { recursive: true, force: true }));

// A realistic Gemini body (~200 bytes). Signed ahead of time so that signing does not count
// against the servers; every contender walks the same list, each with its own journal and dedup.
function delivery(n) {
  const id = `msg_bench_${process.pid}_${n}`;
  const ts = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: `batches/${id}`, output_file_uri: 'files/batch-output-abc123' } });
  return {
    body,
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(id, ts, body, SECRET) },
  };
}
const PREPARED = Math.max(20_000, Math.round(RUN_MS * 40));
const prepared = Array.from({ length: PREPARED }, (_, n) => delivery(n));

const REFERENCE_SERVERS = fileURLToPath(new URL('reference-servers.mjs', import.meta.url));

const startProcess = (args, label) => startServerProcess(args, { label, env: { ...process.env, XDG_STATE_HOME: join(home, 'state') } });
const stopProcess = stopServerProcess;

const startReference = (...args) => startProcess([REFERENCE_SERVERS, ...args], `reference server ${args[0]}`);

function countRequests(child) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send('count');
  });
}

function startListen(extra, journal) {
  return startProcess([join(dist, 'cli.js'), 'listen', '--port', '0', '--json', '--secret', SECRET, '--journal', join(home, journal), ...extra], 'gemwh listen');
}

async function post(pool, url, contender) {
  // Past the end of the list the ids repeat: duplicates, answered 200 as well.
  const delivery = prepared[contender.next++ % prepared.length];
  const started = performance.now();
  const response = await pool.request({ path: new URL(url).pathname, method: 'POST', headers: delivery.headers, body: delivery.body });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}`);
  return performance.now() - started;
}

/** Closed loop: CONNECTIONS requests in flight for `ms`; acknowledged deliveries and seconds. */
async function closedLoop(contender, ms) {
  const url = contender.url;
  const pool = (contender.pool ??= new Pool(new URL(url).origin, { connections: CONNECTIONS, pipelining: 1 }));
  let done = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      await post(pool, url, contender);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return { done, seconds: (performance.now() - started) / 1000 };
}

/** Open loop at `rate` per second for `ms`: adds the latency of every acknowledgement to `latencies`. */
async function paced(contender, rate, ms, latencies) {
  const url = contender.url;
  const pool = (contender.pool ??= new Pool(new URL(url).origin, { connections: CONNECTIONS, pipelining: 1 }));
  const inFlight = new Set();
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < ms) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      sent++;
      const p = post(pool, url, contender).then((latency) => latencies.push(latency));
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return sent;
}

/**
 * Waits until the app has received `expected` requests in all: the forwards of what a
 * forwarding contender acknowledged. Returns the seconds waited.
 */
async function drainForwards(expected) {
  const started = performance.now();
  while ((await countRequests(app.child)) < expected) {
    if (performance.now() - started > DRAIN_LIMIT_MS) throw new Error(`forwards still missing after ${DRAIN_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return (performance.now() - started) / 1000;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, every thread) a process has used so far, in µs; undefined without /proc. */
function cpuMicrosOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU used so far by this process (the load client), the contender and the app, in µs. */
function cpuNow(contender) {
  const own = process.cpuUsage();
  return { client: own.user + own.system, server: cpuMicrosOf(contender.child.pid), app: cpuMicrosOf(app.child.pid) };
}

/**
 * One slice of `measure` for one contender, alone; for a forwarding one, until its forwards are in.
 * Also returns the CPU each process used meanwhile (the app's only counts for a forwarding one).
 */
async function slice(contender, measure) {
  const before = contender.forwards ? await countRequests(app.child) : 0;
  const first = contender.next;
  const cpuBefore = cpuNow(contender);
  const result = await measure();
  // Deliveries past the end of the list are duplicates, which listen does not forward again.
  const fresh = Math.min(contender.next, prepared.length) - Math.min(first, prepared.length);
  const drained = contender.forwards ? await drainForwards(before + fresh) : 0;
  const cpuAfter = cpuNow(contender);
  const cpu = {};
  for (const name of ['client', 'server', 'app']) cpu[name] = cpuAfter[name] - cpuBefore[name];
  if (!contender.forwards) cpu.app = 0;
  return { ...result, drained, cpu };
}

/** Rounds in which every contender runs once, alone, starting with a different one each round. */
async function inRounds(rounds, run) {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) await run(contenders[(round + i) % contenders.length]);
  }
}

function percentiles(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => `${n.toFixed(2)} ms`;

const app = await startReference('bare');
const contenders = [
  { label: 'bare node:http server (baseline)', start: () => startReference('bare') },
  { label: 'listen, journal + forwarding', start: () => startListen(['--forward', app.url], 'journal-fwd.ndjson'), against: 'relay', target: 0.8, forwards: true, latencyTarget: 1.5 },
  { label: 'listen, journal, no forwarding', start: () => startListen([], 'journal-nofwd.ndjson'), against: 'verify-journal', target: 0.85, latencyTarget: 1.5 },
  { label: 'listen, journal --fsync + forwarding', start: () => startListen(['--forward', app.url, '--fsync'], 'journal-fsync.ndjson'), forwards: true },
  { label: 'reference: minimal relay', start: () => startReference('relay', app.url), forwards: true, reference: 'relay' },
  { label: 'reference: minimal verify + journal', start: () => startReference('verify-journal', join(home, 'journal-reference.ndjson'), dist, SECRET), reference: 'verify-journal' },
];
for (const c of contenders) {
  const server = await c.start();
  Object.assign(c, { child: server.child, url: server.url, next: 0, done: 0, seconds: 0, loadSeconds: 0, latencies: [], cpu: { client: 0, server: 0, app: 0 } });
}

console.log(
  `closed loop, ${CONNECTIONS} connections, ${RUN_MS} ms each in ${SLICE_MS} ms slices, one contender at a time, after a ${WARMUP_MS} ms warm-up`,
);
await inRounds(1, (c) => slice(c, () => closedLoop(c, WARMUP_MS / contenders.length)));
await inRounds(Math.max(1, Math.round(RUN_MS / SLICE_MS)), async (c) => {
  const { done, seconds, drained, cpu } = await slice(c, () => closedLoop(c, SLICE_MS));
  c.done += done;
  c.loadSeconds += seconds;
  c.seconds += seconds + drained;
  for (const name of Object.keys(cpu)) c.cpu[name] += cpu[name];
});
const baseline = contenders[0].done / contenders[0].seconds;
const referenceFor = (c) => contenders.find((other) => other.reference === c.against);
for (const c of contenders) {
  const rate = c.done / c.seconds;
  const ratio = rate / baseline;
  const acknowledged = c.forwards ? `  (acknowledged at ${fmt(c.done / c.loadSeconds)}/s, forwards in ${fmt(1000 * (c.seconds - c.loadSeconds))} ms more)` : '';
  console.log(`  ${c.label.padEnd(38)} ${fmt(rate).padStart(7)} deliveries/s  ${ratio.toFixed(2)}× baseline${acknowledged}`);
  if (!Number.isNaN(c.cpu.server)) {
    const per = (micros) => `${(micros / c.done).toFixed(0)} µs`;
    const busy = (c.cpu.client + c.cpu.server + c.cpu.app) / 1e6 / c.seconds;
    const server = c === contenders[0] ? 'server' : c.reference ? 'reference' : 'listen';
    const app = c.forwards ? `, app ${per(c.cpu.app)}` : '';
    console.log(`  ${''.padEnd(38)} CPU per delivery: load client ${per(c.cpu.client)}, ${server} ${per(c.cpu.server)}${app}; ${busy.toFixed(2)} of ${availableParallelism()} cores busy`);
  }
}

console.log('\ncost per delivery against the reference doing the same job (same run)');
for (const c of contenders.filter((c) => c.against)) {
  const reference = referenceFor(c);
  const ratio = c.done / c.seconds / (reference.done / reference.seconds);
  const verdict = ratio >= c.target ? `ok (target ≥ ${c.target}×)` : `BELOW target ≥ ${c.target}×`;
  const cpu = (x) => x.cpu.server / x.done;
  const cpuRatio = Number.isNaN(cpu(c)) ? '' : `; by CPU per delivery ${(cpu(reference) / cpu(c)).toFixed(2)}× (${cpu(c).toFixed(0)} µs against ${cpu(reference).toFixed(0)} µs)`;
  console.log(`  ${c.label.padEnd(38)} ${ratio.toFixed(2)}× ${reference.label.replace('reference: ', '')}  ${verdict}${cpuRatio}`);
}

console.log(`\npaced at ${fmt(PACED_RATE)} deliveries/s, ${PACED_MS} ms each in ${SLICE_MS * 2} ms slices, one contender at a time: acknowledgement latency`);
await inRounds(Math.max(1, Math.round(PACED_MS / (SLICE_MS * 2))), (c) => slice(c, async () => ({ done: await paced(c, PACED_RATE, SLICE_MS * 2, c.latencies) })));
const bareP99 = percentiles(contenders[0].latencies).p99;
for (const c of contenders) {
  const p = percentiles(c.latencies);
  const ratio = p.p99 / bareP99;
  const verdict = c.latencyTarget === undefined ? '' : ratio <= c.latencyTarget ? `  ok (target p99 ≤ ${c.latencyTarget}× bare)` : `  ABOVE target p99 ≤ ${c.latencyTarget}× bare`;
  console.log(`  ${c.label.padEnd(38)} p50 ${ms(p.p50)}  p99 ${ms(p.p99)} (${ratio.toFixed(2)}× bare)  max ${ms(p.max)}  (${p.count} requests)${verdict}`);
}

for (const c of contenders) {
  await c.pool?.close();
  await stopProcess(c.child);
}
await stopProcess(app.child);
