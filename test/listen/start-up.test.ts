import { describe, expect, it } from 'vitest';
import type { DynamicAccepted, Verdict } from '../../src/core/verdict.js';
import { InterruptedError } from '../../src/errors.js';
import { untilAborted, withAudienceNote } from '../../src/listen/start-up.js';

describe('untilAborted', () => {
  it('rejects with an InterruptedError as soon as the signal aborts, and hands a late result to onLate', async () => {
    const controller = new AbortController();
    let finish!: (value: string) => void;
    const work = new Promise<string>((resolve) => (finish = resolve));
    const late: string[] = [];
    const raced = untilAborted(work, controller.signal, 'listen was starting', (value) => late.push(value));
    controller.abort('SIGINT');
    await expect(raced).rejects.toBeInstanceOf(InterruptedError);
    await expect(raced).rejects.toThrow('stopped while listen was starting');
    finish('session');
    await work;
    await new Promise((r) => setImmediate(r));
    expect(late).toEqual(['session']);
  });

  it('passes results and errors through while the signal is quiet', async () => {
    const signal = new AbortController().signal;
    await expect(untilAborted(Promise.resolve(1), signal, 'x')).resolves.toBe(1);
    await expect(untilAborted(Promise.reject(new Error('boom')), signal, 'x')).rejects.toThrow('boom');
  });

  it('rejects at once when the signal aborted before', async () => {
    const controller = new AbortController();
    controller.abort();
    let lateCalls = 0;
    await expect(untilAborted(Promise.resolve('s'), controller.signal, 'x', () => (lateCalls += 1))).rejects.toBeInstanceOf(InterruptedError);
    await new Promise((r) => setImmediate(r));
    expect(lateCalls).toBe(1);
  });
});

describe('withAudienceNote', () => {
  const dynamicOk: DynamicAccepted = { ok: true, scheme: 'dynamic', kid: 'k1', claims: { aud: 'https://a.example/h' }, explanation: 'JWT signature verifies with key "k1" from jwks.json' };
  const input = { rawBody: Buffer.from('{}'), headers: {}, now: 0 };

  it('says on each accepted dynamic verdict that the audience was not checked, and calls onFirst once', async () => {
    let first = 0;
    const verify = withAudienceNote(() => dynamicOk, () => (first += 1));
    const a = await verify(input);
    const b = await verify(input);
    expect(a.explanation).toBe('JWT signature verifies with key "k1" from jwks.json; the audience was not checked (aud "https://a.example/h"): pass --audience to require it');
    expect(b.explanation).toBe(a.explanation);
    expect(first).toBe(1);
  });

  it('leaves static and rejected verdicts alone', async () => {
    const rejected: Verdict = { ok: false, scheme: 'dynamic', reason: 'bad_jwt', explanation: 'bad', diagnosis: [] };
    const fixed: Verdict = { ok: true, scheme: 'static', webhookId: 'msg', timestamp: 1, matched: { label: 'x', index: 0, inGrace: false }, explanation: 'ok' };
    let first = 0;
    expect(await withAudienceNote(() => rejected, () => (first += 1))(input)).toBe(rejected);
    expect(await withAudienceNote(() => fixed, () => (first += 1))(input)).toBe(fixed);
    expect(first).toBe(0);
  });
});
