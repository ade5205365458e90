import { describe, expect, it } from 'vitest';
import { errorFromResponse, networkError, type RequestDescription } from '../../src/api/api-errors.js';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, parseRetryAfterMs, shouldRetryNetworkError, shouldRetryStatus } from '../../src/api/retry.js';
import { ApiError, AuthError, NetworkError } from '../../src/errors.js';

const request = (overrides: Partial<RequestDescription> = {}): RequestDescription => ({
  operation: 'list',
  method: 'GET',
  url: 'https://generativelanguage.googleapis.com/v1beta/webhooks',
  retryClass: 'repeatable',
  retries: 0,
  ...overrides,
});

describe('retry rules', () => {
  it('backs off 500 ms x2 up to 8 s', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelayMs(DEFAULT_RETRY_POLICY, n))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });

  it('reads Retry-After as seconds or an HTTP date, and ignores nonsense', () => {
    const now = Date.parse('2026-05-05T10:00:00Z');
    expect(parseRetryAfterMs('7', now)).toBe(7000);
    expect(parseRetryAfterMs('Tue, 05 May 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Tue, 05 May 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });

  it('repeats repeatable operations on 408/429/5xx and any connection failure, once-only ones only before sending', () => {
    for (const status of [408, 429, 500, 503]) expect(shouldRetryStatus('repeatable', status)).toBe(true);
    for (const status of [400, 401, 404, 409]) expect(shouldRetryStatus('repeatable', status)).toBe(false);
    for (const status of [429, 500, 503]) expect(shouldRetryStatus('once', status)).toBe(false);
    expect(shouldRetryNetworkError('repeatable', 'ECONNRESET')).toBe(true);
    expect(shouldRetryNetworkError('once', 'ECONNREFUSED')).toBe(true);
    expect(shouldRetryNetworkError('once', 'ENOTFOUND')).toBe(true);
    expect(shouldRetryNetworkError('once', 'ECONNRESET')).toBe(false);
    expect(shouldRetryNetworkError('once', 'TimeoutError')).toBe(false);
    expect(shouldRetryNetworkError('once', undefined)).toBe(false);
  });
});

describe('error mapping', () => {
  it('suggests starting the emulator when its default port refuses', () => {
    const error = networkError(request({ url: 'http://127.0.0.1:8790/v1beta/webhooks' }), 'ECONNREFUSED', 'refused');
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe('cannot reach http://127.0.0.1:8790/v1beta/webhooks: connection refused (ECONNREFUSED)');
    expect(error.hint).toMatch(/gemwh emulator/);
    const real = networkError(request(), 'ENOTFOUND', 'dns');
    expect(real.hint).toMatch(/internet connection/);
  });

  it('warns that a once-only operation may have happened when the connection broke after sending', () => {
    const reset = networkError(request({ operation: 'create', method: 'POST', retryClass: 'once' }), 'ECONNRESET', 'reset');
    expect(reset.hint).toMatch(/may or may not have been created/);
    const refused = networkError(request({ operation: 'create', method: 'POST', retryClass: 'once' }), 'ECONNREFUSED', 'refused');
    expect(refused.hint).not.toMatch(/may or may not/);
  });

  it('maps 409 and other statuses to ApiError with Google\'s message and status', () => {
    const error = errorFromResponse(request(), 409, JSON.stringify({ error: { code: 409, message: 'Already exists.', status: 'ALREADY_EXISTS' } }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe('the API answered 409 ALREADY_EXISTS: Already exists.');
    expect((error as ApiError).googleStatus).toBe('ALREADY_EXISTS');
  });

  it('treats 403 and 400 API_KEY_INVALID alike, and a 404 without an id as a wrong endpoint', () => {
    const body = (code: number, status: string, reason?: string) =>
      JSON.stringify({ error: { code, message: 'm', status, ...(reason ? { details: [{ reason }] } : {}) } });
    expect(errorFromResponse(request(), 403, body(403, 'PERMISSION_DENIED'))).toBeInstanceOf(AuthError);
    expect(errorFromResponse(request(), 400, body(400, 'INVALID_ARGUMENT', 'API_KEY_INVALID'))).toBeInstanceOf(AuthError);
    expect(errorFromResponse(request(), 400, body(400, 'INVALID_ARGUMENT'))).toBeInstanceOf(ApiError);
    const endpoint = errorFromResponse(request(), 404, body(404, 'NOT_FOUND'));
    expect(endpoint).toBeInstanceOf(ApiError);
    expect(endpoint.hint).toMatch(/--api-version/);
  });
});
