import { describe, expect, it } from 'vitest';
import type { DynamicAccepted, Rejected, StaticAccepted } from '../../src/core/verdict.js';
import { SeenIds, dedupKeys } from '../../src/listen/dedup.js';
import {
  decide,
  journalUnavailable,
  peekEventType,
  refusalBeforeBody,
  verificationFailed,
  verifierFailed,
  type BodyFacts,
  type RequestFacts,
  type Routes,
} from '../../src/listen/decision.js';

// The decision for one request, without sockets, files or timers: what session.ts's settle()
// applies. The socket-level behaviour is covered in session.test.ts and fuzz.test.ts.

const AT = Date.UTC(2026, 4, 4, 12);

function facts(over: Partial<RequestFacts> = {}): RequestFacts {
  return { session: 's1', seq: 7, at: AT, method: 'POST', path: '/webhook?x=1', headers: [['Webhook-Id', 'msg_1']], webhookIdHeader: 'msg_1', ...over };
}

function jsonBody(text = '{"type":"batch.succeeded"}'): BodyFacts {
  const body = Buffer.from(text);
  return { body, bytes: body.length, text, eventType: peekEventType(body, text) };
}

const STATIC_OK: StaticAccepted = {
  ok: true,
  scheme: 'static',
  webhookId: 'msg_1',
  timestamp: AT / 1000,
  matched: { label: 'wh_1', index: 0, inGrace: true },
  explanation: 'ok',
};

const routes: Routes = { urls: [new URL('http://127.0.0.1:3000/a')], hrefs: ['http://127.0.0.1:3000/a'] };
const limits = { path: '/webhook', maxBodyBytes: 100 };

describe('refusals before the body is read', () => {
  const preamble = { declaredLength: Number.NaN, hostMissing: false };

  it('takes only POST, on the one path when one is set, within the size limit, with a Host', () => {
    expect(refusalBeforeBody(facts(), preamble, limits)).toBeUndefined();
    expect(refusalBeforeBody(facts({ method: 'GET' }), preamble, limits)?.refusal).toMatchObject({ status: 405, headers: { allow: 'POST' }, close: true });
    expect(refusalBeforeBody(facts({ path: '/other?x' }), preamble, limits)?.refusal).toMatchObject({ status: 404, reason: 'wrong_path' });
    expect(refusalBeforeBody(facts({ path: '/other' }), preamble, { maxBodyBytes: 100 })).toBeUndefined();
    expect(refusalBeforeBody(facts(), { ...preamble, hostMissing: true }, limits)?.refusal).toMatchObject({ status: 400, reason: 'malformed_request' });
    const large = refusalBeforeBody(facts(), { ...preamble, declaredLength: 101 }, limits);
    expect(large?.refusal).toMatchObject({ status: 413, reason: 'body_too_large', close: true });
    expect(large?.body).toMatchObject({ bytes: 101, truncated: true });
  });
});

