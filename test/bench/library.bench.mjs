// gemwh/verify in an app: verifications per second of createVerifier().verify against what
// Gemini's guide tells Node users to use, on the same deliveries, in the same run:
//   static:  the `standardwebhooks` package's Webhook.verify (it also parses the JSON, as we do);
//   dynamic: the guide's recipe, jsonwebtoken.verify with a jwks-rsa key lookup (both cache the JWKS,
//            fetched once from a loopback server).
// Interleaved 100 ms slices after a warm-up, so load from other processes hits both sides alike.
//   npm run build && node test/bench/library.bench.mjs      (BENCH_MS=500 for a quick run)
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');
const jwt = require('jsonwebtoken');
const { JwksClient } = require('jwks-rsa');
// Through the package's own "exports" map, as an app imports it.
const { createVerifier } = await import('gemwh/verify');
const { sign } = await import(new URL('../../dist/core/standard-webhooks.js', import.meta.url).href);
const { generateSigningKey, signJwt, toJwks, webhookClaims } = await import(new URL('../../dist/core/jwt-sign.js', import.meta.url).href);
const { fixtureBody } = await import(new URL('../../dist/fixtures/fixtures.js', import.meta.url).href);

const RUN_MS = Number(process.env.BENCH_MS ?? 2000);
const SLICE_MS = 100;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const AUDIENCE = 'https://app.example/webhook';

const now = Date.now();
const ts = Math.floor(now / 1000);
const types = ['batch.succeeded', 'batch.failed', 'interaction.completed', 'video.generated'];
const key = await generateSigningKey();
const deliveries = await Promise.all(
  types.map(async (type, i) => {
    const body = fixtureBody(type, { now });
    const id = `msg_bench_${i}`;
    const token = await signJwt(webhookClaims({ event: JSON.parse(body), body, webhookId: id, audience: AUDIENCE, issuedAt: ts }), key);
    return {
      body,
      staticHeaders: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(id, ts, body, SECRET) },
      token,
      dynamicHeaders: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': token },
    };
  }),
);

let jwksFetches = 0;
const jwksBody = JSON.stringify(toJwks([key]));
const server = createServer((_req, res) => {
  jwksFetches++;
  res.writeHead(200, { 'content-type': 'application/json' }).end(jwksBody);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const jwksUri = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;

const webhook = new Webhook(SECRET);
const staticVerifier = createVerifier({ secrets: SECRET });
const dynamicVerifier = createVerifier({ jwks: jwksUri, audience: AUDIENCE });
const client = new JwksClient({ jwksUri });
const getKey = (header, callback) => client.getSigningKey(header.kid, (error, signingKey) => callback(error, signingKey?.getPublicKey()));
const guideVerify = (token) =>
  new Promise((resolve) => jwt.verify(token, getKey, { algorithms: ['RS256'], audience: AUDIENCE }, (error) => resolve(!error)));

const groups = [
  {
    name: 'static (HMAC)',
    contenders: [
      { label: 'standardwebhooks Webhook.verify', verify: async (d) => (webhook.verify(d.body, d.staticHeaders), true) },
      { label: 'gemwh/verify createVerifier().verify', verify: async (d) => (await staticVerifier.verify({ headers: d.staticHeaders, rawBody: d.body })).ok },
    ],
  },
  {
    name: 'dynamic (RS256 JWT)',
    contenders: [
      { label: 'guide recipe: jsonwebtoken + jwks-rsa', verify: (d) => guideVerify(d.token) },
      { label: 'gemwh/verify createVerifier().verify', verify: async (d) => (await dynamicVerifier.verify({ headers: d.dynamicHeaders, rawBody: d.body })).ok },
    ],
  },
];

async function runSlice(contender, ms) {
  let count = 0;
  let index = 0;
  const started = performance.now();
  const end = started + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) {
      if (!(await contender.verify(deliveries[index++ & 3]))) throw new Error(`${contender.label}: a valid delivery was rejected`);
      count++;
    }
  }
  return { count, seconds: (performance.now() - started) / 1000 };
}

try {
  for (const group of groups) {
    for (const contender of group.contenders) await runSlice(contender, Math.min(300, RUN_MS / 4));
    const totals = group.contenders.map(() => ({ count: 0, seconds: 0 }));
    for (let round = 0; round < Math.max(1, Math.round(RUN_MS / SLICE_MS / 2)); round++) {
      for (const [i, contender] of group.contenders.entries()) {
        const { count, seconds } = await runSlice(contender, SLICE_MS);
        totals[i].count += count;
        totals[i].seconds += seconds;
      }
    }
    const rates = totals.map((t) => t.count / t.seconds);
    console.log(`${group.name}:`);
    group.contenders.forEach((contender, i) => console.log(`  ${contender.label.padEnd(42)} ${Math.round(rates[i]).toLocaleString('en-US').padStart(9)} verifications/s`));
    console.log(`  ratio gemwh / baseline: ${(rates[1] / rates[0]).toFixed(2)}×`);
  }
  console.log(`JWKS fetched ${jwksFetches} time(s) in all (both sides cache it).`);
} finally {
  server.close();
}
