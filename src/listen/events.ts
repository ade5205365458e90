import type { RejectReason } from '../core/verdict.js';

/**
 * The typed event stream of a `gemwh listen` session. The Ink UI, the plain line printer and
 * NDJSON output all consume this same stream (NDJSON prints each event as one JSON line).
 * `seq` numbers requests in arrival order within a session; `at` is epoch ms.
 */

export interface ReadyEvent {
  type: 'ready';
  at: number;
  /** e.g. http://127.0.0.1:8787/webhook */
  url: string;
  /** Where Gemini delivers to (--public-url, --tunnel): the tunnel's URL that leads here. */
  publicUrl?: string;
  forwardTargets: string[];
  /** What deliveries are verified against, already redacted (`whsec_…ab12`, webhook ids, JWKS URL). */
  verifying: { webhookIds: string[]; secrets: string[]; jwks?: string };
  journal?: string;
}

export interface ReceivedEvent {
  type: 'received';
  at: number;
  seq: number;
  method: string;
  path: string;
  webhookId?: string;
  eventType?: string;
  bodyBytes: number;
}

export interface VerifiedEvent {
  type: 'verified';
  at: number;
  seq: number;
  webhookId?: string;
  eventType?: string;
  scheme: 'static' | 'dynamic';
  /** Which secret matched (static): its label, and whether it is in a rotation grace period. */
  matched?: { label: string; inGrace: boolean };
  /** False when `--events` filters this type out of forwarding. */
  willForward: boolean;
}

export interface RejectedEvent {
  type: 'rejected';
  at: number;
  seq: number;
  /**
   * HTTP status the listener answered: 4xx for verification failures, 405, 413, 400; 5xx when
   * gemwh itself could not take the delivery (journal_unavailable, internal_error, jwks_unavailable).
   */
  status: number;
  /** A verification reason, or a request-level one. */
  reason: RejectReason | 'method_not_allowed' | 'body_too_large' | 'malformed_request' | 'wrong_path' | 'journal_unavailable' | 'internal_error';
  explanation: string;
  diagnosis: string[];
  webhookId?: string;
  eventType?: string;
}

export interface DuplicateEvent {
  type: 'duplicate';
  at: number;
  seq: number;
  webhookId: string;
  eventType?: string;
  /** seq of the first delivery with this webhook-id in this session, when known. */
  firstSeq?: number;
}

export interface ForwardedEvent {
  type: 'forwarded';
  at: number;
  seq: number;
  target: string;
  attempt: number;
  status: number;
  latencyMs: number;
  /** The first bytes of the app's answer, as text. */
  responseStart: string;
  /** 'resigned': sent with a fresh webhook-timestamp and signature (a retry, resend or resumed forward). */
  signature?: 'as_received' | 'resigned';
  /** The JWT of this dynamic delivery had expired when it was sent (it cannot be re-signed). */
  tokenExpired?: boolean;
  /** In words, when there is something to say about how it was signed (an expired JWT). */
  note?: string;
}

export interface ForwardFailedEvent {
  type: 'forward_failed';
  at: number;
  seq: number;
  target: string;
  attempt: number;
  /** Present when the app answered (a non-2xx); absent when it could not be reached. */
  status?: number;
  error?: string;
  latencyMs: number;
  responseStart?: string;
  /** Epoch ms of the next attempt; absent when no retry is scheduled. */
  nextAttemptAt?: number;
  signature?: 'as_received' | 'resigned';
  tokenExpired?: boolean;
  note?: string;
  /** The app's 4xx answer names the timestamp or the signature as what it refused. */
  refusedFor?: 'timestamp' | 'signature';
}

/**
 * A delivery verified by an earlier run (found in the journal) that never reached its target:
 * this session forwards it again. It gets a fresh `seq`; `forwarded`/`forward_failed` follow.
 */
export interface ResumedEvent {
  type: 'resumed';
  at: number;
  seq: number;
  /** Epoch ms when the earlier run received it. */
  receivedAt: number;
  webhookId?: string;
  eventType?: string;
  targets: string[];
}

export interface WarningEvent {
  type: 'warning';
  at: number;
  message: string;
}

export interface StoppedEvent {
  type: 'stopped';
  at: number;
  reason: string;
}

export type ListenEvent =
  | ReadyEvent
  | ReceivedEvent
  | VerifiedEvent
  | RejectedEvent
  | DuplicateEvent
  | ForwardedEvent
  | ForwardFailedEvent
  | ResumedEvent
  | WarningEvent
  | StoppedEvent;
