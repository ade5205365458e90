import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Deps } from '../deps.js';
import { NotFoundError, UsageError } from '../errors.js';
import type { HeaderBag, Verdict } from '../core/verdict.js';
import {
  CONNECT_REFUSAL,
  NO_BODY,
  clientErrorRefusal,
  decide,
  journalUnavailable,
  peekEventType,
  refusalBeforeBody,
  tooLarge,
  unmetExpectation,
  verificationFailed,
  verifierFailed,
  type BodyFacts,
  type DedupFacts,
  type Judgement,
  type Outcome,
  type Refusal,
  type RequestFacts,
} from './decision.js';
import { SeenIds, dedupKeys } from './dedup.js';
import { DeliveryCache } from './delivery-cache.js';
import { EventBus } from './event-bus.js';
import type { ReadyEvent } from './events.js';
import type { HeaderPairs, RetryPolicy } from './forwarder.js';
import { Forwarding, noForwardTarget, unreachedTargets } from './forwarding.js';
import type { JournalOptions } from './journal-records.js';
import type { LockOwner } from './journal-lock.js';
import {
  applyLimits,
  clientErrorStatus,
  formatHost,
  headerPairs,
  listenError,
  readBody,
  type BodyResult,
  sendAnswer,
  sendOk,
  serverOptions,
  waitAtMost,
  writeRawAnswer,
  type ReceiverLimits,
} from './receiver.js';
import { createCachedRouter, createRouter, describeTargets, hasTargets, type RoutingOptions } from './routing.js';
import { openSessionJournal } from './session-journal.js';
import type { ListenSession } from './session-types.js';

/**
 * A listen session wires the stages and owns the lifecycle: the receiver (node:http, receiver.ts)
 * turns a request into facts, the verifier judges it, dedup says whether it was taken before,
 * decision.ts decides the outcome without side effects, and settle() applies it: journal, keep,
 * answer, event, forwards (forwarding.ts). Events go out on the bus (event-bus.ts).
 */

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


/**
 * Starts a listen session: opens the journal and resumes what an earlier run left pending, binds
 * the port, emits `ready`. Reusable for any front end (the CLI, `listen --emulator`, tests).
 */
