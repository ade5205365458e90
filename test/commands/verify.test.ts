import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/core/standard-webhooks.js';
import { ExitCode } from '../../src/errors.js';
import { runMain } from '../../src/program.js';
import { freshSecret } from '../../src/secrets/current-secrets.js';
import { createFileStore, fileStorePath } from '../../src/secrets/file-store.js';
import type { StoredSecret } from '../../src/secrets/types.js';
import { makeTestDeps, runGemwh, type TestDeps } from '../helpers/deps.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const AT = { now: TS * 1000 + 5_000 };

let dir: string;
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gemwh-verify-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const httpHeaders = (signature = SIGNATURE, ts = TS) =>
  `POST /webhooks/gemini HTTP/1.1\r\nHost: hooks.example.com\r\nContent-Type: application/json\r\nwebhook-id: ${ID}\r\nwebhook-timestamp: ${ts}\r\nwebhook-signature: ${signature}\r\n`;

describe('gemwh verify (static)', () => {
  it('accepts a capture given as a body file and raw HTTP header lines', async () => {
    const result = await runGemwh(['verify', '--body', file('body.json', BODY), '--headers', file('h.txt', httpHeaders()), '--secret', SECRET], AT);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✓ valid static delivery ${ID}`);
    expect(result.stdout).toContain('signature matches secret --secret (whsec_…LaSw)');
    expect(result.stdout).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2');
  });

  it('takes headers from --header flags and the secret from the environment', async () => {
    const result = await runGemwh(
      [
        'verify', '--body', file('body2.json', BODY),
        '--header', `webhook-id: ${ID}`, '--header', `Webhook-Timestamp: ${TS}`, '--header', `webhook-signature: ${SIGNATURE}`,
        '--secret-env', 'HOOK_SECRETS',
      ],
      { ...AT, env: { HOOK_SECRETS: `whsec_${Buffer.alloc(24, 3).toString('base64')} ${SECRET}` } },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('$HOOK_SECRETS #2');
  });

  it('tries the secrets of every --secret-env, not only the last one', async () => {
    const other = `whsec_${Buffer.alloc(24, 5).toString('base64')}`;
    const args = [
      'verify', '--body', file('body-env.json', BODY),
      '--header', `webhook-id: ${ID}`, '--header', `webhook-timestamp: ${TS}`, '--header', `webhook-signature: ${SIGNATURE}`,
      '--secret-env', 'CURRENT_SECRET', '--secret-env', 'OTHER_SECRET',
    ];
    const result = await runGemwh(args, { ...AT, env: { CURRENT_SECRET: SECRET, OTHER_SECRET: other } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('signature matches secret $CURRENT_SECRET (whsec_…LaSw)');

    const unset = await runGemwh([...args, '--secret-env', 'NOT_SET_EITHER'], { ...AT, env: { CURRENT_SECRET: SECRET, OTHER_SECRET: other } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/NOT_SET_EITHER is not set/);
  });

  it('reads a JSON headers object and the body from stdin, and verifies at --now', async () => {
    const headers = file('h.json', JSON.stringify({ 'webhook-id': ID, 'webhook-timestamp': TS, 'webhook-signature': SIGNATURE }));
    const result = await runGemwh(['verify', '--body', '-', '--headers', headers, '--secret', SECRET, '--now', '2021-02-25T15:02:10Z'], { stdin: BODY });
    expect(result.code).toBe(0);
  });

  it('takes the body from a whole HTTP message in --headers', async () => {
    const message = file('request.http', `${httpHeaders()}\r\n${BODY}`);
    const result = await runGemwh(['verify', '--headers', message, '--secret', SECRET, '--now', String(TS)]);
    expect(result.code).toBe(0);
  });

  it('prints the verdict as JSON', async () => {
    const result = await runGemwh(['verify', '--body', file('b3.json', BODY), '--headers', file('h3.txt', httpHeaders()), '--secret', SECRET, '--json'], AT);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, scheme: 'static', webhookId: ID, timestamp: TS, matched: { index: 0, inGrace: false } });
  });

  it.each([
    ['an old capture without --now', [] as string[], { now: (TS + 3600) * 1000 }, /too_old/, /--now 1614265330/],
    ['a re-serialized body', ['--body-text', '{"test":2432232314}'], AT, /no_matching_signature/, /re-serialized.*Verify the raw bytes/],
    ['a signature header cut at the comma', ['--sig', 'v1'], AT, /malformed_signature/, /cut at the first comma/],
    ['a wrong secret', ['--secret-value', `whsec_${Buffer.alloc(24, 9).toString('base64')}`], AT, /no_matching_signature/, /not the one the sender signs with/],
    ['missing headers', ['--no-sig'], AT, /missing_header/, /webhook-signature/],
  ])('rejects %s with exit 3 and a diagnosis', async (_name, tweaks, deps, reason, diagnosis) => {
    const body = tweaks[0] === '--body-text' ? (tweaks[1] as string) : BODY;
    const headerText = tweaks[0] === '--sig' ? httpHeaders(tweaks[1]) : tweaks[0] === '--no-sig' ? httpHeaders().replace(/webhook-signature.*\r\n/, '') : httpHeaders();
    const secret = tweaks[0] === '--secret-value' ? (tweaks[1] as string) : SECRET;
    const result = await runGemwh(['verify', '--body', file('fail-body', body), '--headers', file('fail-h', headerText), '--secret', secret], deps);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^✗ rejected \(static\): /);
    expect(result.stdout).toMatch(reason);
    expect(result.stdout).toMatch(diagnosis);
    expect(result.stderr).toMatch(/gemwh: the delivery failed verification/);
  });

  it('reports a failure as JSON on stdout and the error as JSON on stderr', async () => {
    const result = await runGemwh(['verify', '--body', file('b4.json', BODY + ' '), '--headers', file('h4.txt', httpHeaders()), '--secret', SECRET, '--json'], AT);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: 'no_matching_signature', diagnosis: expect.any(Array) });
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'verification_failed', exitCode: 3 } });
  });

  it.each([
    ['no body', ['--headers', 'H', '--secret', SECRET], /no body given/],
    ['an unreadable body file', ['--body', '/nonexistent/body.json', '--headers', 'H', '--secret', SECRET], /cannot read \/nonexistent\/body.json: no such file/],
    ['no secret', ['--body', 'B', '--headers', 'H'], /no signing secret/],
    ['a truncated secret', ['--body', 'B', '--headers', 'H', '--secret', 'whsec_...3frh'], /truncated secret/],
    ['a pasted signature as secret', ['--body', 'B', '--headers', 'H', '--secret', SIGNATURE], /not a signing secret/],
    ['an unset --secret-env', ['--body', 'B', '--headers', 'H', '--secret-env', 'NOPE_NOT_SET'], /NOPE_NOT_SET is not set/],
    ['no headers', ['--body', 'B', '--secret', SECRET], /no headers given/],
    ['a bad header line', ['--body', 'B', '--header', 'webhook-id msg', '--secret', SECRET], /not a header line/],
    ['a bad --tolerance', ['--body', 'B', '--headers', 'H', '--secret', SECRET, '--tolerance', 'soon'], /--tolerance: "soon" is not a duration/],
    ['a bad --now', ['--body', 'B', '--headers', 'H', '--secret', SECRET, '--now', 'yesterday'], /--now: "yesterday" is not a time/],
    ['an invalid --jwks-file', ['--body', 'B', '--headers', 'H', '--jwks-file', 'B'], /is not a JWKS/],
  ])('refuses %s with exit 2', async (_name, args, message) => {
    const b = file('u-body', BODY);
    const h = file('u-h', httpHeaders());
    const result = await runGemwh(['verify', ...args.map((a) => (a === 'B' ? b : a === 'H' ? h : a))], AT);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('accepts a longer --tolerance for a delayed capture', async () => {
    const args = ['verify', '--body', file('t.json', BODY), '--headers', file('t.txt', httpHeaders()), '--secret', SECRET];
    expect((await runGemwh(args, { now: (TS + 3600) * 1000 })).code).toBe(3);
    expect((await runGemwh([...args, '--tolerance', '2h'], { now: (TS + 3600) * 1000 })).code).toBe(0);
  });

  it('reports a rotation: the old secret matches but expired is only a store concern; both secrets are tried', async () => {
    const other = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
    const both = `${sign(ID, TS, BODY, other)} ${SIGNATURE}`;
    const result = await runGemwh(['verify', '--body', file('r.json', BODY), '--headers', file('r.txt', httpHeaders(both)), '--secret', other, '--secret', SECRET], AT);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--secret #1');
  });
});

describe('gemwh verify --webhook', () => {
  const OTHER = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
  const now = AT.now;

  async function withStore(secrets: StoredSecret[], run: (t: TestDeps) => Promise<void>): Promise<void> {
    const t = makeTestDeps({ now });
    try {
      const store = createFileStore(fileStorePath(t.deps.paths.config));
      await store.setWebhookSecrets('wh_1', secrets);
      await store.setWebhookSecrets('wh_2', [freshSecret(OTHER, now)]);
      await run(t);
    } finally {
      t.cleanup();
    }
  }
  const args = (...more: string[]) => [
    '--secret-store', 'file', 'verify', '--body', file('w.json', BODY), '--headers', file('w.txt', httpHeaders()), ...more,
  ];

  it("verifies with the webhook's stored secret and names the webhook", async () => {
    await withStore([freshSecret(SECRET, now)], async (t) => {
      expect(await runMain(args('--webhook', 'wh_1'), t.deps)).toBe(0);
      expect(t.stdout()).toContain('signature matches secret wh_1');
    });
  });

  it('tries every current secret after a rotation and says the old one is in its grace period', async () => {
    const rotated = [freshSecret(OTHER, now), { ...freshSecret(SECRET, now - 60_000), expiresAt: new Date(now + 3_600_000).toISOString() }];
    await withStore(rotated, async (t) => {
      expect(await runMain(args('--webhook', 'wh_1', '--json'), t.deps)).toBe(0);
      expect(JSON.parse(t.stdout())).toMatchObject({ ok: true, matched: { label: 'wh_1 (previous)', inGrace: true } });
    });
  });

  it('tries --secret first, then the stored secrets of each --webhook', async () => {
    await withStore([freshSecret(SECRET, now)], async (t) => {
      expect(await runMain(args('--secret', OTHER, '--webhook', 'wh_2', '--webhook', 'wh_1', '--json'), t.deps)).toBe(0);
      expect(JSON.parse(t.stdout())).toMatchObject({ ok: true, matched: { label: 'wh_1', index: 2 } });
    });
  });

  it('exits 8 when the store holds no secret for the webhook', async () => {
    await withStore([freshSecret(SECRET, now)], async (t) => {
      expect(await runMain(args('--webhook', 'wh_unknown'), t.deps)).toBe(ExitCode.SECRET_STORE);
      expect(t.stderr()).toMatch(/no valid signing secret for webhook wh_unknown in /);
      expect(t.stdout()).toBe('');
    });
  });
});

describe('gemwh verify (dynamic)', () => {
  let server: JwksServer;
  let jwksFile: string;
  let jwt: string;
  const now = Date.UTC(2026, 4, 4, 12, 0, 0);
  const event = { type: 'video.generated', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: 'op_1' } };
  const body = JSON.stringify(event);

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = await startJwksServer({ keys: [jwk] });
    jwksFile = file('jwks.json', JSON.stringify({ keys: [jwk] }));
    jwt = await new SignJWT({ ...event, aud: 'https://hooks.example.com/gemini', iat: now / 1000, exp: now / 1000 + 300, jti: 'evt_9' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(privateKey);
  });
  afterAll(async () => {
    await server.close();
  });

  it('verifies with a JWKS file and lists the claims', async () => {
    const result = await runGemwh(['verify', '--body', file('d.json', body), '--header', `webhook-signature: ${jwt}`, '--jwks-file', jwksFile], { now });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ valid dynamic delivery evt_9');
    expect(result.stdout).toContain('"type": "video.generated"');
  });

  it('verifies with a JWKS URL on loopback', async () => {
    const result = await runGemwh(['verify', '--body', file('d2.json', body), '--header', `webhook-signature: ${jwt}`, '--jwks-url', server.url, '--json'], { now });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, scheme: 'dynamic', kid: 'k1', claims: { jti: 'evt_9' } });
    expect(server.requests).toBeGreaterThan(0);
  });

  it('rejects a wrong audience and a changed body with exit 3', async () => {
    const aud = await runGemwh(
      ['verify', '--body', file('d3.json', body), '--header', `webhook-signature: ${jwt}`, '--jwks-file', jwksFile, '--audience', 'https://elsewhere/'],
      { now },
    );
    expect(aud.code).toBe(3);
    expect(aud.stdout).toMatch(/jwt_claim_mismatch/);
    const changed = await runGemwh(
      ['verify', '--body', file('d4.json', body.replace('op_1', 'op_2')), '--header', `webhook-signature: ${jwt}`, '--jwks-file', jwksFile],
      { now },
    );
    expect(changed.code).toBe(3);
    expect(changed.stdout).toMatch(/data.id is "op_2" in the body, "op_1" in the JWT/);
  });
});

describe('gemwh verify --help', () => {
  it('ends with examples', async () => {
    const result = await runGemwh(['verify', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples:\n {2}\$ gemwh verify --body body.json --headers headers.txt/);
  });

  it('says that --secret-env is repeatable and that one variable may hold several secrets', async () => {
    const result = await runGemwh(['verify', '--help']);
    const line = result.stdout.split('\n').findIndex((l) => l.includes('--secret-env <var>'));
    const text = result.stdout.split('\n').slice(line, line + 3).join(' ').replace(/\s+/g, ' ');
    expect(text).toMatch(/repeatable; it may hold several, space-separated/);
    expect(text).not.toMatch(/\(several: space separated\)/);
  });
});
