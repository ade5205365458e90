import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPE_NAMES } from '../../src/core/events.js';
import { generateSigningKey, signJwt, toJwks, webhookClaims, type JwtSigningKey } from '../../src/core/jwt-sign.js';
import { sign } from '../../src/core/standard-webhooks.js';
import { fixturesDir } from '../../src/fixtures/fixtures.js';
import { EVENT_DATA_FIELDS, isKnownEvent } from '../../src/lib/events.js';
import { createVerifier, type VerifyResult } from '../../src/lib/verifier.js';
import { createMemoryDedupStore, createWebhooks } from '../../src/lib/webhooks.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';

const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const NEW_SECRET = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const NOW = 1_780_000_000_000;
const now = () => NOW;
const BODY = '{"type":"batch.succeeded","version":"v1","timestamp":"2026-05-04T12:00:00Z","data":{"id":"batch_1","output_file_uri":"gs://b/r.jsonl"}}';

function signed(body: string, secret = SECRET, id = 'msg_1', at = NOW / 1000) {
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': sign(id, at, body, secret) };
}

describe('createVerifier, static', () => {
  it('accepts a signed delivery and hands back the parsed event with the verdict the CLI gives', async () => {
    const result = await createVerifier({ secrets: SECRET, now }).verify({ headers: signed(BODY), rawBody: Buffer.from(BODY) });
    expect(result).toMatchObject({ ok: true, scheme: 'static', webhookId: 'msg_1', matched: { label: '#1', index: 0, inGrace: false } });
    expect(result.ok && result.event.type === 'batch.succeeded' && result.event.data.output_file_uri).toBe('gs://b/r.jsonl');
  });

  it('tries every secret (rotation) and reports which one matched; an expired one is refused with the reason', async () => {
    const verifier = createVerifier({ secrets: [NEW_SECRET, { secret: SECRET, label: 'before rotation', expiresAt: new Date(NOW + 3_600_000) }], now });
    expect(await verifier.verify({ headers: signed(BODY, SECRET), rawBody: BODY })).toMatchObject({ ok: true, matched: { label: 'before rotation', index: 1, inGrace: true } });
    expect(await verifier.verify({ headers: signed(BODY, NEW_SECRET), rawBody: BODY })).toMatchObject({ ok: true, matched: { label: '#1', inGrace: false } });
    const expired = createVerifier({ secrets: [NEW_SECRET, { secret: SECRET, expiresAt: NOW - 1 }], now });
    const verdict = await expired.verify({ headers: signed(BODY, SECRET), rawBody: BODY });
    expect(verdict).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(!verdict.ok && verdict.diagnosis.join(' ')).toMatch(/expired/);
  });

  it('diagnoses re-serialised JSON, the mistake frameworks make', async () => {
    const pretty = JSON.stringify(JSON.parse(BODY), null, 2);
    const verdict = await createVerifier({ secrets: SECRET, now }).verify({ headers: signed(BODY), rawBody: pretty });
    expect(verdict).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(!verdict.ok && verdict.diagnosis.join(' ')).toMatch(/re-serialized/);
  });

  it('an event without data (an undocumented ping) is accepted with data {}', async () => {
    const ping = '{"type":"webhook.ping","version":"v1"}';
    expect(await createVerifier({ secrets: SECRET, now }).verify({ headers: signed(ping), rawBody: ping })).toMatchObject({ ok: true, event: { type: 'webhook.ping', data: {} } });
  });

  it('an authentic body that is not a JSON event is invalid_body, not a signature failure', async () => {
    const verdict = await createVerifier({ secrets: SECRET, now }).verify({ headers: signed('not json'), rawBody: 'not json' });
    expect(verdict).toMatchObject({ ok: false, reason: 'invalid_body', webhookId: 'msg_1' });
  });

  it('refuses an unusable secret when it is created, with the reason and the way out', () => {
    expect(() => createVerifier({ secrets: 'whsec_...3frh' })).toThrow(/secret #1 cannot be used: .*truncated/);
    expect(() => createVerifier({ secrets: [SECRET, 'v1,abc'] })).toThrow(/secret #2 .*signature/);
    expect(() => createVerifier({ secrets: SECRET, tolerance: -1 })).toThrow(TypeError);
  });

  it('never throws, whatever it is handed', async () => {
    const verifier = createVerifier({ secrets: SECRET, now });
    const inputs: unknown[] = [
      undefined,
      null,
      {},
      { headers: null, rawBody: BODY },
      { headers: signed(BODY), rawBody: JSON.parse(BODY) },
      { headers: signed(BODY), rawBody: 42 },
      { headers: { 'webhook-id': 42, 'webhook-timestamp': ['1', '2'], 'webhook-signature': {} }, rawBody: BODY },
      { headers: new Headers({ 'webhook-signature': 'a.b.c' }), rawBody: new ArrayBuffer(3) },
      { headers: [['webhook-id', 'x']], rawBody: 'x'.repeat(100_000) },
      { headers: { 'webhook-id': '\u0000', 'webhook-timestamp': '9'.repeat(400), 'webhook-signature': 'v1,' + '='.repeat(5000) }, rawBody: '\uFFFF' },
    ];
    for (const input of inputs) {
      const result = (await verifier.verify(input as never)) as VerifyResult;
      expect(result.ok).toBe(false);
      expect(!result.ok && typeof result.explanation).toBe('string');
    }
    const parsed = await verifier.verify({ headers: signed(BODY), rawBody: JSON.parse(BODY) as never });
    expect(parsed).toMatchObject({ ok: false, reason: 'body_not_raw', webhookId: 'msg_1' });
    expect(!parsed.ok && parsed.diagnosis[0]).toMatch(/body parser/);
  });

  it('reads headers from a Fetch Headers object and from name/value pairs', async () => {
    const verifier = createVerifier({ secrets: SECRET, now });
    expect((await verifier.verify({ headers: new Headers(signed(BODY)), rawBody: new TextEncoder().encode(BODY) })).ok).toBe(true);
    expect((await verifier.verify({ headers: Object.entries(signed(BODY)).map(([k, v]) => [k.toUpperCase(), v] as const), rawBody: BODY })).ok).toBe(true);
  });
});

describe('createVerifier, dynamic', () => {
  let key: JwtSigningKey;
  let jwks: JwksServer;
  beforeAll(async () => {
    key = await generateSigningKey();
  });
  afterEach(async () => jwks?.close());

  const delivery = async (body: string, signingKey = key, kid = signingKey.kid, bindBody = true) => {
    const { body_sha256: digest, ...claims } = webhookClaims({ event: JSON.parse(body), body, webhookId: 'msg_dyn', audience: 'https://app.example/hook', issuedAt: NOW / 1000 });
    if (bindBody) claims.body_sha256 = digest;
    return { 'webhook-id': 'msg_dyn', 'webhook-timestamp': String(NOW / 1000), 'webhook-signature': await signJwt(claims, { ...signingKey, kid }) };
  };

  it('fetches the JWKS lazily (not for static deliveries), caches it, refetches once for an unknown kid, then cools down', async () => {
    jwks = await startJwksServer(toJwks([key]));
    let at = NOW;
    const verifier = createVerifier({ secrets: SECRET, jwks: jwks.url, audience: 'https://app.example/hook', jwksCache: { cooldownMs: 30_000 }, now: () => at });
    await verifier.verify({ headers: signed(BODY), rawBody: BODY });
    expect(jwks.requests).toBe(0);
    expect(await verifier.verify({ headers: await delivery(BODY), rawBody: BODY })).toMatchObject({ ok: true, scheme: 'dynamic', kid: key.kid, webhookId: 'msg_dyn' });
    await verifier.verify({ headers: await delivery(BODY), rawBody: BODY });
    expect(jwks.requests).toBe(1);
    at += 31_000;
    const stranger = await generateSigningKey();
    expect(await verifier.verify({ headers: await delivery(BODY, stranger), rawBody: BODY })).toMatchObject({ ok: false, reason: 'unknown_kid' });
    expect(jwks.requests).toBe(2);
    expect(await verifier.verify({ headers: await delivery(BODY, stranger), rawBody: BODY })).toMatchObject({ ok: false, reason: 'unknown_kid' });
    expect(jwks.requests).toBe(2);
  });

  it('takes keys in memory, checks the audience, and reads the event from the claims when the body is empty', async () => {
    const verifier = createVerifier({ jwks: toJwks([key]), audience: 'https://app.example/hook', now });
    const headers = await delivery(BODY, key, key.kid, false);
    const fromClaims = await verifier.verify({ headers, rawBody: '' });
    expect(fromClaims).toMatchObject({ ok: true, event: { type: 'batch.succeeded', data: { id: 'batch_1' } } });
    const other = createVerifier({ jwks: toJwks([key]), audience: 'https://other.example/', now });
    expect(await other.verify({ headers, rawBody: BODY })).toMatchObject({ ok: false, reason: 'jwt_claim_mismatch' });
  });

  it('a static-only verifier refuses a JWT delivery without fetching anything', async () => {
    const verdict = await createVerifier({ secrets: SECRET, now }).verify({ headers: await delivery(BODY), rawBody: BODY });
    expect(verdict).toMatchObject({ ok: false, scheme: 'dynamic', reason: 'scheme_not_configured' });
  });

  it('a KeySource that throws is a verdict, not an exception', async () => {
    const verifier = createVerifier({ jwks: { description: 'broken', getKey: () => Promise.reject(new Error('boom')) }, now });
    expect(await verifier.verify({ headers: await delivery(BODY), rawBody: BODY })).toMatchObject({ ok: false, reason: 'jwks_unavailable', explanation: expect.stringContaining('boom') });
  });
});

describe('typed events', () => {
  it('cover the catalog, and every fixture’s data fields are documented in EVENT_DATA_FIELDS', () => {
    expect(Object.keys(EVENT_DATA_FIELDS).sort()).toEqual([...EVENT_TYPE_NAMES].sort());
    for (const file of readdirSync(fixturesDir())) {
      const fixture = JSON.parse(readFileSync(join(fixturesDir(), file), 'utf8')) as { type: keyof typeof EVENT_DATA_FIELDS; data: object };
      const fields: readonly string[] = EVENT_DATA_FIELDS[fixture.type];
      expect(Object.keys(fixture.data).filter((f) => !fields.includes(f)), file).toEqual([]);
      expect(isKnownEvent(fixture)).toBe(true);
    }
    expect(isKnownEvent({ type: 'webhook.ping' })).toBe(false);
  });
});

describe('createWebhooks', () => {
  const body = (type: string) => `{"type":"${type}","version":"v1","timestamp":"2026-05-04T12:00:00Z","data":{"id":"x"}}`;

  it('runs the handlers of the event type and of "*", once per webhook-id', async () => {
    const calls: string[] = [];
    const webhooks = createWebhooks({ secrets: SECRET, now })
      .on('batch.failed', (event) => void calls.push(`failed:${event.data.error_message ?? ''}`))
      .on(['batch.succeeded', 'video.generated'], (event) => void calls.push(event.type))
      .on('*', (event) => void calls.push(`*:${event.type}`));
    expect(await webhooks.receive({ headers: signed(body('batch.succeeded'), SECRET, 'a'), rawBody: body('batch.succeeded') })).toMatchObject({ status: 'handled' });
    expect(await webhooks.receive({ headers: signed(body('batch.succeeded'), SECRET, 'a'), rawBody: body('batch.succeeded') })).toMatchObject({ status: 'duplicate' });
    await webhooks.receive({ headers: signed(body('webhook.ping'), SECRET, 'b'), rawBody: body('webhook.ping') });
    expect(await webhooks.receive({ headers: signed(body('x'), NEW_SECRET, 'c'), rawBody: body('x') })).toMatchObject({ status: 'rejected', verdict: { reason: 'no_matching_signature' } });
    expect(calls).toEqual(['batch.succeeded', '*:batch.succeeded', '*:webhook.ping']);
  });

  it('a handler that throws releases the id, so Gemini’s retry is handled', async () => {
    let attempts = 0;
    const webhooks = createWebhooks({ secrets: SECRET, now }).on('batch.expired', () => {
      attempts += 1;
      if (attempts === 1) throw new Error('database down');
    });
    const input = { headers: signed(body('batch.expired')), rawBody: body('batch.expired') };
    await expect(webhooks.receive(input)).rejects.toThrow('database down');
    expect(await webhooks.receive(input)).toMatchObject({ status: 'handled' });
    expect(await webhooks.receive(input)).toMatchObject({ status: 'duplicate' });
    expect(attempts).toBe(2);
  });

  it('the memory store forgets ids after their ttl and keeps at most maxEntries', () => {
    let at = 0;
    const store = createMemoryDedupStore({ maxEntries: 2, now: () => at });
    expect([store.claim('a', 10), store.claim('a', 10), store.claim('b', 10), store.claim('c', 10)]).toEqual([true, false, true, true]);
    expect(store.claim('a', 10)).toBe(true);
    at = 11;
    expect(store.claim('b', 10)).toBe(true);
  });
});
