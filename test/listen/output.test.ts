import { describe, expect, it } from 'vitest';
import { formatEventLine } from '../../src/listen/output.js';

describe('formatEventLine: how a forward was signed, and why the app refused it', () => {
  const base = { at: Date.UTC(2026, 4, 4, 12), seq: 3, target: 'http://localhost:3000/hook', latencyMs: 2 };

  it('marks a re-signed forward', () => {
    const line = formatEventLine({ type: 'forwarded', ...base, attempt: 2, status: 200, responseStart: '', signature: 'resigned' });
    expect(line).toMatch(/\(attempt 2\)  re-signed$/);
  });

  it('names a refused timestamp', () => {
    const line = formatEventLine({ type: 'forward_failed', ...base, attempt: 1, status: 400, responseStart: 'Message timestamp too old', refusedFor: 'timestamp' });
    expect(line).toMatch(/not retried\): the app refused the webhook-timestamp/);
  });

  it('says a dynamic delivery went out after its JWT expired', () => {
    const line = formatEventLine({ type: 'forward_failed', ...base, attempt: 4, status: 401, tokenExpired: true, nextAttemptAt: undefined });
    expect(line).toMatch(/JWT expired before the forward: a dynamic delivery cannot be re-signed/);
  });
});
