import { createHmac, createPrivateKey, createPublicKey, sign as rsaSign, type JsonWebKey as NodeJwk } from 'node:crypto';
import type { JwtSigningKey, webhookClaims as WebhookClaims } from '../core/jwt-sign.js';
import { sign } from '../core/standard-webhooks.js';
import { newWebhookId as randomWebhookId } from '../core/webhook-id.js';
import { fixtureBody } from '../fixtures/fixtures.js';
import type { OutgoingRequest } from './send.js';

/**
 * What a case builds its requests from: a way to make correctly signed deliveries in the mode
 * under test, plus the raw material of the attacks (a second secret, a second key, hand-made JWTs).
 */

export type ConformanceMode = 'static' | 'dynamic';

export interface Delivery {
  webhookId: string;
  /** The webhook-timestamp header exactly as sent (a case may send a non-number). */
  timestamp: string;
  body: string | Buffer;
  /** The webhook-signature header value. */
  signature: string;
}

export interface DeliveryFields {
  type?: string;
  body?: string | Buffer;
  webhookId?: string;
  timestamp?: string;
}

export interface StaticKit {
  /** Every secret the webhook currently signs with, newest first. */
  secrets: readonly string[];
  /** A secret the receiver has never seen. */
  otherSecret: string;
  /** The `v1,…` signature of a delivery with any secret. */
  signWith(secret: string, delivery: Pick<Delivery, 'webhookId' | 'timestamp' | 'body'>): string;
}

export interface DynamicKit {
  audience: string;
  key: JwtSigningKey;
  /** A key that is not in the JWKS. */
  otherKey: JwtSigningKey;
  /** The claims gemwh puts in a valid token for this delivery. */
  claims(delivery: Pick<Delivery, 'webhookId' | 'timestamp' | 'body'>): Record<string, unknown>;
  /** RS256 with `signingKey`, whatever kid (and other header fields) the header names. */
  rs256(claims: Record<string, unknown>, signingKey: JwtSigningKey, kid: string, extraHeader?: Record<string, unknown>): string;
  /** `alg: none`: header and claims, an empty signature. */
  unsigned(claims: Record<string, unknown>): string;
  /** HS256 with the RSA public key (PEM) as the HMAC secret: the classic algorithm confusion. */
  hs256WithPublicKey(claims: Record<string, unknown>): string;
}

export interface CaseContext {
  mode: ConformanceMode;
  nowSeconds(): number;
  newWebhookId(): string;
  /** A compact body for `type`, as Gemini sends it. */
  eventBody(type: string): string;
  /** A correctly signed delivery (fresh id, current timestamp, a batch.succeeded body unless given). */
  deliver(fields?: DeliveryFields): Promise<Delivery>;
  static?: StaticKit;
  dynamic?: DynamicKit;
  /** Size of the body in the oversized-body case. */
  oversizedBytes: number;
}

export interface ContextOptions {
  mode: ConformanceMode;
  now: () => number;
  randomBytes: (size: number) => Buffer;
  /** Signed like Gemini during a rotation grace period: one `v1` entry per currently valid secret. */
  static?: { secrets: readonly string[] };
  dynamic?: { audience: string; key: JwtSigningKey; otherKey: JwtSigningKey };
  oversizedBytes: number;
}

