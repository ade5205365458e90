import { describe, expect, it } from 'vitest';
import type { ListenEvent } from '../../src/listen/events.js';
import {
  filterChoices,
  filterLabel,
  initialListenUiState,
  MAX_EVENT_TYPES,
  MAX_WARNINGS,
  nextFilter,
  reduce,
  reduceAll,
  visibleRows,
  type ListenUiAction,
  type ListenUiState,
  type RowFilter,
} from '../../src/ui/listen-state.js';
import { deliveredEvents, localTime, READY } from './fake-session.js';

const fold = (actions: ListenUiAction[], state: ListenUiState = initialListenUiState()) => actions.reduce(reduce, state);

describe('reduce', () => {
  it('takes the header from the ready event', () => {
    const state = reduce(initialListenUiState(), READY);
    expect(state.info?.url).toBe('http://127.0.0.1:8787/webhook');
    expect(state.info?.forwardTargets).toEqual(['http://localhost:3000/hook']);
    expect(state.info?.verifying.secrets).toEqual(['whsec_…ab12']);
  });

  it('follows one delivery from received to forwarded and counts each step', () => {
    const [received, verified, forwarded] = deliveredEvents(1) as [ListenEvent, ListenEvent, ListenEvent];
    const s1 = fold([READY, received]);
    expect(s1.rows).toHaveLength(1);
    expect(s1.rows[0]).toMatchObject({ seq: 1, method: 'POST', eventType: 'batch.succeeded', verdict: { kind: 'pending' } });

    const s2 = reduce(s1, verified);
    expect(s2.rows[0]?.verdict).toEqual({ kind: 'verified', scheme: 'static', inGrace: false });
    expect(s2.rows[0]?.forward).toEqual({ kind: 'pending' });

    const s3 = reduce(s2, forwarded);
    expect(s3.rows[0]?.forward).toEqual({
      kind: 'reported',
      targets: [{ target: 'http://localhost:3000/hook', kind: 'ok', attempt: 1, status: 200, latencyMs: 12 }],
    });
    expect(s3.counters).toMatchObject({ received: 1, verified: 1, forwarded: 1, rejected: 0, duplicates: 0, failed: 0 });
  });

  it('never mutates the state it is given', () => {
    const before = fold([READY, ...deliveredEvents(1).slice(0, 2)]);
    const snapshot = structuredClone(before);
    reduce(before, deliveredEvents(1)[2] as ListenEvent);
    reduce(before, { type: 'ui_clear' });
    reduce(before, { type: 'warning', at: 1, message: 'x' });
    expect(before).toEqual(snapshot);
  });

  it('gives the same state folding one by one and in a batch', () => {
    const events: ListenEvent[] = [READY];
    for (let seq = 1; seq <= 30; seq++) events.push(...deliveredEvents(seq));
    expect(reduceAll(initialListenUiState(10), events)).toEqual(fold(events, initialListenUiState(10)));
  });

  it('shows a rejection with its reason and forwards nothing', () => {
    const state = fold([
      READY,
      { type: 'received', at: localTime(1), seq: 1, method: 'POST', path: '/webhook', webhookId: 'msg_1', bodyBytes: 10 },
      {
        type: 'rejected',
        at: localTime(1),
        seq: 1,
        status: 401,
        reason: 'too_old',
        explanation: 'timestamp is 400 s old',
        diagnosis: [],
        webhookId: 'msg_1',
      },
    ]);
    expect(state.rows[0]?.verdict).toEqual({ kind: 'rejected', reason: 'too_old', status: 401 });
    expect(state.rows[0]?.forward).toEqual({ kind: 'none' });
    expect(state.counters.rejected).toBe(1);
  });

  it('marks duplicates with the first delivery they repeat', () => {
    const state = fold([
      READY,
      ...deliveredEvents(1),
      { type: 'received', at: localTime(2), seq: 2, method: 'POST', path: '/webhook', webhookId: 'msg_x', bodyBytes: 10 },
      { type: 'duplicate', at: localTime(2), seq: 2, webhookId: 'msg_x', firstSeq: 1 },
    ]);
    expect(state.rows[1]?.verdict).toEqual({ kind: 'duplicate', firstSeq: 1 });
    expect(state.counters.duplicates).toBe(1);
  });

  it('says when --events keeps a verified delivery from the targets', () => {
    const [received] = deliveredEvents(1) as [ListenEvent];
    const state = fold([
      READY,
      received,
      { type: 'verified', at: 1, seq: 1, scheme: 'static', willForward: false },
    ]);
    expect(state.rows[0]?.forward).toEqual({ kind: 'filtered' });
  });

  it('has nothing pending when there is no forward target', () => {
    const [received, verified] = deliveredEvents(1) as [ListenEvent, ListenEvent];
    const state = fold([{ ...READY, forwardTargets: [] } as ListenEvent, received, verified]);
    expect(state.rows[0]?.forward).toEqual({ kind: 'none' });
  });

  it('keeps the retry delay of a failed forward, and counts give-ups apart from retries', () => {
    const [received, verified] = deliveredEvents(1) as [ListenEvent, ListenEvent];
    const failedOnce: ListenEvent = {
      type: 'forward_failed',
      at: localTime(5),
      seq: 1,
      target: 'http://localhost:3000/hook',
      attempt: 1,
      error: 'connect ECONNREFUSED 127.0.0.1:3000',
      latencyMs: 3,
      nextAttemptAt: localTime(9),
    };
    const s1 = fold([READY, received, verified, failedOnce]);
    expect(s1.rows[0]?.forward).toEqual({
      kind: 'reported',
      targets: [
        {
          target: 'http://localhost:3000/hook',
          kind: 'failed',
          attempt: 1,
          error: 'connect ECONNREFUSED 127.0.0.1:3000',
          latencyMs: 3,
          retryInMs: 4000,
        },
      ],
    });
    expect(s1.counters).toMatchObject({ failed: 0, retrying: 1 });

    const s2 = reduce(s1, { ...failedOnce, attempt: 2, status: 503, error: undefined, nextAttemptAt: undefined } as ListenEvent);
    expect(s2.rows[0]?.forward).toMatchObject({ targets: [{ kind: 'failed', attempt: 2, status: 503 }] });
    expect(s2.counters).toMatchObject({ failed: 1, retrying: 1 });
  });

  it('counts deliveries, not attempts: a retry and a resend of a forwarded delivery count once', () => {
    const [received1, verified1, ok1] = deliveredEvents(1) as ListenEvent[];
    const [received2, verified2] = deliveredEvents(2) as ListenEvent[];
    const seq2 = 2;
    const failed: ListenEvent = {
      type: 'forward_failed',
      at: 2,
      seq: seq2,
      target: 'http://localhost:3000/hook',
      attempt: 1,
      status: 503,
      latencyMs: 1,
      nextAttemptAt: 1000,
    };
    const again = (attempt: number): ListenEvent => ({ type: 'forwarded', at: 3, seq: seq2, target: 'http://localhost:3000/hook', attempt, status: 200, latencyMs: 1, responseStart: '' });
    const state = fold([READY, received1!, verified1!, ok1!, received2!, verified2!, failed, again(2), again(3)]);
    expect(state.counters).toMatchObject({ forwarded: 2, retrying: 1, failed: 0 });
    const givenUp = fold([READY, received2!, verified2!, { ...failed, nextAttemptAt: undefined } as ListenEvent]);
    expect(givenUp.counters).toMatchObject({ failed: 1 });
    // A resend that gets through: the delivery is forwarded, no longer failed.
    expect(reduce(givenUp, again(2)).counters).toMatchObject({ forwarded: 1, failed: 0 });
  });

  it('keeps one entry per forward target, the latest attempt winning', () => {
    const [received, verified] = deliveredEvents(1) as [ListenEvent, ListenEvent];
    const ok = (target: string, attempt: number): ListenEvent => ({
      type: 'forwarded',
      at: 1,
      seq: 1,
      target,
      attempt,
      status: 200,
      latencyMs: attempt,
      responseStart: '',
    });
    const state = fold([READY, received, verified, ok('http://a', 1), ok('http://b', 1), ok('http://a', 2)]);
    expect(state.rows[0]?.forward).toMatchObject({
      kind: 'reported',
      targets: [
        { target: 'http://a', attempt: 2 },
        { target: 'http://b', attempt: 1 },
      ],
    });
  });

  it('still makes a row when the received event was missed', () => {
    const [, verified] = deliveredEvents(7) as [ListenEvent, ListenEvent];
    const state = fold([READY, verified]);
    expect(state.rows).toHaveLength(1);
    expect(state.rows[0]).toMatchObject({ seq: 7, verdict: { kind: 'verified' } });
  });

  it('shows a delivery resumed from an earlier run as pending until it is forwarded', () => {
    const state = fold([
      READY,
      { type: 'resumed', at: localTime(3), seq: 1, receivedAt: localTime(1), webhookId: 'msg_old', eventType: 'video.generated', targets: ['http://localhost:3000/hook'] },
    ]);
    expect(state.rows[0]).toMatchObject({ seq: 1, eventType: 'video.generated', verdict: { kind: 'resumed' }, forward: { kind: 'pending' } });
    expect(state.counters.resumed).toBe(1);
  });

  it('bounds the list at maxRows while the counters keep the totals', () => {
    const events: ListenEvent[] = [READY];
    for (let seq = 1; seq <= 1200; seq++) events.push(...deliveredEvents(seq));
    const state = reduceAll(initialListenUiState(500), events);
    expect(state.rows).toHaveLength(500);
    expect(state.rows[0]?.seq).toBe(701);
    expect(state.rows[499]?.seq).toBe(1200);
    expect(state.counters).toMatchObject({ received: 1200, verified: 1200, forwarded: 1200 });
    // A late event about an evicted delivery counts but does not bring its row back.
    const late = reduce(state, { ...(deliveredEvents(3)[2] as ListenEvent) });
    expect(late.rows).toHaveLength(500);
    expect(late.rows[0]?.seq).toBe(701);
    expect(late.counters.forwarded).toBe(1201);
  });

  it('clears the list but not the totals, and ignores late events for cleared rows', () => {
    const before = fold([READY, ...deliveredEvents(1), ...deliveredEvents(2).slice(0, 2)]);
    const cleared = reduce(before, { type: 'ui_clear' });
    expect(cleared.rows).toEqual([]);
    expect(cleared.counters.received).toBe(2);
    const late = reduce(cleared, deliveredEvents(2)[2] as ListenEvent);
    expect(late.rows).toEqual([]);
    const fresh = fold(deliveredEvents(3), late);
    expect(fresh.rows.map((r) => r.seq)).toEqual([3]);
  });

  it('caps the event types and the warnings a sender can make it remember', () => {
    const events: ListenEvent[] = [];
    for (let i = 0; i < 100; i++) {
      events.push({ type: 'received', at: i, seq: i + 1, method: 'POST', path: '/', eventType: `evil.${i}`, bodyBytes: 1 });
      events.push({ type: 'warning', at: i, message: `w${i}` });
    }
    const state = reduceAll(initialListenUiState(), events);
    expect(state.eventTypes).toHaveLength(MAX_EVENT_TYPES);
    expect(state.warnings.map((w) => w.message)).toEqual(['w97', 'w98', 'w99'].slice(-MAX_WARNINGS));
  });

  it('records that the session stopped', () => {
    const state = reduce(initialListenUiState(), { type: 'stopped', at: 5, reason: 'SIGINT' });
    expect(state.stopped).toEqual({ at: 5, reason: 'SIGINT' });
  });
});

