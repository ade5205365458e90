/**
 * gemwh/verify: verify Gemini webhook deliveries (static HMAC and dynamic JWT) in an app.
 * Adapters live in gemwh/verify/node (node:http, Express), gemwh/verify/fastify and
 * gemwh/verify/fetch (Hono, Next.js, Workers, Deno, Bun).
 */
export {
  createVerifier,
  DEFAULT_JWKS_URL,
  type HeadersInput,
  type JwksOption,
  type KeySource,
  type RejectedDelivery,
  type RequestRejectReason,
  type SecretOption,
  type VerifiedDelivery,
  type Verifier,
  type VerifierOptions,
  type VerifyInput,
  type VerifyRejectReason,
  type VerifyResult,
} from './verifier.js';
export { createMemoryDedupStore, createWebhooks, DEFAULT_DEDUP_TTL_MS, type DedupStore, type DispatchOutcome, type EventHandler, type MemoryDedupOptions, type Webhooks, type WebhooksOptions } from './webhooks.js';
export { EVENT_DATA_FIELDS, isKnownEvent, type EventDataByType, type WebhookEvent, type WebhookEventOf, type WebhookEventType } from './events.js';
export { statusFor, type AdapterOptions, type Receiver } from './answer.js';
export type { DynamicAccepted, Rejected, StaticAccepted, Verdict } from '../core/verdict.js';
