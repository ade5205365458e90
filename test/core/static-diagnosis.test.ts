import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, verifyStatic } from '../../src/core/standard-webhooks.js';
import type { HeaderBag, Rejected, SecretCandidate } from '../../src/core/verdict.js';

// Every rejection reason and every diagnosis, each from a delivery built the way the mistake
// happens in practice.

const SECRET = 'whsec_' + Buffer.from('diagnosis-test-key-0123456789ab').toString('base64');
const OTHER = 'whsec_' + Buffer.from('some-other-key-0123456789abcdef').toString('base64');
const ID = 'msg_diag';
const TS = 1_777_896_000;
const NOW = TS * 1000 + 2_000;
const EVENT = { type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: 'batch_1', output_file_uri: 'gs://b/r.jsonl', note: 'déjà' } };
const COMPACT = JSON.stringify(EVENT);

function headersFor(body: string, options: { secret?: string; ts?: number | string; id?: string } = {}): Record<string, string> {
  const ts = options.ts ?? TS;
  return { 'webhook-id': options.id ?? ID, 'webhook-timestamp': String(ts), 'webhook-signature': sign(options.id ?? ID, ts, body, options.secret ?? SECRET) };
}

interface Case {
  name: string;
  body?: string;
  headers: HeaderBag;
  secrets?: SecretCandidate[];
  now?: number;
  reason: Rejected['reason'];
  explanation?: RegExp;
  diagnosis?: RegExp[];
}

const signedWith = (body: string, key: Buffer) =>
  'v1,' + createHmac('sha256', key).update(`${ID}.${TS}.${body}`).digest('base64');

