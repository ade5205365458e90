import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sign } from '../../src/core/standard-webhooks.js';
import { ExitCode } from '../../src/errors.js';
import { runMain } from '../../src/program.js';
import { TAMPER_SKEW_SECONDS } from '../../src/replay/prepare-delivery.js';
import { TAMPER_MODES } from '../../src/replay/tamper-modes.js';
import { createFileStore, fileStorePath } from '../../src/secrets/file-store.js';
import { makeTestDeps, runGemwh, type TestDeps } from '../helpers/deps.js';
import { closedPort, startRecordingServer, type RecordedRequest, type RecordingServer } from '../helpers/recording-server.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');

/** What a correct receiver does: verify with the reference library, 204 if authentic, else 400. */
function verifyingAnswer(secret = SECRET) {
  return (request: RecordedRequest) => {
    try {
      new Webhook(secret).verify(request.body.toString('utf8'), request.headers as Record<string, string>);
      return { status: 204 };
    } catch (error) {
      return { status: 400, body: (error as Error).message };
    }
  };
}

function header(request: RecordedRequest | undefined, name: string): string | undefined {
  const value = request?.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

describe('gemwh replay fixture', () => {
  let server: RecordingServer;
  const servers: RecordingServer[] = [];
  const start = async (answer?: (r: RecordedRequest) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }) => {
    const s = await startRecordingServer(answer);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe('against a verifying receiver', () => {
    beforeEach(async () => {
      server = await start(verifyingAnswer());
    });

    it('sends exactly the signed bytes, with Standard Webhooks headers, to / of the target', async () => {
      const before = Math.floor(Date.now() / 1000);
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', `127.0.0.1:${server.port}`, '--secret', SECRET]);
      expect(result.stderr).toMatch(/1 answered as expected/);
      expect(result.code).toBe(0);
      expect(server.requests).toHaveLength(1);
      const request = server.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/');
      expect(header(request, 'content-type')).toBe('application/json');
      const id = header(request, 'webhook-id')!;
      const timestamp = header(request, 'webhook-timestamp')!;
      expect(id).toMatch(/^msg_[0-9A-Za-z]{24}$/);
      expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
      expect(header(request, 'webhook-signature')).toBe(sign(id, timestamp, request.body, SECRET));
      const event = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
      expect(event).toMatchObject({ type: 'batch.succeeded', version: 'v1', data: { id: expect.any(String) } });
      // Compact JSON, as Gemini sends it.
      expect(request.body.toString('utf8')).toBe(JSON.stringify(event));
      expect(Number(header(request, 'content-length'))).toBe(request.body.length);
      // Pipe output: TSV with a header line and one row.
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toBe('seq\twebhook_id\tkind\tstatus\tlatency_ms\tresult\tresponse');
      expect(lines[1]?.split('\t').slice(0, 4)).toEqual(['1', id, 'valid', '204']);
      expect(lines[1]?.split('\t')[5]).toBe('ok');
    });

    it('posts to the path given in the target, and signs with every --secret given', async () => {
      const result = await runGemwh(['replay', 'fixture', 'interaction.completed', '--to', `${server.url}/hooks/gemini`, '--secret', OTHER_SECRET, '--secret', SECRET]);
      expect(result.code).toBe(0);
      const request = server.requests[0];
      expect(request?.url).toBe('/hooks/gemini');
      expect(header(request, 'webhook-signature')?.split(' ')).toHaveLength(2);
    });

    it('reads the secret from --secret-env', async () => {
      const result = await runGemwh(['replay', 'fixture', 'batch.failed', '--to', server.url, '--secret-env', 'MY_SECRET'], {
        env: { MY_SECRET: SECRET },
      });
      expect(result.code).toBe(0);
      expect(server.requests).toHaveLength(1);
    });

    it('applies --set with dotted paths, JSON values and plain text', async () => {
      const result = await runGemwh([
        'replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET,
        '--set', 'data.output_file_uri=gs://b/r.jsonl',
        '--set', 'data.user_metadata={"tenant":"acme"}',
        '--set', 'data.attempt=3',
      ]);
      expect(result.code).toBe(0);
      const event = JSON.parse(server.requests[0]!.body.toString('utf8')) as { data: Record<string, unknown> };
      expect(event.data).toMatchObject({ output_file_uri: 'gs://b/r.jsonl', user_metadata: { tenant: 'acme' }, attempt: 3 });
    });

    it('uses --id and --timestamp as given', async () => {
      const now = Math.floor(Date.now() / 1000);
      const result = await runGemwh(['replay', 'fixture', 'video.generated', '--to', server.url, '--secret', SECRET, '--id', 'msg_fixed', '--timestamp', String(now)]);
      expect(result.code).toBe(0);
      expect(header(server.requests[0], 'webhook-id')).toBe('msg_fixed');
      expect(header(server.requests[0], 'webhook-timestamp')).toBe(String(now));
    });

    it('sends a JSON file compactly, byte for byte as signed', async () => {
      const t = makeTestDeps();
      try {
        const file = join(t.home, 'event.json');
        writeFileSync(file, JSON.stringify({ type: 'custom.thing', version: 'v1', data: { id: 'x1' } }, null, 2));
        const code = await runMain(['replay', 'fixture', file, '--to', server.url, '--secret', SECRET], t.deps);
        expect(code).toBe(0);
        expect(server.requests[0]!.body.toString('utf8')).toBe('{"type":"custom.thing","version":"v1","data":{"id":"x1"}}');
      } finally {
        t.cleanup();
      }
    });

    it('sends --count deliveries with at most --concurrency in flight, each with its own id', async () => {
      const slow = await start((request) => ({ ...verifyingAnswer()(request), delayMs: 40 }));
      const result = await runGemwh(['replay', 'fixture', 'batch.expired', '--to', slow.url, '--secret', SECRET, '--count', '7', '--concurrency', '3', '--json']);
      expect(result.code).toBe(0);
      expect(slow.requests).toHaveLength(7);
      expect(new Set(slow.requests.map((r) => header(r, 'webhook-id'))).size).toBe(7);
      expect(slow.maxInFlight()).toBeLessThanOrEqual(3);
      expect(slow.maxInFlight()).toBeGreaterThanOrEqual(2);
      const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toHaveLength(7);
      expect(lines.map((l) => l.seq).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(lines[0]).toMatchObject({ kind: 'valid', expected: '2xx', status: 204, ok: true, url: `${slow.url}/` });
    });

    it('counts the answers of --count N on a terminal\'s stderr, erases the line, and draws nothing in a pipe or with --json', async () => {
      const args = ['replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET, '--count', '3'];
      const tty = await runGemwh(args, { stderrIsTTY: true, stdoutIsTTY: true });
      expect(tty.code).toBe(0);
      expect(tty.stderr).toContain(`\r\x1b[K[1/3] sends answered by ${server.url}/`);
      expect(tty.stderr).toContain('\r\x1b[K[3/3] ');
      // Erased before the summary line, so the summary starts at the left edge of a clean line.
      expect(tty.stderr).toMatch(/\[3\/3\][^\n]*\r\x1b\[Kgemwh: 3 sends to /);
      const pipe = await runGemwh(args, { stderrIsTTY: false });
      const json = await runGemwh([...args, '--json'], { stderrIsTTY: true });
      const single = await runGemwh(args.slice(0, -2), { stderrIsTTY: true });
      for (const quiet of [pipe, json, single]) {
        expect(quiet.code).toBe(0);
        expect(quiet.stderr).not.toContain('\r');
      }
    });

    it('--repeat-id sends each delivery twice with the same webhook-id', async () => {
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET, '--repeat-id']);
      expect(result.code).toBe(0);
      expect(server.requests).toHaveLength(2);
      expect(header(server.requests[0], 'webhook-id')).toBe(header(server.requests[1], 'webhook-id'));
      expect(result.stdout).toMatch(/\trepeat\t204\t/);
    });

    it('--rotation-header puts a stale signature from another secret before the valid one', async () => {
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET, '--rotation-header']);
      expect(result.code).toBe(0);
      const request = server.requests[0]!;
      const entries = header(request, 'webhook-signature')!.split(' ');
      expect(entries).toHaveLength(2);
      const valid = sign(header(request, 'webhook-id')!, header(request, 'webhook-timestamp')!, request.body, SECRET);
      expect(entries[0]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(entries[0]).not.toBe(valid);
      expect(entries[1]).toBe(valid);
    });

    it.each(TAMPER_MODES)('--tamper %s is refused by a verifying receiver: exit 0', async (mode) => {
      const before = Math.floor(Date.now() / 1000);
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET, '--tamper', mode]);
      expect(result.stderr).toMatch(/1 answered as expected/);
      expect(result.code).toBe(0);
      const request = server.requests[0]!;
      expect(result.stdout).toContain(`tamper:${mode}\t400\t`);
      const id = header(request, 'webhook-id');
      const timestamp = header(request, 'webhook-timestamp');
      const signature = header(request, 'webhook-signature');
      switch (mode) {
        case 'missing-id':
          expect(id).toBeUndefined();
          break;
        case 'missing-timestamp':
          expect(timestamp).toBeUndefined();
          break;
        case 'missing-signature':
          expect(signature).toBeUndefined();
          break;
        case 'body': {
          expect(signature).not.toBe(sign(id!, timestamp!, request.body, SECRET));
          expect(() => JSON.parse(request.body.toString('utf8')) as unknown).not.toThrow();
          break;
        }
        case 'signature':
          expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
          expect(signature).not.toBe(sign(id!, timestamp!, request.body, SECRET));
          break;
        case 'timestamp-old':
        case 'timestamp-future': {
          const skew = Number(timestamp) - before;
          expect(Math.abs(skew)).toBeGreaterThanOrEqual(TAMPER_SKEW_SECONDS - 5);
          expect(Math.sign(skew)).toBe(mode === 'timestamp-old' ? -1 : 1);
          // Correctly signed: only the time is wrong.
          expect(signature).toBe(sign(id!, timestamp!, request.body, SECRET));
          break;
        }
      }
    });

    it('passes --header through and refuses headers the sender computes', async () => {
      const ok = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET, '--header', 'X-Trace: abc 123']);
      expect(ok.code).toBe(0);
      expect(header(server.requests[0], 'x-trace')).toBe('abc 123');
      const bad = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET, '--header', 'Content-Length: 1']);
      expect(bad.code).toBe(ExitCode.USAGE);
      expect(bad.stderr).toMatch(/cannot set Content-Length/);
    });

    it('signs with the secrets gemwh keeps for --webhook', async () => {
      const t = makeTestDeps();
      try {
        await createFileStore(fileStorePath(t.deps.paths.config)).setWebhookSecrets('wh123', [
          { secret: SECRET, createdAt: new Date().toISOString() },
        ]);
        const code = await runMain(['--secret-store', 'file', 'replay', 'fixture', 'batch.succeeded', '--to', server.url, '--webhook', 'wh123'], t.deps);
        expect(t.stderr()).toMatch(/1 answered as expected/);
        expect(code).toBe(0);
        const missing = await runMain(['--secret-store', 'file', 'replay', 'fixture', 'batch.succeeded', '--to', server.url, '--webhook', 'nope'], t.deps);
        expect(missing).toBe(ExitCode.SECRET_STORE);
      } finally {
        t.cleanup();
      }
    });
  });

  describe('an https receiver with a self-signed certificate', () => {
    it('is refused with the way out (exit 7), and reached with --insecure', async () => {
      const s = await startRecordingServer(verifyingAnswer(), 0, { tls: true });
      servers.push(s);
      expect(s.url).toMatch(/^https:/);
      const refused = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--secret', SECRET]);
      expect(refused.code).toBe(ExitCode.NETWORK);
      expect(refused.stderr).toMatch(/untrusted TLS certificate/);
      expect(refused.stderr).toMatch(/self-signed certificate add --insecure/);
      expect(s.requests).toHaveLength(0);
      const accepted = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--secret', SECRET, '--insecure']);
      expect(accepted.code).toBe(ExitCode.OK);
      expect(s.requests).toHaveLength(1);
    });
  });

  describe('an https:// URL for a plain-HTTP receiver', () => {
    it.each([[[]], [['--insecure']]])('says to use http://, not --insecure (%j)', async (extra) => {
      const s = await start(verifyingAnswer());
      const url = s.url.replace(/^http:/, 'https:');
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', url, '--secret', SECRET, ...extra]);
      expect(result.code).toBe(ExitCode.NETWORK);
      expect(result.stderr).toMatch(/speaks plain HTTP: use http:\/\//);
      expect(result.stderr).not.toMatch(/add --insecure|wrong version number/);
    });
  });

  describe('exit status', () => {
    it('is 9 when a valid delivery is not answered 2xx', async () => {
      const s = await start(() => ({ status: 500, body: 'boom' }));
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--secret', SECRET]);
      expect(result.code).toBe(ExitCode.CHECK_FAILED);
      expect(result.stdout).toMatch(/\t500\t[\d.]+\tFAIL\tboom/);
      expect(result.stderr).toMatch(/1 of 1 valid delivery was not answered 2xx/);
      expect(result.stderr).toMatch(/Check the secret the receiver verifies with/);
    });

    it('is 9 when a dynamic delivery is refused, with a hint about the JWKS and audience, not a secret', async () => {
      const t = makeTestDeps();
      try {
        const s = await start(() => ({ status: 401, body: 'bad token' }));
        const code = await runMain(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--dynamic', '--audience', 'my-aud'], t.deps);
        expect(code).toBe(ExitCode.CHECK_FAILED);
        expect(t.stderr()).toMatch(/1 of 1 valid delivery was not answered 2xx/);
        expect(t.stderr()).toMatch(/trusts gemwh's development JWKS \(`gemwh replay jwks`\) and expects aud "my-aud"/);
        expect(t.stderr()).not.toMatch(/secret/i);
      } finally {
        t.cleanup();
      }
    });

    it('is 9 when a retry (--repeat-id) is not acknowledged', async () => {
      const seen = new Set<string>();
      const s = await start((r) => {
        const id = header(r, 'webhook-id') ?? '';
        const duplicate = seen.has(id);
        seen.add(id);
        return { status: duplicate ? 409 : 200 };
      });
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--secret', SECRET, '--repeat-id']);
      expect(result.code).toBe(ExitCode.CHECK_FAILED);
      expect(result.stderr).toMatch(/retry/);
    });

    it.each(['body', 'timestamp-old', 'missing-signature'] as const)('is 9 when a receiver accepts --tamper %s', async (mode) => {
      const s = await start(() => ({ status: 200, body: 'ok' }));
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--secret', SECRET, '--tamper', mode]);
      expect(result.code).toBe(ExitCode.CHECK_FAILED);
      expect(result.stderr).toMatch(/1 tampered delivery was answered 2xx \(tamper:/);
    });

    it('is 9 on a redirect, which is reported and not followed', async () => {
      const s = await start((r) => (r.url === '/' ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 }));
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--secret', SECRET]);
      expect(result.code).toBe(ExitCode.CHECK_FAILED);
      expect(s.requests).toHaveLength(1);
      expect(result.stdout).toMatch(/→ \/elsewhere/);
      expect(result.stderr).toMatch(/redirect/);
    });

    it('is 7 when the target cannot be reached', async () => {
      const port = await closedPort();
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', `127.0.0.1:${port}`, '--secret', SECRET]);
      expect(result.code).toBe(ExitCode.NETWORK);
      expect(result.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/: connection refused/);
      expect(result.stderr).toMatch(/Is the receiver running/);
    });

    it('is 7 when the receiver does not answer within --timeout', async () => {
      const s = await start(() => ({ status: 200, delayMs: 1000 }));
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--secret', SECRET, '--timeout', '100ms']);
      expect(result.code).toBe(ExitCode.NETWORK);
      expect(result.stderr).toMatch(/--timeout/);
    });
  });

  describe('bad input', () => {
    it.each([
      [['batch.succeded'], /unknown event type "batch.succeded" \(did you mean "batch.succeeded"\?\)/],
      [['./no/such/file.json'], /cannot read \.\/no\/such\/file\.json: ENOENT/],
      [['batch.succeeded', '--set', 'data..x=1'], /empty segment/],
      [['batch.succeeded', '--set', 'type.inner=1'], /cannot set "inner" inside a string/],
      [['batch.succeeded', '--set', 'novalue'], /has no PATH=VALUE/],
      [['batch.succeeded', '--secret', 'whsec_...3frh'], /truncated secret/],
      [['batch.succeeded', '--secret', 'whsec_ab-c'], /not base64/],
      [['batch.succeeded'], /no signing secret given/, 'nosecret'],
      [['batch.succeeded', '--secret-env', 'UNSET_VAR_X'], /UNSET_VAR_X: the environment variable is not set/],
      [['batch.succeeded', '--count', '0'], /--count must be a whole number from 1/],
      [['batch.succeeded', '--concurrency', '1000'], /--concurrency must be a whole number from 1 to 64/],
      [['batch.succeeded', '--timeout', 'soon'], /--timeout: "soon" is not a duration/],
      [['batch.succeeded', '--timeout', '0'], /--timeout must be longer than zero, not "0"/],
      [['batch.succeeded', '--timeout', '0ms'], /--timeout must be longer than zero/],
      // An existing directory, named bare (the tests run in the repository root) or as a path.
      [['src'], /^gemwh: src is a directory; expected a JSON file or an event type/m],
      [['./src/'], /\.\/src\/ is a directory; expected a JSON file or an event type/],
      [['batch.succeeded', '--dynamic'], /cannot be combined with --secret/],
      [['batch.succeeded', '--audience', 'x'], /--audience only applies to --dynamic/],
      [['batch.succeeded', '--id', 'a.b'], /not usable as a webhook-id/],
    ] as Array<[string[], RegExp, string?]>)('%j is a usage error', async (args, message, flavour) => {
      const secret = flavour === 'nosecret' || args.includes('--secret') || args.includes('--secret-env') ? [] : ['--secret', SECRET];
      const result = await runGemwh(['replay', 'fixture', ...args, '--to', '127.0.0.1:9', ...secret]);
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(ExitCode.USAGE);
      expect(result.stdout).toBe('');
    });

    it('rejects a file that is not JSON', async () => {
      const t = makeTestDeps();
      try {
        const file = join(t.home, 'bad.json');
        writeFileSync(file, '{"type": ');
        const code = await runMain(['replay', 'fixture', file, '--to', '127.0.0.1:9', '--secret', SECRET], t.deps);
        expect(code).toBe(ExitCode.USAGE);
        expect(t.stderr()).toMatch(/is not valid JSON/);
      } finally {
        t.cleanup();
      }
    });

    it('rejects an unusable target', async () => {
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', 'ftp://x', '--secret', SECRET]);
      expect(result.code).toBe(ExitCode.USAGE);
      expect(result.stderr).toMatch(/unsupported scheme/);
    });
  });

  describe('--dynamic', () => {
    let t: TestDeps;
    beforeEach(() => {
      t = makeTestDeps();
    });
    afterEach(() => t.cleanup());

    it('sends an RS256 JWT that verifies with the JWKS from `replay jwks`', async () => {
      const s = await start(() => ({ status: 200 }));
      const code = await runMain(['replay', 'fixture', 'interaction.completed', '--to', `${s.url}/dyn`, '--dynamic', '--set', 'data.user_metadata.tenant=acme'], t.deps);
      expect(t.stderr()).toMatch(/1 answered as expected/);
      expect(code).toBe(0);
      const jwksFile = join(t.home, 'jwks.json');
      expect(await runMain(['replay', 'jwks', '--jwks-out', jwksFile], t.deps)).toBe(0);
      const jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as JSONWebKeySet;
      expect(jwks.keys[0]).not.toHaveProperty('d');

      const request = s.requests[0]!;
      const { payload, protectedHeader } = await jwtVerify(header(request, 'webhook-signature')!, createLocalJWKSet(jwks), {
        audience: `${s.url}/dyn`,
        issuer: 'gemwh-dev',
        algorithms: ['RS256'],
      });
      expect(protectedHeader.kid).toBe(jwks.keys[0]?.kid);
      expect(payload.jti).toBe(header(request, 'webhook-id'));
      expect(payload.iat).toBe(Number(header(request, 'webhook-timestamp')));
      expect(payload.exp).toBe(payload.iat! + 300);
      expect(payload.body_sha256).toBe(createHash('sha256').update(request.body).digest('base64url'));
      const event = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
      expect(payload).toMatchObject({ type: 'interaction.completed', data: event.data, version: 'v1' });
      expect(event).toMatchObject({ data: { user_metadata: { tenant: 'acme' } } });

      // The same key is reused by later runs.
      await runMain(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--dynamic', '--audience', 'my-aud'], t.deps);
      const second = await jwtVerify(header(s.requests[1], 'webhook-signature')!, createLocalJWKSet(jwks), { audience: 'my-aud' });
      expect(second.payload.type).toBe('batch.succeeded');
    });

    it('prints the JWKS on stdout, and metadata with --json', async () => {
      expect(await runMain(['replay', 'jwks'], t.deps)).toBe(0);
      const jwks = JSON.parse(t.stdout()) as JSONWebKeySet;
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
      const t2 = makeTestDeps();
      try {
        t2.deps.paths = t.deps.paths;
        expect(await runMain(['replay', 'jwks', '--json'], t2.deps)).toBe(0);
        const meta = JSON.parse(t2.stdout()) as { kid: string; jwks: JSONWebKeySet; bodySha256Encoding: string };
        expect(meta.kid).toBe(jwks.keys[0]?.kid);
        expect(meta.jwks).toEqual(jwks);
        expect(meta.bodySha256Encoding).toBe('base64url');
        expect(Object.keys(meta).sort()).toEqual(['alg', 'audience', 'bodySha256Encoding', 'issuer', 'jwks', 'keyFile', 'kid', 'lifetimeSeconds']);
      } finally {
        t2.cleanup();
      }
    });

    it.each(['signature', 'timestamp-old', 'timestamp-future', 'body'] as const)('--tamper %s makes a JWT a verifying receiver refuses', async (mode) => {
      expect(await runMain(['replay', 'jwks'], t.deps)).toBe(0);
      const jwks = createLocalJWKSet(JSON.parse(t.stdout()) as JSONWebKeySet);
      const s = await start(() => ({ status: 200 }));
      // Against an always-200 receiver the tamper must be reported (exit 9) ...
      expect(await runMain(['replay', 'fixture', 'batch.succeeded', '--to', s.url, '--dynamic', '--tamper', mode], t.deps)).toBe(ExitCode.CHECK_FAILED);
      // ... and a receiver that checks the token (and the body hash) must be able to tell.
      const request = s.requests[0]!;
      let refused = false;
      try {
        const { payload } = await jwtVerify(header(request, 'webhook-signature')!, jwks, { audience: `${s.url}/` });
        refused = payload.body_sha256 !== createHash('sha256').update(request.body).digest('base64url');
      } catch {
        refused = true;
      }
      expect(refused).toBe(true);
    });
  });
});

describe('gemwh replay fixture, interrupted', () => {
  it('exits 130 when stopped while waiting for an answer', async () => {
    const server = await startRecordingServer(() => ({ status: 200, delayMs: 2000 }));
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const result = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', server.url, '--secret', SECRET, '--count', '5'], {
        signal: controller.signal,
      });
      expect(result.code).toBe(ExitCode.INTERRUPTED);
      expect(server.requests.length).toBeLessThanOrEqual(1);
    } finally {
      await server.close();
    }
  });
});
