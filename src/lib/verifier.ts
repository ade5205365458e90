import type { JWK } from 'jose';
import { getHeader } from '../core/headers.js';
import type { KeySource } from '../core/jwt.js';
import { DEFAULT_TOLERANCE_SEC, inspectSecret } from '../core/standard-webhooks.js';
import type { DynamicAccepted, HeaderBag, Rejected, RejectReason, SecretCandidate, StaticAccepted } from '../core/verdict.js';
import { detectScheme, verifyDelivery } from '../core/verify.js';
import { createRemoteJwksSource, createStaticJwksSource, DEFAULT_JWKS_URL } from '../jwks/jwks-source.js';
import type { WebhookEvent } from './events.js';

/**
 * The library face of gemwh's verification core: the same verdict `gemwh verify` and `listen`
 * give, for an app that receives Gemini deliveries in production. Nothing here imports the CLI.
 */

export { DEFAULT_JWKS_URL };
export type { KeySource, SecretCandidate };

/** A secret as a string, or with the label the verdict reports and an expiry (rotation grace). */
export type SecretOption = string | { secret: string; label?: string; expiresAt?: number | Date };

/** Google's JWKS (`'google'`), another JWKS URL, the keys themselves, or a KeySource of your own. */
export type JwksOption = 'google' | string | URL | { keys: JWK[] } | KeySource;

export interface VerifierOptions {
  /** Signing secrets of static webhooks (`whsec_…`). During a rotation give both: every one is tried. */
  secrets?: SecretOption | readonly SecretOption[];
  /**
   * Where the keys of dynamic (JWT) deliveries come from. Default: Google's JWKS when no secret is
   * given, none otherwise (a static-only app then never fetches anything).
   */
  jwks?: JwksOption;
  /** Expected `aud` of dynamic deliveries (Gemini does not document its value; check it once you know it). */
  audience?: string;
  /** Expected `iss` of dynamic deliveries. */
  issuer?: string;
  /** Seconds either way for webhook-timestamp and the JWT's time claims. Default 300. */
  tolerance?: number;
  /** Remote JWKS caching: how long keys are trusted without Cache-Control, the minimum gap between fetches, the fetch timeout. */
  jwksCache?: { ttlMs?: number; cooldownMs?: number; timeoutMs?: number };
  /** Epoch ms; for tests and for checking old captures. */
  now?: () => number;
}

/** Reasons the library adds to the core's: about what the app handed over, not about the signature. */
export type RequestRejectReason =
  /** The body was handed over as a parsed object (a JSON body parser ran first): its bytes are gone. */
  | 'body_not_raw'
  /** The delivery is authentic but its body is not a JSON event. */
  | 'invalid_body'
  /** The body is larger than the adapter's limit. */
  | 'body_too_large'
  /** A JWT (dynamic) delivery reached a verifier given no JWKS. */
  | 'scheme_not_configured';

export type VerifyRejectReason = RejectReason | RequestRejectReason;

export type VerifiedDelivery = (StaticAccepted | DynamicAccepted) & {
  /** The event, parsed from the verified bytes (or, for a dynamic delivery with an empty body, from the signed claims). */
  event: WebhookEvent;
};

export type RejectedDelivery = Omit<Rejected, 'reason'> & { reason: VerifyRejectReason };

export type VerifyResult = VerifiedDelivery | RejectedDelivery;

/** Anything that carries header names and values: node's IncomingHttpHeaders, a Fetch `Headers`, a plain object. */
export type HeadersInput = HeaderBag | { get(name: string): string | null } | Iterable<readonly [string, string]>;

export interface VerifyInput {
  headers: HeadersInput;
  /** Exactly the bytes received. A parsed object is refused with the reason `body_not_raw`. */
  rawBody: string | Uint8Array | ArrayBuffer;
}

export interface Verifier {
  /** Never throws: every problem, with the request or the configuration, is a rejected verdict. */
  verify(input: VerifyInput): Promise<VerifyResult>;
}

export function createVerifier(options: VerifierOptions = {}): Verifier {
  const now = options.now ?? Date.now;
  const secrets = toCandidates(options.secrets);
  const keys = toKeySource(options.jwks ?? (secrets.length === 0 ? 'google' : undefined), now, options.jwksCache);
  const toleranceSec = options.tolerance ?? DEFAULT_TOLERANCE_SEC;
  if (!Number.isFinite(toleranceSec) || toleranceSec < 0) {
    throw new TypeError(`gemwh createVerifier: tolerance must be a number of seconds >= 0, got ${String(options.tolerance)}`);
  }

  return {
    async verify(input) {
      try {
        const headers = toHeaderBag(input?.headers);
        const rawBody = toBytes(input?.rawBody);
        if (rawBody === undefined) return bodyNotRaw(headers, input?.rawBody);
        const verdict = await verifyDelivery({
          rawBody,
          headers,
          now: now(),
          toleranceSec,
          secrets,
          keys,
          audience: options.audience,
          issuer: options.issuer,
        });
        if (!verdict.ok) {
          // The core's jwks_unavailable also means "could not fetch"; here nothing was configured, and a retry would not help.
          if (verdict.reason === 'jwks_unavailable' && !keys) return { ...verdict, reason: 'scheme_not_configured' };
          return verdict;
        }
        const event = eventOf(rawBody, verdict);
        if (event === undefined) {
          return rejected(verdict.scheme, 'invalid_body', 'the delivery is authentic, but its body is not a JSON event ({"type": …, "data": …})', [], verdict.webhookId);
        }
        return { ...verdict, event };
      } catch (error) {
        // A KeySource of the app's own, or a hostile header bag, must not turn into a 500 with a stack.
        const scheme = detectScheme(toHeaderBag(input?.headers)) ?? 'static';
        return rejected(
          scheme,
          scheme === 'dynamic' ? 'jwks_unavailable' : 'invalid_body',
          `the delivery could not be checked: ${error instanceof Error ? error.message : String(error)}`,
          [],
        );
      }
    },
  };
}

