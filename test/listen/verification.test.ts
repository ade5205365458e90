import { describe, expect, it } from 'vitest';
import { DIAGNOSIS_SKIPPED, sign } from '../../src/core/standard-webhooks.js';
import { createListenVerifier } from '../../src/listen/verification.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WRONG = 'whsec_' + Buffer.alloc(32, 7).toString('base64');

describe('listen verifier: diagnosis budget', () => {
  it('diagnoses rejected deliveries in full up to the budget per second, then only names the reason', async () => {
    let clock = 1_800_000_000_000;
    const verify = createListenVerifier({ secrets: [{ secret: SECRET, label: 'wh' }], toleranceSec: 300, now: () => clock, diagnosesPerSecond: 2 });
    const body = Buffer.from('{"type":"batch.succeeded","data":{"id":"batches/1"}}');
    const deliver = async (secret: string, n: number) => {
      const ts = Math.floor(clock / 1000);
      const headers = { 'webhook-id': `msg_${n}`, 'webhook-timestamp': String(ts), 'webhook-signature': sign(`msg_${n}`, ts, body, secret) };
      return verify({ rawBody: body, headers, now: clock });
    };
    const diagnosed = async (n: number) => {
      const verdict = await deliver(WRONG, n);
      expect(verdict.ok).toBe(false);
      if (verdict.ok) throw new Error('unreachable');
      expect(verdict.reason).toBe('no_matching_signature');
      return !verdict.diagnosis.includes(DIAGNOSIS_SKIPPED);
    };
    expect([await diagnosed(1), await diagnosed(2), await diagnosed(3), await diagnosed(4)]).toEqual([true, true, false, false]);
    // Accepted deliveries never spend the budget.
    expect((await deliver(SECRET, 5)).ok).toBe(true);
    clock += 1000;
    expect((await deliver(SECRET, 6)).ok).toBe(true);
    expect([await diagnosed(7), await diagnosed(8), await diagnosed(9)]).toEqual([true, true, false]);
  });

  it('diagnoses every rejection when nothing floods it (the default budget)', async () => {
    const clock = 1_800_000_000_000;
    const verify = createListenVerifier({ secrets: [{ secret: SECRET, label: 'wh' }], toleranceSec: 300, now: () => clock });
    const body = Buffer.from('{"type":"batch.succeeded"}');
    const ts = Math.floor(clock / 1000);
    const verdict = await verify({ rawBody: body, headers: { 'webhook-id': 'msg_a', 'webhook-timestamp': String(ts), 'webhook-signature': sign('msg_a', ts, body, WRONG) }, now: clock });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.diagnosis).not.toContain(DIAGNOSIS_SKIPPED);
  });
});