/** Async because the dynamic mode loads jose (through jwt-sign) only when it is used. */
export async function createCaseContext(options: ContextOptions): Promise<CaseContext> {
  const nowSeconds = () => Math.floor(options.now() / 1000);
  // Recognisable in the receiver's logs and database as test traffic.
  const newWebhookId = () => randomWebhookId(options.randomBytes).replace(/^msg_/, 'msg_gemwh_conformance_');
  const eventBody = (type: string) => fixtureBody(type, { now: options.now() });

  let staticKit: StaticKit | undefined;
  let dynamicKit: DynamicKit | undefined;
  let signDelivery: (fields: Pick<Delivery, 'webhookId' | 'timestamp' | 'body'>) => Promise<string>;

  if (options.mode === 'static') {
    if (!options.static) throw new Error('static mode needs a secret');
    const { secrets } = options.static;
    if (secrets.length === 0) throw new Error('static mode needs a secret');
    const signWith = (key: string, d: Pick<Delivery, 'webhookId' | 'timestamp' | 'body'>) => sign(d.webhookId, d.timestamp, d.body, key);
    staticKit = { secrets, otherSecret: `whsec_${options.randomBytes(32).toString('base64')}`, signWith };
    signDelivery = async (d) => secrets.map((secret) => signWith(secret, d)).join(' ');
  } else {
    if (!options.dynamic) throw new Error('dynamic mode needs a key');
    const { signJwt, webhookClaims } = await import('../core/jwt-sign.js');
    dynamicKit = createDynamicKit(options.dynamic, nowSeconds, webhookClaims);
    const { key } = options.dynamic;
    const kit = dynamicKit;
    signDelivery = (d) => signJwt(kit.claims(d), key);
  }

  return {
    mode: options.mode,
    nowSeconds,
    newWebhookId,
    eventBody,
    static: staticKit,
    dynamic: dynamicKit,
    oversizedBytes: options.oversizedBytes,
    async deliver(fields = {}) {
      const partial = {
        webhookId: fields.webhookId ?? newWebhookId(),
        timestamp: fields.timestamp ?? String(nowSeconds()),
        body: fields.body ?? eventBody(fields.type ?? 'batch.succeeded'),
      };
      return { ...partial, signature: await signDelivery(partial) };
    },
  };
}

// A JWT travels in a header; claims that copy a multi-megabyte body would not fit in one.
const MAX_EVENT_IN_CLAIMS = 64 * 1024;

function createDynamicKit(
  options: { audience: string; key: JwtSigningKey; otherKey: JwtSigningKey },
  nowSeconds: () => number,
  webhookClaims: typeof WebhookClaims,
): DynamicKit {
  const publicKeyPem = createPublicKey({ key: options.key.publicJwk as NodeJwk, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const compact = (header: Record<string, unknown>, claims: Record<string, unknown>) =>
    `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return {
    audience: options.audience,
    key: options.key,
    otherKey: options.otherKey,
    claims(d) {
      const issuedAt = /^\d+$/.test(d.timestamp) ? Number(d.timestamp) : nowSeconds();
      return webhookClaims({
        event: d.body.length <= MAX_EVENT_IN_CLAIMS ? parseEvent(d.body) : {},
        body: d.body,
        webhookId: d.webhookId,
        audience: options.audience,
        issuedAt,
      });
    },
    rs256(claims, signingKey, kid, extraHeader = {}) {
      const input = compact({ alg: 'RS256', kid, typ: 'JWT', ...extraHeader }, claims);
      const privateKey = createPrivateKey({ key: signingKey.privateJwk as NodeJwk, format: 'jwk' });
      return `${input}.${rsaSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    },
    unsigned(claims) {
      return `${compact({ alg: 'none', kid: options.key.kid, typ: 'JWT' }, claims)}.`;
    },
    hs256WithPublicKey(claims) {
      const input = compact({ alg: 'HS256', kid: options.key.kid, typ: 'JWT' }, claims);
      return `${input}.${createHmac('sha256', publicKeyPem).update(input).digest('base64url')}`;
    },
  };
}

function parseEvent(body: string | Buffer): unknown {
  try {
    return JSON.parse(body.toString());
  } catch {
    return {};
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

export const HEADER = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

export interface RequestShape {
  /** Send these names instead of the lower-case ones. */
  names?: Partial<Record<keyof typeof HEADER, string>>;
  omit?: ReadonlyArray<keyof typeof HEADER>;
  /** Replaces the delivery's signature header value. */
  signature?: string;
  /** Replaces the body after signing. */
  body?: string | Buffer;
  /** True for a correctly signed, ordinary delivery whose latency counts. */
  measured?: boolean;
}

/** The HTTP request for a delivery, optionally bent into an attack. */
export function toRequest(delivery: Delivery, shape: RequestShape = {}): OutgoingRequest {
  const values = { id: delivery.webhookId, timestamp: delivery.timestamp, signature: shape.signature ?? delivery.signature };
  const headers: Array<[string, string]> = [];
  for (const key of ['id', 'timestamp', 'signature'] as const) {
    if (shape.omit?.includes(key)) continue;
    headers.push([shape.names?.[key] ?? HEADER[key], values[key]]);
  }
  return { headers, body: shape.body ?? delivery.body, measured: shape.measured ?? false };
}

/** A correctly signed delivery as a request whose latency counts. */
export function validRequest(delivery: Delivery): OutgoingRequest {
  return toRequest(delivery, { measured: true });
}
