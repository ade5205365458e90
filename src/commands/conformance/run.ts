import { generateKeyPair } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { EVENT_TYPE_NAMES } from '../../core/events.js';
import type { JwtSigningKey } from '../../core/jwt-sign.js';
import { countText, createProgress } from '../../core/progress.js';
import { redactSecret } from '../../core/redact.js';
import type { Deps } from '../../deps.js';
import { CheckFailedError, UsageError } from '../../errors.js';
import { givenSecretFlags, resolveSecretFlags, type SecretFlags } from '../../secrets/secret-flags.js';
import { VERSION } from '../../version.js';
import { casesFor, type ConformanceCase } from '../../conformance/cases.js';
import { createCaseContext, type ConformanceMode } from '../../conformance/context.js';
import { runBattery, score, selectCases } from '../../conformance/engine.js';
import { startJwksServer, type JwksServer } from '../../conformance/jwks-server.js';
import { formatJsonReport, formatMarkdownReport, formatResultTable, formatScore, type ConformanceReport } from '../../conformance/report.js';
import { checkReachable, createSender } from '../../conformance/send.js';
import type { CommandContext } from '../context.js';

export const DEFAULT_SLOW_WARN_MS = 2_000;
export const DEFAULT_SLOW_FAIL_MS = 10_000;
export const DEFAULT_OVERSIZED_BYTES = 5 * 1024 * 1024;

export interface ConformanceOptions {
  url: URL;
  /** Exactly one signing source: a secret (--secret, --secret-env), a stored one (--webhook), or --dynamic. */
  secret?: string;
  secretEnv?: string;
  webhookId?: string;
  dynamic: boolean;
  /** JWT `aud` with --dynamic; default the receiver URL. */
  audience?: string;
  /** Port of the loopback JWKS with --dynamic; 0 picks a free one. */
  jwksPort?: number;
  /** Case ids or globs; empty runs them all. */
  only: readonly string[];
  json: boolean;
  reportFile?: string;
  timeoutMs: number;
  /** Accept an untrusted TLS certificate. */
  insecure?: boolean;
  slowWarnMs?: number;
  slowFailMs?: number;
  oversizedBytes?: number;
  /** For tests: keys to sign with instead of the dev key and a freshly generated stranger. */
  keys?: { key: JwtSigningKey; otherKey: JwtSigningKey };
}

/**
 * `gemwh conformance`: resolves what to sign with, checks that the receiver is up, runs the
 * battery, prints the table (or JSON) and the score, writes the Markdown report, and throws
 * CheckFailedError (exit 9) when a must-case failed. Resolves with the report otherwise.
 */
