import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { KeyLookup, KeySource } from '../core/jwt.js';

/**
 * Where the keys of dynamic (JWT) deliveries come from: Google's JWKS URL, a local JWKS file
 * (offline checks of captures), or keys in memory (the emulator, tests).
 */

export const DEFAULT_JWKS_URL = 'https://generativelanguage.googleapis.com/.well-known/jwks.json';

export interface JwksDocument {
  keys: JWK[];
}

/** Validates a parsed JWKS; throws an Error that says what is wrong. */
export function parseJwks(value: unknown): JwksDocument {
  if (value === null || typeof value !== 'object' || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new Error('not a JWKS: expected a JSON object with a "keys" array');
  }
  const keys = (value as { keys: unknown[] }).keys.filter(
    (key): key is JWK => key !== null && typeof key === 'object' && typeof (key as JWK).kty === 'string',
  );
  return { keys };
}

function lookupIn(keys: readonly JWK[], kid: string): JWK | undefined {
  return keys.find((key) => key.kid === kid);
}

function kidsOf(keys: readonly JWK[]): string[] {
  return keys.flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : []));
}

export function createStaticJwksSource(jwks: JwksDocument, description = 'keys in memory'): KeySource {
  const keys = parseJwks(jwks).keys;
  return {
    description,
    async getKey(kid) {
      const key = lookupIn(keys, kid);
      return key ? { status: 'found', key } : { status: 'unknown_kid', knownKids: kidsOf(keys) };
    },
  };
}

/** A JWKS file, read once on first use. */
export function createFileJwksSource(path: string): KeySource {
  let loaded: Promise<JWK[]> | undefined;
  return {
    description: path,
    async getKey(kid): Promise<KeyLookup> {
      loaded ??= readFile(path, 'utf8').then((text) => parseJwks(JSON.parse(text)).keys);
      let keys: JWK[];
      try {
        keys = await loaded;
      } catch (error) {
        return { status: 'unavailable', error: `cannot read ${path}: ${message(error)}` };
      }
      const key = lookupIn(keys, kid);
      return key ? { status: 'found', key } : { status: 'unknown_kid', knownKids: kidsOf(keys) };
    },
  };
}

export interface RemoteJwksOptions {
  url?: string;
  /** Epoch ms; the caller's clock so tests can move time. */
  now: () => number;
  /** How long a fetched key set is trusted when the server sends no Cache-Control max-age. */
  ttlMs?: number;
  /** Minimum time between two fetches, so a flood of unknown kids cannot hammer the server. */
  cooldownMs?: number;
  timeoutMs?: number;
  /** Aborts an in-flight fetch (gemwh stops on Ctrl-C). */
  signal?: AbortSignal;
}

const MAX_TTL_MS = 24 * 3_600_000;

/**
 * A JWKS over HTTPS, cached in memory. An unknown kid triggers one refetch (Google may have
 * rotated), unless the last fetch was within the cooldown. A failed refresh keeps serving the
 * keys it already has; concurrent lookups share one request.
 */
export function createRemoteJwksSource(options: RemoteJwksOptions): KeySource {
  const url = options.url ?? DEFAULT_JWKS_URL;
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;

  let keys: JWK[] | undefined;
  let expiresAt = 0;
  let lastFetchAt = -Infinity;
  let lastError: string | undefined;
  let inFlight: Promise<void> | undefined;

  async function fetchKeys(): Promise<void> {
    lastFetchAt = options.now();
    try {
      const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
      const response = await fetch(url, { signal: AbortSignal.any(signals), headers: { accept: 'application/json' } });
      const text = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error('the answer is not JSON');
      }
      keys = parseJwks(parsed).keys;
      expiresAt = options.now() + freshFor(response.headers.get('cache-control'), ttlMs, cooldownMs);
      lastError = undefined;
    } catch (error) {
      lastError = describeFetchError(error, timeoutMs);
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= fetchKeys().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  const coolingDown = () => options.now() - lastFetchAt < cooldownMs;

  return {
    description: url,
    async getKey(kid): Promise<KeyLookup> {
      if (inFlight) await inFlight;
      if ((keys === undefined || options.now() >= expiresAt) && !coolingDown()) await refresh();
      if (keys === undefined) return { status: 'unavailable', error: lastError ?? 'no keys fetched yet' };

      let key = lookupIn(keys, kid);
      if (key) return { status: 'found', key };
      // Stale keys are good enough for kids they hold, but cannot tell that a new kid is unknown.
      if (lastError !== undefined) return { status: 'unavailable', error: `refresh failed, and kid "${kid}" is not among the cached keys: ${lastError}` };
      if (coolingDown()) {
        const ago = Math.round((options.now() - lastFetchAt) / 1000);
        return {
          status: 'unknown_kid',
          knownKids: kidsOf(keys),
          detail: `not refetched: the last fetch was ${ago} s ago (at most one fetch per ${Math.round(cooldownMs / 1000)} s)`,
        };
      }
      await refresh();
      if (lastError !== undefined) return { status: 'unavailable', error: `refetch for kid "${kid}" failed: ${lastError}` };
      key = lookupIn(keys, kid);
      if (key) return { status: 'found', key };
      return { status: 'unknown_kid', knownKids: kidsOf(keys), detail: 'refetched once for this kid' };
    },
  };
}

function freshFor(cacheControl: string | null, ttlMs: number, cooldownMs: number): number {
  const maxAge = cacheControl ? /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl) : null;
  if (!maxAge?.[1]) return ttlMs;
  return Math.min(MAX_TTL_MS, Math.max(cooldownMs, Number(maxAge[1]) * 1000));
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'the fetch was aborted';
  }
  // fetch wraps the socket error (ECONNREFUSED, ENOTFOUND) in `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${message(error)}${cause}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
