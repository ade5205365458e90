import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Deps } from '../deps.js';
import { GemwhError, NotFoundError, UsageError } from '../errors.js';
import { MAX_INSPECTED_NESTING, nestsDeeperThan } from '../core/json-nesting.js';
import type { HeaderBag, Rejected, Verdict } from '../core/verdict.js';
import type { ListenEvent, ReadyEvent, RejectedEvent } from './events.js';
import { sign } from '../core/standard-webhooks.js';
import {
  ForwardQueue,
  createHttpSender,
  forwardHeaders,
  type AttemptReport,
  type HeaderPairs,
  type HttpSender,
  type PreparedSend,
  type RetryPolicy,
} from './forwarder.js';
import { JOURNAL_FORMAT_VERSION, Journal, encodeBody, decodeBody, type JournalDeliveryRecord, type JournalOptions } from './journal.js';
import { makeJournalFolder } from './journal-check.js';
import { lockJournal, type JournalLock, type LockOwner } from './journal-lock.js';
import { scanJournal, type PendingForward } from './journal-scan.js';
import {
  applyLimits,
  clientErrorStatus,
  headerPairs,
  readBodyLimited,
  sendAnswer,
  sendOk,
  serverOptions,
  writeRawAnswer,
  type Answer,
  type ReceiverLimits,
} from './receiver.js';
import { createRouter, describeTargets, hasTargets, type RoutingOptions } from './routing.js';
import { TOKEN_EXPIRED_WORDS, refusalCause } from './forward-notes.js';
import { DELIVERY_DETAILS_KEPT, type DeliveryDetails, type ForwardAttempt, type ListenSession } from './session-types.js';

/** Checks one delivery. Static and dynamic verification (and the JWKS behind it) hide behind this. */
export type DeliveryVerifier = (input: { rawBody: Buffer; headers: HeaderBag; now: number }) => Verdict | Promise<Verdict>;

export interface ListenSessionOptions extends RoutingOptions, ReceiverLimits {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Only this path is accepted (others get 404); undefined accepts every path. */
  path?: string;
  verify: DeliveryVerifier;
  /** What `ready` reports as the verification setup (already redacted). */
  verifying: ReadyEvent['verifying'];
  /** `--header 'K: V'` pairs added to every forward. */
  extraHeaders: HeaderPairs;
  forwardTimeoutMs: number;
  /** Accept an https app's untrusted TLS certificate (a local self-signed one). */
  forwardInsecure?: boolean;
  forwardConcurrency: number;
  retry: RetryPolicy;
  /** Undefined: no journal (--no-journal): no crash safety, no resume, dedup only in memory. */
  journal?: JournalOptions;
  dedupCapacity: number;
  resume: { maxAgeMs: number; maxDeliveries: number };
  /** How long stop() waits for requests and forwards in flight. */
  stopGraceMs: number;
  /**
   * Body bytes the forward queue may hold in memory while the app is slow or down. Past it,
   * deliveries are only journaled and read back once the queue has drained (with a journal).
   */
  forwardBacklogBytes?: number;
  /** Who locks the journal against a second listener (the CLI passes its process); no lock without. */
  journalOwner?: LockOwner;
  /** Answers requests that are not deliveries (a tunnel's reachability probe) before anything else sees them. */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * Runs once the port is open, before `ready`: e.g. a tunnel started towards the port. What it
   * returns goes into `ready`; when it throws, the session closes and the start fails with it.
   */
  beforeReady?: (url: string) => Promise<Pick<ReadyEvent, 'publicUrl'> & { webhookIds?: string[] }>;
  /**
   * The currently valid secrets of the webhook a static delivery was verified with (by its
   * matched label): a forward that waited (a retry, a resend, a resumed or parked one) is signed
   * afresh with them, so an app that checks the timestamp still takes it. Without: as received.
   */
  signingSecrets?: (matchedLabel: string, delivery?: { body: Buffer; headers: HeaderPairs }) => readonly string[];
  /** --forward-as-received: every attempt carries the headers as received, even when re-signing is possible. */
  forwardAsReceived?: boolean;
}

export const LISTEN_DEFAULTS = {
  host: '127.0.0.1',
  port: 8787,
  forwardTimeoutMs: 30_000,
  forwardConcurrency: 16,
  dedupCapacity: 50_000,
  resume: { maxAgeMs: 24 * 60 * 60 * 1000, maxDeliveries: 10_000 },
  stopGraceMs: 5_000,
  forwardBacklogBytes: 64 * 1024 * 1024,
} as const;

/** Events kept for history(): enough for a consumer that subscribes late to catch up. */
const HISTORY_KEPT = 1000;
/** Bodies kept for getDelivery()/resend, counted in bytes so that 1 MiB deliveries cannot pile up. */
const DETAILS_BODY_BUDGET = 64 * 1024 * 1024;
/** getDelivery() shows at most this much of a body. */
const SNAPSHOT_BYTES = 256 * 1024;
/** (event type, path) pairs whose forward URLs are kept. */
const ROUTE_CACHE_LIMIT = 1024;
const EMPTY = Buffer.alloc(0);

interface DeliveryState {
  key: string;
  details: Omit<DeliveryDetails, 'body'>;
  body: Buffer;
  bodyBytes: number;
  forwardable: boolean;
  /** Attempts made so far per target URL, so that retries and resends count on; made on the first forward. */
  attempts?: Map<string, number>;
  /** How the delivery was signed, for signing a forward that waited afresh (or saying why it cannot be). */
  signing?: DeliverySigning;
  /** Forwarded after waiting (resumed from the journal, or parked and read back): even its first attempt is re-signed. */
  waited?: boolean;
}

