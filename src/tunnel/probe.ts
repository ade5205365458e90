import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * How gemwh knows a public URL really reaches *this* listener: it sends a request carrying a fresh
 * nonce through the tunnel, and only this listener knows the key to answer it with. The listener
 * answers such a request itself, before any delivery handling: nothing is verified, journaled or
 * shown for it.
 */
export const PROBE_HEADER = 'x-gemwh-tunnel-probe';

export interface TunnelProbe {
  /** For the listener: answers a probe and returns true; anything else returns false untouched. */
  intercept(req: IncomingMessage, res: ServerResponse): boolean;
  /** Whether `url` reaches the listener now; the reason when it does not. */
  check(url: string, timeoutMs?: number): Promise<{ ok: true } | { ok: false; reason: string }>;
}

export function createTunnelProbe(key: Buffer = randomBytes(32)): TunnelProbe {
  const answer = (nonce: string) => createHmac('sha256', key).update(nonce).digest('hex');
  return {
    intercept(req, res) {
      const nonce = req.headers[PROBE_HEADER];
      if (typeof nonce !== 'string' || !/^[0-9a-f]{32}$/.test(nonce)) return false;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(answer(nonce));
      return true;
    },
    async check(url, timeoutMs = 5000) {
      const nonce = randomBytes(16).toString('hex');
      try {
        const response = await fetch(url, { headers: { [PROBE_HEADER]: nonce }, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
        const text = await response.text();
        if (response.status === 200 && text.trim() === answer(nonce)) return { ok: true };
        return { ok: false, reason: `it answered HTTP ${response.status}${text ? `: ${text.slice(0, 120).replace(/\s+/g, ' ')}` : ''}, not this listener's answer` };
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        return { ok: false, reason: cause?.code ?? cause?.message ?? (error as Error).message };
      }
    },
  };
}
