import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPE_NAMES } from '../../src/core/events.js';
import { generateSigningKey, type JwtSigningKey } from '../../src/core/jwt-sign.js';
import { casesFor } from '../../src/conformance/cases.js';
import type { ConformanceReport } from '../../src/conformance/report.js';
import { runConformance, type ConformanceOptions } from '../../src/commands/conformance/run.js';
import { commandContext } from '../../src/commands/context.js';
import { CheckFailedError, InterruptedError } from '../../src/errors.js';
import { makeTestDeps } from '../helpers/deps.js';
import { closedPort } from '../helpers/loopback.js';
import {
  acceptEverything,
  caseSensitiveHeaders,
  correctDynamic,
  correctStatic,
  crashesOnBigBodies,
  diesOnMissingSignature,
  handWrittenDynamic,
  handWrittenStatic,
  startReceiver,
  type Handler,
  type ReceiverOptions,
} from './receivers.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

let keys: { key: JwtSigningKey; otherKey: JwtSigningKey };
beforeAll(async () => {
  const [key, otherKey] = await Promise.all([generateSigningKey(), generateSigningKey()]);
  keys = { key, otherKey };
});

interface Run {
  report: ConformanceReport;
  error: unknown;
  failing: string[];
  warned: string[];
  stderr: string;
  requests: number;
}

async function runAgainst(
  makeHandler: (url: string, jwksUrl: string) => Handler,
  options: Partial<ConformanceOptions> = {},
  receiverOptions: ReceiverOptions = {},
  depsOptions: { stderrIsTTY?: boolean } = {},
): Promise<Run> {
  const jwksPort = options.dynamic ? await closedPort() : undefined;
  const jwksUrl = `http://127.0.0.1:${jwksPort ?? 0}/.well-known/jwks.json`;
  const receiver = await startReceiver((url) => makeHandler(url, jwksUrl), receiverOptions);
  const t = makeTestDeps(depsOptions);
  try {
    let error: unknown;
    try {
      await runConformance(
        {
          url: new URL(receiver.url),
          dynamic: false,
          ...(options.dynamic ? { keys, jwksPort } : { secret: SECRET }),
          only: [],
          json: true,
          timeoutMs: 3000,
          ...options,
        },
        commandContext(t.deps),
      );
    } catch (caught) {
      error = caught;
    }
    // Without --json stdout holds the table, not a report.
    const report = (options.json === false ? { cases: [] } : JSON.parse(t.stdout())) as ConformanceReport;
    const ids = (outcome: string) => report.cases.filter((c) => c.outcome === outcome).map((c) => c.id).sort();
    return { report, error, failing: ids('fail'), warned: ids('warn'), stderr: t.stderr(), requests: receiver.count() };
  } finally {
    await receiver.close();
    t.cleanup();
  }
}

const STATIC_REJECT_IDS = casesFor('static', EVENT_TYPE_NAMES)
  .filter((c) => c.group === 'must-reject')
  .map((c) => c.id)
  .sort();
const DYNAMIC_REJECT_IDS = casesFor('dynamic', EVENT_TYPE_NAMES)
  .filter((c) => c.group === 'must-reject')
  .map((c) => c.id)
  .sort();

