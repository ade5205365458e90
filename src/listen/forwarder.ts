import type { Dispatcher } from 'undici';
// How much of the app's answer is kept for display and the journal: the same as replay shows.
import { RESPONSE_START_BYTES } from '../replay/http-post.js';

/**
 * Sends deliveries on to the user's app: the body byte for byte, the original headers (the
 * signature headers included, so the app can verify on its own) minus the hop-by-hop ones.
 * Redirects are not followed: a webhook receiver that redirects is misconfigured, and following
 * would re-post the body somewhere the user did not name.
 */

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the ones undici derives itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  // Recomputed from the body by undici: the value is the same, and a mismatch would abort the request.
  'content-length',
  // undici refuses it; a forwarder never waits for 100-continue anyway.
  'expect',
  'http2-settings',
]);

export type HeaderPairs = Array<[string, string]>;

/** The headers to forward: hop-by-hop ones (and any the Connection header names) dropped, `extra` set last. */
export function forwardHeaders(received: readonly (readonly [string, string])[], extra: readonly (readonly [string, string])[] = []): HeaderPairs {
  const namedByConnection = new Set<string>();
  for (const [name, value] of received) {
    if (name.toLowerCase() === 'connection') {
      for (const token of value.split(',')) namedByConnection.add(token.trim().toLowerCase());
    }
  }
  const overridden = new Set(extra.map(([name]) => name.toLowerCase()));
  const result: HeaderPairs = [];
  for (const [name, value] of received) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || namedByConnection.has(lower) || overridden.has(lower)) continue;
    result.push([name, value]);
  }
  for (const [name, value] of extra) result.push([name, value]);
  return result;
}


export interface SendResult {
  ok: boolean;
  status?: number;
  error?: string;
  latencyMs: number;
  responseStart?: string;
  /** Whether trying again later can help (no answer, 5xx, 408/425/429). */
  retryable: boolean;
}

export interface HttpSender {
  send(url: URL, headers: readonly (readonly [string, string])[], body: Buffer): Promise<SendResult>;
  /** Aborts what is in flight and closes every connection. */
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  /** Whole-request deadline: connect, send, answer headers and the start of the body. */
  timeoutMs: number;
  /** Requests in flight at once, over all targets; more wait their turn. */
  concurrency: number;
  now?: () => number;
}

/** Loads undici on first use, so that `gemwh --help` and commands that never forward do not pay for it. */
export async function createHttpSender(options: HttpSenderOptions): Promise<HttpSender> {
  const { Agent } = await import('undici');
  const agent = new Agent({
    connections: options.concurrency,
    pipelining: 1,
    // Our own deadline (below) covers the whole exchange; these only stop undici's larger defaults.
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: Math.min(options.timeoutMs, 10_000) },
  });
  const now = options.now ?? (() => performance.now());
  let closing = false;
  // Aborted together by close(); cheaper than every request listening on a shared signal.
  const active = new Set<AbortController>();
  const slots = new Semaphore(options.concurrency);

  async function send(url: URL, headers: readonly (readonly [string, string])[], body: Buffer): Promise<SendResult> {
    await slots.acquire();
    const started = now();
    // One timer per request; AbortSignal.timeout + AbortSignal.any cost more on the hot path.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
    active.add(deadline);
    try {
      const response = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: headers.flat(),
        body,
        signal: deadline.signal,
      });
      const responseStart = await readStart(response.body, response.headers['content-length']);
      const status = response.statusCode;
      const ok = status >= 200 && status < 300;
      return {
        ok,
        status,
        latencyMs: round(now() - started),
        responseStart,
        retryable: !ok && (status >= 500 || status === 408 || status === 425 || status === 429),
      };
    } catch (error) {
      return { ok: false, error: describeSendError(error, deadline.signal, closing, options.timeoutMs), latencyMs: round(now() - started), retryable: true };
    } finally {
      clearTimeout(timer);
      active.delete(deadline);
      slots.release();
    }
  }

  return {
    send,
    async close() {
      closing = true;
      for (const controller of active) controller.abort();
      await agent.destroy().catch(() => {});
    },
  };
}

