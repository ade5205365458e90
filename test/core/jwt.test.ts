import { createHash, createHmac, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDynamic, type KeySource, type VerifyDynamicInput } from '../../src/core/jwt.js';
import { generateSigningKey, signJwt, webhookClaims } from '../../src/core/jwt-sign.js';
import type { Rejected } from '../../src/core/verdict.js';
import { verifyDelivery } from '../../src/core/verify.js';
import { createRemoteJwksSource, createStaticJwksSource } from '../../src/jwks/jwks-source.js';
import { startJwksServer, unusedUrl, type JwksServer } from '../helpers/jwks-server.js';

const NOW = Date.UTC(2026, 4, 4, 12, 0, 0);
const NOW_SEC = NOW / 1000;
const KID = 'test-key-1';
const EVENT = { type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: 'batch_1' } };
const BODY = JSON.stringify(EVENT);

let privateKey: KeyObject;
let publicJwk: JWK;
let strangerKey: KeyObject;
let keys: KeySource;
let server: JwksServer;

beforeAll(async () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  publicJwk = { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid: KID, alg: 'RS256', use: 'sig' };
  strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  keys = createStaticJwksSource({ keys: [publicJwk] }, 'test JWKS');
  server = await startJwksServer({ keys: [publicJwk] });
});

afterAll(async () => {
  await server.close();
});

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: 'https://generativelanguage.googleapis.com', aud: 'https://hooks.example.com/gemini', iat: NOW_SEC - 10, exp: NOW_SEC + 290, jti: 'evt_1', ...extra };
}

