import { MAX_INSPECTED_NESTING, nestsDeeperThan } from '../core/json-nesting.js';
import type { Rejected, Verdict } from '../core/verdict.js';
import type { DeliveryState } from './delivery-cache.js';
import type { SeenId } from './dedup.js';
import type { DuplicateEvent, RejectedEvent, VerifiedEvent } from './events.js';
import type { DeliverySigning } from './forward-signing.js';
import { JOURNAL_FORMAT_VERSION, encodeBody, type JournalDeliveryRecord } from './journal-records.js';
import type { Answer } from './receiver.js';
import type { DeliveryDetails } from './session-types.js';

/**
 * What becomes of one request, decided without sockets, files or timers: from the facts of the
 * request, how verification went and whether its webhook-id was taken before, to the status and
 * answer, the journal line, what is kept for the detail view, the event and the forwards.
 * session.ts applies an outcome (settle); every way a request can end goes through here.
 */

/** What is known about a request before its body is read: the journal line's first fields. */
export type RequestFacts = Pick<JournalDeliveryRecord, 'session' | 'seq' | 'at' | 'method' | 'path' | 'headers'> & {
  webhookIdHeader: string | undefined;
};

/** The body as read (or its start, when it was too large). */
export interface BodyFacts {
  body: Buffer;
  /** Bytes the request had (or declared): more than body.length when cut. */
  bytes: number;
  truncated?: boolean;
  /** The body as UTF-8 text when it is, null when it is not, undefined when not decoded yet. */
  text?: string | null;
  /** The unverified `type` of a JSON body. */
  eventType?: string;
}

/** Why a request is refused: a request-level problem or a failed verification. */
export interface Refusal {
  status: number;
  reason: RejectedEvent['reason'];
  explanation: string;
  diagnosis: string[];
  verdict?: Rejected;
  /** Extra answer headers (Allow on a 405). */
  headers?: Record<string, string>;
  /** Close the connection after answering: the rest of the request was not read. */
  close?: boolean;
}

export type Judgement = { refused: Refusal } | { verified: Verdict & { ok: true } };

/** Where an accepted delivery goes (URLs parsed once per type and path; hrefs for the journal). */
export interface Routes {
  urls: readonly URL[];
  hrefs: readonly string[];
}

export interface Outcome {
  status: number;
  /** `ok`/`duplicate`: the shared acknowledgement bodies. */
  answer: Answer | 'ok' | 'duplicate';
  /** Absent only when the journal itself failed. */
  record?: JournalDeliveryRecord;
  /**
   * The answer waits for the journal line, and a failed write turns the outcome into
   * journalUnavailable: set for a new delivery, which is acknowledged only once it is on disk.
   */
  needsJournal: boolean;
  /** A new delivery's dedup keys, claimed while its line is written. */
  claims: readonly string[];
  keep?: DeliveryState;
  event: RejectedEvent | VerifiedEvent | DuplicateEvent;
  forwards: readonly URL[];
}

const EMPTY_BODY: BodyFacts = { body: Buffer.alloc(0), bytes: 0 };

/** What the request line and headers say beyond RequestFacts, for the checks made before the body is read. */
export interface Preamble {
  /** content-length, NaN when absent. */
  declaredLength: number;
  /** An HTTP/1.1 request without a Host header (node:http would answer it with a bare 400 of its own). */
  hostMissing: boolean;
}

/** A refusal decided before the body is read: no Host, wrong method, wrong path, or a declared size past the limit. */
export function refusalBeforeBody(facts: RequestFacts, preamble: Preamble, limits: { path?: string; maxBodyBytes: number }): { refusal: Refusal; body: BodyFacts } | undefined {
  if (preamble.hostMissing) {
    return { refusal: { status: 400, reason: 'malformed_request', explanation: 'The request has no Host header, which HTTP/1.1 requires.', diagnosis: [], close: true }, body: EMPTY_BODY };
  }
  if (facts.method !== 'POST') {
    return {
      refusal: { status: 405, reason: 'method_not_allowed', explanation: `Webhook deliveries are POST requests; this was ${facts.method}.`, diagnosis: [], headers: { allow: 'POST' }, close: true },
      body: EMPTY_BODY,
    };
  }
  const path = pathOnly(facts.path);
  if (limits.path !== undefined && path !== limits.path) {
    return {
      refusal: { status: 404, reason: 'wrong_path', explanation: `This listener receives deliveries on ${limits.path}, not ${path}.`, diagnosis: [], close: true },
      body: EMPTY_BODY,
    };
  }
  if (Number.isFinite(preamble.declaredLength) && preamble.declaredLength > limits.maxBodyBytes) {
    return { refusal: tooLarge(limits.maxBodyBytes), body: { body: EMPTY_BODY.body, bytes: preamble.declaredLength, truncated: true } };
  }
  return undefined;
}

