import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConformanceReport } from '../../src/conformance/report.js';
import { ExitCode } from '../../src/errors.js';
import { runMain } from '../../src/program.js';
import { freshSecret } from '../../src/secrets/current-secrets.js';
import { createFileStore, fileStorePath } from '../../src/secrets/file-store.js';
import { correctStatic, handWrittenStatic, startReceiver, type TestReceiver } from '../conformance/receivers.js';
import { makeTestDeps, runGemwh } from '../helpers/deps.js';
import { closedPort } from '../helpers/loopback.js';
import { startRecordingServer } from '../helpers/recording-server.js';
import { Webhook } from 'standardwebhooks';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

describe('gemwh conformance', () => {
  let receiver: TestReceiver;
  beforeEach(async () => {
    receiver = await startReceiver(() => correctStatic(SECRET));
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('prints the stable JSON schema and exits 0 for a conformant receiver', async () => {
    const result = await runGemwh(['conformance', receiver.url, '--secret', SECRET, '--json']);
    expect(result.code).toBe(ExitCode.OK);
    const report = JSON.parse(result.stdout) as ConformanceReport;
    expect(Object.keys(report).sort()).toEqual(['cases', 'gemwhVersion', 'mode', 'passed', 'schema', 'score', 'startedAt', 'target']);
    expect(report.schema).toBe('gemwh.conformance/v1');
    expect(report.passed).toBe(true);
    expect(report.target).toBe(receiver.url);
    expect(Object.keys(report.cases[0] ?? {}).sort()).toEqual(['expected', 'got', 'group', 'id', 'latencyMs', 'outcome', 'risk']);
    // The JSON keeps the case's risk whatever the outcome (documented as "what a failure exposes").
    expect(report.cases[0]?.risk).toMatch(/refused/);
    expect(report.score.must.failed).toEqual([]);
    expect(result.stderr).toContain('whsec_…');
    expect(result.stderr).not.toContain(SECRET);
  });

  it('exits 9 when a must-case fails, naming the cases, and still writes the Markdown report', async () => {
    const broken = await startReceiver(() => handWrittenStatic(SECRET, { reserialize: true }));
    const t = makeTestDeps();
    try {
      const reportFile = join(t.home, 'conformance.md');
      const code = await runMain(['conformance', broken.url, '--secret', SECRET, '--report', reportFile], t.deps);
      expect(code).toBe(ExitCode.CHECK_FAILED);
      expect(t.stderr()).toMatch(/gemwh: the receiver failed 1 must-case: accept-non-ascii-body/);
      const markdown = readFileSync(reportFile, 'utf8');
      expect(markdown).toMatch(/^# Webhook receiver conformance report/);
      expect(markdown).toContain('| `accept-non-ascii-body` | must-accept | 2xx | 401 | FAIL |');
      expect(markdown).toMatch(/Result: \*\*not conformant\*\*/);
      expect(markdown).toContain('## Failures and warnings');
      // The risk is what a failure exposes: shown for the failing case, left out for the passing ones.
      expect(markdown).toMatch(/\| `accept-non-ascii-body` \| must-accept \| 2xx \| 401 \| FAIL \| Verifying re-serialised JSON/);
      expect(markdown).toMatch(/\| `accept-batch-succeeded` \| must-accept \| 2xx \| 2\d\d \| PASS \|  \|\n/);
    } finally {
      await broken.close();
      t.cleanup();
    }
  });

  it('points at a secret mismatch when no valid delivery is accepted, instead of blaming every case', async () => {
    const other = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    const result = await runGemwh(['conformance', receiver.url, '--secret', other, '--only', 'accept-batch-failed,reject-empty-signature', '--json']);
    expect(result.code).toBe(ExitCode.CHECK_FAILED);
    const report = JSON.parse(result.stdout) as ConformanceReport;
    expect(report.cases.map((c) => [c.id, c.outcome, c.got])).toEqual([
      ['accept-batch-failed', 'fail', '401'],
      ['reject-empty-signature', 'fail', '401; then a valid delivery: 401'],
    ]);
    expect(report.cases[1]?.detail).toMatch(/proves nothing/);
    expect(result.stderr).toMatch(/No valid delivery was accepted: does the receiver verify with the same secret \(gemwh signed with whsec_…/);
  });

  it('prints TSV with the score on stderr when piped, an aligned table with the score when on a terminal', async () => {
    const piped = await runGemwh(['conformance', receiver.url, '--secret', SECRET, '--only', 'accept-batch-*,reject-missing-id']);
    expect(piped.code).toBe(0);
    const lines = piped.stdout.replace(/\n$/, '').split('\n');
    expect(lines[0]).toBe('CASE\tEXPECTED\tGOT\tRESULT\tRISK');
    expect(lines.slice(1).map((line) => line.split('\t')[0])).toEqual([
      'accept-batch-succeeded',
      'accept-batch-cancelled',
      'accept-batch-expired',
      'accept-batch-failed',
      'reject-missing-id',
    ]);
    expect(lines[5]?.split('\t').slice(1)).toEqual(['non-2xx', '400', 'PASS', '']);
    // RISK says what a failure would expose, so a PASS row leaves it empty.
    for (const line of lines.slice(1)) expect(line).toMatch(/\tPASS\t$/);
    expect(piped.stdout).not.toMatch(/score/);
    expect(piped.stderr).toMatch(/score: 5\/5 passed \(100%\) - conformant/);

    const tty = await runGemwh(['conformance', receiver.url, '--secret', SECRET, '--only', 'reject-missing-id'], { stdoutIsTTY: true });
    expect(tty.stdout).toMatch(/^CASE {15}EXPECTED {2}GOT {2}RESULT {2}RISK\n/);
    expect(tty.stdout).toMatch(/\nreject-missing-id {2}non-2xx {3}400 {2}PASS\n\nmust \(accept\/reject\): 1\/1 passed \(100%\)/);
  });

  it('reads the secret from --secret-env and from the secret store with --webhook', async () => {
    const fromEnv = await runGemwh(['conformance', receiver.url, '--secret-env', 'MY_SECRET', '--only', 'accept-rotation-header'], {
      env: { MY_SECRET: SECRET },
    });
    expect(fromEnv.code).toBe(0);

    const t = makeTestDeps({ env: { GEMWH_SECRET_STORE: 'file' } });
    try {
      await createFileStore(fileStorePath(t.deps.paths.config)).setWebhookSecrets('wh_1', [freshSecret(SECRET, Date.now())]);
      const code = await runMain(['conformance', receiver.url, '--webhook', 'wh_1', '--only', 'reject-wrong-secret'], t.deps);
      expect(t.stderr()).toMatch(/score: 1\/1 passed/);
      expect(code).toBe(0);
      const missing = await runMain(['conformance', receiver.url, '--webhook', 'wh_unknown'], t.deps);
      expect(missing).toBe(ExitCode.SECRET_STORE);
    } finally {
      t.cleanup();
    }
  });

  it('--webhook in a rotation grace period signs with every valid secret, as Gemini does: an app still on the old one passes', async () => {
    const newSecret = `whsec_${Buffer.alloc(32, 11).toString('base64')}`;
    const t = makeTestDeps({ env: { GEMWH_SECRET_STORE: 'file' } });
    const onOldSecret = await startReceiver(() => correctStatic(SECRET));
    const onNewSecret = await startReceiver(() => correctStatic(newSecret));
    try {
      const graceEnd = new Date(Date.now() + 23 * 3600_000).toISOString();
      await createFileStore(fileStorePath(t.deps.paths.config)).setWebhookSecrets('wh_rot', [
        freshSecret(newSecret, Date.now()),
        { ...freshSecret(SECRET, Date.now() - 3600_000), expiresAt: graceEnd },
      ]);
      // The whole battery: the must-reject cases must stay refused with two signatures in the header.
      for (const app of [onOldSecret, onNewSecret]) {
        const code = await runMain(['conformance', app.url, '--webhook', 'wh_rot'], t.deps);
        expect(code, t.stderr()).toBe(0);
      }
      expect(t.stderr()).toMatch(/static signature, secrets whsec_…\S+, whsec_…/);
      expect(t.stderr()).not.toMatch(/score: .*[^0-9]0\/|not conformant/);
    } finally {
      await onOldSecret.close();
      await onNewSecret.close();
      t.cleanup();
    }
  });

  it('exits 7 before sending anything when the receiver is not running', async () => {
    const port = await closedPort();
    const result = await runGemwh(['conformance', `127.0.0.1:${port}/hook`, '--secret', SECRET]);
    expect(result.code).toBe(ExitCode.NETWORK);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/cannot reach the receiver at http:\/\/127\.0\.0\.1:\d+\/hook: connection refused/);
    expect(result.stderr).toMatch(/Start your webhook receiver first/);
  });

  it.each([
    [[], /say what the receiver verifies with/],
    [['--secret', SECRET, '--dynamic'], /--secret and --dynamic cannot be combined/],
    [['--secret', 'whsec_not base64!'], /--secret .*not base64/],
    [['--secret-env', 'NOT_SET_ANYWHERE'], /NOT_SET_ANYWHERE: the environment variable is not set/],
    [['--secret', SECRET, '--only', 'reject-nothing-like-this'], /no case matches "reject-nothing-like-this"/],
    [['--secret', SECRET, '--only', 'reject-jwt-*'], /is a case of --dynamic mode/],
    [['--secret', SECRET, '--audience', 'x'], /--audience only applies with --dynamic/],
    [['--dynamic', '--jwks-port', '70000'], /--jwks-port must be a port/],
    [['--secret', SECRET, '--timeout', 'soon'], /--timeout: "soon" is not a duration/],
    [['--secret', SECRET, '--timeout', '0'], /--timeout must be longer than zero, not "0"/],
    [['--secret', SECRET, '--timeout', '0s'], /--timeout must be longer than zero, not "0s"/],
    [['--secret', SECRET, '--timeout', '-5s'], /--timeout: "-5s" is not a duration/],
    [['--secret', SECRET, '--report', '/nonexistent-gemwh-dir/report.md'], /--report: cannot write the report to \/nonexistent-gemwh-dir\/report\.md: the folder \/nonexistent-gemwh-dir does not exist/],
    [['--secret', SECRET, '--report', tmpdir()], /--report: cannot write the report to .*: it is a directory/],
  ])('rejects bad flags %j with exit 2 and sends nothing', async (flags, message) => {
    const result = await runGemwh(['conformance', receiver.url, ...flags]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(message);
    expect(receiver.count()).toBe(0);
  });

  it('ends its help with real examples', async () => {
    const result = await runGemwh(['conformance', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples:\n(  \$ gemwh conformance .+\n){3}\n?$/);
  });

  it('serves the JWKS on --jwks-port and says so, then stops serving it', async () => {
    const port = await closedPort();
    const result = await runGemwh(['conformance', receiver.url, '--dynamic', '--jwks-port', String(port), '--only', 'reject-missing-signature']);
    // The static receiver refuses the JWT deliveries, so the probe after the case fails.
    expect(result.code).toBe(ExitCode.CHECK_FAILED);
    expect(result.stderr).toContain(`trust the JWKS at http://127.0.0.1:${port}/.well-known/jwks.json`);
    expect(result.stderr).toMatch(/note: the receiver never fetched the JWKS/);
    await expect(fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).rejects.toThrow();
  });

  it('checks an https receiver with a self-signed certificate only with --insecure, and says so without it', async () => {
    const secure = await startRecordingServer((request) => {
      try {
        new Webhook(SECRET).verify(request.body.toString('utf8'), request.headers as Record<string, string>);
        return { status: 204 };
      } catch {
        return { status: 401 };
      }
    }, 0, { tls: true });
    try {
      const cases = 'accept-batch-succeeded,reject-wrong-secret';
      const refused = await runGemwh(['conformance', secure.url, '--secret', SECRET, '--only', cases]);
      expect(refused.code).toBe(ExitCode.NETWORK);
      expect(refused.stderr).toMatch(/self-signed certificate add --insecure/);
      expect(secure.requests).toHaveLength(0);
      const checked = await runGemwh(['conformance', secure.url, '--secret', SECRET, '--only', cases, '--insecure', '--json']);
      expect(checked.code).toBe(ExitCode.OK);
      expect((JSON.parse(checked.stdout) as ConformanceReport).cases.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    } finally {
      await secure.close();
    }
  });
});
