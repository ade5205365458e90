import type { WebhookEvent, WebhookEventOf, WebhookEventType } from './events.js';
import { createVerifier, type Verifier, type VerifierOptions, type VerifiedDelivery, type VerifyInput, type VerifyResult } from './verifier.js';

/**
 * A small dispatcher over the verifier: handlers per event type, and duplicate suppression on
 * webhook-id (Gemini delivers at least once and retries with the same id for 24 h).
 */

/**
 * Remembers which webhook-ids were handled. `claim` must be atomic across the processes that
 * share the store (Redis `SET NX PX`, a unique index): true means "first time, handle it".
 */
export interface DedupStore {
  claim(webhookId: string, ttlMs: number): boolean | Promise<boolean>;
  /** Forgets a claim whose handling failed, so that Gemini's retry is handled again. */
  release(webhookId: string): void | Promise<void>;
}

export interface MemoryDedupOptions {
  /** Ids kept at most; the oldest go first. Default 100 000. */
  maxEntries?: number;
  now?: () => number;
}

/** One process's memory: enough for a single instance; use a shared store behind a load balancer. */
export function createMemoryDedupStore(options: MemoryDedupOptions = {}): DedupStore {
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  // Insertion order is expiry order (one ttl per store in practice), so pruning stops early.
  const expiries = new Map<string, number>();
  const prune = () => {
    const at = now();
    for (const [id, expiresAt] of expiries) {
      if (expiresAt > at && expiries.size <= maxEntries) break;
      expiries.delete(id);
    }
  };
  return {
    claim(webhookId, ttlMs) {
      prune();
      const expiresAt = expiries.get(webhookId);
      if (expiresAt !== undefined && expiresAt > now()) return false;
      expiries.delete(webhookId);
      expiries.set(webhookId, now() + ttlMs);
      return true;
    },
    release(webhookId) {
      expiries.delete(webhookId);
    },
  };
}

export type EventHandler<E> = (event: E, delivery: VerifiedDelivery) => unknown;

export interface WebhooksOptions extends VerifierOptions {
  /** A verifier made elsewhere; the verifier options are then ignored. */
  verifier?: Verifier;
  /** Where handled webhook-ids are remembered; `false` turns duplicate suppression off. Default: in memory. */
  dedup?: DedupStore | false;
  /** How long an id is remembered. Default 25 h: Gemini retries for 24 h. */
  dedupTtlMs?: number;
}

/** What happened to one request, for the adapters' answer. */
export type DispatchOutcome =
  | { status: 'handled'; delivery: VerifiedDelivery }
  | { status: 'duplicate'; delivery: VerifiedDelivery }
  | { status: 'rejected'; verdict: Exclude<VerifyResult, VerifiedDelivery> };

export interface Webhooks extends Verifier {
  on<T extends WebhookEventType>(type: T | readonly T[], handler: EventHandler<WebhookEventOf<T>>): this;
  /** Every verified event, known types and ones Gemini added later alike. */
  on(type: '*', handler: EventHandler<WebhookEvent>): this;
  /**
   * Verifies, drops a repeated webhook-id, runs the handlers of the event's type (in the order
   * added, one after the other). A handler that throws makes this reject, and the id is released
   * so the retry is handled: answer 5xx then.
   */
  receive(input: VerifyInput): Promise<DispatchOutcome>;
}

export const DEFAULT_DEDUP_TTL_MS = 25 * 3_600_000;

export function createWebhooks(options: WebhooksOptions = {}): Webhooks {
  const verifier = options.verifier ?? createVerifier(options);
  const store = options.dedup === false ? undefined : (options.dedup ?? createMemoryDedupStore({ now: options.now }));
  const ttlMs = options.dedupTtlMs ?? DEFAULT_DEDUP_TTL_MS;
  const handlers = new Map<string, Array<EventHandler<never>>>();

  const webhooks: Webhooks = {
    verify: (input) => verifier.verify(input),
    on(type: string | readonly string[], handler: EventHandler<never>) {
      for (const name of typeof type === 'string' ? [type] : type) {
        if (typeof handler !== 'function') throw new TypeError(`gemwh webhooks.on("${name}"): the handler is not a function`);
        handlers.set(name, [...(handlers.get(name) ?? []), handler]);
      }
      return webhooks;
    },
    async receive(input) {
      const verdict = await verifier.verify(input);
      if (!verdict.ok) return { status: 'rejected', verdict };
      const id = verdict.webhookId;
      if (store && id !== undefined && !(await store.claim(id, ttlMs))) return { status: 'duplicate', delivery: verdict };
      try {
        for (const handler of [...(handlers.get(verdict.event.type) ?? []), ...(handlers.get('*') ?? [])]) {
          await (handler as EventHandler<WebhookEvent>)(verdict.event, verdict);
        }
      } catch (error) {
        if (store && id !== undefined) await store.release(id);
        throw error;
      }
      return { status: 'handled', delivery: verdict };
    },
  } as Webhooks;
  return webhooks;
}