const cases: Case[] = [
  {
    name: 'missing signature header',
    headers: { 'webhook-id': ID, 'webhook-timestamp': String(TS) },
    reason: 'missing_header',
    explanation: /missing header webhook-signature/,
    diagnosis: [/proxy/],
  },
  {
    name: 'Svix-style header names',
    headers: { 'svix-id': ID, 'svix-timestamp': String(TS), 'svix-signature': headersFor(COMPACT)['webhook-signature'] as string },
    reason: 'missing_header',
    explanation: /webhook-id, webhook-timestamp, webhook-signature/,
    diagnosis: [/other names: svix-id, svix-timestamp, svix-signature.*gemwh expects webhook-id, webhook-timestamp and webhook-signature/],
  },
  {
    name: 'headers renamed with underscores by a proxy',
    headers: { webhook_id: ID, webhook_timestamp: String(TS), webhook_signature: 'v1,x', 'x-webhook-signature': 'v1,y' },
    reason: 'missing_header',
    diagnosis: [/Found webhook_id, webhook_timestamp, webhook_signature, x-webhook-signature: .*changed names/],
  },
  {
    name: 'a JWT in Authorization',
    headers: { 'webhook-id': ID, 'webhook-timestamp': String(TS), authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln' },
    reason: 'missing_header',
    diagnosis: [/Authorization header carries a bearer JWT/],
  },
  {
    name: 'timestamp not a number',
    headers: { ...headersFor(COMPACT), 'webhook-timestamp': 'yesterday' },
    reason: 'bad_timestamp',
    explanation: /"yesterday" is not a whole number/,
  },
  {
    name: 'timestamp as an ISO date',
    headers: { ...headersFor(COMPACT), 'webhook-timestamp': '2026-05-04T12:00:00Z' },
    reason: 'bad_timestamp',
    diagnosis: [/is a date; it must be seconds since the epoch \(1777896000\)/],
  },
  {
    name: 'timestamp with a fraction',
    headers: { ...headersFor(COMPACT), 'webhook-timestamp': '1777896000.5' },
    reason: 'bad_timestamp',
    diagnosis: [/fractional/],
  },
  {
    name: 'timestamp header sent twice',
    headers: { ...headersFor(COMPACT), 'webhook-timestamp': ['1777896000', '1777896001'] },
    reason: 'bad_timestamp',
    diagnosis: [/sent more than once/],
  },
  {
    name: 'timestamp in milliseconds',
    headers: headersFor(COMPACT, { ts: TS * 1000 }),
    reason: 'too_new',
    diagnosis: [/looks like milliseconds; it must be seconds since the epoch \(1777896000\)/],
  },
  {
    name: 'an old capture whose signature is fine',
    headers: headersFor(COMPACT),
    now: NOW + 3_600_000,
    reason: 'too_old',
    explanation: /3602 seconds in the past \(tolerance 300 s\)/,
    diagnosis: [/3602 seconds \(60 minutes\) before the time it is checked at/, /signature itself is valid \(it matches secret main\).*--now 1777896000/],
  },
  {
    name: 'an old capture that was also re-serialized',
    body: JSON.stringify(EVENT, null, 2),
    headers: headersFor(COMPACT),
    now: NOW + 3_600_000,
    reason: 'too_old',
    diagnosis: [/Besides the time, the signature does not match either/, /re-serialized/],
  },
  {
    name: 'a timestamp from the future',
    headers: headersFor(COMPACT, { ts: TS + 900 }),
    reason: 'too_new',
    explanation: /898 seconds in the future/,
    diagnosis: [/898 seconds \(15 minutes\) after/, /clock of the receiving machine is behind/],
  },
  {
    name: 'signature header cut at the first comma',
    headers: { ...headersFor(COMPACT), 'webhook-signature': 'v1' },
    reason: 'malformed_signature',
    diagnosis: [/just "v1": it was cut at the first comma/],
  },
  {
    name: 'signature list split on commas',
    headers: { ...headersFor(COMPACT), 'webhook-signature': (headersFor(COMPACT)['webhook-signature'] as string).slice(3) },
    reason: 'malformed_signature',
    diagnosis: [/has no "v1," in front: the list was probably split on commas/],
  },
  {
    name: 'hex signature',
    headers: { ...headersFor(COMPACT), 'webhook-signature': 'v1,' + 'ab'.repeat(32) },
    reason: 'malformed_signature',
    diagnosis: [/is hex; Standard Webhooks signatures are base64/],
  },
  {
    name: 'truncated signature',
    headers: { ...headersFor(COMPACT), 'webhook-signature': (headersFor(COMPACT)['webhook-signature'] as string).slice(0, 30) },
    reason: 'malformed_signature',
    diagnosis: [/27 characters, expected 44\): it was cut or altered/],
  },
  {
    name: 'Stripe-style signature',
    headers: { ...headersFor(COMPACT), 'webhook-signature': 't=1777896000,v1=abcdef' },
    reason: 'malformed_signature',
    diagnosis: [/Stripe-style/],
  },
  {
    name: 'a JWT given to the static verifier',
    headers: { ...headersFor(COMPACT), 'webhook-signature': 'eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln' },
    reason: 'malformed_signature',
    diagnosis: [/holds a JWT: this is a dynamic/],
  },
  {
    name: 'only v1a signatures',
    headers: { ...headersFor(COMPACT), 'webhook-signature': 'v1a,c2lnbmF0dXJl' },
    reason: 'no_matching_signature',
    explanation: /no v1 \(HMAC-SHA256\) signature, only v1a/,
    diagnosis: [/v1a is the asymmetric \(ed25519\)/],
  },
  {
    name: 'compact body re-serialized pretty',
    body: JSON.stringify(EVENT, null, 2),
    headers: headersFor(COMPACT),
    reason: 'no_matching_signature',
    diagnosis: [/same JSON as what was signed, but re-serialized: .*compact JSON \(JSON.stringify\).*Verify the raw bytes, not parsed-and-restringified JSON/],
  },
  {
    name: 'pretty body re-serialized compact',
    body: COMPACT,
    headers: headersFor(JSON.stringify(EVENT, null, 2)),
    reason: 'no_matching_signature',
    diagnosis: [/re-serialized: .*pretty-printed with 2 spaces/],
  },
  {
    name: 'keys sorted on the way',
    body: COMPACT,
    headers: headersFor('{"data":{"id":"batch_1","note":"déjà","output_file_uri":"gs://b/r.jsonl"},"timestamp":"2026-05-04T12:00:00Z","type":"batch.succeeded","version":"v1"}'),
    reason: 'no_matching_signature',
    diagnosis: [/compact JSON with sorted keys/],
  },
  {
    name: 'Python json.dumps separators',
    body: '{"test":2432232314,"name":"caf\u00e9"}',
    headers: headersFor('{"test": 2432232314, "name": "caf\\u00e9"}'),
    reason: 'no_matching_signature',
    diagnosis: [/Python json.dumps/],
  },
  {
    name: 'a newline added to the capture',
    body: COMPACT + '\n',
    headers: headersFor(COMPACT),
    reason: 'no_matching_signature',
    diagnosis: [/without its trailing whitespace\/newline/],
  },
  {
    name: 'a final newline lost',
    body: 'line\n',
    headers: headersFor('line\n\n'),
    reason: 'no_matching_signature',
    diagnosis: [/with a final newline .*lost it/],
  },
  {
    name: 'line endings converted',
    body: 'a\r\nb',
    headers: headersFor('a\nb'),
    reason: 'no_matching_signature',
    diagnosis: [/LF line endings/],
  },
  {
    name: 'an empty body',
    body: '',
    headers: headersFor(COMPACT),
    reason: 'no_matching_signature',
    diagnosis: [/body is empty: a body parser probably consumed/],
  },
  {
    name: 'a stringified object',
    body: '[object Object]',
    headers: headersFor(COMPACT),
    reason: 'no_matching_signature',
    diagnosis: [/\[object Object\]/],
  },
  {
    name: 'the secret text used as the key',
    headers: { ...headersFor(COMPACT), 'webhook-signature': signedWith(COMPACT, Buffer.from(SECRET)) },
    reason: 'no_matching_signature',
    diagnosis: [/whole secret text \(whsec_ included\) as the HMAC key/],
  },
  {
    name: 'the base64 text used as the key',
    headers: { ...headersFor(COMPACT), 'webhook-signature': signedWith(COMPACT, Buffer.from(SECRET.slice(6))) },
    reason: 'no_matching_signature',
    diagnosis: [/text after whsec_, not base64-decoded/],
  },
  {
    name: 'a secret that expired',
    headers: headersFor(COMPACT),
    secrets: [
      { secret: OTHER, label: 'new' },
      { secret: SECRET, label: 'old', expiresAt: NOW - 12 * 60_000 },
    ],
    reason: 'no_matching_signature',
    diagnosis: [/matches secret old, which expired at 2026-05-04T11:48:02Z \(12 minutes ago\)/],
  },
  {
    name: 'the wrong secret',
    headers: headersFor(COMPACT, { secret: OTHER }),
    reason: 'no_matching_signature',
    explanation: /the signature does not match the secret tried/,
    diagnosis: [/this secret is not the one the sender signs with/],
  },
  {
    name: 'several signatures, none ours',
    headers: { ...headersFor(COMPACT), 'webhook-signature': `${sign(ID, TS, COMPACT, OTHER)} ${sign(ID, TS, 'x', OTHER)}` },
    reason: 'no_matching_signature',
    diagnosis: [/carries 2 v1 signatures/],
  },
  {
    name: 'a malformed secret next to a wrong one',
    headers: headersFor(COMPACT),
    secrets: [
      { secret: OTHER, label: 'a' },
      { secret: 'whsec_...3frh', label: 'b' },
    ],
    reason: 'no_matching_signature',
    diagnosis: [/Secret b was skipped: "whsec_...3frh" is a truncated secret/],
  },
  {
    name: 'no secret at all',
    headers: headersFor(COMPACT),
    secrets: [],
    reason: 'bad_secret',
    explanation: /no signing secret/,
  },
  {
    name: 'only unusable secrets',
    headers: headersFor(COMPACT),
    secrets: [{ secret: 'v1,abc', label: 'pasted' }],
    reason: 'bad_secret',
    diagnosis: [/Secret pasted: this is a signature/],
  },
];

