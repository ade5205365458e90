// What a rejected delivery costs `gemwh listen` compared with its validly signed twin of the same
// size, for the worst bodies we could build against the diagnosis (which only runs on rejects).
//   npm run build && node test/bench/hostile.bench.mjs      (BENCH_ROUNDS=5 for a quick run)
// One in-process listen session (dist/) with a journal and no forward target; requests are sent
// one at a time over a keep-alive connection, accepted and rejected alternating, and the median
// time per request is compared. Target: a rejected request costs at most 4× its accepted twin.
// Two listeners: one that diagnoses every rejection in full (the cost of one forgery), and one with
// listen's default diagnosis budget (a flood of forgeries: past the budget a rejection only names
// its reason). The flood figures are the ones the target is about.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const dist = process.env.BENCH_DIST ?? fileURLToPath(new URL('../../dist/', import.meta.url));
const load = (path) => import(new URL(path, `file://${dist.endsWith('/') ? dist : `${dist}/`}`).href);
const { sign } = await load('core/standard-webhooks.js');
const { startListenSession } = await load('listen/session.js');
const { LISTEN_DEFAULTS } = await load('listen/session-options.js');
const { DEFAULT_LIMITS } = await load('listen/receiver.js');
const { createListenVerifier, DIAGNOSES_PER_SECOND } = await load('listen/verification.js');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGET_RATIO = 4;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WRONG = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const MiB = 1024 * 1024;
const LIMIT = DEFAULT_LIMITS.maxBodyBytes;

const bodies = {
  '1 MiB of spaces': ' '.repeat(LIMIT),
  '1 MiB of CRLF lines': 'a\r\n'.repeat(Math.floor(LIMIT / 3)),
  '1 MiB [[[…]]]': '['.repeat(LIMIT / 2) + ']'.repeat(LIMIT / 2),
  '1 MiB {"a":{"a":…}}': '{"a":'.repeat((LIMIT - 1) / 6) + '1' + '}'.repeat((LIMIT - 1) / 6),
  '1 MiB flat JSON': flatJson(LIMIT),
  '4 KiB flat JSON (largest re-serialised)': flatJson(4 * 1024),
  '4 KiB JSON 13 levels deep': deepButAllowed(4 * 1024),
  '4 KiB of non-ASCII JSON strings': nonAscii(4 * 1024),

};

function flatJson(size) {
  const items = [];
  let length = 40;
  for (let i = 0; length < size - 40; i++) {
    const item = JSON.stringify({ i, note: 'déjà vu' });
    items.push(item);
    length += Buffer.byteLength(item) + 1;
  }
  return `{"type":"batch.succeeded","data":[${items.join(',')}]}`;
}
function deepButAllowed(size) {
  const inner = flatJson(size - 12 * 6);
  return '{"a":'.repeat(12) + inner + '}'.repeat(12);
}
function nonAscii(size) {
  const items = [];
  let length = 30;
  while (length < size - 60) {
    const item = JSON.stringify('ü€😀'.repeat(6));
    items.push(item);
    length += Buffer.byteLength(item) + 1;
  }
  return `{"type":"x","data":[${items.join(',')}]}`;
}

const home = mkdtempSync(join(tmpdir(), 'gemwh-bench-hostile-'));
const now = () => Date.now();
const startSession = (diagnosesPerSecond) => startListenSession(
  {
    ...DEFAULT_LIMITS,
    host: '127.0.0.1',
    port: 0,
    verify: createListenVerifier({ secrets: [{ secret: SECRET, label: 'bench' }], toleranceSec: 300, now, diagnosesPerSecond }),
    verifying: { webhookIds: ['bench'], secrets: [] },
    forward: [],
    routes: [],
    events: [],
    extraHeaders: [],
    forwardTimeoutMs: 5000,
    forwardConcurrency: 4,
    retry: { initialMs: 50, maxMs: 200 },
    journal: { file: join(home, 'journal.ndjson'), maxBytes: 64 * MiB, keep: 1, fsync: false },
    dedupCapacity: 100_000,
    resume: LISTEN_DEFAULTS.resume,
    stopGraceMs: 1000,
  },
  { clock: { now }, random: { bytes: (n) => Buffer.alloc(n, 1) } },
);
const everyRejectDiagnosed = await startSession(Infinity);
const flood = await startSession(undefined);
const pools = [everyRejectDiagnosed, flood].map((session) => new Pool(new URL(session.url).origin, { connections: 1 }));

let n = 0;
async function send(pool, body, secret) {
  const id = `msg_hostile_${++n}`;
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(id, ts, body, secret) };
  const started = process.hrtime.bigint();
  const response = await pool.request({ path: '/', method: 'POST', headers, body });
  await response.body.dump();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const expected = secret === SECRET ? 200 : 401;
  if (response.statusCode !== expected) throw new Error(`expected ${expected}, got ${response.statusCode}`);
  return ms;
}
const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

console.log(`${ROUNDS} rounds per body; median ms per request; target under a flood: rejected ≤ ${TARGET_RATIO}× accepted`);
console.log(`${'body'.padEnd(42)} ${'bytes'.padStart(8)} ${'accepted'.padStart(9)} ${'diagnosed'.padStart(10)} ${'ratio'.padStart(6)} ${'flood'.padStart(9)} ${'ratio'.padStart(6)}`);
let worst = 0;
let worstDiagnosed = 0;
try {
  for (const [name, body] of Object.entries(bodies)) {
    const [full, budgeted] = pools;
    for (const pool of pools) {
      await send(pool, body, SECRET);
      await send(pool, body, WRONG);
    }
    const accepted = [];
    const diagnosed = [];
    const flooded = [];
    for (let i = 0; i < ROUNDS; i++) {
      accepted.push(await send(budgeted, body, SECRET));
      diagnosed.push(await send(full, body, WRONG));
      // A burst past the budget, as a flood of forgeries would be; the last one is measured.
      // Small bodies go fast enough to spend the whole second's budget; large ones never do.
      let last = 0;
      const burst = body.length < 64 * 1024 ? DIAGNOSES_PER_SECOND + 5 : 4;
      for (let j = 0; j < burst; j++) last = await send(budgeted, body, WRONG);
      flooded.push(last);
    }
    const diagnosedRatio = median(diagnosed) / median(accepted);
    const floodRatio = median(flooded) / median(accepted);
    worst = Math.max(worst, floodRatio);
    worstDiagnosed = Math.max(worstDiagnosed, diagnosedRatio);
    console.log(
      `${name.padEnd(42)} ${String(Buffer.byteLength(body)).padStart(8)} ${median(accepted).toFixed(2).padStart(9)} ${median(diagnosed).toFixed(2).padStart(10)} ${diagnosedRatio.toFixed(1).padStart(5)}× ${median(flooded).toFixed(2).padStart(9)} ${floodRatio.toFixed(1).padStart(5)}×${floodRatio > TARGET_RATIO ? '  (over target)' : ''}`,
    );
  }
  console.log(`worst ratio under a flood ${worst.toFixed(1)}× (target ≤ ${TARGET_RATIO}×); one diagnosed forgery at worst ${worstDiagnosed.toFixed(1)}×`);
} finally {
  for (const pool of pools) await pool.close();
  await everyRejectDiagnosed.stop();
  await flood.stop();
  rmSync(home, { recursive: true, force: true });
}
