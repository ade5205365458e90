// HMAC (static webhook) verification throughput: gemwh's verifyStatic (dist/) against the
// `standardwebhooks` package's Webhook.verify, on the same signed deliveries, in the same run.
// After a warm-up, each contender gets ~2 s in total, in interleaved 100 ms slices, so that load
// from other processes on a shared machine hits both sides alike. Target: gemwh ≥ 2× the package.
//   npm run build && node test/bench/hmac.bench.mjs      (BENCH_MS=500 for a quick run)
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');
const { sign, verifyStatic } = await import(new URL('../../dist/core/standard-webhooks.js', import.meta.url).href);
const { fixtureBody } = await import(new URL('../../dist/fixtures/fixtures.js', import.meta.url).href);

const TARGET_RATIO = 2;
const RUN_MS = Number(process.env.BENCH_MS ?? 2000);
const SLICE_MS = 100;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OLD_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');

// Realistic bodies: the catalog's thin payloads (≈150–250 bytes) and one with 2 KB of user_metadata.
const now = Date.now();
const ts = Math.floor(now / 1000);
const deliveries = ['batch.succeeded', 'batch.failed', 'interaction.completed', 'video.generated'].map((type, i) => {
  const data = i === 2 ? { user_metadata: { tenant: 'acme', notes: 'x'.repeat(2000) } } : undefined;
  const body = fixtureBody(type, { now, data });
  const id = `msg_bench_${i}`;
  const signature = sign(id, ts, body, SECRET);
  return {
    body,
    headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature },
    // During a rotation Gemini signs with both secrets; the matching one last is gemwh's worst valid case.
    rotatedHeaders: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `${sign(id, ts, body, OLD_SECRET)} ${signature}` },
  };
});

// The package reads Date.now() itself; gemwh takes `now` as an argument, as a receiver passes it.
const webhook = new Webhook(SECRET);
const secrets = [{ secret: SECRET, label: 'bench' }];
const rotationSecrets = [{ secret: OLD_SECRET, label: 'old' }, { secret: SECRET, label: 'new' }];
const contenders = [
  {
    label: 'standardwebhooks Webhook.verify',
    verify: (d) => {
      webhook.verify(d.body, d.headers);
      return true;
    },
  },
  { label: 'gemwh verifyStatic', verify: (d) => verifyStatic({ rawBody: d.body, headers: d.headers, secrets, now: Date.now(), toleranceSec: 300 }).ok },
  {
    label: 'gemwh verifyStatic, 2 secrets',
    verify: (d) => verifyStatic({ rawBody: d.body, headers: d.rotatedHeaders, secrets: rotationSecrets, now: Date.now(), toleranceSec: 300 }).ok,
  },
];

function runSlice(contender, ms) {
  let count = 0;
  let verified = 0;
  let index = 0;
  const started = performance.now();
  const end = started + ms;
  while (performance.now() < end) {
    // Batches of 100 keep the clock reads out of the measurement.
    for (let i = 0; i < 100; i++) {
      if (contender.verify(deliveries[index++ & 3])) verified++;
      count++;
    }
  }
  if (verified !== count) throw new Error(`${contender.label}: ${count - verified} valid deliveries were rejected`);
  return { count, seconds: (performance.now() - started) / 1000 };
}

for (const contender of contenders) runSlice(contender, Math.min(300, RUN_MS / 4));

const totals = contenders.map(() => ({ count: 0, seconds: 0 }));
for (let round = 0; round < Math.max(1, Math.round(RUN_MS / SLICE_MS)); round++) {
  contenders.forEach((contender, i) => {
    const { count, seconds } = runSlice(contender, SLICE_MS);
    totals[i].count += count;
    totals[i].seconds += seconds;
  });
}

const rates = totals.map((t) => t.count / t.seconds);
contenders.forEach((contender, i) => {
  const t = totals[i];
  console.log(`${contender.label.padEnd(34)} ${Math.round(rates[i]).toLocaleString('en-US').padStart(10)} verifications/s  (${t.count} in ${t.seconds.toFixed(2)} s)`);
});
const ratio = rates[1] / rates[0];
console.log(`ratio gemwh / standardwebhooks: ${ratio.toFixed(2)}×  (target ≥ ${TARGET_RATIO}×) ${ratio >= TARGET_RATIO ? 'OK' : 'BELOW TARGET'}`);
console.log(`ratio with 2 secrets and 2 signatures (rotation): ${(rates[2] / rates[0]).toFixed(2)}×`);