/** A request with an Expect header node:http does not understand (it handles 100-continue itself). */
export function unmetExpectation(expect: string | undefined): Refusal {
  return {
    status: 417,
    reason: 'malformed_request',
    explanation: `The request expects "${expect}"; only "100-continue" is understood. Send it without that Expect header.`,
    diagnosis: [],
    close: true,
  };
}

/** A request node:http could not parse (or that was too slow), answered on the bare socket. */
export function clientErrorRefusal(answer: { status: number; explanation: string }): Refusal {
  return { status: answer.status, reason: 'malformed_request', explanation: answer.explanation, diagnosis: [] };
}

/** A CONNECT request: node:http would close its connection without a word. */
export const CONNECT_REFUSAL: Refusal = {
  status: 405,
  reason: 'method_not_allowed',
  explanation: 'Webhook deliveries are POST requests; this was CONNECT (this is not a proxy).',
  diagnosis: [],
};

export const NO_BODY: BodyFacts = EMPTY_BODY;
export const NO_ROUTES: Routes = { urls: [], hrefs: [] };

export function tooLarge(maxBodyBytes: number): Refusal {
  return { status: 413, reason: 'body_too_large', explanation: `The body is larger than ${maxBodyBytes} bytes (--max-body); the rest was not read.`, diagnosis: [], close: true };
}

/** A verifier that threw: it costs this one request, not the listener. */
export function verifierFailed(error: unknown): Refusal {
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, reason: 'internal_error', explanation: `gemwh could not verify this delivery: ${message}`, diagnosis: [] };
}

export function verificationFailed(verdict: Rejected): Refusal {
  return { status: statusForReason(verdict.reason), reason: verdict.reason, explanation: verdict.explanation, diagnosis: verdict.diagnosis, verdict };
}

/** What dedup says of a verified delivery: the keys it is known by, and the earlier delivery that had one of them (written to the journal). */
export interface DedupFacts {
  keys: readonly string[];
  first?: SeenId;
}

const NOT_CHECKED: DedupFacts = { keys: [] };

/** The outcome of one request; `routes`: where a new delivery goes. */
export function decide(facts: RequestFacts, body: BodyFacts, judgement: Judgement, dedup: DedupFacts = NOT_CHECKED, routes: Routes = NO_ROUTES, now = facts.at): Outcome {
  const key = `${facts.session}.${facts.seq}`;
  if ('refused' in judgement) {
    const { status, reason, explanation, diagnosis, verdict } = judgement.refused;
    const webhookId = facts.webhookIdHeader;
    return {
      status,
      answer: { status, body: { error: reason, explanation, diagnosis }, headers: judgement.refused.headers, close: judgement.refused.close },
      record: deliveryRecord(facts, key, body, webhookId, {
        truncated: body.truncated,
        status,
        outcome: 'rejected',
        reason,
        explanation,
        eventType: body.eventType,
        scheme: verdict?.scheme,
      }),
      needsJournal: false,
      claims: [],
      keep: kept(facts, key, body, false, webhookId, status, { kind: 'rejected', reason, verdict, explanation, diagnosis }, []),
      event: { type: 'rejected', at: now, seq: facts.seq, status, reason, explanation, diagnosis, webhookId, eventType: body.eventType },
      forwards: [],
    };
  }
  const verdict = judgement.verified;
  const webhookId = verdict.webhookId ?? facts.webhookIdHeader;
  const eventType = body.eventType;
  const firstWithId = dedup.first;
  if (firstWithId) {
    return {
      status: 200,
      answer: 'duplicate',
      record: deliveryRecord(facts, key, body, webhookId, { status: 200, outcome: 'duplicate', eventType, scheme: verdict.scheme, duplicateOf: firstWithId.key }),
      needsJournal: false,
      claims: [],
      keep: kept(facts, key, body, true, webhookId, 200, { kind: 'duplicate', firstSeq: firstWithId.seq }, []),
      event: { type: 'duplicate', at: now, seq: facts.seq, webhookId: webhookId!, eventType, firstSeq: firstWithId.seq },
      forwards: [],
    };
  }
  const willForward = routes.urls.length > 0;
  const matched = verdict.scheme === 'static' ? { label: verdict.matched.label, inGrace: verdict.matched.inGrace } : undefined;
  const state = kept(facts, key, body, true, webhookId, 200, { kind: 'verified', verdict, willForward }, routes.hrefs.slice());
  state.signing = signingOf(verdict);
  return {
    status: 200,
    answer: 'ok',
    record: deliveryRecord(facts, key, body, webhookId, {
      status: 200,
      outcome: 'verified',
      eventType,
      scheme: verdict.scheme,
      matched,
      // Serialized at once: the record does not keep the array.
      targets: routes.hrefs as string[],
      dedupKeys: verdict.scheme === 'dynamic' ? dedup.keys.filter((k) => k !== webhookId) : undefined,
    }),
    needsJournal: true,
    claims: dedup.keys,
    keep: state,
    event: { type: 'verified', at: now, seq: facts.seq, webhookId, eventType, scheme: verdict.scheme, matched, willForward },
    forwards: routes.urls,
  };
}

