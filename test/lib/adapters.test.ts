import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPE_NAMES } from '../../src/core/events.js';
import { generateSigningKey, type JwtSigningKey } from '../../src/core/jwt-sign.js';
import { casesFor } from '../../src/conformance/cases.js';
import type { ConformanceReport } from '../../src/conformance/report.js';
import { sign } from '../../src/core/standard-webhooks.js';
import { runConformance, type ConformanceOptions } from '../../src/commands/conformance/run.js';
import { commandContext } from '../../src/commands/context.js';
import type { WebhookEvent } from '../../src/lib/events.js';
import { gemwhFastify } from '../../src/lib/fastify.js';
import { createFetchHandler } from '../../src/lib/fetch.js';
import { createNodeMiddleware } from '../../src/lib/node.js';
import { createVerifier } from '../../src/lib/verifier.js';
import { createWebhooks } from '../../src/lib/webhooks.js';
import { makeTestDeps } from '../helpers/deps.js';
import { closedPort, closeServer, listenOnLoopback } from '../helpers/loopback.js';
import { perTest } from '../helpers/per-test.js';
import { APP_KINDS, startApp, type AppKind } from './apps.js';

/**
 * The proof that apps built on gemwh/verify receive Gemini deliveries correctly: one sample app
 * per adapter, checked by the full conformance battery (in-process) and fed by the emulator.
 */

const SECRET = `whsec_${Buffer.alloc(32, 11).toString('base64')}`;
const AUDIENCE = 'https://app.example/webhook';
const { emulator, defer } = perTest();

let keys: { key: JwtSigningKey; otherKey: JwtSigningKey };
beforeAll(async () => {
  const [key, otherKey] = await Promise.all([generateSigningKey(), generateSigningKey()]);
  keys = { key, otherKey };
});

async function conformance(url: string, options: Partial<ConformanceOptions>): Promise<{ report: ConformanceReport; error: unknown }> {
  const t = makeTestDeps();
  try {
    let error: unknown;
    try {
      await runConformance({ url: new URL(url), dynamic: false, only: [], json: true, timeoutMs: 5000, ...options }, commandContext(t.deps));
    } catch (caught) {
      error = caught;
    }
    return { report: JSON.parse(t.stdout()) as ConformanceReport, error };
  } finally {
    t.cleanup();
  }
}

const notPassed = (report: ConformanceReport) => report.cases.filter((c) => c.outcome !== 'pass').map((c) => `${c.id}: ${c.got} ${c.detail ?? ''}`);

