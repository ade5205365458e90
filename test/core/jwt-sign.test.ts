import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { bodySha256, generateSigningKey, signJwt, toJwks, webhookClaims } from '../../src/core/jwt-sign.js';

describe('jwt-sign', () => {
  it('signs RS256 JWTs that verify against the published JWKS, kid in the header', async () => {
    const key = await generateSigningKey();
    const body = '{"type":"batch.succeeded","version":"v1","data":{"id":"b1"}}';
    const event = JSON.parse(body) as Record<string, unknown>;
    const claims = webhookClaims({ event, body, webhookId: 'msg_1', audience: 'http://127.0.0.1:1/x', issuedAt: 1_700_000_000 });
    const jwt = await signJwt(claims, key);

    const header = decodeProtectedHeader(jwt);
    expect(header).toEqual({ alg: 'RS256', kid: key.kid, typ: 'JWT' });
    const jwks = toJwks([key]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
      audience: 'http://127.0.0.1:1/x',
      issuer: 'gemwh-dev',
      currentDate: new Date(1_700_000_100_000),
    });
    expect(payload).toMatchObject({ type: 'batch.succeeded', data: { id: 'b1' }, jti: 'msg_1', iat: 1_700_000_000, exp: 1_700_000_300 });
    expect(payload.body_sha256).toBe(createHash('sha256').update(body).digest('base64url'));
  });

  it('never lets event fields override registered claims', () => {
    const claims = webhookClaims({ event: { aud: 'x', iss: 'y', jti: 'z' }, body: '{}', webhookId: 'msg_2', audience: 'a', issuedAt: 1 });
    expect(claims).toMatchObject({ aud: 'a', iss: 'gemwh-dev', jti: 'msg_2' });
  });

  it('encodes body_sha256 as unpadded base64url', () => {
    expect(bodySha256('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });
});
