/**
 * When the client tries a request again, and how long it waits. The figures follow Google's own
 * SDKs (500 ms, x2, 8 s cap, 4 retries), but WHICH requests are retried is stricter than the SDKs:
 * see `RetryClass`.
 */
export interface RetryPolicy {
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
  maxRetries: number;
  /**
   * A loopback server that refuses connections is nearly always one that was not started (the
   * emulator): one quick retry covers a restart, four would keep people waiting 7.5 s for the hint.
   */
  maxRetriesRefusedOnLoopback: number;
  /** A Retry-After longer than this is not waited for: the error says how long the server asked. */
  maxRetryAfterMs: number;
  /** No retry starts once this much time has passed since the first attempt. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 8000,
  maxRetries: 4,
  maxRetriesRefusedOnLoopback: 1,
  maxRetryAfterMs: 30_000,
  maxElapsedMs: 30_000,
};

/**
 * - `repeatable`: get, list, delete and ping. Doing them twice changes nothing that matters (a
 *   second delete answers 404, a second ping sends one more ping event), so they are retried on
 *   408, 429, 5xx and any connection failure.
 * - `once`: create, update and rotateSigningSecret. A retry after the server may have acted could
 *   create a duplicate webhook or, for rotate, mint a secret nobody ever sees. They are retried only
 *   when the connection failed before anything was sent (refused, DNS, no route).
 */
export type RetryClass = 'repeatable' | 'once';

const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || (status >= 500 && status <= 599);

/** Connection failures that prove the request never left this machine. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export function wasNeverSent(code: string | undefined): boolean {
  return code !== undefined && NOT_SENT_CODES.has(code);
}

export function shouldRetryStatus(retryClass: RetryClass, status: number): boolean {
  return retryClass === 'repeatable' && RETRYABLE_STATUS(status);
}

export function shouldRetryNetworkError(retryClass: RetryClass, code: string | undefined): boolean {
  return retryClass === 'repeatable' || wasNeverSent(code);
}

/** Delay before retry number `retry` (0 for the first retry), without Retry-After. No jitter: one CLI process. */
export function backoffDelayMs(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.initialDelayMs * policy.multiplier ** retry, policy.maxDelayMs);
}

/**
 * Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds to
 * wait from `nowMs`, or undefined when the header is absent or unreadable.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
