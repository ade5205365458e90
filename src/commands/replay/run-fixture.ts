import { readFile, stat } from 'node:fs/promises';
import { closestEventType, EVENT_TYPE_NAMES, isKnownEventType } from '../../core/events.js';
import { DEV_ISSUER } from '../../core/jwt-sign.js';
import { applyAssignments, type SetAssignment } from '../../core/set-path.js';
import { newWebhookId } from '../../core/webhook-id.js';
import type { Target } from '../../core/target.js';
import { UsageError } from '../../errors.js';
import { fixtureBody } from '../../fixtures/fixtures.js';
import { givenSecretFlags, resolveSecretFlags } from '../../secrets/secret-flags.js';
import { prepareDelivery, type Signer, type TamperMode } from '../../replay/prepare-delivery.js';
import { createSendPrinter, judgeRun, sendAll, type SendJob, type SendRecord } from '../../replay/send-deliveries.js';
import type { CommandContext } from '../context.js';

export interface ReplayFixtureOptions {
  /** An event type from the catalog, or a path to a JSON file. */
  source: string;
  target: Target;
  /** Static signing: every secret adds one `v1,` entry. */
  secrets: readonly string[];
  /** Names of environment variables holding secrets. */
  secretEnv: readonly string[];
  /** Sign with the secrets the store holds for these webhooks (all still valid ones). */
  webhookIds: readonly string[];
  dynamic: boolean;
  audience?: string;
  /** Fixed webhook-id for every send. */
  id?: string;
  /** Fixed webhook-timestamp (seconds) for every send. */
  timestamp?: number;
  sets: readonly SetAssignment[];
  count: number;
  concurrency: number;
  headers: ReadonlyArray<readonly [string, string]>;
  repeatId: boolean;
  rotationHeader: boolean;
  tamper?: TamperMode;
  timeoutMs: number;
  /** Accept an untrusted TLS certificate. */
  insecure?: boolean;
  json: boolean;
}

/** Sends the event; resolves with the records, or throws CheckFailed/Network/Interrupted after printing. */
export async function runReplayFixture(options: ReplayFixtureOptions, ctx: CommandContext): Promise<SendRecord[]> {
  const { deps } = ctx;
  if (options.dynamic && givenSecretFlags(options).length > 0) {
    throw new UsageError('--dynamic signs with gemwh\'s development JWT key; it cannot be combined with --secret, --secret-env or --webhook', {
      hint: 'Drop --dynamic for static (HMAC) signing, or drop the secrets for a dynamic (JWT) delivery.',
    });
  }
  if (options.dynamic && options.rotationHeader) {
    throw new UsageError('--rotation-header adds a second HMAC signature; dynamic deliveries carry one JWT', {
      hint: 'Use --rotation-header without --dynamic.',
    });
  }
  if (options.audience !== undefined && !options.dynamic) {
    throw new UsageError('--audience only applies to --dynamic deliveries', { hint: 'Add --dynamic, or drop --audience.' });
  }

  const event = await loadEvent(options.source, options.sets, deps.clock.now());
  const body = JSON.stringify(event);
  const url = options.target.url;
  const signer = await resolveSigner(options, ctx, url);

  const freshTimestamp = () => options.timestamp ?? Math.floor(deps.clock.now() / 1000);
  const baseKind = options.tamper ? `tamper:${options.tamper}` : options.rotationHeader ? 'rotation' : 'valid';
  const step = (kind: string, webhookId: string) => ({
    kind,
    prepare: () =>
      prepareDelivery({
        event,
        body,
        webhookId,
        timestamp: freshTimestamp(),
        signer,
        tamper: options.tamper,
        rotationHeader: options.rotationHeader,
        randomBytes: deps.random.bytes,
        extraHeaders: options.headers,
      }),
  });
  const jobs: SendJob[] = Array.from({ length: options.count }, () => {
    const webhookId = options.id ?? newWebhookId(deps.random.bytes);
    return options.repeatId ? [step(baseKind, webhookId), step('repeat', webhookId)] : [step(baseKind, webhookId)];
  });

  const kinds = options.repeatId ? [baseKind, 'repeat'] : [baseKind];
  const printer = createSendPrinter(ctx, { json: options.json, kinds, total: jobs.length * kinds.length });
  printer.start();
  const records = await sendAll(jobs, {
    url,
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    signal: deps.signal,
    insecure: options.insecure,
    onRecord: (record) => printer.record(record),
  }).finally(() => printer.close());
  printer.summary(records);
  const failure = judgeRun(records, url, deps.signal, signer.scheme === 'dynamic' ? { scheme: 'dynamic', audience: signer.audience } : { scheme: 'static' });
  if (failure) throw failure;
  return records;
}

/**
 * The event to send: a catalog fixture (its time set to now) or a JSON file, then --set. The body
 * is always compact JSON, like Gemini's, so the bytes signed are predictable.
 */
export async function loadEvent(source: string, sets: readonly SetAssignment[], now: number): Promise<unknown> {
  let event: unknown;
  if (isKnownEventType(source)) {
    event = JSON.parse(fixtureBody(source, { now })) as unknown;
  } else {
    // An existing file is read even without a .json name; a directory is neither of the two things expected.
    const found = await stat(source).catch(() => undefined);
    if (found?.isDirectory()) throw isDirectory(source);
    if (!found?.isFile() && !looksLikePath(source)) {
      const near = closestEventType(source);
      throw new UsageError(`unknown event type "${source}"${near ? ` (did you mean "${near}"?)` : ''}`, {
        hint: `Event types: ${EVENT_TYPE_NAMES.join(', ')}. Or give the path of a JSON file.`,
      });
    }
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw isDirectory(source);
      throw new UsageError(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
        hint: 'Give an event type from the catalog or the path of a readable JSON file.',
        cause: error,
      });
    }
    try {
      event = JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`, {
        hint: 'A fixture file holds one JSON event, e.g. {"type":"batch.succeeded","version":"v1","timestamp":"…","data":{…}}.',
        cause: error,
      });
    }
  }
  return applyAssignments(event, sets);
}

function isDirectory(source: string): UsageError {
  return new UsageError(`${source} is a directory; expected a JSON file or an event type`, {
    hint: `Give the path of a file holding one JSON event (e.g. ${source.replace(/[/\\]+$/, '')}/event.json), or an event type: ${EVENT_TYPE_NAMES.join(', ')}.`,
  });
}

function looksLikePath(source: string): boolean {
  return /[/\\]/.test(source) || /\.json$/i.test(source) || source.startsWith('.');
}

async function resolveSigner(options: ReplayFixtureOptions, ctx: CommandContext, url: URL): Promise<Signer> {
  const { deps } = ctx;
  if (options.dynamic) {
    const { loadOrCreateDevKey } = await import('../../devkey/dev-key.js');
    const key = await loadOrCreateDevKey(deps.paths, deps.clock.now());
    return { scheme: 'dynamic', key, audience: options.audience ?? url.href, issuer: DEV_ISSUER };
  }
  const secrets = await resolveSecretFlags(options, ctx);
  if (secrets.length === 0) {
    throw new UsageError('no signing secret given', {
      hint: 'Sign with --secret whsec_…, --secret-env VAR, --webhook <id> (a secret kept by gemwh), or send a JWT with --dynamic.',
    });
  }
  return { scheme: 'static', secrets: secrets.map((c) => c.secret) };
}

