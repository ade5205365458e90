import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signing (HMAC-SHA256), as Gemini signs static webhook deliveries.
 * Signed content is `${id}.${timestamp}.${rawBody}`; the key is the base64 part of `whsec_…`.
 */

export const SECRET_PREFIX = 'whsec_';

/** Decodes `whsec_` + base64 (padded or not) into the HMAC key; throws on anything else. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('signing secret must start with whsec_');
  const body = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new Error('signing secret is not base64 after whsec_');
  return Buffer.from(body, 'base64');
}

/** The `v1,<base64>` signature for one delivery. `rawBody` is signed byte for byte. */
export function sign(id: string, timestamp: number | string, rawBody: string | Uint8Array, secret: string): string {
  const hmac = createHmac('sha256', secretKey(secret));
  hmac.update(`${id}.${timestamp}.`);
  hmac.update(rawBody);
  return `v1,${hmac.digest('base64')}`;
}
