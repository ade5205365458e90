import type { Agent, Dispatcher } from 'undici';
import { aborted, classifySendError, timedOut, type SendFailure } from './send-errors.js';

/**
 * The one way gemwh POSTs a delivery to a receiver (listen's forwards, the emulator's
 * deliveries, replay, conformance): the body byte for byte and the header names as given, no
 * redirect followed (a 3xx is an answer like any other: a webhook sender that follows one
 * re-posts the body somewhere nobody named), one deadline for the whole exchange, and only the
 * start of the answer kept, so a receiver that streams megabytes back cannot fill memory.
 *
 * Each send is one undici `dispatch` with a small handler, not `request()`: the higher-level API
 * costs an AsyncResource, an AbortSignal with its listener and a Readable per request, which made
 * a forward cost several times what the app's side of it does (listen bench).
 */

/** How much of the answer is kept for display and the journal. */
export const RESPONSE_START_BYTES = 1024;

/** Answers longer than this are cut off (closing that connection) instead of read to the end. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

export interface SendResult {
  /** Absent when no HTTP answer arrived. */
  status?: number;
  latencyMs: number;
  /** The first bytes of the answer body as text. */
  responseStart: string;
  /** The Location header of a redirect, which is reported, never followed. */
  location?: string;
  /** Why no answer arrived. */
  error?: SendFailure;
}

/** Header pairs keep their order, case and repeats; a record is taken in its key order. */
export type SendHeaders = readonly (readonly [string, string])[] | Readonly<Record<string, string>>;

export interface SenderOptions {
  /** Whole-exchange deadline: connect, send, the answer's headers and the part of its body that is read. */
  timeoutMs: number;
  /** Connections kept per origin; default: as many as there are requests in flight. */
  connections?: number;
  /**
   * Default true: sends share connections. False: a fresh connection per send, so a receiver
   * that crashes is neither masked by nor blamed on a reused one (conformance).
   */
  keepAlive?: boolean;
  /**
   * Accept a certificate nobody vouches for (a local receiver's self-signed one); the connection
   * is still encrypted, but anyone in between could pose as the receiver.
   */
  insecure?: boolean;
}

export interface Sender {
  send(url: URL, headers: SendHeaders, body: Buffer | string, options?: { signal?: AbortSignal }): Promise<SendResult>;
  /** Ends every send in flight (as `aborted: <reason>`) and closes every connection. */
  close(reason?: string): Promise<void>;
}

/** Loads undici on first use, so commands that never send do not pay for it at start-up. */
export async function createSender(options: SenderOptions): Promise<Sender> {
  const { Agent } = await import('undici');
  return senderOn(createAgent(Agent, options), options);
}

/** The agent factory: pooling, the deadline as undici's own limits, and --insecure. */
function createAgent(AgentClass: typeof Agent, options: SenderOptions): Agent {
  return new AgentClass({
    ...(options.connections !== undefined ? { connections: options.connections } : {}),
    pipelining: 1,
    // The exchange's own deadline covers it all; these only stop undici's far larger defaults.
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: Math.min(options.timeoutMs, 10_000), rejectUnauthorized: options.insecure !== true },
  });
}

function senderOn(agent: Agent, options: SenderOptions): Sender {
  const reset = options.keepAlive === false;
  let closedBecause: string | undefined;
  const active = new Set<Exchange>();
  // A URL's origin and path are computed strings: the few target URLs are reused for every send.
  const targets = new WeakMap<URL, { origin: string; path: string }>();

  function send(url: URL, headers: SendHeaders, body: Buffer | string, sendOptions: { signal?: AbortSignal } = {}): Promise<SendResult> {
    return new Promise<SendResult>((resolve) => {
      const signal = sendOptions.signal;
      const exchange = new Exchange(url, options.timeoutMs, (result) => {
        active.delete(exchange);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      });
      const onAbort = () => exchange.abort(aborted('interrupted'));
      if (closedBecause !== undefined) return exchange.abort(aborted(closedBecause));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      active.add(exchange);
      try {
        let target = targets.get(url);
        if (!target) targets.set(url, (target = { origin: url.origin, path: `${url.pathname}${url.search}` }));
        agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers: flatten(headers), body, reset }, exchange);
      } catch (error) {
        exchange.onResponseError(undefined, error as Error);
      }
    });
  }

  return {
    send,
    async close(reason = 'the sender was closed') {
      closedBecause ??= reason;
      for (const exchange of active) exchange.abort(aborted(reason));
      await agent.destroy().catch(() => {});
    },
  };
}

