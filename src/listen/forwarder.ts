import { realScheduler, type Scheduler } from '../deps.js';
import { createSender } from '../http/send.js';

/**
 * Sends deliveries on to the user's app: the body byte for byte, the original headers (the
 * signature headers included, so the app can verify on its own) minus the hop-by-hop ones.
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
  // This runs for every forwarded delivery: names are lowercased through a cache (senders repeat
  // the same few), and the sets are built only when there is something to put in them.
  let namedByConnection: Set<string> | undefined;
  for (const [name, value] of received) {
    if (name.length === 10 && lowercase(name) === 'connection') {
      namedByConnection ??= new Set();
      for (const token of value.split(',')) namedByConnection.add(token.trim().toLowerCase());
    }
  }
  const overridden = extra.length === 0 ? undefined : overriddenBy(extra);
  const result: HeaderPairs = [];
  for (const [name, value] of received) {
    const lower = lowercase(name);
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || namedByConnection?.has(lower) || overridden?.has(lower)) continue;
    result.push([name, value]);
  }
  for (const [name, value] of extra) result.push([name, value]);
  return result;
}

const lowercased = new Map<string, string>();

function lowercase(name: string): string {
  let lower = lowercased.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    // Bounded: a sender making up header names cannot grow it.
    if (lowercased.size >= 1024) lowercased.clear();
    lowercased.set(name, lower);
  }
  return lower;
}

/** The --header names, lowercased once per list (a session passes the same list every time). */
const overrides = new WeakMap<readonly (readonly [string, string])[], Set<string>>();

function overriddenBy(extra: readonly (readonly [string, string])[]): Set<string> {
  let names = overrides.get(extra);
  if (!names) overrides.set(extra, (names = new Set(extra.map(([name]) => name.toLowerCase()))));
  return names;
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
  /**
   * Sends one attempt; `done` is called once, never from inside this call. A callback, not a
   * promise: the queue sends one per delivery, and a promise chain per attempt was a good part of
   * a forward's cost (listen bench). `headers` are flat name, value pairs (see flatHeaders).
   */
  send(url: URL, headers: readonly string[], body: Buffer, done: (result: SendResult) => void): void;
  /** Aborts what is in flight and closes every connection. */
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  /** Whole-request deadline: connect, send, answer headers and the start of the body. */
  timeoutMs: number;
  /** Connections kept per target origin. ForwardQueue bounds the requests in flight over all targets. */
  concurrency: number;
  /** Accept a target's untrusted TLS certificate. */
  insecure?: boolean;
}

/** Forwards on the one sender (src/http/send.ts), in the words listen shows and journals. */
export async function createHttpSender(options: HttpSenderOptions): Promise<HttpSender> {
  const sender = await createSender({ timeoutMs: options.timeoutMs, connections: options.concurrency, insecure: options.insecure });
  return {
    send(url, headers, body, done) {
      sender.dispatch(url, headers, body, (result) => {
        if (result.error) {
          const { kind, message } = result.error;
          // listen's flag, named where it is the cure; the other hints are for commands that stop.
          return done({ ok: false, error: kind === 'tls' ? `${message}: for a local app, listen --insecure accepts it` : message, latencyMs: result.latencyMs, retryable: true });
        }
        const status = result.status ?? 0;
        const ok = status >= 200 && status < 300;
        done({
          ok,
          status,
          latencyMs: result.latencyMs,
          responseStart: result.responseStart,
          retryable: !ok && (status >= 500 || status === 408 || status === 425 || status === 429),
        });
      });
    },
    close: () => sender.close('the listener is stopping'),
  };
}

/** Header pairs as the flat name, value list undici sends. */
export function flatHeaders(headers: readonly (readonly [string, string])[]): string[] {
  const flat = new Array<string>(headers.length * 2);
  for (let i = 0; i < headers.length; i++) {
    flat[2 * i] = headers[i]![0];
    flat[2 * i + 1] = headers[i]![1];
  }
  return flat;
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
  /**
   * The headers of one attempt, made when it starts (a re-signed retry carries the time it is
   * sent); without it every attempt sends `headers`.
   */
  prepare?: (attempt: number) => PreparedSend;
  /** `headers` flattened for the sender, made on the first attempt that sends them as they are. */
  flat?: string[];
}

/** What one attempt sends, and what the journal and the events say about its signature. */
export interface PreparedSend {
  headers: HeaderPairs;
  /** How the signature headers went out: as received, or signed afresh with a current timestamp. */
  signature?: 'as_received' | 'resigned';
  /** The webhook-timestamp sent. */
  timestamp?: string;
  /** A dynamic delivery whose JWT had expired when it was sent: it cannot be signed afresh. */
  tokenExpired?: boolean;
}

export interface AttemptReport {
  job: ForwardJob;
  attempt: number;
  /** Epoch ms at the start of the attempt. */
  at: number;
  result: SendResult;
  /** Epoch ms of the retry, when one is scheduled. */
  nextAttemptAt?: number;
  /** What was sent, when the job prepares its attempts (its `headers` are not for the journal or events). */
  sent?: PreparedSend;
}

export interface ForwardQueueOptions {
  sender: HttpSender;
  retry: RetryPolicy;
  /** Attempts in flight at once, over all targets; more wait their turn, first come first served. */
  concurrency: number;
  /** Epoch ms. */
  now: () => number;
  /** Where retries wait; real timers without. */
  scheduler?: Scheduler;
  onAttempt: (report: AttemptReport) => void;
}