describe('verifyStatic rejections and diagnoses', () => {
  it.each(cases)('$name → $reason', (c) => {
    const verdict = verifyStatic({
      rawBody: c.body ?? COMPACT,
      headers: c.headers,
      secrets: c.secrets ?? [{ secret: SECRET, label: 'main' }],
      now: c.now ?? NOW,
      toleranceSec: 300,
    });
    expect(verdict.ok).toBe(false);
    const rejected = verdict as Rejected;
    expect(rejected.scheme).toBe('static');
    expect(rejected.reason).toBe(c.reason);
    if (c.explanation) expect(rejected.explanation).toMatch(c.explanation);
    for (const pattern of c.diagnosis ?? []) {
      expect(rejected.diagnosis.some((line) => pattern.test(line)), `${pattern} in\n${rejected.diagnosis.join('\n')}`).toBe(true);
    }
  });

  it('covers every static reason', () => {
    const reasons = new Set(cases.map((c) => c.reason));
    expect([...reasons].sort()).toEqual(
      ['bad_secret', 'bad_timestamp', 'malformed_signature', 'missing_header', 'no_matching_signature', 'too_new', 'too_old'],
    );
  });

  it('reports the webhook-id of a rejected delivery', () => {
    const verdict = verifyStatic({ rawBody: 'x', headers: headersFor(COMPACT), secrets: [{ secret: SECRET, label: 'm' }], now: NOW });
    expect(verdict).toMatchObject({ ok: false, webhookId: ID });
  });

  it('tolerates the ", " node puts between repeated signature headers', () => {
    const good = headersFor(COMPACT)['webhook-signature'] as string;
    const verdict = verifyStatic({
      rawBody: COMPACT,
      headers: { ...headersFor(COMPACT), 'webhook-signature': `${sign(ID, TS, COMPACT, OTHER)}, ${good}` },
      secrets: [{ secret: SECRET, label: 'm' }],
      now: NOW,
    });
    expect(verdict.ok).toBe(true);
  });
});

