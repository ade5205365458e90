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
