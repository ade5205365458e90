import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  inspectSecret,
  parseSecret,
  parseSignatureHeader,
  secretKey,
  sign,
  verifyStatic,
  type VerifyStaticInput,
} from '../../src/core/standard-webhooks.js';
import type { Rejected, Verdict } from '../../src/core/verdict.js';
import { UsageError } from '../../src/errors.js';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks') as typeof import('standardwebhooks');

const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const VECTOR_NOW = VECTOR.timestamp * 1000;
const OTHER_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');

function vectorInput(overrides: Partial<VerifyStaticInput> = {}): VerifyStaticInput {
  return {
    rawBody: VECTOR.body,
    headers: { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature },
    secrets: [{ secret: VECTOR.secret, label: 'primary' }],
    now: VECTOR_NOW,
    toleranceSec: 300,
    ...overrides,
  };
}

function rejected(verdict: Verdict): Rejected {
  if (verdict.ok) throw new Error(`expected a rejection, got ${JSON.stringify(verdict)}`);
  return verdict;
}

describe('sign', () => {
  it('reproduces the Standard Webhooks known-answer vector', () => {
    expect(sign(VECTOR.id, VECTOR.timestamp, VECTOR.body, VECTOR.secret)).toBe(VECTOR.signature);
    expect(sign(VECTOR.id, String(VECTOR.timestamp), Buffer.from(VECTOR.body), VECTOR.secret)).toBe(VECTOR.signature);
  });

  it('keeps secretKey as the key decoder', () => {
    expect(secretKey(VECTOR.secret)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
  });
});

describe('parseSecret', () => {
  it('accepts padded and unpadded base64', () => {
    const key = Buffer.from('0123456789abcdefghij', 'utf8');
    const padded = key.toString('base64');
    expect(padded.endsWith('=')).toBe(true);
    expect(parseSecret(`whsec_${padded}`)).toEqual(key);
    expect(parseSecret(`whsec_${padded.replace(/=+$/, '')}`)).toEqual(key);
    expect(parseSecret(`  ${VECTOR.secret}\n`)).toEqual(secretKey(VECTOR.secret));
  });

  const bad: Array<[string, string, RegExp, RegExp]> = [
    ['a pasted signature', VECTOR.signature, /signature \(v1,…\)/, /starts with whsec_/],
    ['a truncated secret (three dots)', 'whsec_...3frh', /truncated secret/, /rotate/],
    ['a truncated secret (ellipsis)', 'whsec_…3frh', /truncated secret/, /rotate/],
    ['no prefix, base64', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /must start with whsec_/, /put whsec_ in front/],
    ['no prefix, not base64', 'hunter2!', /must start with whsec_/, /new_signing_secret/],
    ['empty', '', /empty/, /whsec_/],
    ['only the prefix', 'whsec_', /nothing after whsec_/, /whsec_/],
    ['base64url characters', 'whsec_abc-def_', /not base64 after whsec_: unexpected "-"/, /base64url/],
    ['a cut base64 string', 'whsec_abcde', /not valid base64/, /cut/],
    ['quoted', `"${VECTOR.secret}"`, /quotes/, /without/],
  ];
  it.each(bad)('rejects %s with a message and a hint', (_name, secret, message, hint) => {
    const inspection = inspectSecret(secret);
    expect(inspection.ok).toBe(false);
    try {
      parseSecret(secret);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toMatch(message);
      expect((error as UsageError).hint).toMatch(hint);
    }
  });
});

describe('parseSignatureHeader', () => {
  it('splits v1 entries, skips other versions, keeps malformed ones apart', () => {
    const parsed = parseSignatureHeader(`${VECTOR.signature} v1a,AAAA v1,short garbage`);
    expect(parsed.v1).toHaveLength(1);
    expect(parsed.otherVersions).toEqual(['v1a']);
    expect(parsed.malformed).toEqual(['v1,short', 'garbage']);
  });
});

describe('verifyStatic', () => {
  it('accepts the known-answer vector and says which secret matched', () => {
    const verdict = verifyStatic(vectorInput({ secrets: [{ secret: OTHER_SECRET, label: 'old' }, { secret: VECTOR.secret, label: 'new' }] }));
    expect(verdict).toMatchObject({
      ok: true,
      scheme: 'static',
      webhookId: VECTOR.id,
      timestamp: VECTOR.timestamp,
      matched: { label: 'new', index: 1, inGrace: false },
    });
  });

  it('accepts a Buffer body and header names in any case, and node-style arrays', () => {
    const verdict = verifyStatic(
      vectorInput({
        rawBody: Buffer.from(VECTOR.body),
        headers: { 'Webhook-Id': VECTOR.id, 'WEBHOOK-TIMESTAMP': String(VECTOR.timestamp), 'webhook-signature': [VECTOR.signature] },
      }),
    );
    expect(verdict.ok).toBe(true);
  });

  it('accepts when any of several signatures matches (rotation)', () => {
    const other = sign(VECTOR.id, VECTOR.timestamp, VECTOR.body, OTHER_SECRET);
    const headers = { ...vectorInput().headers, 'webhook-signature': `${other} v1a,ZmFrZQ== ${VECTOR.signature}` };
    expect(verifyStatic(vectorInput({ headers })).ok).toBe(true);
  });

  it('reports a secret in its grace period', () => {
    const verdict = verifyStatic(vectorInput({ secrets: [{ secret: VECTOR.secret, label: 'old', expiresAt: VECTOR_NOW + 3_600_000 }] }));
    expect(verdict).toMatchObject({ ok: true, matched: { label: 'old', inGrace: true } });
    expect(verdict.explanation).toMatch(/grace period/);
  });

  it('accepts exactly at the tolerance edge and rejects one second beyond', () => {
    expect(verifyStatic(vectorInput({ now: VECTOR_NOW + 300_000 })).ok).toBe(true);
    expect(verifyStatic(vectorInput({ now: VECTOR_NOW - 300_000 })).ok).toBe(true);
    expect(rejected(verifyStatic(vectorInput({ now: VECTOR_NOW + 301_000 }))).reason).toBe('too_old');
    expect(rejected(verifyStatic(vectorInput({ now: VECTOR_NOW - 301_000 }))).reason).toBe('too_new');
  });

  it('uses 300 s when no tolerance is given', () => {
    const { toleranceSec: _omit, ...input } = vectorInput();
    expect(verifyStatic({ ...input, now: VECTOR_NOW + 299_000 }).ok).toBe(true);
    expect(verifyStatic({ ...input, now: VECTOR_NOW + 302_000 }).ok).toBe(false);
  });

  it('rejects a body changed by one byte', () => {
    expect(rejected(verifyStatic(vectorInput({ rawBody: '{"test": 2432232315}' }))).reason).toBe('no_matching_signature');
  });

  describe('interop with the standardwebhooks package', () => {
    const secret = 'whsec_' + Buffer.from('interop-key-0123456789abcdef').toString('base64');
    const body = JSON.stringify({ type: 'batch.succeeded', data: { id: 'batch_1', text: 'héllo ✓' } });

    it('verifies signatures made by standardwebhooks', () => {
      const now = Date.now();
      const signature = new Webhook(secret).sign('msg_interop', new Date(now), body);
      const verdict = verifyStatic({
        rawBody: body,
        headers: { 'webhook-id': 'msg_interop', 'webhook-timestamp': String(Math.floor(now / 1000)), 'webhook-signature': signature },
        secrets: [{ secret, label: 'interop' }],
        now,
      });
      expect(verdict.ok).toBe(true);
    });

    it('makes signatures standardwebhooks accepts', () => {
      const ts = Math.floor(Date.now() / 1000);
      const headers = { 'webhook-id': 'msg_interop', 'webhook-timestamp': String(ts), 'webhook-signature': sign('msg_interop', ts, body, secret) };
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
      const tampered = { ...headers, 'webhook-signature': sign('msg_interop', ts, body + ' ', secret) };
      expect(() => new Webhook(secret).verify(body, tampered)).toThrow(/No matching signature/);
    });
  });
});

describe('parseSignatureHeader versions', () => {
  it('never takes a MAC under another name for v1', () => {
    const mac = VECTOR.signature.slice(3);
    expect(parseSignatureHeader(`x,${mac} v2,${mac}`)).toEqual({ v1: [], otherVersions: ['v2'], malformed: [`x,${mac}`] });
  });
});