export async function runConformance(options: ConformanceOptions, ctx: CommandContext): Promise<ConformanceReport> {
  const { deps, out } = ctx;
  const mode = chooseMode(options);
  const battery = casesFor(mode, EVENT_TYPE_NAMES);
  const otherMode = casesFor(mode === 'static' ? 'dynamic' : 'static', EVENT_TYPE_NAMES);
  const cases = selectCases(battery, options.only, mode, otherMode);
  // A report path that cannot be written would only fail after the whole run, hiding its result.
  if (options.reportFile !== undefined) await checkReportWritable(options.reportFile);
  const secrets = mode === 'static' ? await resolveSecrets(options, ctx) : undefined;
  const secretList = (secrets ?? []).map(redactSecret).join(', ');

  // The stranger key (RSA 2048) is made on the thread pool while the receiver is checked.
  const strangerKey = mode === 'dynamic' && !options.keys ? generateStrangerKey() : undefined;
  strangerKey?.catch(() => undefined);
  await checkReachable(options.url, options.timeoutMs, options.insecure);

  let jwksServer: JwksServer | undefined;
  const sender = await createSender(options.url, { timeoutMs: options.timeoutMs, signal: deps.signal, insecure: options.insecure });
  try {
    let dynamic: { audience: string; key: JwtSigningKey; otherKey: JwtSigningKey } | undefined;
    if (mode === 'dynamic') {
      const { toJwks } = await import('../../core/jwt-sign.js');
      const { loadOrCreateDevKey } = await import('../../devkey/dev-key.js');
      const keys = options.keys ?? { key: await loadOrCreateDevKey(deps.paths, deps.clock.now()), otherKey: await (strangerKey as Promise<JwtSigningKey>) };
      const audience = options.audience ?? options.url.href;
      jwksServer = await startJwksServer(toJwks([keys.key]), options.jwksPort ?? 0);
      dynamic = { audience, ...keys };
      deps.io.stderr.write(
        `gemwh: the receiver must trust the JWKS at ${jwksServer.url} (kid ${keys.key.kid}, RS256) and expect aud "${audience}"\n` +
          `       (the same key as \`gemwh replay jwks\`${options.jwksPort === undefined ? '; pass --jwks-port to keep this URL stable between runs' : ''})\n`,
      );
    }

    const ctx = await createCaseContext({
      mode,
      now: () => deps.clock.now(),
      randomBytes: deps.random.bytes,
      static: secrets === undefined ? undefined : { secrets },
      dynamic,
      oversizedBytes: options.oversizedBytes ?? DEFAULT_OVERSIZED_BYTES,
    });

    const startedAt = new Date(deps.clock.now()).toISOString();
    deps.io.stderr.write(
      `gemwh: running ${cases.length} conformance case${cases.length === 1 ? '' : 's'} against ${options.url.href} (${
        mode === 'static' ? `static signature, secret${(secrets?.length ?? 0) > 1 ? 's' : ''} ${secretList}` : 'dynamic JWT'
      })\n`,
    );
    const progress = createProgress(deps.io.stderr, { silent: options.json });
    const { results, validSent, validAccepted } = await runBattery({
      cases,
      ctx,
      send: sender,
      slowWarnMs: options.slowWarnMs ?? DEFAULT_SLOW_WARN_MS,
      slowFailMs: options.slowFailMs ?? DEFAULT_SLOW_FAIL_MS,
      signal: deps.signal,
      onCase: (i, total, c: ConformanceCase) => progress.update(countText(i + 1, total, c.id)),
    }).finally(() => progress.done());
    if (jwksServer && jwksServer.fetches() === 0 && results.some((r) => r.outcome === 'fail')) {
      deps.io.stderr.write(`gemwh: note: the receiver never fetched the JWKS at ${jwksServer.url}; is it configured to trust it?\n`);
    }
    // One cause explains a wall of failures: the receiver and gemwh disagree on the secret or key.
    const nothingAccepted = validSent > 0 && validAccepted === 0;
    const mismatchHint =
      mode === 'static'
        ? `No valid delivery was accepted: does the receiver verify with the same secret (gemwh signed with ${secretList})?`
        : 'No valid delivery was accepted: does the receiver trust the JWKS above and expect that audience (--audience)?';
    if (nothingAccepted) deps.io.stderr.write(`gemwh: note: ${mismatchHint}\n`);

    const summary = score(results);
    const report: ConformanceReport = {
      schema: 'gemwh.conformance/v1',
      target: options.url.href,
      mode,
      startedAt,
      gemwhVersion: VERSION,
      cases: results,
      score: summary,
      passed: summary.must.failed.length === 0,
    };

    if (options.json) {
      deps.io.stdout.write(formatJsonReport(report));
    } else {
      out.write(formatResultTable(report, out));
      // Piped output stays one TSV table; the score then goes with the other messages.
      if (out.tty) out.write(`\n${formatScore(report)}`);
      else deps.io.stderr.write(formatScore(report));
    }
    if (options.reportFile !== undefined) await writeReport(options.reportFile, formatMarkdownReport(report), deps);

    if (!report.passed) {
      const failed = summary.must.failed;
      throw new CheckFailedError(
        `the receiver failed ${failed.length} must-case${failed.length === 1 ? '' : 's'}: ${failed.join(', ')}`,
        {
          hint: nothingAccepted
            ? mismatchHint
            : 'The RISK column says what each failure exposes; re-run one case with --only <case-id> while fixing it.',
        },
      );
    }
    return report;
  } finally {
    await sender.close();
    await jwksServer?.close();
  }
}

