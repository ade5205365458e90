// Benchmark of the `gemwh listen` terminal UI, against dist/ (run `npm run build` first):
//   node --expose-gc test/bench/tui.bench.mjs
// 1. reducer: 100,000 deliveries (received → verified → forwarded = 300,000 events) folded the
//    way the batcher does it; events/s, against a baseline loop that only builds the events.
// 2. renderer: the same 100,000 deliveries through renderListenUi (batching + Ink) writing to a
//    null terminal, as fast as they come; resident memory against the rss measured before feeding.
// 3. paced: 1,000 deliveries/s for 3 s through the renderer; CPU used and event-loop delay, i.e.
//    whether the UI leaves the receiver room to work.
// Target: rss stays under 200 MB after 100,000 deliveries.
import { spawnSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

if (typeof globalThis.gc !== 'function') {
  const result = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

// As src/cli.ts does: React's development build keeps a performance entry per render forever.
process.env.NODE_ENV ??= 'production';
const dist = new URL('../../dist/ui/', import.meta.url);
const { initialListenUiState, reduceAll } = await import(new URL('listen-state.js', dist).href);
const { renderListenUi } = await import(new URL('index.js', dist).href);

const DELIVERIES = 100_000;
const RSS_TARGET_MB = 200;
const MB = 1024 * 1024;

if (process.env.CI) {
  console.log('note: CI is set, so Ink draws only the last frame; the renderer figures are optimistic');
}

function rssAfterGc() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().rss;
}

/** rss rarely shrinks after a peak; the live heap shows what is actually kept. */
const heapMb = () => mb(process.memoryUsage().heapUsed);

const READY = {
  type: 'ready',
  at: 0,
  url: 'http://127.0.0.1:8787/webhook',
  forwardTargets: ['http://localhost:3000/hook'],
  verifying: { webhookIds: ['k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f'], secrets: ['whsec_…ab12'] },
};
const TYPES = ['batch.succeeded', 'batch.failed', 'interaction.completed', 'video.generated'];

function deliveryEvents(seq, at) {
  const webhookId = `msg_${seq.toString(36).padStart(10, '0')}`;
  const eventType = TYPES[seq % TYPES.length];
  return [
    { type: 'received', at, seq, method: 'POST', path: '/webhook', webhookId, eventType, bodyBytes: 120 },
    { type: 'verified', at, seq, webhookId, eventType, scheme: 'static', matched: { label: 'k0h9', inGrace: false }, willForward: true },
    { type: 'forwarded', at: at + 3, seq, target: 'http://localhost:3000/hook', attempt: 1, status: 200, latencyMs: 3, responseStart: 'ok' },
  ];
}

/** A session that emits what the bench tells it to. */
function benchSession() {
  const listeners = new Set();
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  return {
    emit(event) {
      for (const listener of listeners) listener(event);
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    history: () => [READY],
    getDelivery: () => undefined,
    resend: async () => {},
    async stop() {
      for (const listener of listeners) listener({ type: 'stopped', at: 0, reason: 'bench' });
      resolveDone();
    },
    done,
  };
}

function nullTerminal() {
  let bytes = 0;
  let writes = 0;
  const stdout = Object.assign(
    new Writable({
      write(chunk, _encoding, callback) {
        bytes += chunk.length;
        writes++;
        callback();
      },
    }),
    { isTTY: true, columns: 120, rows: 40 },
  );
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin, ref() {}, unref() {} });
  return { stdout, stdin, stats: () => ({ bytes, writes }) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mb = (bytes) => `${(bytes / MB).toFixed(1)} MB`;

const baselineRss = rssAfterGc();
console.log(`baseline rss (dist/ui loaded, nothing fed): ${mb(baselineRss)}, heap ${heapMb()}`);

// 1. Reducer --------------------------------------------------------------------------------
{
  // Baseline: building the same events and touching them, with no reducer.
  let sink = 0;
  let t0 = performance.now();
  for (let seq = 1; seq <= DELIVERIES; seq++) for (const event of deliveryEvents(seq, seq)) sink += event.seq;
  const baselineMs = performance.now() - t0;

  let state = initialListenUiState();
  let pending = [READY];
  t0 = performance.now();
  for (let seq = 1; seq <= DELIVERIES; seq++) {
    for (const event of deliveryEvents(seq, seq)) pending.push(event);
    if (pending.length >= 256) {
      state = reduceAll(state, pending);
      pending = [];
    }
  }
  state = reduceAll(state, pending);
  const reduceMs = performance.now() - t0;
  const events = DELIVERIES * 3;
  if (state.counters.forwarded !== DELIVERIES || state.rows.length !== 500 || sink === 0) throw new Error('reducer lost events');
  console.log(
    `reducer: ${fmt(events)} events in ${reduceMs.toFixed(0)} ms = ${fmt(events / (reduceMs / 1000))} events/s ` +
      `(baseline, building the events only: ${fmt(events / (baselineMs / 1000))} events/s; ratio ${(reduceMs / baselineMs).toFixed(1)}x the time)`,
  );
  console.log(`reducer: rss after GC ${mb(rssAfterGc())} (baseline ${mb(baselineRss)}), heap ${heapMb()}`);
}

// 2. Renderer, flat out ------------------------------------------------------------------------
{
  const session = benchSession();
  const term = nullTerminal();
  const ui = renderListenUi({ session, stdout: term.stdout, stdin: term.stdin, color: true });
  await sleep(20);
  const t0 = performance.now();
  let peakRss = 0;
  for (let seq = 1; seq <= DELIVERIES; seq++) {
    for (const event of deliveryEvents(seq, seq)) session.emit(event);
    // Give the flush timer and Ink a chance, as a real receiver's I/O would.
    if (seq % 500 === 0) {
      await tick();
      if (seq % 10_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  await sleep(150);
  const ms = performance.now() - t0;
  const rss = rssAfterGc();
  term.stdin.write('q');
  await ui;
  const { bytes, writes } = term.stats();
  console.log(
    `renderer: ${fmt(DELIVERIES)} deliveries in ${ms.toFixed(0)} ms = ${fmt(DELIVERIES / (ms / 1000))} deliveries/s; ` +
      `${fmt(writes)} terminal writes, ${mb(bytes)} drawn`,
  );
  const verdict = rss / MB < RSS_TARGET_MB ? 'OK' : 'OVER TARGET';
  console.log(
    `renderer: rss after GC ${mb(rss)} = ${(rss / baselineRss).toFixed(2)}x baseline (+${mb(rss - baselineRss)}); ` +
      `heap ${heapMb()}; peak seen ${mb(peakRss)}; target < ${RSS_TARGET_MB} MB: ${verdict}`,
  );
  console.log(`renderer: performance entries left by React: ${performance.getEntriesByType('measure').length} (NODE_ENV=${process.env.NODE_ENV})`);
}

// 3. Renderer at 1,000 deliveries/s --------------------------------------------------------
{
  const SECONDS = 3;
  const RATE = 1000;
  const session = benchSession();
  const term = nullTerminal();
  const ui = renderListenUi({ session, stdout: term.stdout, stdin: term.stdin, color: true });
  await sleep(20);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let seq = 0;
  while (seq < RATE * SECONDS) {
    const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - t0) / 1000) * RATE));
    while (seq < due) {
      seq++;
      for (const event of deliveryEvents(seq, Date.now())) session.emit(event);
    }
    await sleep(10);
  }
  await sleep(100);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  const writesBefore = term.stats().writes;
  term.stdin.write('q');
  await ui;
  const cpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
  console.log(
    `paced ${fmt(RATE)} deliveries/s for ${SECONDS} s: CPU ${cpuPct.toFixed(1)}% of one core (events generated in-process included); ` +
      `event-loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, ` +
      `max ${(delay.max / 1e6).toFixed(1)} ms; ${fmt(writesBefore)} terminal writes = ${(writesBefore / (wallMs / 1000)).toFixed(1)}/s`,
  );
}