async function token(payload: Record<string, unknown>, options: { key?: KeyObject; kid?: string | null; alg?: string } = {}): Promise<string> {
  const header: Record<string, unknown> = { alg: options.alg ?? 'RS256', typ: 'JWT' };
  if (options.kid !== null) header.kid = options.kid ?? KID;
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(options.key ?? privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function input(jwt: string, overrides: Partial<VerifyDynamicInput> = {}): VerifyDynamicInput {
  return { rawBody: BODY, headers: { 'webhook-signature': jwt }, now: NOW, toleranceSec: 300, keys, ...overrides };
}

async function rejection(verdictPromise: ReturnType<typeof verifyDynamic>): Promise<Rejected> {
  const verdict = await verdictPromise;
  if (verdict.ok) throw new Error(`expected a rejection, got ${JSON.stringify(verdict)}`);
  expect(verdict.scheme).toBe('dynamic');
  return verdict;
}

describe('verifyDynamic accepts', () => {
  it('a valid RS256 token, listing its claims; webhookId from the header', async () => {
    const jwt = await token(claims({ ...EVENT }));
    const verdict = await verifyDynamic(input(jwt, { headers: { 'webhook-signature': jwt, 'webhook-id': 'msg_h' } }));
    expect(verdict).toMatchObject({ ok: true, scheme: 'dynamic', kid: KID, webhookId: 'msg_h', claims: { type: 'batch.succeeded', jti: 'evt_1' } });
  });

  it('takes webhookId from jti without a webhook-id header', async () => {
    expect(await verifyDynamic(input(await token(claims())))).toMatchObject({ ok: true, webhookId: 'evt_1' });
  });

  it('checks aud (string or array) and iss when given', async () => {
    const jwt = await token(claims({ aud: ['other', 'https://hooks.example.com/gemini'] }));
    const verdict = await verifyDynamic(input(jwt, { audience: 'https://hooks.example.com/gemini', issuer: 'https://generativelanguage.googleapis.com' }));
    expect(verdict.ok).toBe(true);
  });

  it('an expired token still inside the tolerance', async () => {
    expect((await verifyDynamic(input(await token(claims({ exp: NOW_SEC - 200 }))))).ok).toBe(true);
  });

  it('a body whose digest and event match the claims', async () => {
    const digest = createHash('sha256').update(BODY).digest();
    for (const form of [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')]) {
      expect((await verifyDynamic(input(await token(claims({ body_sha256: form, event: EVENT }))))).ok).toBe(true);
    }
    expect((await verifyDynamic(input(await token(claims({ event: JSON.stringify(EVENT) }))))).ok).toBe(true);
  });

  it('tokens made by gemwh’s own signer (replay --dynamic, emulator)', async () => {
    const key = await generateSigningKey();
    const jwt = await signJwt(webhookClaims({ event: EVENT, body: BODY, webhookId: 'msg_x', audience: 'http://127.0.0.1/', issuedAt: NOW_SEC }), key);
    const verdict = await verifyDynamic(input(jwt, { keys: createStaticJwksSource({ keys: [key.publicJwk] }), audience: 'http://127.0.0.1/' }));
    expect(verdict).toMatchObject({ ok: true, webhookId: 'msg_x' });
  });
});

describe('verifyDynamic rejects', () => {
  it('alg none by name', async () => {
    const unsigned = `${b64url({ alg: 'none', kid: KID })}.${b64url(claims())}.`;
    const verdict = await rejection(verifyDynamic(input(unsigned)));
    expect(verdict.reason).toBe('unsupported_alg');
    expect(verdict.explanation).toMatch(/alg "none"/);
  });

  it('HS256 signed with the RSA public key (PEM or JWK bytes) as HMAC secret', async () => {
    const pem = Buffer.from(createPublicPem());
    for (const secret of [pem, Buffer.from(JSON.stringify(publicJwk))]) {
      const head = `${b64url({ alg: 'HS256', kid: KID })}.${b64url(claims())}`;
      const forged = `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
      const verdict = await rejection(verifyDynamic(input(forged)));
      expect(verdict.reason).toBe('unsupported_alg');
      expect(verdict.diagnosis.join(' ')).toMatch(/algorithm-confusion/);
    }
  });

  it('other RSA algorithms', async () => {
    expect((await rejection(verifyDynamic(input(await token(claims(), { alg: 'RS512' }))))).reason).toBe('unsupported_alg');
    expect((await rejection(verifyDynamic(input(await token(claims(), { alg: 'PS256' }))))).reason).toBe('unsupported_alg');
  });

  it('a JWKS key that is not an RS256 signing key', async () => {
    const encKeys = createStaticJwksSource({ keys: [{ ...publicJwk, use: 'enc' }] });
    expect((await rejection(verifyDynamic(input(await token(claims()), { keys: encKeys })))).reason).toBe('unsupported_alg');
  });

  it('a token without kid, a tampered token, a token signed by another key', async () => {
    expect((await rejection(verifyDynamic(input(await token(claims(), { kid: null }))))).reason).toBe('bad_jwt');
    const jwt = await token(claims());
    const [h, , s] = jwt.split('.');
    const tampered = `${h}.${b64url(claims({ aud: 'evil' }))}.${s}`;
    const verdict = await rejection(verifyDynamic(input(tampered)));
    expect(verdict.reason).toBe('bad_jwt');
    expect(verdict.explanation).toMatch(/does not verify with key "test-key-1"/);
    expect((await rejection(verifyDynamic(input(await token(claims(), { key: strangerKey }))))).reason).toBe('bad_jwt');
  });

  it('something that is not a JWT', async () => {
    expect((await rejection(verifyDynamic(input('v1,abc')))).diagnosis.join(' ')).toMatch(/static webhook/);
    expect((await rejection(verifyDynamic(input('a.b')))).reason).toBe('bad_jwt');
    expect((await rejection(verifyDynamic(input('%%%.e30.x')))).reason).toBe('bad_jwt');
    expect((await rejection(verifyDynamic(input('', { headers: {} })))).reason).toBe('missing_header');
  });

  it.each([
    ['expired', { exp: NOW_SEC - 301 }, /expired at 2026-05-04T11:54:59Z/],
    ['not yet valid', { nbf: NOW_SEC + 400 }, /not valid before/],
    ['issued in the future', { iat: NOW_SEC + 400, exp: NOW_SEC + 700 }, /issued in the future/],
    ['old and without exp', { iat: NOW_SEC - 301, exp: undefined }, /no exp/],
  ])('a token %s → jwt_expired', async (_name, extra, explanation) => {
    const verdict = await rejection(verifyDynamic(input(await token(claims(extra)))));
    expect(verdict.reason).toBe('jwt_expired');
    expect(verdict.explanation).toMatch(explanation);
    expect(verdict.claims).toBeDefined();
  });

  it('a non-numeric exp', async () => {
    expect((await rejection(verifyDynamic(input(await token(claims({ exp: 'tomorrow' })))))).reason).toBe('bad_jwt');
  });

  it('wrong audience or issuer', async () => {
    const jwt = await token(claims());
    const aud = await rejection(verifyDynamic(input(jwt, { audience: 'https://other.example/' })));
    expect(aud.reason).toBe('jwt_claim_mismatch');
    expect(aud.explanation).toMatch(/audience is "https:\/\/hooks.example.com\/gemini", expected "https:\/\/other.example\/"/);
    const iss = await rejection(verifyDynamic(input(jwt, { issuer: 'someone-else' })));
    expect(iss.reason).toBe('jwt_claim_mismatch');
    expect(iss.explanation).toMatch(/issuer/);
  });

  it.each([
    ['body digest', { body_sha256: 'ab'.repeat(32) }, /SHA-256 does not match the "body_sha256" claim/],
    ['event type', { ...EVENT, type: 'batch.failed' }, /JWT says type "batch.failed" but the body says "batch.succeeded"/],
    ['event data', { ...EVENT, data: { id: 'batch_2' } }, /data.id is "batch_1" in the body, "batch_2" in the JWT/],
    ['event timestamp', { ...EVENT, timestamp: '2026-05-04T12:00:01Z' }, /timestamp/],
    ['event claim', { event: { ...EVENT, data: { id: 'batch_1', extra: true } } }, /event.data.extra is missing in the body/],
  ])('a body that differs from the claims: %s', async (_name, extra, explanation) => {
    const verdict = await rejection(verifyDynamic(input(await token(claims(extra)))));
    expect(verdict.reason).toBe('jwt_claim_mismatch');
    expect(verdict.explanation).toMatch(explanation);
  });

  it('a body that is not JSON while the claims carry the event', async () => {
    const verdict = await rejection(verifyDynamic(input(await token(claims({ ...EVENT })), { rawBody: 'not json' })));
    expect(verdict.reason).toBe('jwt_claim_mismatch');
  });

  it('an unknown kid, naming the kids the JWKS has', async () => {
    const verdict = await rejection(verifyDynamic(input(await token(claims(), { kid: 'rotated-away' }))));
    expect(verdict.reason).toBe('unknown_kid');
    expect(verdict.kid).toBe('rotated-away');
    expect(verdict.diagnosis.join(' ')).toMatch(/"test-key-1"/);
  });
});

describe('verifyDynamic with a JWKS served over HTTP on loopback', () => {
  it('fetches the key and verifies', async () => {
    const remote = createRemoteJwksSource({ url: server.url, now: () => NOW });
    const before = server.requests;
    expect((await verifyDynamic(input(await token(claims()), { keys: remote }))).ok).toBe(true);
    expect((await verifyDynamic(input(await token(claims()), { keys: remote }))).ok).toBe(true);
    expect(server.requests - before).toBe(1);
  });

  it('reports a JWKS server that is down as jwks_unavailable with the URL and the error', async () => {
    const url = await unusedUrl();
    const verdict = await rejection(verifyDynamic(input(await token(claims()), { keys: createRemoteJwksSource({ url, now: () => NOW }) })));
    expect(verdict.reason).toBe('jwks_unavailable');
    expect(verdict.explanation).toContain(url);
    expect(verdict.explanation).toMatch(/ECONNREFUSED|fetch failed/);
  });
});

describe('verifyDelivery', () => {
  it('dispatches a JWT to the dynamic verifier and a v1 list to the static one', async () => {
    const jwt = await token(claims());
    expect(await verifyDelivery({ rawBody: BODY, headers: { 'webhook-signature': jwt }, now: NOW, keys })).toMatchObject({ ok: true, scheme: 'dynamic' });
    const stat = await verifyDelivery({
      rawBody: BODY,
      headers: { 'webhook-id': 'm', 'webhook-timestamp': String(NOW_SEC), 'webhook-signature': 'v1,' + 'A'.repeat(43) + '=' },
      now: NOW,
      secrets: [{ secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64'), label: 's' }],
      keys,
    });
    expect(stat).toMatchObject({ ok: false, scheme: 'static', reason: 'no_matching_signature' });
  });

  it('says what is missing when the scheme and the given keys do not fit', async () => {
    const jwt = await token(claims());
    const noJwks = await verifyDelivery({ rawBody: BODY, headers: { 'webhook-signature': jwt, 'webhook-id': 'm' }, now: NOW, secrets: [] });
    expect(noJwks).toMatchObject({ ok: false, scheme: 'dynamic', reason: 'jwks_unavailable', webhookId: 'm' });
    const noSecret = await verifyDelivery({
      rawBody: BODY,
      headers: { 'webhook-id': 'm', 'webhook-timestamp': String(NOW_SEC), 'webhook-signature': 'v1,' + 'A'.repeat(43) + '=' },
      now: NOW,
      keys,
    });
    expect(noSecret).toMatchObject({ ok: false, reason: 'bad_secret' });
    expect((noSecret as Rejected).diagnosis[0]).toMatch(/only a JWKS was given/);
  });
});

/** The PEM of the public key the JWKS publishes: what an attacker would use as an HMAC secret. */
function createPublicPem(): string {
  return createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
}