/** Answers longer than this are cut off (closing that connection) instead of read to the end. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

async function readStart(body: Dispatcher.ResponseData['body'], contentLength: string | string[] | undefined): Promise<string> {
  const declared = typeof contentLength === 'string' ? Number(contentLength) : Number.NaN;
  if (declared <= DRAIN_LIMIT_BYTES) {
    // The common case (a short answer of known length): one read, no stream iterator.
    return cutText(Buffer.from(await body.arrayBuffer()));
  }
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (kept < RESPONSE_START_BYTES) {
      chunks.push(chunk);
      kept += chunk.length;
    }
    total += chunk.length;
    // Reading a short answer to its end keeps the connection for the next forward; a huge one
    // is not worth it (leaving the loop destroys the body, and undici closes that connection).
    if (total > DRAIN_LIMIT_BYTES) break;
  }
  return cutText(Buffer.concat(chunks));
}

function cutText(bytes: Buffer): string {
  if (bytes.length <= RESPONSE_START_BYTES) return bytes.toString('utf8');
  // A multi-byte character cut at the end would show as U+FFFD.
  return bytes.subarray(0, RESPONSE_START_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
}

function describeSendError(error: unknown, deadline: AbortSignal, closing: boolean, timeoutMs: number): string {
  if (closing) return 'aborted: the listener is stopping';
  if (deadline.aborted) return `timed out after ${timeoutMs} ms`;
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the app running?)';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the app closed the connection';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timed out';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `timed out after ${timeoutMs} ms`;
    default:
      return err.cause?.message ?? err.message ?? String(error);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

class Semaphore {
  private available: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.available = Math.max(1, size);
  }

  acquire(): Promise<void> {
    if (this.available > 0) {
      this.available -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.available += 1;
  }
}

export interface RetryPolicy {
  /** Delay before the second attempt; doubles each time. */
  initialMs: number;
  /** The longest delay between two attempts. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 1000, maxMs: 60_000 };

/** Delay after failed attempt number `attempt` (1-based): initial × 2^(attempt-1), capped. */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
}

export interface ForwardJob {
  /** Journal key of the delivery. */
  key: string;
  seq: number;
  webhookId?: string;
  url: URL;
  headers: HeaderPairs;
  body: Buffer;
  /** Number of the next attempt (1 for a fresh delivery; continues for resends and resumes). */
  attempt: number;
}

export interface AttemptReport {
  job: ForwardJob;
  attempt: number;
  /** Epoch ms at the start of the attempt. */
  at: number;
  result: SendResult;
  /** Epoch ms of the retry, when one is scheduled. */
  nextAttemptAt?: number;
}

export interface ForwardQueueOptions {
  sender: HttpSender;
  retry: RetryPolicy;
  /** Epoch ms. */
  now: () => number;
  onAttempt: (report: AttemptReport) => void;
}

/**
 * Runs forward jobs and retries failed ones with exponential backoff for as long as the listener
 * runs. A job left pending at stop is not lost: the journal has the delivery and no successful
 * forward record, so the next start resumes it.
 */
export class ForwardQueue {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: ForwardQueueOptions) {}

  /** Jobs in flight or waiting for a retry. */
  get pending(): number {
    return this.inFlight.size + this.timers.size;
  }

  enqueue(job: ForwardJob): void {
    if (this.stopped) return;
    const run = this.run(job).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Cancels scheduled retries and waits up to `graceMs` for attempts in flight. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  /** Settles once no attempt is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async run(job: ForwardJob): Promise<void> {
    const attempt = job.attempt;
    const at = this.options.now();
    const result = await this.options.sender.send(job.url, job.headers, job.body);
    let nextAttemptAt: number | undefined;
    if (!result.ok && result.retryable && !this.stopped) {
      const delay = retryDelay(this.options.retry, attempt);
      nextAttemptAt = this.options.now() + delay;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.enqueue({ ...job, attempt: attempt + 1 });
      }, delay);
      this.timers.add(timer);
    }
    this.options.onAttempt({ job, attempt, at, result, nextAttemptAt });
  }
}
