import type { RefusalCause } from './session-types.js';

/**
 * What the line printer, the live view and `replay delivery` say about how a forward was signed
 * and why the app refused it: one wording everywhere.
 */
export function refusalWords(cause: RefusalCause): string {
  return cause === 'timestamp'
    ? 'the app refused the webhook-timestamp (older than its tolerance?)'
    : "the app refused the signature (is it verifying with this webhook's current secret?)";
}

export const TOKEN_EXPIRED_WORDS = 'JWT expired before the forward: a dynamic delivery cannot be re-signed';

/**
 * What a 4xx answer from the app points at, when its text says: an app that checks the
 * timestamp refuses a delivery that waited too long, one that checks the signature refuses a
 * delivery signed with a secret it does not hold. Retrying cannot change either.
 */
export function refusalCause(status: number | undefined, responseStart: string | undefined): RefusalCause | undefined {
  if (status === undefined || status < 400 || status >= 500 || !responseStart) return undefined;
  if (/timestamp|too[ _-]?(old|new)|expired|tolerance|stale/i.test(responseStart)) return 'timestamp';
  if (/signature|signed|hmac|verif|no[ _-]matching/i.test(responseStart)) return 'signature';
  return undefined;
}
