import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBodyLimited } from '../listen/receiver.js';
import { DEFAULT_MAX_BODY_BYTES, HANDLER_FAILED, settle, tooLarge, type AdapterOptions, type Answer, type Receiver } from './answer.js';
import type { WebhookEvent } from './events.js';
import type { VerifiedDelivery } from './verifier.js';

/**
 * node:http, Express and Connect. The middleware reads the raw body itself, so it must run
 * before any body parser on the webhook route; a body that express.raw() or express.text() already
 * read is used as it is, a parsed JSON object is refused with a message that says what to change.
 */

export interface VerifiedRequestInfo {
  event: WebhookEvent;
  delivery: VerifiedDelivery;
  /** True when a Webhooks dispatcher saw this webhook-id before (its handlers did not run again). */
  duplicate: boolean;
}

declare module 'node:http' {
  interface IncomingMessage {
    /** Set by gemwh's middleware on a verified delivery. */
    gemwh?: VerifiedRequestInfo;
  }
}

export interface NodeMiddlewareOptions extends AdapterOptions {
  /**
   * Runs for each verified delivery when there is no `next` to pass it to (plain node:http) and
   * the receiver is a bare verifier. With a Webhooks dispatcher, use webhooks.on() instead.
   */
  onEvent?: (event: WebhookEvent, delivery: VerifiedDelivery) => unknown;
  /** Where a failing handler's error goes when there is no `next` (default: console.error). */
  onError?: (error: unknown) => void;
}

type Next = (error?: unknown) => void;

/**
 * `(req, res, next?)`. With a Webhooks dispatcher it answers every request itself: 200 once the
 * handlers ran (or for a duplicate), 400/401/413 with the reason, 500 when a handler threw. With a
 * bare verifier and a `next` (Express), a verified delivery goes on to the next handler with
 * `req.gemwh = { event, delivery }`, which must answer 2xx.
 */
export function createNodeMiddleware(receiver: Receiver, options: NodeMiddlewareOptions = {}): (req: IncomingMessage, res: ServerResponse, next?: Next) => Promise<void> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const dispatches = 'receive' in receiver;
  return async (req, res, next) => {
    let answer: Answer;
    try {
      answer = await verifyNodeRequest(receiver, req, { ...options, maxBodyBytes });
    } catch (error) {
      return fail(error, res, next, options);
    }
    const { outcome } = answer;
    if (outcome.status === 'rejected' || dispatches) return send(res, answer);
    req.gemwh = { event: outcome.delivery.event, delivery: outcome.delivery, duplicate: outcome.status === 'duplicate' };
    if (next) return next();
    try {
      await options.onEvent?.(outcome.delivery.event, outcome.delivery);
    } catch (error) {
      return fail(error, res, undefined, options);
    }
    send(res, answer);
  };
}

/** Reads the body (within the limit), verifies and, with a Webhooks dispatcher, runs its handlers. */
export async function verifyNodeRequest(receiver: Receiver, req: IncomingMessage, options: AdapterOptions = {}): Promise<Answer> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // body-parser sets req.body = {} even for requests it leaves unread: only a consumed stream counts.
  if (req.readableDidRead || req.readableEnded) {
    // Another middleware read the stream first: usable only if it kept the bytes (express.raw(), express.text()).
    const parsed = (req as { body?: unknown }).body;
    const rawBody = typeof parsed === 'string' || parsed instanceof Uint8Array ? parsed : (parsed ?? null);
    return settle(receiver, { headers: req.headers, rawBody: rawBody as Uint8Array }, options);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(maxBodyBytes, options);
  const body = await readBodyLimited(req, maxBodyBytes);
  if (body.kind === 'too_large') return tooLarge(maxBodyBytes, options);
  if (body.kind === 'aborted') throw new Error('the client closed the connection before the body arrived');
  return settle(receiver, { headers: req.headers, rawBody: body.body }, options);
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(answer.body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  };
  // The rest of an oversized body was never read: close rather than drain it.
  const close = answer.outcome.status === 'rejected' && answer.outcome.verdict.reason === 'body_too_large';
  if (close) headers.connection = 'close';
  res.writeHead(answer.status, headers).end(payload);
  if (close) res.once('finish', () => res.socket?.destroySoon?.());
}

function fail(error: unknown, res: ServerResponse, next: Next | undefined, options: NodeMiddlewareOptions): void {
  if (res.destroyed) return;
  if (next) return next(error);
  (options.onError ?? ((e: unknown) => console.error('gemwh: webhook handler failed:', e)))(error);
  if (res.headersSent) return;
  const payload = JSON.stringify(HANDLER_FAILED);
  res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) }).end(payload);
}