/**
 * Runs forward jobs and retries failed ones with exponential backoff for as long as the listener
 * runs. A job left pending at stop is not lost: the journal has the delivery and no successful
 * forward record, so the next start resumes it.
 */
export class ForwardQueue {
  /** Retries waiting for their time: the job each will run, and how to cancel its wait. */
  private readonly timers = new Map<ForwardJob, () => void>();
  /** Jobs in flight. */
  private readonly runningJobs = new Set<ForwardJob>();
  /** Jobs waiting for a slot: a FIFO read from `head` (Array#shift would copy a long backlog each time). */
  private waiting: ForwardJob[] = [];
  private head = 0;
  private running = 0;
  /** stop() and idle() waiting for the queue to have nothing in flight. */
  private drainWaiters: Array<() => void> = [];
  private stopped = false;
  private readonly concurrency: number;
  private held = 0;

  private readonly scheduler: Scheduler;

  constructor(private readonly options: ForwardQueueOptions) {
    this.concurrency = Math.max(1, options.concurrency);
    this.scheduler = options.scheduler ?? realScheduler;
  }

  /** Jobs in flight, waiting for a slot, or waiting for a retry. */
  get pending(): number {
    return this.running + (this.waiting.length - this.head) + this.timers.size;
  }

  /**
   * Body bytes the queue holds: jobs in flight, waiting for a slot or for a retry (a body shared
   * by jobs to several targets counts once per job).
   */
  get heldBytes(): number {
    return this.held;
  }

  enqueue(job: ForwardJob): void {
    if (this.stopped) return;
    this.held += job.body.length;
    this.schedule(job);
  }

  private schedule(job: ForwardJob): void {
    if (this.running < this.concurrency) this.start(job);
    else this.waiting.push(job);
  }

  /**
   * Cancels scheduled retries and takes no new jobs; jobs already queued keep going for up to
   * `graceMs`, then those not started yet are dropped (the journal has them as pending, and the
   * next start resumes them).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const [job, cancel] of this.timers) {
      cancel();
      this.held -= job.body.length;
    }
    this.timers.clear();
    if (this.running > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => this.drainWaiters.push(resolve)), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    for (let i = this.head; i < this.waiting.length; i++) this.held -= this.waiting[i]!.body.length;
    this.waiting = [];
    this.head = 0;
  }

  /**
   * What the queue holds of delivery `key` for `url`: 'retry' (a retry is scheduled), 'queued'
   * (in flight or waiting for a slot), or undefined. A scheduled retry is cancelled when
   * `cancelRetry` is set, so that a resend asked for meanwhile replaces it instead of adding a
   * second send. Looked up only on a user's resend: a scan is fine.
   */
  holds(key: string, url: URL, cancelRetry = false): 'retry' | 'queued' | undefined {
    const same = (job: ForwardJob) => job.key === key && job.url.href === url.href;
    for (const job of this.runningJobs) if (same(job)) return 'queued';
    for (let i = this.head; i < this.waiting.length; i++) if (same(this.waiting[i]!)) return 'queued';
    for (const [job, cancel] of this.timers) {
      if (!same(job)) continue;
      if (cancelRetry) {
        cancel();
        this.timers.delete(job);
        this.held -= job.body.length;
      }
      return 'retry';
    }
    return undefined;
  }

  /** Settles once no attempt is in flight (the ones started meanwhile included). */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** One attempt, on callbacks: no promise per attempt. */
  private start(job: ForwardJob): void {
    this.running += 1;
    this.runningJobs.add(job);
    const attempt = job.attempt;
    const at = this.options.now();
    const prepared = job.prepare?.(attempt);
    // The common attempt sends the delivery's headers as they are: flattened once per job.
    const flat = prepared === undefined || prepared.headers === job.headers ? (job.flat ??= flatHeaders(job.headers)) : flatHeaders(prepared.headers);
    this.options.sender.send(job.url, flat, job.body, (result) => this.finish(job, attempt, at, prepared, result));
  }

  private finish(job: ForwardJob, attempt: number, at: number, prepared: PreparedSend | undefined, result: SendResult): void {
    try {
      this.attempted(job, attempt, at, prepared, result);
    } finally {
      this.runningJobs.delete(job);
      this.running -= 1;
      this.next();
    }
  }

  private next(): void {
    while (this.running < this.concurrency && this.head < this.waiting.length) {
      const job = this.waiting[this.head]!;
      this.waiting[this.head] = undefined as unknown as ForwardJob;
      this.head += 1;
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.start(job);
    }
    if (this.running === 0 && this.drainWaiters.length > 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  private attempted(job: ForwardJob, attempt: number, at: number, prepared: PreparedSend | undefined, result: SendResult): void {
    let nextAttemptAt: number | undefined;
    if (!result.ok && result.retryable && !this.stopped) {
      const delay = retryDelay(this.options.retry, attempt);
      nextAttemptAt = this.options.now() + delay;
      const retry: ForwardJob = { ...job, attempt: attempt + 1 };
      this.timers.set(
        retry,
        this.scheduler.after(delay, () => {
          this.timers.delete(retry);
          if (!this.stopped) this.schedule(retry);
        }),
      );
    } else {
      this.held -= job.body.length;
    }
    // Its outcome is known: a resend asked for from here on is a new send, not this one.
    this.runningJobs.delete(job);
    this.options.onAttempt({ job, attempt, at, result, nextAttemptAt, sent: prepared });
  }
}