type DeliverySigning =
  | { scheme: 'static'; matchedLabel: string }
  /** Epoch ms when the JWT expires, when it says. */
  | { scheme: 'dynamic'; expiresAt?: number };

interface SeenId {
  key: string;
  seq?: number;
  /**
   * Settles once the first delivery's journal line is written: a duplicate is acknowledged only
   * after that. `true` once it is (the promise is not kept for the tens of thousands remembered).
   */
  persisted: Promise<boolean> | true;
}

/**
 * Starts a listen session: opens the journal and resumes what an earlier run left pending, binds
 * the port, emits `ready`. Reusable for any front end (the CLI, `listen --emulator`, tests).
 */
export async function startListenSession(options: ListenSessionOptions, deps: Pick<Deps, 'clock' | 'random'>): Promise<ListenSession> {
  const now = () => deps.clock.now();
  const sessionId = `${now().toString(36)}-${deps.random.bytes(3).toString('hex')}`;
  const listeners = new Set<(event: ListenEvent) => void>();
  // What emit() walks: a copy made when a listener comes or goes, not one per event.
  let listenerList: Array<(event: ListenEvent) => void> = [];
  const history: ListenEvent[] = [];
  const deliveries = new Map<number, DeliveryState>();
  let retainedBodyBytes = 0;
  const seenIds = new Map<string, SeenId>();
  const route = createRouter(options);
  let seq = 0;
  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const inFlight = new Set<Promise<void>>();
  const requestBySocket = new WeakMap<Duplex, { seq: number; method: string; path: string; res: ServerResponse }>();
  let journalWarned = false;

  function emit(event: ListenEvent): void {
    history.push(event);
    // Trimmed in chunks: dropping one element per event would shift the whole array every time.
    if (history.length >= 2 * HISTORY_KEPT) history.splice(0, history.length - HISTORY_KEPT);
    const list = listenerList;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!(event);
      } catch {
        unsubscribe(list[i]!);
      }
    }
  }

  function unsubscribe(listener: (event: ListenEvent) => void): void {
    if (listeners.delete(listener)) listenerList = [...listeners];
  }

  function warn(message: string): void {
    emit({ type: 'warning', at: now(), message });
  }

  function rememberId(webhookId: string, entry: SeenId): void {
    seenIds.delete(webhookId);
    seenIds.set(webhookId, entry);
    if (seenIds.size > options.dedupCapacity) seenIds.delete(seenIds.keys().next().value!);
  }

  function keep(state: DeliveryState): void {
    deliveries.set(state.details.seq, state);
    retainedBodyBytes += state.body.length;
    for (const [oldSeq, old] of deliveries) {
      if (deliveries.size <= DELIVERY_DETAILS_KEPT && retainedBodyBytes <= DETAILS_BODY_BUDGET) break;
      if (oldSeq === state.details.seq) break;
      deliveries.delete(oldSeq);
      retainedBodyBytes -= old.body.length;
    }
  }

  // --- journal and resume --------------------------------------------------------------------

  let journal: Journal | undefined;
  let journalLock: JournalLock | undefined;
  let resumable: Awaited<ReturnType<typeof scanJournal>>['pending'] = [];
  if (options.journal) {
    await makeJournalFolder(options.journal.file);
    // Taken before the scan: a second listener must not resume what this one is about to.
    if (options.journalOwner) journalLock = lockJournal(options.journal.file, options.journalOwner, now());
    const journalOptions = options.journal;
    const scan = await (async () => {
      try {
        const found = await scanJournal(journalOptions.file, journalOptions.keep, {
          now: now(),
          dedupCapacity: options.dedupCapacity,
          maxAgeMs: options.resume.maxAgeMs,
          maxPending: options.resume.maxDeliveries,
        });
        journal = await Journal.open(journalOptions);
        return found;
      } catch (error) {
        journalLock?.release();
        throw error;
      }
    })();
    for (const { webhookId, key } of scan.recentIds) rememberId(webhookId, { key, persisted: true });
    resumable = scan.pending;
    if (scan.skippedLines > 0) {
      queueMicrotask(() => warn(`the journal has ${scan.skippedLines} unreadable line(s) (e.g. cut short by a crash); they were skipped`));
    }
  }

  function journalAppend(record: Parameters<Journal['append']>[0]): Promise<void> {
    if (!journal) return Promise.resolve();
    return journal.append(record);
  }

  function journalForward(job: AttemptReport['job'], attempt: ForwardAttempt, final: boolean): void {
    journalAppend({ kind: 'forward', v: JOURNAL_FORMAT_VERSION, key: job.key, webhookId: job.webhookId, ...attempt, final }).catch((error: unknown) =>
      journalFailed(error),
    );
  }

  function journalFailed(error: unknown): void {
    if (journalWarned) return;
    journalWarned = true;
    warn(`cannot write the journal ${options.journal?.file}: ${error instanceof Error ? error.message : String(error)}`);
  }

  // --- forwarding -----------------------------------------------------------------------------

  let sender: HttpSender | undefined;
  let queue: ForwardQueue | undefined;
  if (hasTargets(options)) {
    sender = await createHttpSender({ timeoutMs: options.forwardTimeoutMs, concurrency: options.forwardConcurrency, insecure: options.forwardInsecure });
    queue = new ForwardQueue({
      sender,
      retry: options.retry,
      concurrency: options.forwardConcurrency,
      now,
      onAttempt: (report) => {
        const { result } = report;
        // An attempt cut short by stop() is not final: the next start resumes it.
        const final = result.ok || !result.retryable;
        const attempt: ForwardAttempt = {
          target: report.job.url.href,
          attempt: report.attempt,
          at: report.at,
          ok: result.ok,
          status: result.status,
          error: result.error,
          latencyMs: result.latencyMs,
          responseStart: result.responseStart,
          ...report.sent,
        };
        const refusedFor = result.ok ? undefined : refusalCause(result.status, result.responseStart);
        if (refusedFor) attempt.refusedFor = refusedFor;
        journalForward(report.job, attempt, final);
        const state = deliveries.get(report.job.seq);
        if (state) {
          state.details.forwards.push(attempt);
          // Retries count on inside the queue; a later resend continues from here.
          const attempts = (state.attempts ??= new Map());
          attempts.set(attempt.target, Math.max(attempts.get(attempt.target) ?? 0, report.attempt));
        }
        // Once the backlog has drained, deliveries parked meanwhile are read back from the journal.
        maybeUnpark();
        if (result.ok) {
          emit({
            type: 'forwarded',
            at: now(),
            seq: report.job.seq,
            target: attempt.target,
            attempt: report.attempt,
            status: result.status!,
            latencyMs: result.latencyMs,
            responseStart: result.responseStart ?? '',
            ...signingNote(attempt),
          });
        } else {
          emit({
            type: 'forward_failed',
            at: now(),
            seq: report.job.seq,
            target: attempt.target,
            attempt: report.attempt,
            status: result.status,
            error: result.error,
            latencyMs: result.latencyMs,
            responseStart: result.responseStart,
            nextAttemptAt: report.nextAttemptAt,
            ...signingNote(attempt),
            ...(refusedFor ? { refusedFor } : {}),
          });
        }
      },
    });
  }

  // Where deliveries go depends only on their type and path: the URLs are parsed once per pair,
  // not per delivery. Bounded, since the path is the client's choice.
  const routeCache = new Map<string | undefined, Map<string, { urls: URL[]; hrefs: readonly string[] }>>();
  let routeCacheSize = 0;
  function routeCached(eventType: string | undefined, path: string): { urls: readonly URL[]; hrefs: readonly string[] } {
    let byPath = routeCache.get(eventType);
    let entry = byPath?.get(path);
    if (entry) return entry;
    const urls = route(eventType, path);
    entry = { urls, hrefs: urls.map((u) => u.href) };
    if (routeCacheSize >= ROUTE_CACHE_LIMIT) {
      routeCache.clear();
      routeCacheSize = 0;
      byPath = undefined;
    }
    if (!byPath) routeCache.set(eventType, (byPath = new Map()));
    byPath.set(path, entry);
    routeCacheSize += 1;
    return entry;
  }

  // --- forward backlog ------------------------------------------------------------------------
  // Every job in the forward queue holds its body, so an app that is down (or slower than
  // Gemini) for long would grow the queue without end. Past the budget a delivery is "parked":
  // it is journaled and acknowledged as always, but only its key is kept; once the queue has
  // drained to half the budget, parked deliveries are read back from the journal, oldest first.
  // If listen stops first, they are pending in the journal and the next start resumes them.
  const backlogBudget = options.forwardBacklogBytes ?? LISTEN_DEFAULTS.forwardBacklogBytes;
  /** Parked delivery keys → their seq, oldest first. */
  const parked = new Map<string, number>();
  let unparking = false;
  let backlogWarned = false;

  function mustPark(bytes: number): boolean {
    const over = queue!.heldBytes + bytes > backlogBudget;
    if (!journal) {
      if (over && !backlogWarned) {
        backlogWarned = true;
        warn(
          `the app is not keeping up: ${mebibytes(queue!.heldBytes)} of deliveries wait to be forwarded, all held in memory because ` +
            'there is no journal to park them in (--no-journal)',
        );
      }
      return false;
    }
    // Once some are parked, later ones queue up behind them: forwards keep the order of arrival.
    return over || parked.size > 0;
  }

  function park(state: DeliveryState): void {
    if (parked.size === 0 && !backlogWarned) {
      backlogWarned = true;
      warn(
        `the app is not keeping up: ${mebibytes(queue!.heldBytes)} of deliveries wait to be forwarded. New ones are journaled and ` +
          'forwarded once those are through (or by the next listen on this journal, if this one stops first)',
      );
    }
    parked.set(state.key, state.details.seq);
  }

  function maybeUnpark(): void {
    if (parked.size === 0 || unparking || stopping || !queue || queue.heldBytes > backlogBudget / 2) return;
    unparking = true;
    unpark()
      .catch((error: unknown) => warn(`cannot read parked deliveries back from the journal: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        unparking = false;
        maybeUnpark();
      });
  }

  async function unpark(): Promise<void> {
    const wanted = new Set(parked.keys());
    const scan = await scanJournal(options.journal!.file, options.journal!.keep, {
      now: now(),
      dedupCapacity: 0,
      maxAgeMs: Infinity,
      maxPending: Infinity,
      only: wanted,
      maxPendingBodyBytes: backlogBudget / 2,
    });
    if (stopping) return;
    for (const pending of scan.pending) {
      const parkedSeq = parked.get(pending.record.key);
      if (parkedSeq === undefined) continue;
      parked.delete(pending.record.key);
      forwardFromJournal(pending, parkedSeq);
    }
    if (scan.cutShort) return;
    // Whatever was wanted and not found is no longer in the journal (rotated away, or unreadable).
    const lost = [...wanted].filter((key) => parked.delete(key));
    if (lost.length > 0) {
      warn(
        `${lost.length} parked deliver${lost.length === 1 ? 'y is' : 'ies are'} no longer in the journal (rotated away?), so ` +
          `${lost.length === 1 ? 'it was' : 'they were'} not forwarded; raise --journal-max-size, or re-send from a kept copy with \`gemwh replay delivery\``,
      );
    }
    if (parked.size === 0) backlogWarned = false;
  }

  function forward(state: DeliveryState, urls: readonly URL[], headers: HeaderPairs): void {
    if (!queue) return;
    if (mustPark(state.body.length * urls.length)) {
      park(state);
      // Nothing may be in flight to call it later (one body larger than the whole budget).
      maybeUnpark();
      return;
    }
    enqueueForwards(state, urls, headers);
  }

  function enqueueForwards(state: DeliveryState, urls: readonly URL[], headers: HeaderPairs): void {
    if (!queue) return;
    for (const url of urls) {
      const attempts = (state.attempts ??= new Map());
      const attempt = (attempts.get(url.href) ?? 0) + 1;
      attempts.set(url.href, attempt);
      queue.enqueue({
        key: state.key,
        seq: state.details.seq,
        webhookId: state.details.webhookId,
        url,
        headers,
        body: state.body,
        attempt,
        prepare: (n) => prepareAttempt(state, headers, n),
      });
    }
  }

  /**
   * The headers of one forward attempt. A static delivery that waited (any attempt after the
   * first, or one resumed or read back from the backlog) gets a fresh webhook-timestamp and one
   * v1 signature per valid secret, as Gemini signs its own retries: an app that checks the
   * timestamp would otherwise refuse it for good once it is older than its tolerance.
   */
  function prepareAttempt(state: DeliveryState, headers: HeaderPairs, attempt: number): PreparedSend {
    const signing = state.signing;
    if (signing?.scheme === 'dynamic') {
      return signing.expiresAt !== undefined && signing.expiresAt <= now() ? { headers, tokenExpired: true } : { headers };
    }
    const asReceived: PreparedSend = { headers, signature: 'as_received', timestamp: headerValue(headers, 'webhook-timestamp') };
    if (signing === undefined || options.forwardAsReceived || (attempt === 1 && !state.waited)) return asReceived;
    const webhookId = headerValue(headers, 'webhook-id');
    // Resumed deliveries were verified by another run: let the verifier find their webhook again if need be.
    const secrets = options.signingSecrets?.(signing.matchedLabel, state.waited ? { body: state.body, headers } : undefined) ?? [];
    if (webhookId === undefined || secrets.length === 0) return asReceived;
    const timestamp = String(Math.floor(now() / 1000));
    const signature = secrets.map((secret) => sign(webhookId, timestamp, state.body, secret)).join(' ');
    return { headers: withSignature(headers, timestamp, signature), signature: 'resigned', timestamp };
  }

  // --- receiving ------------------------------------------------------------------------------

  /** What is known about a request before its body is read; shared by every way it can end. */
  interface RequestContext {
    res: ServerResponse;
    seq: number;
    at: number;
    key: string;
    method: string;
    path: string;
    headers: Array<[string, string]>;
    webhookIdHeader: string | undefined;
  }

  type RecordOutcome = Pick<
    JournalDeliveryRecord,
    'status' | 'outcome' | 'truncated' | 'reason' | 'explanation' | 'eventType' | 'scheme' | 'matched' | 'targets' | 'duplicateOf' | 'dedupKeys'
  >;

  /** The journal line of a request: every way a request ends shares all but the outcome fields. */
  function deliveryRecord(
    ctx: Omit<RequestContext, 'res'>,
    encoded: { encoding: JournalDeliveryRecord['encoding']; body: string },
    bodyBytes: number,
    webhookId: string | undefined,
    outcome: RecordOutcome,
  ): JournalDeliveryRecord {
    return {
      kind: 'delivery',
      v: JOURNAL_FORMAT_VERSION,
      session: sessionId,
      key: ctx.key,
      seq: ctx.seq,
      at: ctx.at,
      method: ctx.method,
      path: ctx.path,
      headers: ctx.headers,
      webhookId,
      encoding: encoded.encoding,
      body: encoded.body,
      bodyBytes,
      ...outcome,
    };
  }

  /** What the detail view and resend keep of a request, in the same three shapes as its journal line. */
  function requestState(
    ctx: RequestContext,
    body: Buffer,
    bodyBytes: number,
    forwardable: boolean,
    webhookId: string | undefined,
    eventType: string | undefined,
    status: number,
    outcome: DeliveryDetails['outcome'],
    targets: string[],
  ): DeliveryState {
    return {
      key: ctx.key,
      body,
      bodyBytes,
      forwardable,
      details: {
        seq: ctx.seq,
        receivedAt: ctx.at,
        method: ctx.method,
        path: ctx.path,
        headers: ctx.headers,
        webhookId,
        eventType,
        status,
        outcome,
        targets,
        forwards: [],
      },
    };
  }

  interface RefuseExtra {
    eventType?: string;
    verdict?: Rejected;
    truncated?: boolean;
    headers?: Record<string, string>;
    close?: boolean;
  }

  async function refuse(
    ctx: RequestContext,
    status: number,
    reason: RejectedEvent['reason'],
    explanation: string,
    diagnosis: string[],
    body: Buffer,
    bodyBytes: number,
    extra: RefuseExtra = {},
  ): Promise<void> {
    const encoded = encodeBody(body);
    const record = deliveryRecord(ctx, encoded, bodyBytes, ctx.webhookIdHeader, {
      truncated: extra.truncated,
      status,
      outcome: 'rejected',
      reason,
      explanation,
      eventType: extra.eventType,
      scheme: extra.verdict?.scheme,
    });
    await journalAppend(record).catch(journalFailed);
    keep(
      requestState(ctx, body, bodyBytes, false, ctx.webhookIdHeader, extra.eventType, status, {
        kind: 'rejected',
        reason,
        verdict: extra.verdict,
        explanation,
        diagnosis,
      }, []),
    );
    sendAnswer(ctx.res, { status, body: { error: reason, explanation, diagnosis }, headers: extra.headers, close: extra.close });
    emit({
      type: 'rejected',
      at: now(),
      seq: ctx.seq,
      status,
      reason,
      explanation,
      diagnosis,
      webhookId: ctx.webhookIdHeader,
      eventType: extra.eventType,
    });
  }

  function received(ctx: RequestContext, bodyBytes: number, eventType?: string): void {
    emit({ type: 'received', at: ctx.at, seq: ctx.seq, method: ctx.method, path: ctx.path, webhookId: ctx.webhookIdHeader, eventType, bodyBytes });
  }

  /** A request with an Expect header node:http does not understand (it handles 100-continue). */
  async function refuseExpectation(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = requestContext(req, res);
    received(ctx, 0);
    await refuse(ctx, 417, 'malformed_request', `The request expects "${single(req.headers.expect)}"; only "100-continue" is understood. Send it without that Expect header.`, [], EMPTY, 0, { close: true });
  }

  function requestContext(req: IncomingMessage, res: ServerResponse): RequestContext {
    const mySeq = ++seq;
    const method = req.method ?? '';
    const path = req.url ?? '/';
    requestBySocket.set(req.socket, { seq: mySeq, method, path, res });
    return {
      res,
      seq: mySeq,
      at: now(),
      key: `${sessionId}.${mySeq}`,
      method,
      path,
      headers: headerPairs(req.rawHeaders),
      webhookIdHeader: single(req.headers['webhook-id']),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = requestContext(req, res);
    const { seq: mySeq, method, path } = ctx;

    // Node would answer this itself with a bare 400 (requireHostHeader), invisible to the user.
    if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
      received(ctx, 0);
      await refuse(ctx, 400, 'malformed_request', 'The request has no Host header, which HTTP/1.1 requires.', [], EMPTY, 0, { close: true });
      return;
    }
    if (method !== 'POST') {
      received(ctx, 0);
      await refuse(ctx, 405, 'method_not_allowed', `Webhook deliveries are POST requests; this was ${method}.`, [], EMPTY, 0, {
        headers: { allow: 'POST' },
        close: true,
      });
      return;
    }
    if (options.path !== undefined && pathOnly(path) !== options.path) {
      received(ctx, 0);
      await refuse(ctx, 404, 'wrong_path', `This listener receives deliveries on ${options.path}, not ${pathOnly(path)}.`, [], EMPTY, 0, {
        close: true,
      });
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
      received(ctx, declared);
      await refuse(ctx, 413, 'body_too_large', tooLargeText(options.maxBodyBytes), [], EMPTY, declared, { truncated: true, close: true });
      return;
    }

    const read = await readBodyLimited(req, options.maxBodyBytes);
    if (read.kind === 'aborted') return;
    if (read.kind === 'too_large') {
      received(ctx, read.seenBytes);
      await refuse(ctx, 413, 'body_too_large', tooLargeText(options.maxBodyBytes), [], read.start, read.seenBytes, { truncated: true, close: true });
      return;
    }
    const body = read.body;
    // Decoded once: for the event type, and (when it is UTF-8) for the journal line.
    const utf8 = isUtf8(body);
    const text = utf8 ? body.toString('utf8') : undefined;
    const eventType = peekEventTypeOf(body, text);
    received(ctx, body.length, eventType);

    let verdict: Verdict;
    try {
      verdict = await options.verify({ rawBody: body, headers: req.headers, now: now() });
    } catch (error) {
      // A verifier bug must cost one request, not the listener.
      const message = error instanceof Error ? error.message : String(error);
      await refuse(ctx, 500, 'internal_error', `gemwh could not verify this delivery: ${message}`, [], body, body.length, { eventType });
      return;
    }
    if (!verdict.ok) {
      await refuse(ctx, statusForReason(verdict.reason), verdict.reason, verdict.explanation, verdict.diagnosis, body, body.length, {
        eventType,
        verdict,
      });
      return;
    }

    const webhookId = verdict.webhookId ?? ctx.webhookIdHeader;
    const dedupOn = dedupKeys(verdict, webhookId, single(req.headers['webhook-signature']));
    let seen: SeenId | undefined;
    for (const key of dedupOn) if ((seen = seenIds.get(key))) break;
    if (seen && (seen.persisted === true || (await seen.persisted))) {
      const record = deliveryRecord(ctx, encodeBody(body, text ?? null), body.length, webhookId, {
        status: 200,
        outcome: 'duplicate',
        eventType,
        scheme: verdict.scheme,
        duplicateOf: seen.key,
      });
      await journalAppend(record).catch(journalFailed);
      keep(requestState(ctx, body, body.length, true, webhookId, eventType, 200, { kind: 'duplicate', firstSeq: seen.seq }, []));
      sendOk(res, true);
      emit({ type: 'duplicate', at: now(), seq: mySeq, webhookId: webhookId!, eventType, firstSeq: seen.seq });
      return;
    }

    const routed = routeCached(eventType, path);
    const willForward = routed.urls.length > 0;
    const matched = verdict.scheme === 'static' ? { label: verdict.matched.label, inGrace: verdict.matched.inGrace } : undefined;
    const record = deliveryRecord(ctx, encodeBody(body, text ?? null), body.length, webhookId, {
      status: 200,
      outcome: 'verified',
      eventType,
      scheme: verdict.scheme,
      matched,
      // Serialized at once: the cached array is not kept by the record.
      targets: routed.hrefs as string[],
      dedupKeys: verdict.scheme === 'dynamic' ? dedupOn.filter((key) => key !== webhookId) : undefined,
    });
    let persisted: ((ok: boolean) => void) | undefined;
    let remembered: SeenId | undefined;
    if (dedupOn.length > 0) {
      remembered = { key: ctx.key, seq: mySeq, persisted: new Promise((resolve) => (persisted = resolve)) };
      for (const key of dedupOn) rememberId(key, remembered);
    }
    try {
      await journalAppend(record);
      persisted?.(true);
      if (remembered) remembered.persisted = true;
    } catch (error) {
      persisted?.(false);
      for (const key of dedupOn) seenIds.delete(key);
      journalFailed(error);
      // Not acknowledged: the sender will retry, and by then the disk may have room again.
      sendAnswer(res, {
        status: 503,
        body: { error: 'journal_unavailable', explanation: 'gemwh could not record this delivery, so it does not acknowledge it.', diagnosis: [] },
      });
      emit({
        type: 'rejected',
        at: now(),
        seq: mySeq,
        status: 503,
        reason: 'journal_unavailable',
        explanation: 'The journal could not be written; the delivery was not acknowledged.',
        diagnosis: [],
        webhookId,
        eventType,
      });
      return;
    }
    const state = requestState(ctx, body, body.length, true, webhookId, eventType, 200, { kind: 'verified', verdict, willForward }, routed.hrefs.slice());
    state.signing =
      verdict.scheme === 'static'
        ? { scheme: 'static', matchedLabel: verdict.matched.label }
        : { scheme: 'dynamic', expiresAt: typeof verdict.claims.exp === 'number' ? verdict.claims.exp * 1000 : undefined };
    keep(state);
    sendOk(res, false);
    emit({ type: 'verified', at: now(), seq: mySeq, webhookId, eventType, scheme: verdict.scheme, matched, willForward });
    if (willForward) forward(state, routed.urls, forwardHeaders(ctx.headers, options.extraHeaders));
  }

  const track = (work: Promise<void>, res: ServerResponse) => {
    const tracked = work
      .catch((error: unknown) => {
        warn(`internal error while handling a request: ${error instanceof Error ? error.message : String(error)}`);
        sendAnswer(res, { status: 500, body: { error: 'internal', explanation: 'gemwh failed to handle this request.', diagnosis: [] } });
      })
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  // Every request gets a JSON answer, a journal line and events, also those node:http would
  // answer on its own: no Host (requireHostHeader) and an Expect other than 100-continue.
  const server: Server = createServer({ ...serverOptions(options), requireHostHeader: false }, (req, res) => {
    if (options.intercept?.(req, res)) return;
    track(handle(req, res), res);
  });
  applyLimits(server, options);
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => track(refuseExpectation(req, res), res));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorStatus(error);
    // The last request on this socket, unless it was answered already (then the error is about a next one).
    const last = requestBySocket.get(socket);
    const current = last && !last.res.writableFinished ? last : undefined;
    if (!answer || current?.res.headersSent) {
      socket.destroy();
      return;
    }
    // A request whose body never completed was not reported as received yet.
    refuseOnSocket(socket, current?.seq ?? ++seq, current?.method ?? '', current?.path ?? '', [], answer.status, 'malformed_request', answer.explanation);
  });
  // Without a listener node:http closes a CONNECT's connection without a word.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const explanation = 'Webhook deliveries are POST requests; this was CONNECT (this is not a proxy).';
    refuseOnSocket(socket, ++seq, 'CONNECT', req.url ?? '', headerPairs(req.rawHeaders), 405, 'method_not_allowed', explanation);
  });

  /** refuse() for a request node:http hands over as a bare socket: answered, journaled and reported all the same. */
  function refuseOnSocket(
    socket: Duplex,
    mySeq: number,
    method: string,
    path: string,
    headers: Array<[string, string]>,
    status: number,
    reason: 'malformed_request' | 'method_not_allowed',
    explanation: string,
  ): void {
    const at = now();
    emit({ type: 'received', at, seq: mySeq, method, path, bodyBytes: 0 });
    writeRawAnswer(socket, status, { error: reason, explanation, diagnosis: [] });
    const ctx = { seq: mySeq, at, key: `${sessionId}.${mySeq}`, method, path, headers, webhookIdHeader: undefined };
    journalAppend(deliveryRecord(ctx, { encoding: 'utf8', body: '' }, 0, undefined, { status, outcome: 'rejected', reason, explanation })).catch(journalFailed);
    emit({ type: 'rejected', at, seq: mySeq, status, reason, explanation, diagnosis: [] });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, options));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await sender?.close();
    await journal?.close();
    journalLock?.release();
    throw error;
  });
  server.on('error', (error) => warn(`server error: ${error.message}`));

  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(address.address)}:${address.port}${options.path ?? '/'}`;

  async function stop(reason = 'stopped'): Promise<void> {
    if (stopping) return stopping;
    stopping = (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await waitAtMost(Promise.allSettled([...inFlight]), options.stopGraceMs);
      server.closeAllConnections();
      await closed;
      await queue?.stop(Math.min(2000, options.stopGraceMs));
      await sender?.close();
      // Attempts aborted by close() report (and journal) before the journal closes.
      await queue?.idle();
      if (parked.size > 0) {
        warn(`${parked.size} parked deliver${parked.size === 1 ? 'y was' : 'ies were'} not forwarded yet; the journal has them, and the next listen on it resumes them`);
      }
      await journal?.close().catch(journalFailed);
      journalLock?.release();
      emit({ type: 'stopped', at: now(), reason });
      listeners.clear();
      listenerList = [];
      resolveDone();
    })();
    return stopping;
  }

  const session: ListenSession = {
    url,
    done,
    on(listener) {
      listeners.add(listener);
      listenerList = [...listeners];
      return () => unsubscribe(listener);
    },
    history: () => history.slice(-HISTORY_KEPT),
    warn: (message) => emit({ type: 'warning', at: now(), message }),
    getDelivery(wanted) {
      const state = deliveries.get(wanted);
      if (!state) return undefined;
      const shown = state.body.subarray(0, SNAPSHOT_BYTES);
      const encoded = encodeBody(shown);
      return {
        ...state.details,
        forwards: [...state.details.forwards],
        body: { encoding: encoded.encoding, data: encoded.body, bytes: state.bodyBytes, truncated: state.bodyBytes > shown.length },
      };
    },
    async resend(wanted) {
      const state = deliveries.get(wanted);
      if (!state) throw new NotFoundError(`no delivery #${wanted} in this session`, { hint: 'Only recent deliveries are kept in memory; use `gemwh replay delivery` for older ones.' });
      if (!state.forwardable) throw new UsageError(`delivery #${wanted} was rejected, so it is not forwarded`);
      const urls = route(state.details.eventType, state.details.path, true);
      if (urls.length === 0) throw new UsageError('there is no forward target', { hint: 'Start listen with --forward TARGET (or --route).' });
      // A forward already on its way (in flight or waiting for a slot) is not sent twice; one
      // waiting for a retry is sent now instead of then.
      const due = urls.filter((url) => queue?.holds(state.key, url, true) !== 'queued');
      // Asked for by the user, one delivery: never parked.
      enqueueForwards(state, due, forwardHeaders(state.details.headers, options.extraHeaders));
    },
    stop,
  };

  let extras: Awaited<ReturnType<NonNullable<ListenSessionOptions['beforeReady']>>> = {};
  if (options.beforeReady) {
    try {
      extras = await options.beforeReady(url);
    } catch (error) {
      await stop('start-up failed');
      throw error;
    }
  }
  emit({
    type: 'ready',
    at: now(),
    url,
    ...(extras.publicUrl ? { publicUrl: extras.publicUrl } : {}),
    forwardTargets: describeTargets(options),
    verifying: extras.webhookIds ? { ...options.verifying, webhookIds: [...options.verifying.webhookIds, ...extras.webhookIds] } : options.verifying,
    journal: options.journal?.file,
  });

  resumePending();
  return session;

  function resumePending(): void {
    const unmatched: string[] = [];
    for (const pending of resumable) forwardFromJournal(pending, undefined, unmatched);
    resumable = [];
    if (unmatched.length > 0) {
      const targets = [...new Set(unmatched)];
      warn(
        `${unmatched.length} journaled forward(s) never reached ${targets.slice(0, 3).join(', ')}${targets.length > 3 ? ', …' : ''}, which this run does not forward to; ` +
          'run listen with that --forward again, or re-send them with `gemwh replay delivery`',
      );
    }
  }

  /**
   * Forwards a delivery read back from the journal to the targets it still owes that this run
   * forwards to (the others go to `unmatched`). Without `parkedSeq` it is resumed from an earlier
   * run: it gets a new seq and a `resumed` event. A parked one keeps its seq and its kept state.
   */
  function forwardFromJournal(pending: PendingForward, parkedSeq: number | undefined, unmatched: string[] = []): void {
    const record = pending.record;
    const current = new Map(route(record.eventType, record.path, true).map((u) => [u.href, u]));
    const urls: URL[] = [];
    for (const target of pending.targets.keys()) {
      const url = current.get(target);
      if (url) urls.push(url);
      else unmatched.push(target);
    }
    if (urls.length === 0) return;
    const headers = forwardHeaders(record.headers, options.extraHeaders);
    const kept = parkedSeq === undefined ? undefined : deliveries.get(parkedSeq);
    if (kept && kept.key === record.key) {
      kept.waited = true;
      enqueueForwards(kept, urls, headers);
      return;
    }
    const mySeq = parkedSeq ?? ++seq;
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
        seq: mySeq,
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
    if (parkedSeq === undefined) {
      keep(state);
      emit({
        type: 'resumed',
        at: now(),
        seq: mySeq,
        receivedAt: record.at,
        webhookId: record.webhookId,
        eventType: record.eventType,
        targets: urls.map((u) => u.href),
      });
      forward(state, urls, headers);
    } else {
      enqueueForwards(state, urls, headers);
    }
  }
}

