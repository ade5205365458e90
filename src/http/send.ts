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
  /**
   * The same send without a promise: `done` is called exactly once, never synchronously from
   * inside this call. `headers` are flat name, value pairs as undici takes them (a forwarder
   * builds them once per delivery). For a caller that sends thousands a second (listen's forwards).
   */
  dispatch(url: URL, headers: readonly string[], body: Buffer | string, done: (result: SendResult) => void): void;
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
  const deadlines = new Deadlines();
  // A URL's origin and path are computed strings: the few target URLs are reused for every send.
  const targets = new WeakMap<URL, { origin: string; path: string }>();

  function dispatch(url: URL, headers: readonly string[], body: Buffer | string, done: (result: SendResult) => void): Exchange {
    const exchange = new Exchange(url, options.timeoutMs, deadlines, done);
    if (closedBecause !== undefined) {
      // Not from inside this call: the caller may not be ready for its answer yet.
      const reason = closedBecause;
      queueMicrotask(() => exchange.abort(aborted(reason)));
      return exchange;
    }
    deadlines.add(exchange);
    try {
      let target = targets.get(url);
      if (!target) targets.set(url, (target = { origin: url.origin, path: `${url.pathname}${url.search}` }));
      agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers: headers as string[], body, reset }, exchange);
    } catch (error) {
      queueMicrotask(() => exchange.onError(error as Error));
    }
    return exchange;
  }

  function send(url: URL, headers: SendHeaders, body: Buffer | string, sendOptions: { signal?: AbortSignal } = {}): Promise<SendResult> {
    return new Promise<SendResult>((resolve) => {
      const signal = sendOptions.signal;
      if (signal?.aborted) return resolve({ latencyMs: 0, responseStart: '', error: aborted('interrupted') });
      const onAbort = () => exchange.abort(aborted('interrupted'));
      const exchange = dispatch(url, flatten(headers), body, (result) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  return {
    send,
    dispatch: (url, headers, body, done) => void dispatch(url, headers, body, done),
    async close(reason = 'the sender was closed') {
      closedBecause ??= reason;
      deadlines.abortAll(aborted(reason));
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
 * The deadlines of one sender's exchanges, without a timer per exchange. Every exchange of a
 * sender has the same time limit, so they expire in the order they started: a FIFO with one
 * timer, armed for the oldest unsettled exchange, does what a setTimeout per send did. Settled
 * exchanges leave from the front as soon as they are there (they settle nearly in order), so the
 * FIFO holds about as many as are in flight and keeps nothing alive for the whole time limit.
 * The timer is unref'd: an exchange in flight keeps the process alive by its socket, as before.
 */
class Deadlines {
  private queue: Exchange[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  add(exchange: Exchange): void {
    this.queue.push(exchange);
    if (this.timer === undefined) this.arm(exchange.deadline);
  }

  /** Called when an exchange settles: drops the settled ones from the front. */
  settled(): void {
    const queue = this.queue;
    let head = this.head;
    while (head < queue.length && queue[head]!.isSettled) queue[head++] = undefined as unknown as Exchange;
    if (head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (head >= 1024 && head * 2 >= queue.length) {
      this.queue = queue.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }

  /** Every exchange not settled yet, oldest first. */
  abortAll(failure: SendFailure): void {
    const pending = this.queue.slice(this.head);
    for (const exchange of pending) exchange.abort(failure);
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(1, at - performance.now()));
    this.timer.unref();
  }

  private expire(): void {
    // this.timer stays set meanwhile: a send started from a callback of an expiring one does not arm a second timer.
    const now = performance.now();
    while (this.head < this.queue.length) {
      const oldest = this.queue[this.head]!;
      // Node's timers count whole milliseconds and may fire a fraction early: re-armed then.
      if (oldest.deadline > now) break;
      oldest.expire();
      this.settled();
    }
    this.timer = undefined;
    if (this.head < this.queue.length) this.arm(this.queue[this.head]!.deadline);
  }
}

/**
 * One send as an undici dispatch handler: keeps the first RESPONSE_START_BYTES of the answer,
 * reads a short answer to its end (so the connection serves the next send) and cuts off a long
 * one, and settles exactly once: on the end of the answer, an error, the deadline or an abort.
 *
 * It is a handler of undici's own (onConnect/onHeaders/…) interface, not the newer
 * onRequestStart/onResponseStart one: for that undici wraps every request in an adapter and a
 * controller and parses the answer's headers (and trailers) into objects, which a sender that
 * reads one header of a redirect does not need.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  readonly deadline: number;
  private abortRequest: ((reason?: Error) => void) | undefined;
  /** Set once the exchange must stop; applied as soon as undici connects it. */
  private stopReason: Error | undefined;
  private status = 0;
  private location: string | undefined;
  private chunks: Buffer[] | undefined;
  private kept = 0;
  private total = 0;
  isSettled = false;

  constructor(
    private readonly url: URL,
    private readonly timeoutMs: number,
    private readonly deadlines: Deadlines,
    private readonly done: (result: SendResult) => void,
  ) {
    this.deadline = this.started + timeoutMs;
  }

  expire(): void {
    this.abort(timedOut({ url: this.url, timeoutMs: this.timeoutMs }));
  }

  abort(failure: SendFailure): void {
    if (this.isSettled) return;
    this.stopReason ??= new Error(failure.message);
    // Whether or not undici has started it (a queued one is aborted once it starts), the outcome
    // is known now; settled first, so the error undici reports for the abort is not taken for it.
    this.settle({ latencyMs: this.elapsed(), responseStart: '', error: failure });
    this.abortRequest?.(this.stopReason);
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abortRequest = abort;
    if (this.stopReason) abort(this.stopReason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    // 1xx informational answers come before the real one.
    if (statusCode < 200) return true;
    this.status = statusCode;
    if (statusCode >= 300 && statusCode < 400 && rawHeaders) {
      // Only a redirect's headers are looked at: its Location is reported.
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        const name = rawHeaders[i]!;
        if (name.length === 8 && name.toString().toLowerCase() === 'location') {
          this.location = rawHeaders[i + 1]!.toString();
          break;
        }
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.isSettled) return true;
    if (this.kept < RESPONSE_START_BYTES) {
      (this.chunks ??= []).push(chunk);
      this.kept += chunk.length;
    }
    this.total += chunk.length;
    if (this.total > DRAIN_LIMIT_BYTES) {
      // A huge answer is not worth reading: what is kept is enough, and undici closes the connection.
      this.answered();
      this.abortRequest?.(new Error('answer cut off'));
    }
    return true;
  }

  onComplete(): void {
    this.answered();
  }

  onError(error: Error): void {
    if (this.isSettled) return;
    // The status line counts even when the body is cut short.
    if (this.status !== 0) return this.answered();
    this.settle({ latencyMs: this.elapsed(), responseStart: '', error: classifySendError(error, { url: this.url, timeoutMs: this.timeoutMs }) });
  }

  private answered(): void {
    if (this.isSettled) return;
    const chunks = this.chunks;
    const result: SendResult = {
      status: this.status,
      latencyMs: this.elapsed(),
      responseStart: chunks === undefined ? '' : cutText(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
    };
    if (this.location !== undefined) result.location = this.location;
    this.settle(result);
  }

  private settle(result: SendResult): void {
    this.isSettled = true;
    this.chunks = undefined;
    this.deadlines.settled();
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