function flatten(headers: SendHeaders): string[] {
  const flat: string[] = [];
  if (Array.isArray(headers)) {
    for (const [name, value] of headers as readonly (readonly [string, string])[]) flat.push(name, value);
  } else {
    for (const [name, value] of Object.entries(headers)) flat.push(name, value);
  }
  return flat;
}

/**
 * One send as an undici dispatch handler: keeps the first RESPONSE_START_BYTES of the answer,
 * reads a short answer to its end (so the connection serves the next send) and cuts off a long
 * one, and settles exactly once: on the end of the answer, an error, the deadline or an abort.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private controller: Dispatcher.DispatchController | undefined;
  /** Set once the exchange must stop; applied as soon as undici hands a controller. */
  private stopReason: Error | undefined;
  private status = 0;
  private location: string | undefined;
  private chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;
  private settled = false;

  constructor(
    private readonly url: URL,
    private readonly timeoutMs: number,
    private readonly done: (result: SendResult) => void,
  ) {
    this.timer = setTimeout(() => this.abort(timedOut({ url, timeoutMs })), timeoutMs);
  }

  abort(failure: SendFailure): void {
    if (this.settled) return;
    this.stopReason ??= new Error(failure.message);
    // Whether or not undici has started it (a queued one is aborted once it starts), the outcome
    // is known now; settled first, so the error undici reports for the abort is not taken for it.
    this.settle({ latencyMs: this.elapsed(), responseStart: '', error: failure });
    this.controller?.abort(this.stopReason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.stopReason) controller.abort(this.stopReason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx informational answers come before the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    const location = headers.location;
    if (statusCode >= 300 && statusCode < 400 && location !== undefined) this.location = Array.isArray(location) ? location[0] : location;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.kept < RESPONSE_START_BYTES) {
      this.chunks.push(chunk);
      this.kept += chunk.length;
    }
    this.total += chunk.length;
    if (this.total > DRAIN_LIMIT_BYTES) {
      // A huge answer is not worth reading: what is kept is enough, and undici closes the connection.
      this.answered();
      controller.abort(new Error('answer cut off'));
    }
  }

  onResponseEnd(): void {
    this.answered();
  }

  onResponseError(_controller: unknown, error: Error): void {
    if (this.settled) return;
    // The status line counts even when the body is cut short.
    if (this.status !== 0) return this.answered();
    this.settle({ latencyMs: this.elapsed(), responseStart: '', error: classifySendError(error, { url: this.url, timeoutMs: this.timeoutMs }) });
  }

  private answered(): void {
    if (this.settled) return;
    const result: SendResult = {
      status: this.status,
      latencyMs: this.elapsed(),
      responseStart: cutText(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)),
    };
    if (this.location !== undefined) result.location = this.location;
    this.settle(result);
  }

  private settle(result: SendResult): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.chunks = [];
    this.done(result);
  }

  private elapsed(): number {
    return Math.round((performance.now() - this.started) * 10) / 10;
  }
}

function cutText(bytes: Buffer): string {
  if (bytes.length <= RESPONSE_START_BYTES) return bytes.toString('utf8');
  // A multi-byte character cut at the end would show as U+FFFD.
  return bytes.subarray(0, RESPONSE_START_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
}
