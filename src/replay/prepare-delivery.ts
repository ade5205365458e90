import { signJwt, webhookClaims, type JwtSigningKey } from '../core/jwt-sign.js';
import { SECRET_PREFIX, sign } from '../core/standard-webhooks.js';
import type { TamperMode } from './tamper-modes.js';

/**
 * Turns an event into the exact request gemwh sends: body bytes, Standard Webhooks headers and a
 * signature (HMAC `v1,` entries, or an RS256 JWT for dynamic webhooks), optionally broken in one
 * chosen way so that a receiver's rejection paths can be tested.
 */

export type { TamperMode } from './tamper-modes.js';

/** How far `timestamp-old` / `timestamp-future` move the time: far outside any sane tolerance. */
export const TAMPER_SKEW_SECONDS = 3600;

export type Signer =
  | { scheme: 'static'; secrets: readonly string[] }
  | { scheme: 'dynamic'; key: JwtSigningKey; audience: string; issuer?: string };

export interface DeliveryInput {
  /** The event as an object (for JWT claims) and its serialized form (the body). */
  event: unknown;
  body: string;
  webhookId: string;
  /** Seconds since the epoch. */
  timestamp: number;
  signer: Signer;
  tamper?: TamperMode;
  /** A second, stale `v1,` entry from an unrelated secret, placed before the valid one. */
  rotationHeader?: boolean;
  /** Only used with rotationHeader: produces the unrelated secret's key bytes. */
  randomBytes?: (size: number) => Buffer;
  extraHeaders?: ReadonlyArray<readonly [string, string]>;
}

export interface PreparedDelivery {
  webhookId: string;
  timestamp: number;
  body: Buffer;
  headers: Record<string, string>;
  /** What a correct receiver does with it: acknowledge (2xx) or refuse (anything else). */
  expect: 'accept' | 'reject';
  tamper?: TamperMode;
}

export async function prepareDelivery(input: DeliveryInput): Promise<PreparedDelivery> {
  const tamper = input.tamper;
  const timestamp =
    tamper === 'timestamp-old'
      ? input.timestamp - TAMPER_SKEW_SECONDS
      : tamper === 'timestamp-future'
        ? input.timestamp + TAMPER_SKEW_SECONDS
        : input.timestamp;
  const signedBody = Buffer.from(input.body, 'utf8');

  let signature: string;
  if (input.signer.scheme === 'static') {
    const entries = input.signer.secrets.map((secret) => sign(input.webhookId, timestamp, signedBody, secret));
    if (input.rotationHeader) {
      const random = input.randomBytes;
      if (!random) throw new Error('rotationHeader needs randomBytes');
      const stale = `${SECRET_PREFIX}${random(32).toString('base64')}`;
      entries.unshift(sign(input.webhookId, timestamp, signedBody, stale));
    }
    signature = entries.join(' ');
    if (tamper === 'signature') signature = entries.map(corruptStaticEntry).join(' ');
  } else {
    const claims = webhookClaims({
      event: input.event,
      body: signedBody,
      webhookId: input.webhookId,
      audience: input.signer.audience,
      issuedAt: timestamp,
      issuer: input.signer.issuer,
    });
    // A token from the future must also fail libraries that ignore iat: nbf makes it invalid.
    if (tamper === 'timestamp-future') claims.nbf = timestamp;
    signature = await signJwt(claims, input.signer.key);
    if (tamper === 'signature') signature = corruptJwt(signature);
  }

  const body = tamper === 'body' ? tamperBody(signedBody) : signedBody;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (tamper !== 'missing-id') headers['webhook-id'] = input.webhookId;
  if (tamper !== 'missing-timestamp') headers['webhook-timestamp'] = String(timestamp);
  if (tamper !== 'missing-signature') headers['webhook-signature'] = signature;
  for (const [name, value] of input.extraHeaders ?? []) headers[name.toLowerCase()] = value;

  return {
    webhookId: input.webhookId,
    timestamp,
    body,
    headers,
    expect: tamper ? 'reject' : 'accept',
    ...(tamper ? { tamper } : {}),
  };
}

/**
 * The body an attacker would send: still valid JSON, one field changed. A receiver that parses
 * and re-serialises before verifying cannot tell; one that checks the raw bytes can.
 */
function tamperBody(body: Buffer): Buffer {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      const data = record.data;
      if (data !== null && typeof data === 'object' && !Array.isArray(data) && typeof (data as Record<string, unknown>).id === 'string') {
        const changed = { ...record, data: { ...(data as Record<string, unknown>), id: `${(data as { id: string }).id}-tampered` } };
        return Buffer.from(JSON.stringify(changed), 'utf8');
      }
      return Buffer.from(JSON.stringify({ ...record, tampered: true }), 'utf8');
    }
  } catch {
    // Not JSON: fall through to a byte change.
  }
  return Buffer.concat([body, Buffer.from(' ')]);
}

/** Flips bits in the decoded MAC, so the entry is well-formed base64 of the right length. */
function corruptStaticEntry(entry: string): string {
  const comma = entry.indexOf(',');
  const mac = Buffer.from(entry.slice(comma + 1), 'base64');
  mac[0] = (mac[0] ?? 0) ^ 0xff;
  return `${entry.slice(0, comma + 1)}${mac.toString('base64')}`;
}

/** Changes one byte of the RS256 signature (decoded, so the base64url stays canonical). */
function corruptJwt(jwt: string): string {
  const [header, payload, signature] = jwt.split('.');
  const bytes = Buffer.from(signature ?? '', 'base64url');
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}