describe('filters', () => {
  const state = fold([
    READY,
    ...deliveredEvents(1, 'batch.succeeded'),
    ...deliveredEvents(2, 'video.generated'),
    { type: 'received', at: 3, seq: 3, method: 'POST', path: '/webhook', eventType: 'batch.failed', bodyBytes: 1 },
    { type: 'rejected', at: 3, seq: 3, status: 401, reason: 'no_matching_signature', explanation: '', diagnosis: [], eventType: 'batch.failed' },
    { type: 'received', at: 4, seq: 4, method: 'POST', path: '/webhook', eventType: 'batch.succeeded', bodyBytes: 1 },
    { type: 'duplicate', at: 4, seq: 4, webhookId: 'msg_1', firstSeq: 1 },
    ...deliveredEvents(5).slice(0, 2),
    { type: 'forward_failed', at: 5, seq: 5, target: 'http://localhost:3000/hook', attempt: 1, status: 500, latencyMs: 1 },
  ]);

  const seqs = (filter: RowFilter) => visibleRows(state, filter).map((row) => row.seq);

  it('selects by verdict, failed forward and event type', () => {
    expect(seqs({ kind: 'all' })).toEqual([1, 2, 3, 4, 5]);
    expect(seqs({ kind: 'verdict', verdict: 'rejected' })).toEqual([3]);
    expect(seqs({ kind: 'verdict', verdict: 'duplicate' })).toEqual([4]);
    expect(seqs({ kind: 'verdict', verdict: 'verified' })).toEqual([1, 2, 5]);
    expect(seqs({ kind: 'forward_failed' })).toEqual([5]);
    expect(seqs({ kind: 'event_type', eventType: 'video.generated' })).toEqual([2]);
  });

  it('cycles through verdicts, then the event types seen, then back to all', () => {
    const labels: string[] = [];
    let filter: RowFilter = { kind: 'all' };
    for (let i = 0; i < filterChoices(state).length; i++) {
      filter = nextFilter(state, filter);
      labels.push(filterLabel(filter));
    }
    expect(labels).toEqual(['rejected', 'forward failed', 'duplicate', 'verified', 'batch.failed', 'batch.succeeded', 'video.generated', 'all']);
  });
});
