import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Verdict } from '../core/verdict.js';
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
  type Outcome,
  type Refusal,
  type RequestFacts,
} from './decision.js';
import { dedupKeys, type SeenIds } from './dedup.js';
import type { DeliveryCache } from './delivery-cache.js';
import type { EventBus } from './event-bus.js';
import type { Forwarding } from './forwarding.js';
import { applyLimits, clientErrorStatus, headerPairs, readBody, sendAnswer, sendOk, serverOptions, writeRawAnswer, type BodyResult } from './receiver.js';
import type { createCachedRouter } from './routing.js';
import type { SessionJournal } from './session-journal.js';
import type { ListenSessionOptions } from './session-options.js';

/**
 * One request's way through listen's stages, from node:http to its answer: the receiver turns it
 * into facts, the verifier judges it, dedup says whether it was taken before, decision.ts decides
 * the outcome without side effects, and settle() applies it: journal, keep, answer, event,
 * forwards. The session (session.ts) builds the stages, hands them here and owns the lifecycle.
 */
export interface RequestFlowStages {
  options: ListenSessionOptions;
  sessionId: string;
  now: () => number;
  /** The session's one sequence (forwards take numbers from it too). */
  nextSeq: () => number;
  bus: EventBus;
  warn: (message: string) => void;
  seen: SeenIds;
  deliveries: DeliveryCache;
  routeNew: ReturnType<typeof createCachedRouter>;
  journal: SessionJournal;
  forwarding: Forwarding | undefined;
}

export interface RequestFlow {
  /** The HTTP server whose requests (and the ones node:http would answer alone) go through the flow. */
  readonly server: Server;
  /** Settles once no request is being handled. */
  idle(): Promise<void>;
}

export function createRequestFlow(stages: RequestFlowStages): RequestFlow {
  const { options, sessionId, now, nextSeq, bus, warn, seen, deliveries, routeNew, journal, forwarding } = stages;
  const requestBySocket = new WeakMap<Duplex, Task>();

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
    return { session: sessionId, seq: nextSeq(), at: now(), method, path, headers: headerPairs(rawHeaders), webhookIdHeader };
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

  return { server, idle };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
