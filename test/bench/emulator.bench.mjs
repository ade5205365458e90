// Delivery throughput of the emulator (dist/): signed Standard Webhooks deliveries per second to a
// sink on loopback, against the raw POST rate of an undici client to the same sink, measured in
// the same run. Target: emulator ≥ 0.5× the raw rate.
//   npm run build && node test/bench/emulator.bench.mjs        (BENCH_ROUNDS=3 for a quick run)
// The sink is a bare node:http server in its own process. Both contenders keep CONCURRENCY requests
// in flight from this process: the raw client posts one prepared body; the emulator builds the
// payload from the fixture, signs it (two v1 signatures: the webhook is in a rotation grace period,
// the costlier case), records the attempt and posts it. They run in interleaved rounds, so load from
// other processes on a shared machine hits both alike.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const { startEmulator } = await import(new URL('emulator/server.js', `file://${dist}`).href);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 3000);
const CONCURRENCY = 32;
const TARGET = 0.5;

const SINK = `
const http = require('node:http');
let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { count++; res.writeHead(204); res.end(); });
});
server.keepAliveTimeout = 10000;
server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port + '/hook'));
process.on('message', () => process.send(count));
`;

const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
process.on('exit', () => sink.kill('SIGKILL'));
const sinkUrl = await new Promise((resolve, reject) => {
  createInterface({ input: sink.stdout }).once('line', resolve);
  sink.once('exit', (code) => reject(new Error(`sink exited with ${code}`)));
});
const sinkCount = () =>
  new Promise((resolve) => {
    sink.once('message', resolve);
    sink.send('count');
  });

const emulator = await startEmulator({ apiKey: 'bench', delivery: { concurrency: CONCURRENCY } });
const webhook = emulator.store.create({ uri: sinkUrl, subscribed_events: ['batch.succeeded'] });
emulator.store.rotateSigningSecret(webhook.id, 'revoke_previous_secrets_after_h24');

// The raw contender sends what the emulator sends: a signed body of the same size.
const sample = await (async () => {
  emulator.deliveries.emit({ type: 'batch.succeeded' });
  await emulator.deliveries.idle();
  return emulator.deliveries.attempts().at(-1);
})();
if (sample?.outcome !== 'delivered') throw new Error(`the sink did not accept the emulator's delivery: ${JSON.stringify(sample)}`);
const rawBody = JSON.stringify({ type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: 'batches/123456', output_file_uri: 'gs://my-bucket/results.jsonl' } });
const rawHeaders = {
  'content-type': 'application/json',
  'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
  'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
};
const pool = new Pool(new URL(sinkUrl).origin, { connections: CONCURRENCY });
const path = new URL(sinkUrl).pathname;

async function rawRound(count) {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      const response = await pool.request({ path, method: 'POST', headers: rawHeaders, body: rawBody });
      await response.body.dump();
      if (response.statusCode !== 204) throw new Error(`sink answered ${response.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return performance.now() - started;
}

async function emulatorRound(count) {
  const started = performance.now();
  for (let i = 0; i < count; i++) emulator.deliveries.emit({ type: 'batch.succeeded', data: { id: `batches/bench-${i}` } });
  await emulator.deliveries.idle();
  const elapsed = performance.now() - started;
  const failed = emulator.deliveries.attempts().slice(-count).filter((a) => a.outcome !== 'delivered').length;
  if (failed > 0) throw new Error(`${failed} emulator deliveries failed`);
  return elapsed;
}

// Warm-up: connections, JIT, the fixture cache of the OS.
await rawRound(PER_ROUND / 2);
await emulatorRound(PER_ROUND / 2);

const totals = { raw: 0, emulator: 0 };
const sinkBefore = await sinkCount();
for (let round = 0; round < ROUNDS; round++) {
  totals.raw += await rawRound(PER_ROUND);
  totals.emulator += await emulatorRound(PER_ROUND);
}
const received = (await sinkCount()) - sinkBefore;

const rawRate = (ROUNDS * PER_ROUND) / (totals.raw / 1000);
const emulatorRate = (ROUNDS * PER_ROUND) / (totals.emulator / 1000);
const ratio = emulatorRate / rawRate;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`${ROUNDS} interleaved rounds of ${fmt(PER_ROUND)} deliveries each, ${CONCURRENCY} in flight, sink in its own process`);
console.log(`  raw undici POST (baseline)             ${fmt(rawRate).padStart(7)} requests/s`);
console.log(
  `  emulator signed deliveries             ${fmt(emulatorRate).padStart(7)} deliveries/s  ${ratio.toFixed(2)}× baseline  ${
    ratio >= TARGET ? `ok (target ≥ ${TARGET}×)` : `BELOW target ≥ ${TARGET}×`
  }`,
);
console.log(`  (the sink received ${fmt(received)} requests for ${fmt(2 * ROUNDS * PER_ROUND)} sent)`);

await pool.close();
await emulator.stop();
sink.kill('SIGTERM');