export async function startListenSession(options: ListenSessionOptions, deps: Pick<Deps, 'clock' | 'random' | 'scheduler'>): Promise<ListenSession> {
  const now = () => deps.clock.now();
  const sessionId = `${now().toString(36)}-${deps.random.bytes(3).toString('hex')}`;
  const bus = new EventBus();
  const warn = (message: string) => bus.emit({ type: 'warning', at: now(), message });
  const deliveries = new DeliveryCache();
  const seen = new SeenIds(options.dedupCapacity);
  const route = createRouter(options);
  const routeNew = createCachedRouter(route);
  let seq = 0;
  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const requestBySocket = new WeakMap<Duplex, Task>();

  const journal = await openSessionJournal(options, { now, seen, warn });
  const forwarding = hasTargets(options)
    ? await Forwarding.start(
        {
          route,
          extraHeaders: options.extraHeaders,
          timeoutMs: options.forwardTimeoutMs,
          insecure: options.forwardInsecure,
          concurrency: options.forwardConcurrency,
          retry: options.retry,
          backlogBytes: options.forwardBacklogBytes ?? LISTEN_DEFAULTS.forwardBacklogBytes,
          journal: options.journal,
          signing: { signingSecrets: options.signingSecrets, forwardAsReceived: options.forwardAsReceived },
        },
        {
          now,
          scheduler: deps.scheduler,
          deliveries,
          emit: (event) => bus.emit(event),
          warn,
          journal: journal.appendQuietly,
          nextSeq: () => ++seq,
          stopping: () => stopping !== undefined,
        },
      ).catch(async (error: unknown) => {
        await journal.close();
        throw error;
      })
    : undefined;

  /**
   * A request from its headers to its answer, for stop() to wait for. The stages hand it on with
   * callbacks, not promises: a static delivery's verdict comes back at once and the journal calls
   * back when its group is written, so a request costs no promise or microtask of its own (they
   * were a measurable part of what a delivery cost). An error at any step costs that request a
   * 500 and a warning, never the listener.
   */
  interface Task {
    readonly facts: RequestFacts;
    /** Absent for a request answered on the bare socket. */
    readonly res: ServerResponse | undefined;
    over: boolean;
  }
  let handling = 0;
  let whenIdle: (() => void) | undefined;

  function begin(facts: RequestFacts, res: ServerResponse | undefined): Task {
    handling++;
    return { facts, res, over: false };
  }

  function end(task: Task): void {
    if (task.over) return;
    task.over = true;
    if (--handling === 0 && whenIdle) {
      const wake = whenIdle;
      whenIdle = undefined;
      wake();
    }
  }

  function failed(task: Task, error: unknown): void {
    warn(`internal error while handling a request: ${error instanceof Error ? error.message : String(error)}`);
    if (!task.over && task.res) sendAnswer(task.res, { status: 500, body: { error: 'internal', explanation: 'gemwh failed to handle this request.', diagnosis: [] } });
    end(task);
  }

  /** Settles once no request is being handled. */
  function idle(): Promise<void> {
    if (handling === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const earlier = whenIdle;
      whenIdle = () => {
        earlier?.();
        resolve();
      };
    });
  }

  /**
   * Applies an outcome: the journal line first (a new delivery is acknowledged only once it is
   * written, and its dedup keys are claimed meanwhile), then what is kept, the answer, the event
   * and the forwards.
   */
  function settle(task: Task, decided: Outcome, answer: (outcome: Outcome, task: Task) => void = answerHttp): void {
    const record = decided.record;
    if (!record) return apply(task, decided, answer);
    const facts = task.facts;
    const claims = decided.claims;
    const claim = claims.length > 0 ? seen.claim(claims, record.key, facts.seq) : undefined;
    const written = (error?: unknown) => {
      try {
        let outcome = decided;
        if (error === undefined) {
          if (claim) seen.settle(claim, claims, true);
        } else {
          if (claim) seen.settle(claim, claims, false);
          journal.failed(error);
          // Not acknowledged: the sender will retry, and by then the disk may have room again.
          if (outcome.needsJournal) outcome = journalUnavailable(facts, outcome, now());
        }
        apply(task, outcome, answer);
      } catch (failure) {
        failed(task, failure);
      }
    };
    try {
      journal.write(record, written);
    } catch (error) {
      // A line that cannot even be serialized is a journal that cannot be written.
      written(error);
    }
  }

  function apply(task: Task, outcome: Outcome, answer: (outcome: Outcome, task: Task) => void): void {
    if (outcome.keep) deliveries.keep(outcome.keep);
    answer(outcome, task);
    bus.emit(outcome.event);
    if (forwarding && outcome.keep && outcome.forwards.length > 0) forwarding.forward(outcome.keep, outcome.forwards);
    end(task);
  }

  function answerHttp(outcome: Outcome, task: Task): void {
    const res = task.res!;
    if (outcome.answer === 'ok' || outcome.answer === 'duplicate') sendOk(res, outcome.answer === 'duplicate');
    else sendAnswer(res, outcome.answer);
  }

  function factsOf(method: string, path: string, rawHeaders: readonly string[], webhookIdHeader: string | undefined): RequestFacts {
    return { session: sessionId, seq: ++seq, at: now(), method, path, headers: headerPairs(rawHeaders), webhookIdHeader };
  }

  function received(facts: RequestFacts, bytes: number, eventType?: string): void {
    bus.emit({ type: 'received', at: facts.at, seq: facts.seq, method: facts.method, path: facts.path, webhookId: facts.webhookIdHeader, eventType, bodyBytes: bytes });
  }

  function refuse(task: Task, refusal: Refusal, body: BodyFacts, answer?: (outcome: Outcome, task: Task) => void): void {
    settle(task, decide(task.facts, body, { refused: refusal }, undefined, undefined, now()), answer);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const facts = factsOf(req.method ?? '', req.url ?? '/', req.rawHeaders, single(req.headers['webhook-id']));
    const task = begin(facts, res);
    try {
      requestBySocket.set(req.socket, task);
      const preamble = {
        declaredLength: Number(req.headers['content-length']),
        // Node would answer this itself with a bare 400 (requireHostHeader), invisible to the user.
        hostMissing: req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1,
      };
      const early = refusalBeforeBody(facts, preamble, options);
      if (early) {
        received(facts, early.body.bytes);
        return refuse(task, early.refusal, early.body);
      }
      readBody(req, options.maxBodyBytes, {}, (read) => bodyRead(task, req, read));
    } catch (error) {
      failed(task, error);
    }
  }

  function bodyRead(task: Task, req: IncomingMessage, read: BodyResult): void {
    try {
      const facts = task.facts;
      if (read.kind === 'aborted') return end(task);
      if (read.kind === 'too_large') {
        received(facts, read.seenBytes);
        return refuse(task, tooLarge(options.maxBodyBytes), { body: read.start, bytes: read.seenBytes, truncated: true });
      }
      // Decoded once: for the event type, and (when it is UTF-8) for the journal line.
      const text = isUtf8(read.body) ? read.body.toString('utf8') : null;
      const body: BodyFacts = { body: read.body, bytes: read.body.length, text, eventType: peekEventType(read.body, text ?? undefined) };
      received(facts, body.bytes, body.eventType);
      let verdict: Verdict | Promise<Verdict>;
      try {
        verdict = options.verify({ rawBody: body.body, headers: req.headers, now: now() });
      } catch (error) {
        // A verifier bug must cost one request, not the listener.
        return refuse(task, verifierFailed(error), body);
      }
      if (verdict instanceof Promise) {
        verdict.then(
          (settled) => verified(task, req, body, settled),
          (error: unknown) => guarded(task, () => refuse(task, verifierFailed(error), body)),
        );
      } else {
        verified(task, req, body, verdict);
      }
    } catch (error) {
      failed(task, error);
    }
  }

  function verified(task: Task, req: IncomingMessage, body: BodyFacts, verdict: Verdict): void {
    try {
      if (!verdict.ok) return refuse(task, verificationFailed(verdict), body);
      const keys = dedupKeys(verdict, verdict.webhookId ?? task.facts.webhookIdHeader, single(req.headers['webhook-signature']));
      const first = seen.firstOf(keys);
      // A promise only while the first delivery with one of these keys is being written (it never rejects).
      if (first instanceof Promise) void first.then((found) => deduplicated(task, body, verdict, { keys, first: found }));
      else deduplicated(task, body, verdict, { keys, first });
    } catch (error) {
      failed(task, error);
    }
  }

  function deduplicated(task: Task, body: BodyFacts, verdict: Verdict & { ok: true }, dedup: DedupFacts): void {
    try {
      const routes = dedup.first ? undefined : routeNew(body.eventType, task.facts.path);
      settle(task, decide(task.facts, body, { verified: verdict }, dedup, routes, now()));
    } catch (error) {
      failed(task, error);
    }
  }

  function guarded(task: Task, step: () => void): void {
    try {
      step();
    } catch (error) {
      failed(task, error);
    }
  }

  /** A request node:http hands over as a bare socket: answered, journaled and reported all the same. */
  function refuseOnSocket(socket: Duplex, facts: RequestFacts, refusal: Refusal): void {
    received(facts, 0);
    const task = begin(facts, undefined);
    guarded(task, () =>
      refuse(task, refusal, NO_BODY, (outcome) => writeRawAnswer(socket, outcome.status, { error: refusal.reason, explanation: refusal.explanation, diagnosis: [] })),
    );
  }

  // Every request gets a JSON answer, a journal line and events, also those node:http would
  // answer on its own: no Host (requireHostHeader) and an Expect other than 100-continue.
  const server: Server = createServer({ ...serverOptions(options), requireHostHeader: false }, (req, res) => {
    if (options.intercept?.(req, res)) return;
    handle(req, res);
  });
  applyLimits(server, options);
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const facts = factsOf(req.method ?? '', req.url ?? '/', req.rawHeaders, single(req.headers['webhook-id']));
    const task = begin(facts, res);
    requestBySocket.set(req.socket, task);
    received(facts, 0);
    guarded(task, () => refuse(task, unmetExpectation(single(req.headers.expect)), NO_BODY));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorStatus(error);
    // The last request on this socket, unless it was answered already (then the error is about a next one).
    const last = requestBySocket.get(socket);
    const current = last?.res && !last.res.writableFinished ? last : undefined;
    if (!answer || current?.res?.headersSent) {
      socket.destroy();
      return;
    }
    // A request whose body never completed was not reported as received yet.
    const facts = current ? { ...current.facts, headers: [], webhookIdHeader: undefined } : factsOf('', '', [], undefined);
    refuseOnSocket(socket, facts, clientErrorRefusal(answer));
  });
  // Without a listener node:http closes a CONNECT's connection without a word.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => refuseOnSocket(socket, factsOf('CONNECT', req.url ?? '', req.rawHeaders, undefined), CONNECT_REFUSAL));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, options));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await forwarding?.close();
    await journal.close();
    throw error;
  });
  server.on('error', (error) => warn(`server error: ${error.message}`));

  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(address.address)}:${address.port}${options.path ?? '/'}`;

  async function stop(reason = 'stopped'): Promise<void> {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await waitAtMost(idle(), options.stopGraceMs);
      server.closeAllConnections();
      await closed;
      await forwarding?.stop(Math.min(2000, options.stopGraceMs));
      await journal.close();
      bus.emit({ type: 'stopped', at: now(), reason });
      bus.close();
      resolveDone();
    })();
    return stopping;
  }

  const session: ListenSession = {
    url,
    done,
    on: (listener) => bus.on(listener),
    history: () => bus.history(),
    warn,
    getDelivery: (wanted, options) => deliveries.details(wanted, options),
    async resend(wanted) {
      const state = deliveries.get(wanted);
      if (!state) throw new NotFoundError(`no delivery #${wanted} in this session`, { hint: 'Only recent deliveries are kept in memory; use `gemwh replay delivery` for older ones.' });
      if (!state.forwardable) throw new UsageError(`delivery #${wanted} was rejected, so it is not forwarded`);
      if (!forwarding) throw noForwardTarget();
      forwarding.resend(state);
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
  bus.emit({
    type: 'ready',
    at: now(),
    url,
    ...(extras.publicUrl ? { publicUrl: extras.publicUrl } : {}),
    forwardTargets: describeTargets(options),
    verifying: extras.webhookIds ? { ...options.verifying, webhookIds: [...options.verifying.webhookIds, ...extras.webhookIds] } : options.verifying,
    journal: options.journal?.file,
  });
  const resumable = journal.takeResumable();
  if (forwarding) forwarding.resume(resumable);
  else if (resumable.length > 0) warn(unreachedTargets(resumable.flatMap((pending) => [...pending.targets.keys()])));
  return session;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
