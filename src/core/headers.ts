import type { HeaderBag } from './verdict.js';

/** One header value, case-insensitively; repeated headers are joined the way the caller needs. */
export function getHeader(headers: HeaderBag, name: string, join = ', '): string | undefined {
  // node:http already lowercases names, so the direct lookup is the common, cheap case.
  let value = headers[name];
  if (value === undefined) {
    for (const key in headers) {
      if (key.length === name.length && key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(join);
}

const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** `header.payload.signature` in base64url: what a dynamic delivery puts in webhook-signature. */
export function looksLikeJwt(value: string): boolean {
  return COMPACT_JWT.test(value.trim());
}
