import type { Scheduler } from '../deps.js';
import { UsageError } from '../errors.js';
import type { ListenEvent } from './events.js';
import { ForwardBacklog } from './forward-backlog.js';
import { refusalCause } from './forward-notes.js';
import { journaledSigning, prepareAttempt, signingNote, type SigningOptions } from './forward-signing.js';
import { ForwardQueue, createHttpSender, forwardHeaders, type AttemptReport, type HeaderPairs, type HttpSender, type RetryPolicy } from './forwarder.js';
import type { DeliveryCache, DeliveryState } from './delivery-cache.js';
import { JOURNAL_FORMAT_VERSION, decodeBody, type JournalOptions, type JournalRecord } from './journal-records.js';
import type { PendingForward } from './journal-scan.js';
import type { ForwardAttempt } from './session-types.js';

/**
 * The forwarding stage of a session: the queue and its sender, the backlog that parks what the
 * app cannot take yet, how each attempt is signed, journaled and reported, resends and resumes.
 */
export interface ForwardingOptions {
  /** Where a delivery of this type and path goes (`all`: ignoring --events, for a resend or resume). */
  route: (eventType: string | undefined, path: string, all: boolean) => readonly URL[];
  extraHeaders: HeaderPairs;
  timeoutMs: number;
  insecure?: boolean;
  concurrency: number;
  retry: RetryPolicy;
  backlogBytes: number;
  journal?: JournalOptions;
  signing: Omit<SigningOptions, 'now'>;
}

export interface ForwardingDeps {
  now: () => number;
  scheduler?: Scheduler;
  deliveries: DeliveryCache;
  emit: (event: ListenEvent) => void;
  warn: (message: string) => void;
  /** Appends to the journal; a failure is the session's to report. */
  journal: (record: JournalRecord) => void;
  /** The next request seq (a resumed delivery gets one of its own). */
  nextSeq: () => number;
  stopping: () => boolean;
}

export class Forwarding {
  private readonly queue: ForwardQueue;
  private readonly backlog: ForwardBacklog;
  private readonly signing: SigningOptions;

  static async start(options: ForwardingOptions, deps: ForwardingDeps): Promise<Forwarding> {
    const sender = await createHttpSender({ timeoutMs: options.timeoutMs, concurrency: options.concurrency, insecure: options.insecure });
    return new Forwarding(options, deps, sender);
  }

  private constructor(
    private readonly options: ForwardingOptions,
    private readonly deps: ForwardingDeps,
    private readonly sender: HttpSender,
  ) {
    this.signing = { ...options.signing, now: deps.now };
    this.queue = new ForwardQueue({
      sender,
      retry: options.retry,
      concurrency: options.concurrency,
      now: deps.now,
      scheduler: deps.scheduler,
      onAttempt: (report) => this.attempted(report),
    });
    this.backlog = new ForwardBacklog({
      budget: options.backlogBytes,
      journal: options.journal,
      heldBytes: () => this.queue.heldBytes,
      now: deps.now,
      warn: deps.warn,
      forwardParked: (pending, seq) => this.fromJournal(pending, seq),
      stopping: deps.stopping,
    });
  }

  /** Forwards a delivery just accepted to `urls`, or parks it when the queue is over budget. */
  forward(state: DeliveryState, urls: readonly URL[]): void {
    const headers = forwardHeaders(state.details.headers, this.options.extraHeaders);
    if (this.backlog.mustPark(state.body.length * urls.length)) this.backlog.park(state.key, state.details.seq);
    else this.enqueue(state, urls, headers);
  }

  /** A resend asked for by the user: ignores --events and the backlog; a waiting retry is sent now instead. */
  resend(state: DeliveryState): void {
    const urls = this.options.route(state.details.eventType, state.details.path, true);
    if (urls.length === 0) throw noForwardTarget();
    // A forward already on its way (in flight or waiting for a slot) is not sent twice.
    const due = urls.filter((url) => this.queue.holds(state.key, url, true) !== 'queued');
    this.enqueue(state, due, forwardHeaders(state.details.headers, this.options.extraHeaders));
  }

  /** Forwards what an earlier run left pending; warns about targets this run does not forward to. */
  resume(pending: readonly PendingForward[]): void {
    const unmatched: string[] = [];
    for (const one of pending) this.fromJournal(one, undefined, unmatched);
    if (unmatched.length > 0) this.deps.warn(unreachedTargets(unmatched));
  }

  /** Stops retries, lets what is in flight finish within the grace, closes the connections. */
  async stop(graceMs: number): Promise<void> {
    await this.queue.stop(graceMs);
    await this.sender.close();
    // Attempts aborted by close() report (and journal) before the journal closes.
    await this.queue.idle();
    const parked = this.backlog.size;
    if (parked > 0) {
      this.deps.warn(
        `${parked} parked deliver${parked === 1 ? 'y was' : 'ies were'} not forwarded yet; the journal has them, and the next listen on it resumes them`,
      );
    }
  }

  /** Closes the sender of a session that never started. */
  close(): Promise<void> {
    return this.sender.close();
  }

  private enqueue(state: DeliveryState, urls: readonly URL[], headers: HeaderPairs): void {
    for (const url of urls) {
      const attempts = (state.attempts ??= new Map());
      const attempt = (attempts.get(url.href) ?? 0) + 1;
      attempts.set(url.href, attempt);
      this.queue.enqueue({
        key: state.key,
        seq: state.details.seq,
        webhookId: state.details.webhookId,
        url,
        headers,
        body: state.body,
        attempt,
        prepare: (n) => prepareAttempt(state, headers, n, this.signing),
      });
    }
  }

