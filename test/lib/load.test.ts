import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupCompiledDist, compiledDist } from '../helpers/dist.js';
import { createLoadRecorder, type LoadRecorder } from '../helpers/load-recorder.js';

/**
 * An app that imports gemwh/verify must not pay for the CLI: a loader hook records every module
 * the compiled library resolves while it verifies a static and a dynamic delivery.
 */

const CLI_ONLY = ['commander', 'ink', 'react', 'googleapis-common', 'undici', '@napi-rs/keyring', 'express', 'fastify', 'hono'];

let dist: string;
let recorder: LoadRecorder;
beforeAll(() => {
  dist = compiledDist();
  recorder = createLoadRecorder('gemwh-lib-load-');
  writeFileSync(
    join(recorder.work, 'app.mjs'),
    `import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const dist = process.argv[2];
const load = (name) => import(pathToFileURL(dist + '/lib/' + name + '.js').href);
const { createVerifier, createWebhooks } = await load('index');
await Promise.all(['node', 'fastify', 'fetch'].map(load));
const { sign } = await import(pathToFileURL(dist + '/core/standard-webhooks.js').href);
const secret = 'whsec_' + Buffer.alloc(32, 3).toString('base64');
const body = '{"type":"batch.succeeded","data":{"id":"b"}}';
const at = Math.floor(Date.now() / 1000);
const webhooks = createWebhooks({ secrets: secret, jwks: { keys: [] } });
const outcome = await webhooks.receive({ headers: { 'webhook-id': 'm', 'webhook-timestamp': String(at), 'webhook-signature': sign('m', at, body, secret) }, rawBody: body });
const dynamic = await createVerifier({ jwks: { keys: [] } }).verify({ headers: { 'webhook-signature': 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln' }, rawBody: body });
process.stdout.write(JSON.stringify({ outcome: outcome.status, dynamic: dynamic.reason, cjs: Object.keys(createRequire(import.meta.url).cache) }));
`,
  );
  // A stale dist/ means a private build first, which takes a while on a busy machine.
}, 180_000);
afterAll(() => {
  recorder.cleanup();
  cleanupCompiledDist();
});

it('gemwh/verify and its adapters load none of the CLI: no commander, ink, react, googleapis-common, undici, keyring, nor the framework peers', async () => {
  const log = join(recorder.work, 'load.log');
  const result = await recorder.run([join(recorder.work, 'app.mjs'), dist], log);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const { outcome, dynamic, cjs } = JSON.parse(result.stdout) as { outcome: string; dynamic: string; cjs: string[] };
  // Both schemes really ran: the static delivery was handled, the JWT reached the key lookup (jose loaded).
  expect([outcome, dynamic]).toEqual(['handled', 'unknown_kid']);
  const entries = recorder.readLog(log);
  expect(entries.some((e) => e.specifier === 'jose')).toBe(true);
  const packages = new RegExp(`/node_modules/(?:${CLI_ONLY.join('|')})/`);
  const bySpecifier = new RegExp(`^(?:${CLI_ONLY.join('|')})(?:/|$)`);
  const cliFiles = /\/dist\/(?:cli|program|deps|root-help|version)\.js$|\/dist\/(?:commands|ui|manage|api|secrets|completion|emulator|conformance)\//;
  const offenders = [
    ...entries.filter((e) => bySpecifier.test(e.specifier) || packages.test(e.url) || cliFiles.test(e.url)).map((e) => `${e.specifier} -> ${e.url}`),
    ...cjs.filter((path) => packages.test(path)),
  ];
  expect(offenders).toEqual([]);
});
