import type { Verdict } from '../core/verdict.js';
import type { ListenEvent, RejectedEvent } from './events.js';

/**
 * The seam between the listen engine and whoever shows it (the Ink UI, the plain line printer,
 * NDJSON). A consumer subscribes to the event stream and, for the detail view, asks the session
 * for what it kept about one request. Everything here is data: no ink, no node:http types.
 */
export interface ListenSession {
  /** The URL deliveries are received on, e.g. http://127.0.0.1:8787/webhook. */
  readonly url: string;

  /**
   * Subscribes to every event from now on; returns the unsubscribe function. Listeners are
   * called synchronously in emit order; a listener that throws is dropped, never the session.
   * Events emitted before subscribing (e.g. `ready`) can be read back with `history()`.
   */
  on(listener: (event: ListenEvent) => void): () => void;

  /** The events emitted so far (bounded: the most recent ones), oldest first. */
  history(): readonly ListenEvent[];

  /**
   * What the session kept about request `seq` for the detail view: undefined once it has been
   * evicted (the session keeps the most recent DELIVERY_DETAILS_KEPT requests) or if unknown.
   * The body is cut to its first 256 KiB for showing; `wholeBody` returns all that was read (for
   * an export), so `body.truncated` is then true only when the listener itself stopped reading (413).
   */
  getDelivery(seq: number, options?: { wholeBody?: boolean }): DeliveryDetails | undefined;

  /**
   * Forwards delivery `seq` again to its targets (ignores dedup and the --events filter: the user
   * asked for it). Results arrive as `forwarded` / `forward_failed` events with the same seq.
   * Rejects with a GemwhError when the delivery is unknown, was rejected, or there is no target.
   */
  resend(seq: number): Promise<void>;

  /** Emits a `warning` event of the caller's (e.g. a start-up finding) into this session's stream. */
  warn(message: string): void;

  /** Closes the port, lets in-flight requests finish, emits `stopped`, releases everything. Idempotent. */
  stop(reason?: string): Promise<void>;

  /** Settles when the session has stopped (by stop(), the abort signal, or a fatal error). */
  readonly done: Promise<void>;
}

/** How many requests' details a session keeps in memory for getDelivery(). */
export const DELIVERY_DETAILS_KEPT = 500;

/** The raw body as received; bodies larger than the in-memory cap are cut (the journal has all of it). */
export interface BodySnapshot {
  encoding: 'utf8' | 'base64';
  data: string;
  /** Size of the whole body in bytes, even when `data` is cut. */
  bytes: number;
  truncated: boolean;
}

export interface ForwardAttempt {
  target: string;
  /** 1 for the first try, counting up across retries and resends. */
  attempt: number;
  /** Epoch ms when the attempt started. */
  at: number;
  ok: boolean;
  /** Present when the app answered. */
  status?: number;
  /** Why it could not be delivered (refused, timeout, …) when there was no answer. */
  error?: string;
  latencyMs: number;
  /** The first bytes of the app's answer, as text. */
  responseStart?: string;
  /** How the signature headers went out (absent: as received, before re-signing existed or was possible). */
  signature?: 'as_received' | 'resigned';
  /** The webhook-timestamp sent with this attempt. */
  timestamp?: string;
  /** A dynamic delivery whose JWT had expired when this attempt was sent: it cannot be re-signed, so the app will likely refuse it. */
  tokenExpired?: boolean;
  /** A 4xx answer that names the timestamp or the signature: what the app refused. */
  refusedFor?: RefusalCause;
}

/** What an app's 4xx answer points at, when it says. */
export type RefusalCause = 'timestamp' | 'signature';

export interface DeliveryDetails {
  seq: number;
  /** Epoch ms (for a resumed delivery: when the earlier run received it). */
  receivedAt: number;
  method: string;
  /** Path and query, as requested. */
  path: string;
  /** Header name/value pairs in the order received (names as sent by the client). */
  headers: Array<[name: string, value: string]>;
  body: BodySnapshot;
  webhookId?: string;
  eventType?: string;
  /** The status the listener answered. */
  status: number;
  /** How the request ended: a verification verdict, a request-level refusal, or a duplicate. */
  outcome:
    | { kind: 'verified'; verdict: Verdict & { ok: true }; willForward: boolean }
    | { kind: 'rejected'; reason: RejectedEvent['reason']; verdict?: Verdict & { ok: false }; explanation: string; diagnosis: string[] }
    | { kind: 'duplicate'; firstSeq?: number }
    /** Verified by an earlier run (from the journal); this session only forwards it. */
    | { kind: 'resumed' };
  /** Where this delivery goes (empty when not forwarded). */
  targets: string[];
  forwards: ForwardAttempt[];
}