describe('diagnosis of hostile bodies', () => {
  // Anyone can send a failing delivery: its diagnosis must stay linear, bounded and stack-safe.
  const failing = (raw: string) => verifyStatic({ rawBody: raw, headers: headersFor(raw, { secret: OTHER }), secrets: [{ secret: SECRET, label: 'wh_1' }], now: NOW });

  it('handles a long run of trailing whitespace in one pass (a /\\s+$/ regex takes minutes on 1 MiB)', () => {
    const verdict = failing('x' + ' '.repeat(1024 * 1024) + 'y') as Rejected;
    expect(verdict.reason).toBe('no_matching_signature');
    // And it still finds the trailing newline a capture gained.
    const signed = COMPACT;
    const captured = signed + ' '.repeat(256 * 1024) + '\n';
    const found = verifyStatic({ rawBody: captured, headers: headersFor(signed), secrets: [{ secret: SECRET, label: 'wh_1' }], now: NOW }) as Rejected;
    expect(found.diagnosis.join('\n')).toMatch(/without its trailing whitespace/);
  });

  it('answers deeply nested JSON with a verdict, not a stack overflow, and says what it skipped', () => {
    for (const raw of ['['.repeat(30_000) + ']'.repeat(30_000), '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), '['.repeat(1000) + ']'.repeat(1000)]) {
      const verdict = failing(raw) as Rejected;
      expect(verdict.reason).toBe('no_matching_signature');
      expect(verdict.diagnosis.join('\n')).toMatch(raw.length > 4096 ? /over 4 KiB/ : /nests more than 16 levels deep, so re-serialized forms of it were not tried/);
    }
  });

  it('does not re-serialize a body past the size cap, and says so', () => {
    const big = JSON.stringify({ type: 'batch.succeeded', data: Array.from({ length: 20_000 }, (_, i) => ({ i, note: 'déjà' })) });
    const verdict = failing(big) as Rejected;
    expect(verdict.diagnosis.join('\n')).toMatch(/over 4 KiB, so re-serialized forms of its JSON were not tried/);
    // Under the cap, the re-serialization is still found.
    const small = verifyStatic({
      rawBody: JSON.stringify(EVENT, null, 2),
      headers: headersFor(COMPACT),
      secrets: [{ secret: SECRET, label: 'wh_1' }],
      now: NOW,
    }) as Rejected;
    expect(small.diagnosis.join('\n')).toMatch(/re-serialized/);
  });
});