/** How a journaled delivery was signed: the secret that matched (static), or when its JWT expires (dynamic). */
function journaledSigning(record: JournalDeliveryRecord): DeliverySigning | undefined {
  if (record.scheme === 'static') return record.matched ? { scheme: 'static', matchedLabel: record.matched.label } : undefined;
  if (record.scheme !== 'dynamic') return undefined;
  const token = record.headers.find(([name]) => name.toLowerCase() === 'webhook-signature')?.[1];
  try {
    const claims: unknown = JSON.parse(Buffer.from(token?.trim().split('.')[1] ?? '', 'base64url').toString('utf8'));
    const exp = (claims as { exp?: unknown }).exp;
    return { scheme: 'dynamic', expiresAt: typeof exp === 'number' ? exp * 1000 : undefined };
  } catch {
    return { scheme: 'dynamic' };
  }
}

/** The signature note of a forward event: present only when it says something. */
function signingNote(attempt: ForwardAttempt): { signature?: 'resigned'; tokenExpired?: true; note?: string } {
  if (attempt.tokenExpired) return { tokenExpired: true, note: TOKEN_EXPIRED_WORDS };
  return attempt.signature === 'resigned' ? { signature: 'resigned' } : {};
}

function headerValue(headers: HeaderPairs, lowerName: string): string | undefined {
  for (const [name, value] of headers) if (name.length === lowerName.length && name.toLowerCase() === lowerName) return value;
  return undefined;
}

