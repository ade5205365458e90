import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, signJwt, toJwks, webhookClaims, type JwtSigningKey } from '../../src/core/jwt-sign.js';
import { createFileJwksSource } from '../../src/jwks/jwks-source.js';
import { createListenVerifier } from '../../src/listen/verification.js';
import { body, post, startTestSession, type TestSession } from './helpers.js';

/** Dynamic (JWT) deliveries through a real listener: each reject reason and its status code. */

let dir: string;
let jwksFile: string;
let key: JwtSigningKey;
let otherKey: JwtSigningKey;
let s: TestSession;
let missing: TestSession;
const AUDIENCE = 'https://hooks.example.com/gemini';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemwh-dynamic-'));
  jwksFile = join(dir, 'jwks.json');
  [key, otherKey] = await Promise.all([generateSigningKey(), generateSigningKey()]);
  writeFileSync(jwksFile, JSON.stringify(toJwks([key])));
  const now = () => Date.now();
  s = await startTestSession({
    verify: createListenVerifier({ secrets: [], keys: createFileJwksSource(jwksFile), audience: [AUDIENCE], toleranceSec: 300, now }),
  });
  missing = await startTestSession({
    verify: createListenVerifier({ secrets: [], keys: createFileJwksSource(join(dir, 'nope.json')), toleranceSec: 300, now }),
  });
}, 30_000);