function toCandidates(option: VerifierOptions['secrets']): SecretCandidate[] {
  const list = option === undefined ? [] : typeof option === 'string' || !Array.isArray(option) ? [option as SecretOption] : (option as readonly SecretOption[]);
  return list.map((entry, i) => {
    const candidate: SecretCandidate =
      typeof entry === 'string'
        ? { secret: entry, label: `#${i + 1}` }
        : {
            secret: entry.secret,
            label: entry.label ?? `#${i + 1}`,
            ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt instanceof Date ? entry.expiresAt.getTime() : entry.expiresAt }),
          };
    // A wrong secret is a deployment mistake: say so at start-up, not on every delivery.
    const inspection = typeof candidate.secret === 'string' ? inspectSecret(candidate.secret) : undefined;
    if (!inspection?.ok) {
      throw new TypeError(
        `gemwh createVerifier: secret ${candidate.label} cannot be used: ${inspection ? `${inspection.message}. ${inspection.hint}` : 'it is not a string'}`,
      );
    }
    return candidate;
  });
}

function toKeySource(option: JwksOption | undefined, now: () => number, cache: VerifierOptions['jwksCache'] = {}): KeySource | undefined {
  if (option === undefined) return undefined;
  if (typeof option === 'string' || option instanceof URL) {
    const url = option === 'google' ? DEFAULT_JWKS_URL : new URL(option).href;
    // Lazy: nothing is fetched before the first dynamic delivery.
    return createRemoteJwksSource({ url, now, ...cache });
  }
  if (typeof (option as KeySource).getKey === 'function') return option as KeySource;
  if (Array.isArray((option as { keys?: unknown }).keys)) return createStaticJwksSource(option as { keys: JWK[] });
  throw new TypeError('gemwh createVerifier: jwks must be "google", a URL, { keys: [...] } or a KeySource');
}

function toHeaderBag(headers: HeadersInput | undefined): HeaderBag {
  if (headers === null || typeof headers !== 'object') return {};
  if (typeof (headers as { get?: unknown }).get === 'function' && typeof (headers as { forEach?: unknown }).forEach === 'function') {
    const bag: Record<string, string> = {};
    (headers as unknown as { forEach(cb: (value: string, name: string) => void): void }).forEach((value, name) => {
      bag[name.toLowerCase()] = value;
    });
    return bag;
  }
  if (Symbol.iterator in headers) {
    const bag: Record<string, string> = {};
    for (const [name, value] of headers as Iterable<readonly [string, string]>) {
      const key = String(name).toLowerCase();
      bag[key] = bag[key] === undefined ? String(value) : `${bag[key]}, ${String(value)}`;
    }
    return bag;
  }
  const bag: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') bag[name] = value;
    else if (Array.isArray(value)) bag[name] = value.filter((v): v is string => typeof v === 'string');
  }
  return bag;
}

function toBytes(body: unknown): string | Uint8Array | undefined {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return undefined;
}

function bodyNotRaw(headers: HeaderBag, body: unknown): RejectedDelivery {
  const what = body === undefined || body === null ? 'no body' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
  return rejected(
    detectScheme(headers) ?? 'static',
    'body_not_raw',
    `rawBody is ${what}, not the bytes received: the signature covers the exact bytes, which a parsed body no longer has`,
    [
      typeof body === 'object' && body !== null
        ? 'A JSON body parser (express.json(), Fastify’s default parser, await request.json()) ran before verification. Verify first, from the raw body: use gemwh’s adapter for your framework, or express.raw({ type: "*/*" }) on the webhook route.'
        : 'Pass the request body as a string, Buffer or Uint8Array, exactly as it arrived.',
    ],
    getHeader(headers, 'webhook-id'),
  );
}

function rejected(scheme: 'static' | 'dynamic', reason: VerifyRejectReason, explanation: string, diagnosis: string[], webhookId?: string): RejectedDelivery {
  const verdict: RejectedDelivery = { ok: false, scheme, reason, explanation, diagnosis };
  if (webhookId) verdict.webhookId = webhookId;
  return verdict;
}

function eventOf(rawBody: string | Uint8Array, verdict: StaticAccepted | DynamicAccepted): WebhookEvent | undefined {
  const text = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString('utf8');
  if (text.trim() === '' && verdict.scheme === 'dynamic') return eventFromClaims(verdict.claims);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isEventShaped(parsed)) return undefined;
  // Payloads Gemini does not document (its ping) may come without data; handlers can still rely on it.
  return parsed.data === undefined ? ({ ...(parsed as object), data: {} } as WebhookEvent) : parsed;
}

/** Dynamic tokens may carry the event (gemwh's emulator puts its fields next to the registered claims). */
function eventFromClaims(claims: Record<string, unknown>): WebhookEvent | undefined {
  if (isEventShaped(claims.event)) return claims.event;
  if (typeof claims.event === 'string') {
    try {
      const parsed: unknown = JSON.parse(claims.event);
      if (isEventShaped(parsed)) return parsed;
    } catch {
      // not JSON either
    }
  }
  if (typeof claims.type !== 'string') return undefined;
  const event = { type: claims.type, version: claims.version, timestamp: claims.timestamp, data: claims.data ?? {} };
  return isEventShaped(event) ? event : undefined;
}

function isEventShaped(value: unknown): value is WebhookEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { type, data } = value as { type?: unknown; data?: unknown };
  return typeof type === 'string' && (data === undefined || (data !== null && typeof data === 'object' && !Array.isArray(data)));
}
