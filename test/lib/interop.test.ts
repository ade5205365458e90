import jwt from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, signJwt, toJwks, webhookClaims, type JwtSigningKey } from '../../src/core/jwt-sign.js';
import { sign } from '../../src/core/standard-webhooks.js';
import { createVerifier } from '../../src/lib/verifier.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';

/**
 * gemwh/verify against the libraries Gemini's guide sends Node users to: `standardwebhooks`
 * (and `svix`, which wraps it) for static deliveries, `jsonwebtoken` + `jwks-rsa` for dynamic ones.
 */

const SECRET = `whsec_${Buffer.from('interop secret, 32 bytes long!!!').toString('base64')}`;
const BODIES = [
  '{"type":"batch.succeeded","version":"v1","timestamp":"2026-05-04T12:00:00Z","data":{"id":"batch_1"}}',
  '{"type":"video.generated","data":{"id":"op/1","file_name":"files/r\u00e9sultat \u{1F680}","u":"gs:\\/\\/b"}}',
  '',
];

describe('static: what the reference libraries sign, gemwh verifies (and the other way round)', () => {
  const verifier = createVerifier({ secrets: SECRET });
  it.each([
    ['standardwebhooks', new StandardWebhook(SECRET)],
    ['svix', new SvixWebhook(SECRET)],
  ])('%s', async (_name, library) => {
    for (const [i, body] of BODIES.entries()) {
      const id = `msg_interop_${i}`;
      const at = new Date();
      const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': library.sign(id, at, body) };
      const verdict = await verifier.verify({ headers, rawBody: Buffer.from(body) });
      // The empty body is authentic but no event: refused for that reason, not for the signature.
      expect(verdict.ok ? 'ok' : verdict.reason).toBe(body === '' ? 'invalid_body' : 'ok');
      const ours = { ...headers, 'webhook-signature': sign(id, headers['webhook-timestamp'], body, SECRET) };
      // (Both libraries JSON.parse what they verified, which an empty body fails after the check.)
      if (body !== '') expect(() => library.verify(body, ours)).not.toThrow();
    }
  });
});

describe('dynamic: whatever the guide’s jsonwebtoken + jwks-rsa recipe accepts, gemwh accepts', () => {
  const AUDIENCE = 'https://app.example/webhook';
  let key: JwtSigningKey;
  let stranger: JwtSigningKey;
  let jwks: JwksServer;
  beforeAll(async () => {
    [key, stranger] = await Promise.all([generateSigningKey(), generateSigningKey()]);
    jwks = await startJwksServer(toJwks([key]));
  });
  afterAll(() => jwks.close());

  /** The guide's Node sample: kid from the header, key from jwks-rsa, RS256 and the audience checked. */
  function guideRecipe(token: string): Promise<boolean> {
    const client = new JwksClient({ jwksUri: jwks.url });
    return new Promise((resolve) => {
      jwt.verify(
        token,
        (header, callback) => client.getSigningKey(header.kid, (error, signingKey) => callback(error, signingKey?.getPublicKey())),
        { algorithms: ['RS256'], audience: AUDIENCE },
        (error) => resolve(!error),
      );
    });
  }

  it('agrees on valid, expired, foreign-key, unknown-kid, wrong-audience and unsigned tokens', async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const body = BODIES[0]!;
    const claims = (extra: Record<string, unknown> = {}) => ({
      ...webhookClaims({ event: JSON.parse(body), body, webhookId: 'msg_j', audience: AUDIENCE, issuedAt: nowSec }),
      ...extra,
    });
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const tokens: Record<string, string> = {
      valid: await signJwt(claims(), key),
      'valid, no exp': await signJwt(claims({ exp: undefined }), key),
      expired: await signJwt(claims({ iat: nowSec - 3600, exp: nowSec - 1800 }), key),
      'foreign key, known kid': await signJwt(claims(), { ...stranger, kid: key.kid }),
      'unknown kid': await signJwt(claims(), stranger),
      'wrong audience': await signJwt(claims({ aud: 'https://elsewhere.example/' }), key),
      'alg none': `${b64({ alg: 'none', kid: key.kid })}.${b64(claims())}.`,
    };
    const verifier = createVerifier({ jwks: jwks.url, audience: AUDIENCE, jwksCache: { cooldownMs: 0 } });
    const verdicts: Record<string, [boolean, boolean]> = {};
    for (const [name, token] of Object.entries(tokens)) {
      const ours = await verifier.verify({ headers: { 'webhook-id': 'msg_j', 'webhook-signature': token }, rawBody: body });
      verdicts[name] = [await guideRecipe(token), ours.ok];
    }
    for (const [name, [recipe, ours]] of Object.entries(verdicts)) if (recipe) expect(ours, name).toBe(true);
    expect(verdicts).toEqual({
      valid: [true, true],
      'valid, no exp': [true, true],
      expired: [false, false],
      'foreign key, known kid': [false, false],
      'unknown kid': [false, false],
      'wrong audience': [false, false],
      'alg none': [false, false],
    });
  });
});