/** The headers with webhook-timestamp and webhook-signature replaced in place (the order and the other headers kept). */
function withSignature(headers: HeaderPairs, timestamp: string, signature: string): HeaderPairs {
  return headers.map(([name, value]): [string, string] => {
    const lower = name.toLowerCase();
    if (lower === 'webhook-timestamp') return [name, timestamp];
    if (lower === 'webhook-signature') return [name, signature];
    return [name, value];
  });
}

/**
 * What a verified delivery is deduplicated on. The webhook-id header is not signed: a captured
 * dynamic delivery re-sent under a new id would pass as new. So a JWT also counts by its `jti`
 * (the same event re-signed for a retry keeps it) and by the token itself (one without a jti).
 */
function dedupKeys(verdict: Exclude<Verdict, Rejected>, webhookId: string | undefined, signatureHeader: string | undefined): string[] {
  const keys = webhookId === undefined ? [] : [webhookId];
  if (verdict.scheme !== 'dynamic') return keys;
  const jti = verdict.claims.jti;
  if (typeof jti === 'string' && jti !== '') keys.push(`jwt jti ${jti}`);
  const token = signatureHeader?.trim() ?? '';
  const tokenSignature = token.slice(token.lastIndexOf('.') + 1);
  if (tokenSignature !== '') keys.push(`jwt signature ${tokenSignature}`);
  return keys;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function pathOnly(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
}

function tooLargeText(max: number): string {
  return `The body is larger than ${max} bytes (--max-body); the rest was not read.`;
}

/** The unverified `type` of a JSON body, for display and routing; undefined when there is none. */
export function peekEventType(body: Buffer): string | undefined {
  return peekEventTypeOf(body, undefined);
}

/** peekEventType, given the body already decoded as UTF-8 when it is. */
function peekEventTypeOf(body: Buffer, text: string | undefined): string | undefined {
  if (body.length === 0 || body.length > 2 * 1024 * 1024) return undefined;
  // Before any signature is checked: a deeply nested body would cost far more to parse than it is long.
  if (nestsDeeperThan(body, MAX_INSPECTED_NESTING)) return undefined;
  try {
    const parsed: unknown = JSON.parse(text ?? body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { type?: unknown }).type === 'string') {
      return (parsed as { type: string }).type;
    }
  } catch {
    // Not JSON: verified or not, it simply has no type.
  }
  return undefined;
}

