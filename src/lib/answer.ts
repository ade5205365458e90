import type { VerifiedDelivery, Verifier, VerifyInput, VerifyRejectReason, VerifyResult } from './verifier.js';
import type { DispatchOutcome, Webhooks } from './webhooks.js';

/**
 * What every adapter does once it has the raw bytes: verify (and dispatch, with a Webhooks), then
 * pick the status and a small JSON answer. The adapters differ only in how they read the body and
 * write the answer.
 */

/** A bare verifier (the adapter passes the event on) or a Webhooks dispatcher (its handlers run). */
export type Receiver = Verifier | Webhooks;

export type RejectedVerdict = Exclude<VerifyResult, VerifiedDelivery>;

export interface AdapterOptions {
  /** Bodies larger than this are refused with 413 before they are buffered. Default 1 MiB (Gemini's payloads are thin). */
  maxBodyBytes?: number;
  /** Called with every refused delivery (for logs: `verdict.diagnosis` says why in plain words). */
  onRejected?: (verdict: RejectedVerdict) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * 400 for a request that is not a well-formed delivery, 401 for one whose signature or claims do
 * not hold, 413 for an oversized body, 500 when the app handed over a parsed body (its bug, not
 * the sender's), 503 when the JWKS cannot be fetched (Gemini retries later).
 */
export function statusFor(reason: VerifyRejectReason): number {
  switch (reason) {
    case 'missing_header':
    case 'bad_timestamp':
    case 'malformed_signature':
    case 'bad_jwt':
    case 'invalid_body':
      return 400;
    case 'body_too_large':
      return 413;
    case 'body_not_raw':
      return 500;
    case 'jwks_unavailable':
      return 503;
    default:
      return 401;
  }
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  outcome: DispatchOutcome;
}

export function rejection(verdict: RejectedVerdict, options: AdapterOptions): Answer {
  options.onRejected?.(verdict);
  return {
    status: statusFor(verdict.reason),
    // The diagnosis stays in onRejected: it is for the app's developer, not for whoever sent the request.
    body: { ok: false, error: verdict.reason, message: verdict.explanation },
    outcome: { status: 'rejected', verdict },
  };
}

/** Verifies and dispatches. Handler errors propagate: the adapter answers 500 so that Gemini retries. */
export async function settle(receiver: Receiver, input: VerifyInput, options: AdapterOptions): Promise<Answer> {
  const outcome: DispatchOutcome =
    'receive' in receiver && typeof receiver.receive === 'function'
      ? await receiver.receive(input)
      : await receiver.verify(input).then((verdict): DispatchOutcome => (verdict.ok ? { status: 'handled', delivery: verdict } : { status: 'rejected', verdict }));
  if (outcome.status === 'rejected') return rejection(outcome.verdict, options);
  return { status: 200, body: outcome.status === 'duplicate' ? { ok: true, duplicate: true } : { ok: true }, outcome };
}

export function tooLarge(limit: number, options: AdapterOptions): Answer {
  const verdict: RejectedVerdict = {
    ok: false,
    scheme: 'static',
    reason: 'body_too_large',
    explanation: `the body is larger than ${limit} bytes (maxBodyBytes)`,
    diagnosis: ['Gemini’s payloads are thin (ids and links); raise maxBodyBytes if yours really are this large.'],
  };
  return rejection(verdict, options);
}

export const HANDLER_FAILED = { ok: false, error: 'handler_failed', message: 'the event handler failed; the delivery will be retried' };