/** A new delivery whose journal line could not be written: not acknowledged, so that the sender retries. */
export function journalUnavailable(facts: RequestFacts, outcome: Outcome, now: number): Outcome {
  const explanation = 'The journal could not be written; the delivery was not acknowledged.';
  return {
    status: 503,
    answer: {
      status: 503,
      body: { error: 'journal_unavailable', explanation: 'gemwh could not record this delivery, so it does not acknowledge it.', diagnosis: [] },
    },
    needsJournal: false,
    claims: [],
    event: {
      type: 'rejected',
      at: now,
      seq: facts.seq,
      status: 503,
      reason: 'journal_unavailable',
      explanation,
      diagnosis: [],
      webhookId: outcome.event.webhookId,
      eventType: outcome.event.eventType,
    },
    forwards: [],
  };
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

/** The unverified `type` of a JSON body, for display and routing; undefined when there is none. */
export function peekEventType(body: Buffer, text?: string): string | undefined {
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

export function pathOnly(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
}

function signingOf(verdict: Verdict & { ok: true }): DeliverySigning {
  return verdict.scheme === 'static'
    ? { scheme: 'static', matchedLabel: verdict.matched.label }
    : { scheme: 'dynamic', expiresAt: typeof verdict.claims.exp === 'number' ? verdict.claims.exp * 1000 : undefined };
}

type RecordOutcome = Pick<
  JournalDeliveryRecord,
  'status' | 'outcome' | 'truncated' | 'reason' | 'explanation' | 'eventType' | 'scheme' | 'matched' | 'targets' | 'duplicateOf' | 'dedupKeys'
>;

/** The journal line of a request: every way a request ends shares all but the outcome fields. */
function deliveryRecord(facts: RequestFacts, key: string, body: BodyFacts, webhookId: string | undefined, outcome: RecordOutcome): JournalDeliveryRecord {
  const encoded = encodeBody(body.body, body.text);
  return {
    kind: 'delivery',
    v: JOURNAL_FORMAT_VERSION,
    session: facts.session,
    key,
    seq: facts.seq,
    at: facts.at,
    method: facts.method,
    path: facts.path,
    headers: facts.headers,
    webhookId,
    encoding: encoded.encoding,
    body: encoded.body,
    bodyBytes: body.bytes,
    ...outcome,
  };
}

/** What the detail view and resend keep of a request, in the same shapes as its journal line. */
function kept(
  facts: RequestFacts,
  key: string,
  body: BodyFacts,
  forwardable: boolean,
  webhookId: string | undefined,
  status: number,
  outcome: DeliveryDetails['outcome'],
  targets: string[],
): DeliveryState {
  return {
    key,
    body: body.body,
    bodyBytes: body.bytes,
    forwardable,
    details: {
      seq: facts.seq,
      receivedAt: facts.at,
      method: facts.method,
      path: facts.path,
      headers: facts.headers,
      webhookId,
      eventType: body.eventType,
      status,
      outcome,
      targets,
      forwards: [],
    },
  };
}