describe('conformance progress', () => {
  it('counts the cases on stderr when it is a terminal, and erases the line before the results', async () => {
    const total = casesFor('static', EVENT_TYPE_NAMES).length;
    const run = await runAgainst(() => correctStatic(SECRET), { json: false }, {}, { stderrIsTTY: true });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toContain(`\r\x1b[K[1/${total}] `);
    expect(run.stderr).toContain(`\r\x1b[K[${total}/${total}] `);
    // The last progress line is erased before anything else is written.
    const afterLast = run.stderr.slice(run.stderr.lastIndexOf(`[${total}/${total}]`));
    expect(afterLast).toMatch(/^[^\n]*\r\x1b\[K/);
  });

  it('draws nothing with --json or in a pipe', async () => {
    const json = await runAgainst(() => correctStatic(SECRET), { json: true }, {}, { stderrIsTTY: true });
    const pipe = await runAgainst(() => correctStatic(SECRET), { json: true }, {}, { stderrIsTTY: false });
    expect(json.stderr).not.toContain('\r');
    expect(pipe.stderr).not.toContain('\r');
  });
});

describe('conformance battery, static signatures', () => {
  it('passes a correct receiver built on the gemwh core, case by case', async () => {
    const run = await runAgainst(() => correctStatic(SECRET));
    expect(run.error).toBeUndefined();
    expect(run.failing).toEqual([]);
    expect(run.warned).toEqual([]);
    expect(run.report.passed).toBe(true);
    expect(run.report.cases.map((c) => c.id)).toEqual(casesFor('static', EVENT_TYPE_NAMES).map((c) => c.id));
    expect(run.report.score).toMatchObject({ passed: run.report.cases.length, total: run.report.cases.length, percent: 100 });
    // Every must-reject case is followed by a valid probe delivery.
    expect(run.requests).toBe(run.report.cases.reduce((n, c) => n + c.latencyMs.length, 0) + STATIC_REJECT_IDS.length + 1);
  });

  it('passes the hand-written verifier when it has none of the mistakes', async () => {
    const run = await runAgainst(() => handWrittenStatic(SECRET));
    expect(run.failing).toEqual([]);
  });

  it.each([
    ['re-serialises JSON before verifying', { reserialize: true }, ['accept-non-ascii-body']],
    ['splits the signature header at the first comma', { splitFirstComma: true }, ['accept-rotation-header', 'reject-signature-without-prefix']],
    [
      'skips the timestamp check',
      { skipTimestamp: true },
      ['reject-timestamp-6-minutes-ahead', 'reject-timestamp-6-minutes-old', 'reject-timestamp-not-numeric'],
    ],
  ])('fails a receiver that %s on exactly the cases that mistake explains', async (_name, flaws, expected) => {
    const run = await runAgainst(() => handWrittenStatic(SECRET, flaws));
    expect(run.failing).toEqual(expected);
    expect(run.report.passed).toBe(false);
    expect(run.error).toBeInstanceOf(CheckFailedError);
    expect((run.error as CheckFailedError).exitCode).toBe(9);
    for (const id of expected) expect((run.error as Error).message).toContain(id);
  });

  it('fails a receiver that looks header names up case-sensitively on the mixed-case case only', async () => {
    const run = await runAgainst(() => caseSensitiveHeaders(handWrittenStatic(SECRET)));
    expect(run.failing).toEqual(['accept-mixed-case-headers']);
  });

  it('stops between cases when interrupted, with the Ctrl-C exit status', async () => {
    const controller = new AbortController();
    const receiver = await startReceiver(() => (request) => {
      controller.abort();
      return correctStatic(SECRET)(request);
    });
    const t = makeTestDeps({ signal: controller.signal });
    try {
      const run = runConformance({ url: new URL(receiver.url), secret: SECRET, dynamic: false, only: [], json: true, timeoutMs: 3000 }, commandContext(t.deps));
      await expect(run).rejects.toBeInstanceOf(InterruptedError);
      expect(receiver.count()).toBe(1);
      expect(t.stdout()).toBe('');
    } finally {
      await receiver.close();
      t.cleanup();
    }
  });

  it('fails a receiver that answers 200 to everything on every must-reject case', async () => {
    const run = await runAgainst(() => acceptEverything);
    expect(run.failing).toEqual(STATIC_REJECT_IDS);
    expect(STATIC_REJECT_IDS).toHaveLength(11);
  });

  it('fails only the oversized-body case for a receiver that dies on big bodies, and still exits 0', async () => {
    const run = await runAgainst(() => crashesOnBigBodies(correctStatic(SECRET)));
    expect(run.failing).toEqual(['handle-oversized-body']);
    const oversized = run.report.cases.find((c) => c.id === 'handle-oversized-body');
    expect(oversized?.got).toMatch(/then a valid delivery: connection closed/);
    expect(oversized?.detail).toMatch(/no longer accepted a valid delivery/);
    // A should-case: reported, but the receiver is still conformant.
    expect(run.report.passed).toBe(true);
    expect(run.error).toBeUndefined();
  });

  it('accepts a receiver that refuses big bodies with 413 and carries on', async () => {
    const run = await runAgainst(() => correctStatic(SECRET), { only: ['handle-oversized-body'] }, { maxBodyBytes: 1024 * 1024 });
    expect(run.report.cases[0]).toMatchObject({ id: 'handle-oversized-body', outcome: 'pass' });
    expect(run.report.cases[0]?.got).toMatch(/^(413|connection closed)$/);
  });

  it('warns, without failing, when a forged delivery is left hanging instead of refused', async () => {
    const hangsOnForgery: Handler = (request) =>
      request.headers['webhook-signature'] === undefined ? new Promise<number>(() => undefined) : correctStatic(SECRET)(request);
    const run = await runAgainst(() => hangsOnForgery, { only: ['reject-missing-signature'], timeoutMs: 150 });
    expect(run.report.cases[0]).toMatchObject({ outcome: 'warn', got: 'timed out: no answer within 150 ms' });
    expect(run.report.cases[0]?.detail).toMatch(/hung instead of answering/);
    expect(run.report.passed).toBe(true);
  });

  it('fails a must-reject case when the receiver dies after it, with a message that says so', async () => {
    const run = await runAgainst(() => diesOnMissingSignature(correctStatic(SECRET)), { only: ['reject-missing-signature'] });
    expect(run.failing).toEqual(['reject-missing-signature']);
    const result = run.report.cases[0];
    expect(result?.got).toBe('connection closed; then a valid delivery: connection closed');
    expect(result?.detail).toMatch(/crashed or is wedged/);
    expect(run.error).toBeInstanceOf(CheckFailedError);
  });
});

describe('conformance battery, dynamic (JWT) signatures', () => {
  it('passes a correct receiver that uses verifyDynamic against the JWKS gemwh serves', async () => {
    const run = await runAgainst((url, jwksUrl) => correctDynamic(jwksUrl, url), { dynamic: true });
    expect(run.failing).toEqual([]);
    expect(run.warned).toEqual([]);
    expect(run.report.mode).toBe('dynamic');
    expect(run.report.cases.map((c) => c.id)).toEqual(casesFor('dynamic', EVENT_TYPE_NAMES).map((c) => c.id));
    expect(run.stderr).toMatch(/the receiver must trust the JWKS at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json/);
  });

  it('passes the hand-written JWT verifier when it has none of the mistakes', async () => {
    const run = await runAgainst((url, jwksUrl) => handWrittenDynamic(jwksUrl, url), { dynamic: true });
    expect(run.failing).toEqual([]);
  });

  it.each([
    ['takes the algorithm from the token', { trustAlg: true }, ['reject-jwt-alg-none', 'reject-jwt-hs256-public-key']],
    ['checks neither exp nor aud', { skipClaims: true }, ['reject-jwt-expired', 'reject-jwt-wrong-audience']],
    ['trusts a key embedded in the token', { trustEmbeddedJwk: true }, ['reject-jwt-unknown-kid']],
  ])('fails a receiver that %s on exactly those cases', async (_name, flaws, expected) => {
    const run = await runAgainst((url, jwksUrl) => handWrittenDynamic(jwksUrl, url, flaws), { dynamic: true });
    expect(run.failing).toEqual(expected);
    expect(run.error).toBeInstanceOf(CheckFailedError);
  });

  it('fails a receiver that answers 200 to everything on every JWT must-reject case', async () => {
    const run = await runAgainst(() => acceptEverything, { dynamic: true });
    expect(run.failing).toEqual(DYNAMIC_REJECT_IDS);
  });
});

describe('response time', () => {
  const only = ['accept-batch-succeeded', 'handle-response-time'];

  it('warns when valid deliveries are answered more slowly than the warn threshold', async () => {
    const run = await runAgainst(() => correctStatic(SECRET), { only, slowWarnMs: 40, slowFailMs: 2000 }, { delayMs: 80 });
    expect(run.failing).toEqual([]);
    expect(run.warned).toEqual(['handle-response-time']);
    expect(run.report.cases[1]?.got).toMatch(/^max \d+ ms$/);
    expect(run.report.passed).toBe(true);
  });

  it('fails over the fail threshold, which is a should-case and so does not fail the run', async () => {
    const run = await runAgainst(() => correctStatic(SECRET), { only, slowWarnMs: 20, slowFailMs: 40 }, { delayMs: 80 });
    expect(run.failing).toEqual(['handle-response-time']);
    expect(run.report.cases[1]?.detail).toMatch(/over 40 ms/);
    expect(run.report.score.should).toMatchObject({ passed: 0, total: 1, failed: ['handle-response-time'] });
    expect(run.report.passed).toBe(true);
  });

  it('passes a prompt receiver', async () => {
    const run = await runAgainst(() => correctStatic(SECRET), { only, slowWarnMs: 1000, slowFailMs: 2000 });
    expect(run.report.cases.map((c) => c.outcome)).toEqual(['pass', 'pass']);
  });

  it('fails a valid delivery that gets no answer within --timeout', async () => {
    const run = await runAgainst(() => correctStatic(SECRET), { only, timeoutMs: 100 }, { delayMs: 400 });
    expect(run.failing).toEqual(['accept-batch-succeeded', 'handle-response-time']);
    expect(run.report.cases[0]?.got).toBe('timed out: no answer within 100 ms');
    expect(run.report.cases[1]?.got).toBe('2 timed out');
  });
});