/**
 * The status a verification failure is answered with. Malformed headers are the sender's bug
 * (400); a signature or token that does not check out is 401; gemwh's own trouble fetching keys
 * is 503, so that Gemini retries once it is fixed.
 */
export function statusForReason(reason: Rejected['reason']): number {
  switch (reason) {
    case 'missing_header':
    case 'bad_timestamp':
    case 'malformed_signature':
    case 'bad_jwt':
    case 'unsupported_alg':
      return 400;
    case 'too_old':
    case 'too_new':
    case 'no_matching_signature':
    case 'unknown_kid':
    case 'jwt_expired':
    case 'jwt_claim_mismatch':
      return 401;
    case 'bad_secret':
      return 500;
    case 'jwks_unavailable':
      return 503;
  }
}

function listenError(error: NodeJS.ErrnoException, options: Pick<ListenSessionOptions, 'host' | 'port'>): GemwhError {
  if (error.code === 'EADDRINUSE') {
    return new UsageError(`port ${options.port} on ${options.host} is already in use`, {
      hint: 'Choose another with --port N, or --port 0 for any free port.',
    });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new UsageError(`cannot listen on ${options.host}: no such local address`, { hint: 'Use --host 127.0.0.1 (the default) or an address of this machine.' });
  }
  if (error.code === 'EACCES') {
    return new UsageError(`not allowed to listen on port ${options.port}`, { hint: 'Ports below 1024 need privileges; pick a higher --port.' });
  }
  return new GemwhError(`cannot listen on ${options.host}:${options.port}: ${error.message}`);
}

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