  private attempted(report: AttemptReport): void {
    const { result, job, sent } = report;
    // An attempt cut short by stop() is not final: the next start resumes it.
    const final = result.ok || !result.retryable;
    const refusedFor = result.ok ? undefined : refusalCause(result.status, result.responseStart);
    // Built once, as literals in one shape (no spreads): the record kept for the detail view, the
    // journal line and the event each name their fields. Absent facts are undefined, which
    // JSON leaves out as it left out the missing keys before.
    const attempt: ForwardAttempt = {
      target: job.url.href,
      attempt: report.attempt,
      at: report.at,
      ok: result.ok,
      status: result.status,
      error: result.error,
      latencyMs: result.latencyMs,
      responseStart: result.responseStart,
      signature: sent?.signature,
      timestamp: sent?.timestamp,
      tokenExpired: sent?.tokenExpired,
      refusedFor,
    };
    this.deps.journal({
      kind: 'forward',
      v: JOURNAL_FORMAT_VERSION,
      key: job.key,
      webhookId: job.webhookId,
      target: attempt.target,
      attempt: attempt.attempt,
      at: attempt.at,
      ok: attempt.ok,
      status: attempt.status,
      error: attempt.error,
      latencyMs: attempt.latencyMs,
      responseStart: attempt.responseStart,
      signature: attempt.signature,
      timestamp: attempt.timestamp,
      tokenExpired: attempt.tokenExpired,
      refusedFor,
      final,
    });
    const state = this.deps.deliveries.get(job.seq);
    if (state) {
      state.details.forwards.push(attempt);
      // Retries count on inside the queue; a later resend continues from here.
      const attempts = (state.attempts ??= new Map());
      const before = attempts.get(attempt.target);
      if (before === undefined || before < report.attempt) attempts.set(attempt.target, report.attempt);
    }
    // Once the backlog has drained, deliveries parked meanwhile are read back from the journal.
    this.backlog.maybeUnpark();
    const at = this.deps.now();
    const note = signingNote(attempt);
    if (result.ok) {
      this.deps.emit({
        type: 'forwarded',
        at,
        seq: job.seq,
        target: attempt.target,
        attempt: report.attempt,
        status: result.status!,
        latencyMs: result.latencyMs,
        responseStart: result.responseStart ?? '',
        signature: note.signature,
        tokenExpired: note.tokenExpired,
        note: note.note,
      });
    } else {
      this.deps.emit({
        type: 'forward_failed',
        at,
        seq: job.seq,
        target: attempt.target,
        attempt: report.attempt,
        status: result.status,
        error: result.error,
        latencyMs: result.latencyMs,
        responseStart: result.responseStart,
        nextAttemptAt: report.nextAttemptAt,
        signature: note.signature,
        tokenExpired: note.tokenExpired,
        note: note.note,
        refusedFor,
      });
    }
  }

  /**
   * Forwards a delivery read back from the journal to the targets it still owes that this run
   * forwards to (the others go to `unmatched`). Without `parkedSeq` it is resumed from an earlier
   * run: it gets a new seq and a `resumed` event. A parked one keeps its seq and its kept state.
   */
  private fromJournal(pending: PendingForward, parkedSeq: number | undefined, unmatched: string[] = []): void {
    const record = pending.record;
    const current = new Map(this.options.route(record.eventType, record.path, true).map((u) => [u.href, u]));
    const urls: URL[] = [];
    for (const target of pending.targets.keys()) {
      const url = current.get(target);
      if (url) urls.push(url);
      else unmatched.push(target);
    }
    if (urls.length === 0) return;
    const headers = forwardHeaders(record.headers, this.options.extraHeaders);
    const kept = parkedSeq === undefined ? undefined : this.deps.deliveries.get(parkedSeq);
    if (kept && kept.key === record.key) {
      kept.waited = true;
      this.enqueue(kept, urls, headers);
      return;
    }
    const seq = parkedSeq ?? this.deps.nextSeq();
    const body = decodeBody(record);
    const state: DeliveryState = {
      key: record.key,
      body,
      bodyBytes: body.length,
      forwardable: true,
      attempts: new Map([...pending.targets].filter(([t]) => current.has(t))),
      signing: journaledSigning(record),
      waited: true,
      details: {
        seq,
        receivedAt: record.at,
        method: record.method,
        path: record.path,
        headers: record.headers,
        webhookId: record.webhookId,
        eventType: record.eventType,
        status: record.status,
        outcome: { kind: 'resumed' },
        targets: urls.map((u) => u.href),
        forwards: [],
      },
    };
    if (parkedSeq !== undefined) {
      this.enqueue(state, urls, headers);
      return;
    }
    this.deps.deliveries.keep(state);
    this.deps.emit({
      type: 'resumed',
      at: this.deps.now(),
      seq,
      receivedAt: record.at,
      webhookId: record.webhookId,
      eventType: record.eventType,
      targets: urls.map((u) => u.href),
    });
    // A resumed delivery may find the queue over budget too.
    if (this.backlog.mustPark(state.body.length * urls.length)) this.backlog.park(state.key, seq);
    else this.enqueue(state, urls, headers);
  }
}

export function noForwardTarget(): UsageError {
  return new UsageError('there is no forward target', { hint: 'Start listen with --forward TARGET (or --route).' });
}

/** The warning about journaled forwards to targets this run does not forward to (one entry per forward). */
export function unreachedTargets(unmatched: readonly string[]): string {
  const targets = [...new Set(unmatched)];
  return (
    `${unmatched.length} journaled forward(s) never reached ${targets.slice(0, 3).join(', ')}${targets.length > 3 ? ', …' : ''}, which this run does not forward to; ` +
    'run listen with that --forward again, or re-send them with `gemwh replay delivery`'
  );
}
