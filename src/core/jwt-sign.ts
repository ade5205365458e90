import { createHash, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, SignJWT, type JWK } from 'jose';

/**
 * Dynamic-webhook signing as gemwh imitates it (replay --dynamic, the emulator, conformance
 * --dynamic): an RS256 JWT in `webhook-signature`, its key published as a JWKS. Google does not
 * document its claim set (spec §5.2), so these claims are gemwh's choice:
 *
 *   iss          "gemwh-dev" (or the caller's issuer)
 *   aud          the URL the delivery is sent to (Hookdeck's reading of Google's `aud`)
 *   iat, exp     issue time and iat + 300 s, the same 5 minutes as the static timestamp window
 *   jti          the webhook-id header, so receivers can deduplicate on either
 *   body_sha256  SHA-256 of the exact body bytes, base64url without padding (JOSE's own
 *                encoding, as in x5t#S256), so a receiver can bind the body to the token
 *   type, version, timestamp, data   the event itself, so a receiver may trust the claims
 *                                    instead of the unsigned body
 */

export const DEV_ISSUER = 'gemwh-dev';
export const JWT_LIFETIME_SECONDS = 300;

/** An RSA signing key as JWKs. `kid` is the RFC 7638 thumbprint of the public key. */
export interface JwtSigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface Jwks {
  keys: JWK[];
}

export async function generateSigningKey(): Promise<JwtSigningKey> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signingKeyFromPrivateJwk(privateKey.export({ format: 'jwk' }) as JWK);
}

/** Rebuilds the full key (public half, kid) from a stored private JWK. */
export async function signingKeyFromPrivateJwk(jwk: JWK): Promise<JwtSigningKey> {
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e || !jwk.d) throw new Error('not an RSA private key in JWK form');
  const base = { kty: 'RSA', n: jwk.n, e: jwk.e };
  const kid = await calculateJwkThumbprint(base, 'sha256');
  return {
    kid,
    privateJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...base, kid, alg: 'RS256', use: 'sig' },
  };
}

export function toJwks(keys: readonly JwtSigningKey[]): Jwks {
  return { keys: keys.map((key) => ({ ...key.publicJwk })) };
}

/** SHA-256 of the body bytes, base64url without padding: the `body_sha256` claim. */
export function bodySha256(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

export interface WebhookClaimsInput {
  /** The event object that is also the body (type, version, timestamp, data). */
  event: unknown;
  /** The exact bytes sent as the body. */
  body: string | Uint8Array;
  webhookId: string;
  audience: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  issuer?: string;
  lifetimeSeconds?: number;
}

export function webhookClaims(input: WebhookClaimsInput): Record<string, unknown> {
  const eventFields =
    input.event !== null && typeof input.event === 'object' && !Array.isArray(input.event)
      ? (input.event as Record<string, unknown>)
      : { event: input.event };
  // Registered claims come last so that an event field can never override them.
  return {
    ...eventFields,
    iss: input.issuer ?? DEV_ISSUER,
    aud: input.audience,
    iat: input.issuedAt,
    exp: input.issuedAt + (input.lifetimeSeconds ?? JWT_LIFETIME_SECONDS),
    jti: input.webhookId,
    body_sha256: bodySha256(input.body),
  };
}

// Importing a JWK costs more than signing with it; --count 1000 signs with one key.
const importedKeys = new WeakMap<JwtSigningKey, Awaited<ReturnType<typeof importJWK>>>();

/** A compact RS256 JWT with `kid` and `typ: JWT` in its header. Claims are signed as given. */
export async function signJwt(claims: Record<string, unknown>, key: JwtSigningKey): Promise<string> {
  let privateKey = importedKeys.get(key);
  if (!privateKey) {
    privateKey = await importJWK(key.privateJwk, 'RS256');
    importedKeys.set(key, privateKey);
  }
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(privateKey);
}