function chooseMode(options: ConformanceOptions): ConformanceMode {
  const sources = [...givenSecretFlags(secretFlags(options)), ...(options.dynamic ? ['--dynamic'] : [])];
  if (sources.length === 0) {
    throw new UsageError('say what the receiver verifies with', {
      hint: 'Give its signing secret (--secret whsec_…, --secret-env VAR, --webhook <id> for a secret kept by gemwh), or --dynamic for JWT deliveries.',
    });
  }
  if (sources.length > 1) {
    throw new UsageError(`${sources.join(' and ')} cannot be combined`, {
      hint: 'The battery signs with one secret (static) or with gemwh\'s dev key (--dynamic); pick one.',
    });
  }
  if (!options.dynamic && (options.audience !== undefined || options.jwksPort !== undefined)) {
    throw new UsageError(`${options.audience !== undefined ? '--audience' : '--jwks-port'} only applies with --dynamic`, {
      hint: 'Add --dynamic to test JWT verification, or drop the flag.',
    });
  }
  return options.dynamic ? 'dynamic' : 'static';
}

/**
 * The secrets to sign with, newest first (chooseMode made sure exactly one source was given).
 * A --webhook in a rotation grace period has several: Gemini signs with each of them, so an app
 * still on the previous secret keeps accepting deliveries, and so does the battery.
 */
async function resolveSecrets(options: ConformanceOptions, ctx: CommandContext): Promise<string[]> {
  const candidates = await resolveSecretFlags(secretFlags(options), ctx, { numbering: 'when-several' });
  return candidates.map((c) => c.secret);
}

function secretFlags(options: ConformanceOptions): SecretFlags {
  const list = (value: string | undefined) => (value === undefined ? [] : [value]);
  return { secrets: list(options.secret), secretEnv: list(options.secretEnv), webhookIds: list(options.webhookId) };
}

/** A key the receiver has never been told about, for the wrong-key and unknown-kid attacks. */
async function generateStrangerKey(): Promise<JwtSigningKey> {
  const { signingKeyFromPrivateJwk } = await import('../../core/jwt-sign.js');
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return signingKeyFromPrivateJwk(privateKey.export({ format: 'jwk' }) as Parameters<typeof signingKeyFromPrivateJwk>[0]);
}

/** Fails (exit 2) before anything is sent when --report names a path the run could not write to. */
async function checkReportWritable(file: string): Promise<void> {
  const path = resolve(file);
  const refuse = (why: string, cause?: unknown): never => {
    throw new UsageError(`--report: cannot write the report to ${path}: ${why}`, {
      hint: 'Give --report a file path in a folder you can write to (nothing was sent).',
      cause,
    });
  };
  const existing = await stat(path).catch((error: NodeJS.ErrnoException) =>
    error.code === 'ENOENT' ? undefined : refuse(error.code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : (error.code ?? error.message), error),
  );
  if (existing?.isDirectory()) refuse('it is a directory');
  const target = existing ? path : dirname(path);
  if (!existing) {
    const folder = await stat(target).catch((error: NodeJS.ErrnoException) =>
      refuse(error.code === 'ENOENT' ? `the folder ${target} does not exist` : (error.code ?? error.message), error),
    );
    if (!folder.isDirectory()) refuse(`${target} is not a folder`);
  }
  await access(target, fsConstants.W_OK).catch((error: NodeJS.ErrnoException) =>
    refuse(error.code === 'EACCES' || error.code === 'EPERM' || error.code === 'EROFS' ? `${existing ? 'the file' : 'the folder'} is not writable (${error.code})` : (error.code ?? error.message), error),
  );
}

async function writeReport(file: string, markdown: string, deps: Deps): Promise<void> {
  const path = resolve(file);
  try {
    await writeFile(path, markdown);
  } catch (error) {
    throw new UsageError(`cannot write the report to ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'Give --report a path in a folder you can write to.',
      cause: error,
    });
  }
  deps.io.stderr.write(`gemwh: report written to ${path}\n`);
}