afterAll(async () => {
  await s.stop();
  await missing.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function jwtHeaders(raw: string, options: { id: string; signer?: JwtSigningKey; audience?: string; issuedAt?: number }): Promise<Record<string, string>> {
  const claims = webhookClaims({
    event: JSON.parse(raw),
    body: raw,
    webhookId: options.id,
    audience: options.audience ?? AUDIENCE,
    issuedAt: options.issuedAt ?? Math.floor(Date.now() / 1000),
  });
  return { 'content-type': 'application/json', 'webhook-id': options.id, 'webhook-signature': await signJwt(claims, options.signer ?? key) };
}

describe('dynamic deliveries', () => {
  it('accepts a JWT signed by a key in the JWKS, and deduplicates on its id', async () => {
    const raw = body('interaction.completed');
    const headers = await jwtHeaders(raw, { id: 'msg_jwt_ok' });
    expect((await post(s.session.url, raw, headers)).status).toBe(200);
    const verified = await s.waitFor('verified', (e) => e.webhookId === 'msg_jwt_ok');
    expect(verified.scheme).toBe('dynamic');
    expect((await post(s.session.url, raw, headers)).json.duplicate).toBe(true);
  });

  const cases: Array<{ name: string; status: number; reason: string; headers: (raw: string) => Promise<Record<string, string>> }> = [
    { name: 'a key not in the JWKS', status: 401, reason: 'unknown_kid', headers: (raw) => jwtHeaders(raw, { id: 'msg_jwt_kid', signer: otherKey }) },
    {
      name: 'an expired token',
      status: 401,
      reason: 'jwt_expired',
      headers: (raw) => jwtHeaders(raw, { id: 'msg_jwt_old', issuedAt: Math.floor(Date.now() / 1000) - 7200 }),
    },
    { name: 'another audience', status: 401, reason: 'jwt_claim_mismatch', headers: (raw) => jwtHeaders(raw, { id: 'msg_jwt_aud', audience: 'https://other.example.com' }) },
    {
      name: 'a token that is not valid base64url JSON',
      status: 400,
      reason: 'bad_jwt',
      headers: async () => ({ 'webhook-id': 'msg_jwt_bad', 'webhook-signature': 'abc.def.ghi' }),
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with ${c.status} ${c.reason}`, async () => {
      const raw = body('interaction.completed');
      const answer = await post(s.session.url, raw, await c.headers(raw));
      expect(answer.status).toBe(c.status);
      expect(answer.json.error).toBe(c.reason);
    });
  }

  it('answers 503 jwks_unavailable when the keys cannot be read, so that the sender retries', async () => {
    const raw = body('interaction.completed');
    const answer = await post(missing.session.url, raw, await jwtHeaders(raw, { id: 'msg_jwt_nokeys' }));
    expect(answer.status).toBe(503);
    expect(answer.json.error).toBe('jwks_unavailable');
  });
});

describe('a captured dynamic delivery re-sent under a new webhook-id', () => {
  it('is a duplicate: deduplicated on the JWT jti, not only on the unsigned header', async () => {
    const raw = body('interaction.completed');
    const headers = await jwtHeaders(raw, { id: 'msg_jwt_captured' });
    expect((await post(s.session.url, raw, headers)).json).toEqual({ ok: true });
    for (let i = 0; i < 5; i++) {
      const replayed = await post(s.session.url, raw, { ...headers, 'webhook-id': `msg_jwt_replayed_${i}` });
      expect(replayed.status).toBe(200);
      expect(replayed.json.duplicate).toBe(true);
    }
    expect(s.events.filter((e) => e.type === 'verified' && e.webhookId?.startsWith('msg_jwt_replayed'))).toEqual([]);
  });

  it('is a duplicate when the token has no jti either (the token itself is the key)', async () => {
    const raw = body('interaction.completed');
    const claims = webhookClaims({ event: JSON.parse(raw), body: raw, webhookId: 'unused', audience: AUDIENCE, issuedAt: Math.floor(Date.now() / 1000) });
    delete claims.jti;
    const token = await signJwt(claims, key);
    const first = await post(s.session.url, raw, { 'webhook-id': 'msg_nojti_1', 'webhook-signature': token });
    expect(first.json).toEqual({ ok: true });
    expect((await post(s.session.url, raw, { 'webhook-id': 'msg_nojti_2', 'webhook-signature': token })).json.duplicate).toBe(true);
  });

  it('with another body is refused: the body digest claim is enforced', async () => {
    const raw = body('interaction.completed', 'first');
    const headers = await jwtHeaders(raw, { id: 'msg_jwt_digest' });
    const answer = await post(s.session.url, body('interaction.completed', 'second'), { ...headers, 'webhook-id': 'msg_jwt_digest_2' });
    expect(answer.status).toBe(401);
    expect(answer.json.error).toBe('jwt_claim_mismatch');
  });

  it('is still a duplicate after a restart: the journal keeps the JWT keys', async () => {
    const journalDir = mkdtempSync(join(tmpdir(), 'gemwh-dynamic-journal-'));
    const verify = () => createListenVerifier({ secrets: [], keys: createFileJwksSource(jwksFile), audience: [AUDIENCE], toleranceSec: 300, now: () => Date.now() });
    try {
      const raw = body('interaction.completed');
      const headers = await jwtHeaders(raw, { id: 'msg_jwt_restart' });
      const first = await startTestSession({ dir: journalDir, verify: verify() });
      expect((await post(first.session.url, raw, headers)).json).toEqual({ ok: true });
      await first.stop();
      const second = await startTestSession({ dir: journalDir, verify: verify() });
      try {
        expect((await post(second.session.url, raw, { ...headers, 'webhook-id': 'msg_jwt_restart_2' })).json.duplicate).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(journalDir, { recursive: true, force: true });
    }
  });

  it('with a deeply nested body next to a valid token is refused as not the signed event, quickly', async () => {
    const raw = body('interaction.completed');
    // Without a digest claim, the body is compared with the event the token carries.
    const claims = webhookClaims({ event: JSON.parse(raw), body: raw, webhookId: 'msg_jwt_deep', audience: AUDIENCE, issuedAt: Math.floor(Date.now() / 1000) });
    delete claims.body_sha256;
    const headers = { 'webhook-id': 'msg_jwt_deep', 'webhook-signature': await signJwt(claims, key) };
    const deep = '['.repeat(400_000) + ']'.repeat(400_000);
    const answer = await post(s.session.url, deep, headers);
    expect(answer.status).toBe(401);
    expect(answer.json.error).toBe('jwt_claim_mismatch');
  });
});
