/**
 * The emulator's delivery engine: what the trigger endpoint, `:ping` and the job endpoints
 * (interactions, batches, videos) call to send events the way Gemini does. Delivery happens in the
 * background: emit() only validates and schedules, so a job endpoint can answer at once.
 */

export interface EmitRequest {
  /** Event type, e.g. `batch.succeeded`; its fixture (src/fixtures/events) is the payload. */
  type: string;
  /** Merged over the fixture's `data` (e.g. the job's real id). */
  data?: Record<string, unknown>;
  /**
   * Static deliveries: only these webhooks (each must exist, be enabled and be subscribed to
   * `type`). Default: every enabled webhook subscribed to `type`, as the real service does.
   */
  webhookIds?: string[];
  /** `gemwh trigger --all`: every enabled webhook, subscribed to `type` or not (Gemini never does this). */
  ignoreSubscriptions?: boolean;
  /**
   * A job's `webhook_config` with `uris`: the event goes to these URIs instead of the static
   * webhooks, signed with an RS256 JWT; `userMetadata` is echoed in `data.user_metadata`.
   */
  dynamic?: { uris: string[]; userMetadata?: Record<string, unknown> };
  /**
   * A job's `webhook_config` with only `user_metadata`: static webhooks receive the event with it
   * in `data.user_metadata` (spec §3 reads the field description that way).
   */
  userMetadata?: Record<string, unknown>;
}

export interface EmittedDelivery {
  /** The `webhook-id` header: one per (event, target), the same on every retry. */
  deliveryId: string;
  target: string;
  /** The static webhook it belongs to; absent for dynamic deliveries. */
  webhookId?: string;
}

export interface EmitResult {
  /** Empty when no webhook is subscribed: the event is dropped, as Gemini would. */
  deliveries: EmittedDelivery[];
}

/** How an attempt ended; `in_flight` while the request is still open. */
export type AttemptOutcome = 'in_flight' | 'delivered' | 'failed';

/** Why no further attempt follows a failed one. */
export type GiveUpReason =
  /** The retry window (24 h of emulated time) is over. */
  | 'retries_exhausted'
  /** The webhook reached the failure threshold and was disabled_due_to_failed_deliveries. */
  | 'webhook_auto_disabled'
  /** The webhook was disabled, deleted or stopped subscribing before the retry was due. */
  | 'webhook_unavailable'
  /** A ping: sent once, never retried. */
  | 'not_retried'
  /** The emulator stopped. */
  | 'emulator_stopped';

/** One HTTP POST the emulator made (or is making). Times are real epoch ms. */
export interface DeliveryAttempt {
  /** Increases by one per attempt in this emulator run. */
  seq: number;
  /** The `webhook-id` header. */
  deliveryId: string;
  eventType: string;
  scheme: 'static' | 'dynamic';
  webhookId?: string;
  target: string;
  /** 1 for the first try; a retry counts on; a deliberate duplicate repeats the number it copies. */
  attempt: number;
  /** A deliberate extra copy (--duplicate-rate), sent after a successful attempt. */
  duplicate: boolean;
  /** Epoch ms when the request started. */
  at: number;
  /** The `webhook-timestamp` header (epoch seconds, real wall time). */
  timestamp: number;
  /** How many `v1,` signatures the header carried (2 during a rotation grace period); 0 for JWTs. */
  signatures: number;
  /** The JWT's `kid` (dynamic deliveries). */
  kid?: string;
  outcome: AttemptOutcome;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why it failed: `HTTP 500`, `timed out: no answer within 5 s`, `connection refused`, … (src/http/send-errors.ts) */
  error?: string;
  latencyMs?: number;
  /** Real epoch ms of the retry this failure scheduled. */
  nextRetryAt?: number;
  /** The emulated delay before that retry (what Gemini would wait). */
  nextRetryDelayMs?: number;
  /** Set on the last attempt of a delivery that failed for good. */
  gaveUp?: GiveUpReason;
}

export interface DeliveryFilter {
  webhookId?: string;
  deliveryId?: string;
}

export interface DeliveryEngine {
  /**
   * Builds the payload and schedules one delivery per target; returns at once. Throws an
   * EmulatorHttpError (answered as Google's error shape) for an unknown event type, an unknown,
   * disabled or unsubscribed webhook, or a bad dynamic URI.
   */
  emit(request: EmitRequest): EmitResult;
  /** PingWebhook's test delivery (type `webhook.ping`), to one webhook whatever it subscribes to. */
  ping(webhookId: string): EmitResult;
  /** Every attempt kept (the most recent ATTEMPTS_KEPT), oldest first. */
  attempts(filter?: DeliveryFilter): DeliveryAttempt[];
  /** Resolves when nothing is in flight or scheduled (tests, benchmarks). */
  idle(): Promise<void>;
  /** Resolves when nothing is in flight or waiting for a slot; retries may still be scheduled (tests). */
  quiet(): Promise<void>;
  /** Cancels scheduled retries, waits for requests in flight; idempotent. */
  stop(): Promise<void>;
}