describe.each(APP_KINDS)('the %s sample app', (kind: AppKind) => {
  it('scores every case of the static conformance battery', async () => {
    const app = await startApp(kind, createWebhooks({ secrets: SECRET }));
    defer(() => app.close());
    const { report, error } = await conformance(app.url, { secret: SECRET });
    expect(notPassed(report)).toEqual([]);
    expect(error).toBeUndefined();
    expect(report.score).toMatchObject({ passed: 27, total: 27 });
    expect(report.cases).toHaveLength(casesFor('static', EVENT_TYPE_NAMES).length);
  });

  it('scores every case of the dynamic conformance battery', async () => {
    const jwksPort = await closedPort();
    const verifier = createVerifier({ jwks: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`, audience: AUDIENCE, jwksCache: { cooldownMs: 0 } });
    const app = await startApp(kind, createWebhooks({ verifier }));
    defer(() => app.close());
    const { report, error } = await conformance(app.url, { dynamic: true, keys, jwksPort, audience: AUDIENCE });
    expect(notPassed(report)).toEqual([]);
    expect(error).toBeUndefined();
    expect(report.score.total).toBe(casesFor('dynamic', EVENT_TYPE_NAMES).length);
  });

  it('receives emulator deliveries: static through a 24 h rotation (both secrets valid), then dynamic against the emulator JWKS', async () => {
    const e = await emulator();
    const created = e.store.create({ uri: 'http://127.0.0.1:9/', subscribed_events: ['batch.succeeded', 'video.generated'] });
    const oldSecret = created.new_signing_secret!;
    const received: Array<{ type: string; scheme: string; matched?: string; id?: string }> = [];
    const webhooks = createWebhooks({ secrets: [oldSecret], jwks: `${e.url}/.well-known/jwks.json` });
    const record = (event: WebhookEvent, delivery: Parameters<Parameters<typeof webhooks.on>[1]>[1]) => {
      received.push({ type: event.type, scheme: delivery.scheme, matched: delivery.scheme === 'static' ? delivery.matched.label : delivery.kid, id: event.data.id });
    };
    webhooks.on('*', record);
    const app = await startApp(kind, webhooks);
    defer(() => app.close());
    e.store.update(created.id, { uri: app.url }, ['uri']);

    e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.idle();
    // `gemwh rotate` with grace: the old secret stays valid for 24 h next to the new one.
    const { secret: newSecret } = e.store.rotateSigningSecret(created.id, 'revoke_previous_secrets_after_h24');
    // An app not yet redeployed still knows only the old secret: it keeps working during the grace.
    e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.idle();
    const rotated = createWebhooks({ secrets: [newSecret!, { secret: oldSecret, label: 'old' }], jwks: `${e.url}/.well-known/jwks.json` });
    rotated.on('*', record);
    const afterRotation = await startApp(kind, rotated);
    defer(() => afterRotation.close());
    e.store.update(created.id, { uri: afterRotation.url }, ['uri']);
    e.deliveries.emit({ type: 'video.generated' });
    await e.deliveries.idle();
    e.deliveries.emit({ type: 'interaction.completed', dynamic: { uris: [afterRotation.url] } });
    await e.deliveries.idle();

    expect(e.deliveries.attempts().map((a) => [a.scheme, a.signatures, a.outcome, a.status])).toEqual([
      ['static', 1, 'delivered', 200],
      ['static', 2, 'delivered', 200],
      ['static', 2, 'delivered', 200],
      ['dynamic', 0, 'delivered', 200],
    ]);
    expect(received.map((r) => [r.type, r.scheme, r.matched])).toEqual([
      ['batch.succeeded', 'static', '#1'],
      ['batch.succeeded', 'static', '#1'],
      ['video.generated', 'static', '#1'],
      ['interaction.completed', 'dynamic', e.deliveries.attempts()[3]!.kid],
    ]);
  });
});

describe('adapters and the app’s own mistakes', () => {
  const secretless = createWebhooks({ secrets: SECRET });

  it('express: a JSON body parser mounted before the middleware gets a 500 that says what to change', async () => {
    const app = express();
    app.use(express.json());
    app.post('/webhook', createNodeMiddleware(secretless));
    const server = createServer(app);
    const port = await listenOnLoopback(server);
    defer(() => closeServer(server));
    const response = await fetch(`http://127.0.0.1:${port}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
      body: '{"type":"batch.succeeded","data":{"id":"b"}}',
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: 'body_not_raw', message: expect.stringMatching(/parsed body/) });
  });

  it('express: a body that express.raw() kept is verified; a req.body = {} left by a parser that read nothing is ignored', async () => {
    const app = express();
    app.post('/raw', express.raw({ type: '*/*' }), createNodeMiddleware(secretless));
    // body-parser 1.x (Express 4) sets req.body = {} before it decides not to read the body.
    app.post('/untouched', (req, _res, next) => ((req.body = {}), next()), createNodeMiddleware(secretless));
    const server = createServer(app);
    const port = await listenOnLoopback(server);
    defer(() => closeServer(server));
    for (const path of ['raw', 'untouched']) {
      const body = `{"type":"batch.expired","data":{"id":"${path}"}}`;
      const at = Math.floor(Date.now() / 1000);
      const response = await fetch(`http://127.0.0.1:${port}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': `msg_${path}`, 'webhook-timestamp': String(at), 'webhook-signature': sign(`msg_${path}`, at, body, SECRET) },
        body,
      });
      expect([path, response.status]).toEqual([path, 200]);
    }
  });

  it('fastify: the plugin keeps raw bodies in its own context only; the app’s other routes still get parsed JSON', async () => {
    const app = Fastify();
    await app.register(gemwhFastify, { receiver: secretless, path: '/webhook' });
    app.post('/other', async (request) => ({ parsed: request.body }));
    defer(() => app.close());
    const other = await app.inject({ method: 'POST', url: '/other', payload: { a: 1 } });
    expect(other.json()).toEqual({ parsed: { a: 1 } });
    const unsigned = await app.inject({ method: 'POST', url: '/webhook', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    expect([unsigned.statusCode, unsigned.json().error]).toEqual([400, 'missing_header']);
  });

  it('hono: a handler that read request.json() first gets body_not_raw, not a bad signature', async () => {
    const handle = createFetchHandler(secretless);
    const request = new Request('http://127.0.0.1/webhook', { method: 'POST', body: '{"type":"x","data":{}}', headers: { 'webhook-id': 'msg_1' } });
    await request.json();
    const response = await handle(request);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: 'body_not_raw' });
  });
});