describe('decide', () => {
  it('refusal: answered with the reason, journaled and kept as rejected, never forwarded', () => {
    const rejected: Rejected = { ok: false, scheme: 'static', reason: 'too_old', explanation: 'old', diagnosis: ['skew'] };
    const outcome = decide(facts(), jsonBody(), { refused: verificationFailed(rejected) }, undefined, routes, AT + 5);
    expect(outcome.status).toBe(401);
    expect(outcome.answer).toEqual({ status: 401, body: { error: 'too_old', explanation: 'old', diagnosis: ['skew'] }, headers: undefined, close: undefined });
    expect(outcome.record).toMatchObject({ key: 's1.7', outcome: 'rejected', reason: 'too_old', scheme: 'static', eventType: 'batch.succeeded', encoding: 'utf8' });
    expect(outcome.needsJournal).toBe(false);
    expect(outcome.claims).toEqual([]);
    expect(outcome.keep).toMatchObject({ forwardable: false, details: { outcome: { kind: 'rejected', verdict: rejected } } });
    expect(outcome.event).toMatchObject({ type: 'rejected', at: AT + 5, seq: 7, status: 401, webhookId: 'msg_1' });
    expect(outcome.forwards).toEqual([]);
  });

  it('a verifier that threw costs a 500 for this request', () => {
    const outcome = decide(facts(), jsonBody(), { refused: verifierFailed(new Error('boom')) });
    expect(outcome.status).toBe(500);
    expect(outcome.event).toMatchObject({ reason: 'internal_error', explanation: 'gemwh could not verify this delivery: boom' });
  });

  it('a new delivery: acknowledged only once journaled, its dedup keys claimed, forwarded to its routes', () => {
    const outcome = decide(facts(), jsonBody(), { verified: STATIC_OK }, { keys: ['msg_1'] }, routes, AT);
    expect(outcome).toMatchObject({ status: 200, answer: 'ok', needsJournal: true, claims: ['msg_1'], forwards: routes.urls });
    expect(outcome.record).toMatchObject({
      outcome: 'verified',
      matched: { label: 'wh_1', inGrace: true },
      targets: routes.hrefs,
      body: '{"type":"batch.succeeded"}',
      path: '/webhook?x=1',
    });
    expect(outcome.record!.dedupKeys).toBeUndefined();
    expect(outcome.keep).toMatchObject({ forwardable: true, signing: { scheme: 'static', matchedLabel: 'wh_1' }, details: { targets: routes.hrefs } });
    expect(outcome.event).toEqual({
      type: 'verified',
      at: AT,
      seq: 7,
      webhookId: 'msg_1',
      eventType: 'batch.succeeded',
      scheme: 'static',
      matched: { label: 'wh_1', inGrace: true },
      willForward: true,
    });
  });

  it('a duplicate: acknowledged as one, pointing at the first, not forwarded', () => {
    const outcome = decide(facts(), jsonBody(), { verified: STATIC_OK }, { keys: ['msg_1'], first: { key: 's0.3', seq: 3, persisted: true } }, routes);
    expect(outcome).toMatchObject({ status: 200, answer: 'duplicate', needsJournal: false, claims: [], forwards: [] });
    expect(outcome.record).toMatchObject({ outcome: 'duplicate', duplicateOf: 's0.3' });
    expect(outcome.event).toMatchObject({ type: 'duplicate', firstSeq: 3 });
  });

  it('a dynamic delivery journals the keys besides its webhook-id that it is deduplicated on, and when its JWT expires', () => {
    const verdict: DynamicAccepted = { ok: true, scheme: 'dynamic', webhookId: 'msg_1', kid: 'k1', claims: { jti: 'j1', exp: AT / 1000 + 60 }, explanation: 'ok' };
    const keys = dedupKeys(verdict, 'msg_1', 'aaa.bbb.sig');
    expect(keys).toEqual(['msg_1', 'jwt jti j1', 'jwt signature sig']);
    const outcome = decide(facts(), jsonBody(), { verified: verdict }, { keys }, { urls: [], hrefs: [] });
    expect(outcome.record!.dedupKeys).toEqual(['jwt jti j1', 'jwt signature sig']);
    expect(outcome.keep!.signing).toEqual({ scheme: 'dynamic', expiresAt: AT + 60_000 });
    expect(outcome.event).toMatchObject({ willForward: false });
  });

  it('a body that is not UTF-8 is journaled as base64', () => {
    const body = Buffer.from([0xff, 0xfe, 0x00]);
    const outcome = decide(facts(), { body, bytes: 3, text: null }, { verified: STATIC_OK }, { keys: [] });
    expect(outcome.record).toMatchObject({ encoding: 'base64', body: body.toString('base64'), bodyBytes: 3 });
  });

  it('a new delivery whose journal line failed: 503, nothing kept or forwarded, so that the sender retries', () => {
    const accepted = decide(facts(), jsonBody(), { verified: STATIC_OK }, { keys: ['msg_1'] }, routes);
    const outcome = journalUnavailable(facts(), accepted, AT + 9);
    expect(outcome).toMatchObject({ status: 503, forwards: [], needsJournal: false });
    expect(outcome.record).toBeUndefined();
    expect(outcome.keep).toBeUndefined();
    expect(outcome.event).toMatchObject({ type: 'rejected', at: AT + 9, reason: 'journal_unavailable', webhookId: 'msg_1', eventType: 'batch.succeeded' });
  });
});

describe('peekEventType', () => {
  it('reads the type of a JSON object, and nothing from anything else or a deeply nested body', () => {
    expect(peekEventType(Buffer.from('{"type":"x.y"}'))).toBe('x.y');
    expect(peekEventType(Buffer.from('[1]'))).toBeUndefined();
    expect(peekEventType(Buffer.from('not json'))).toBeUndefined();
    expect(peekEventType(Buffer.from(`{"type":"x","a":${'['.repeat(500)}${']'.repeat(500)}}`))).toBeUndefined();
  });
});

describe('SeenIds', () => {
  it('answers a duplicate only once the first one is written, and forgets keys whose write failed', async () => {
    const seen = new SeenIds(10);
    const first = seen.claim(['a', 'jwt jti 1'], 's.1', 1);
    const waiting = seen.firstOf(['jwt jti 1']);
    expect(waiting).toBeInstanceOf(Promise);
    seen.settle(first, ['a', 'jwt jti 1'], true);
    expect(await waiting).toMatchObject({ key: 's.1', seq: 1 });
    expect(seen.firstOf(['a'])).toMatchObject({ key: 's.1', persisted: true });

    const failed = seen.claim(['b'], 's.2', 2);
    const pending = seen.firstOf(['b']);
    seen.settle(failed, ['b'], false);
    expect(await pending).toBeUndefined();
    expect(seen.firstOf(['b'])).toBeUndefined();
  });

  it('keeps the most recent keys up to its capacity', () => {
    const seen = new SeenIds(2);
    for (const id of ['a', 'b', 'c']) seen.remember(id, { key: id, persisted: true });
    expect(seen.firstOf(['a'])).toBeUndefined();
    expect(seen.firstOf(['b', 'c'])).toMatchObject({ key: 'b' });
  });
});
