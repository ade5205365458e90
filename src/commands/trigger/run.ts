import { countText, createProgress, type Progress } from '../../core/progress.js';
import { applyAssignments, parseSetAssignment } from '../../core/set-path.js';
import { formatJson, type Column } from '../../core/table.js';
import type { Deps } from '../../deps.js';
import { parseEventList } from '../../core/events.js';
import { CheckFailedError, InterruptedError, NotFoundError, UsageError } from '../../errors.js';
import { loadFixture } from '../../fixtures/fixtures.js';
import { parseMetadata } from '../../flags/values.js';
import { attemptResult, openEmulatorControl, type EmulatorControl } from '../../emulator/control-client.js';
import type { WireAttempt } from '../../emulator/deliveries/routes.js';
import type { CommandContext } from '../context.js';

export interface TriggerOptions {
  eventType: string;
  /** --webhook (repeatable). */
  webhookIds: string[];
  /** --all: every enabled webhook, subscribed or not. */
  all: boolean;
  /** --set PATH=VALUE texts, applied to the fixture; only data.* may change. */
  sets: string[];
  /** --uri values (implies --dynamic). */
  uris: string[];
  dynamic: boolean;
  /** --metadata KEY=VALUE texts: user_metadata echoed in data.user_metadata. */
  metadata: string[];
  /** Wait until every delivery's first attempt has an outcome; fail if one failed. */
  wait: boolean;
  waitTimeoutMs: number;
  json: boolean;
}

interface TriggeredDelivery {
  delivery_id: string;
  target: string;
  webhook_id?: string;
}

interface TriggerReply {
  deliveries: TriggeredDelivery[];
}

type Reported = TriggeredDelivery & { first_attempt?: WireAttempt };

/**
 * `gemwh trigger`: asks a running emulator to send an event the way Gemini would (spec §4, §5):
 * the fixture with --set changes, to the subscribed webhooks (HMAC-signed) or, with --dynamic, to
 * the given URIs (RS256 JWT). The emulator delivers and retries in the background.
 */
export async function runTrigger(options: TriggerOptions, ctx: CommandContext, control?: EmulatorControl): Promise<void> {
  const { deps } = ctx;
  const dynamic = options.dynamic || options.uris.length > 0;
  if (dynamic && options.uris.length === 0) {
    throw new UsageError('--dynamic needs at least one --uri', { hint: 'e.g. --dynamic --uri http://127.0.0.1:8787/hook' });
  }
  if (dynamic && (options.webhookIds.length > 0 || options.all)) {
    throw new UsageError('--dynamic sends to --uri instead of webhooks: do not combine it with --webhook or --all', {
      hint: 'A job with webhook_config.uris is delivered only to those URIs (spec §3).',
    });
  }
  if (options.all && options.webhookIds.length > 0) {
    throw new UsageError('--all and --webhook are alternatives', { hint: 'Name webhooks with --webhook, or send to every enabled one with --all.' });
  }
  const data = dataWithSets(options.eventType, options.sets);
  const userMetadata = options.metadata.length > 0 ? parseMetadata(options.metadata) : undefined;
  for (const uri of options.uris) checkUri(uri);

  const api = control ?? (await openEmulatorControl('gemwh trigger', ctx.globals, deps));
  const reply = await sendTrigger(api, options.eventType, {
      type: options.eventType,
      ...(data ? { data } : {}),
      ...(options.webhookIds.length > 0 ? { webhook_ids: options.webhookIds } : {}),
      ...(options.all ? { all: true } : {}),
      ...(dynamic || userMetadata
        ? { webhook_config: { ...(dynamic ? { uris: options.uris } : {}), ...(userMetadata ? { user_metadata: userMetadata } : {}) } }
        : {}),
  });
  if (reply.deliveries.length === 0) {
    throw new NotFoundError(`no enabled webhook on the emulator is subscribed to ${options.eventType}, so nothing was sent`, {
      hint: `Create one: gemwh create --uri URL --events ${options.eventType}; or send to every enabled webhook with --all.`,
    });
  }

  if (options.wait) {
    // Said before waiting: from here on the delivery is the emulator's, whatever the user does next.
    const n = reply.deliveries.length;
    deps.io.stderr.write(
      `The emulator queued ${n} deliver${n === 1 ? 'y' : 'ies'} of ${options.eventType} (${reply.deliveries.map((d) => d.delivery_id).join(', ')}); waiting up to ${Math.round(options.waitTimeoutMs / 1000)} s for the first attempt${n === 1 ? '' : 's'} (Ctrl-C stops waiting, not the delivery).\n`,
    );
  }
  const reported: Reported[] = options.wait
    ? await waitForFirstAttempts(api, options.eventType, reply.deliveries, options.waitTimeoutMs, deps, createProgress(deps.io.stderr, { silent: options.json }))
    : reply.deliveries;
  const out = deps.io.stdout;
  if (options.json) {
    out.write(formatJson({ event_type: options.eventType, deliveries: reported }));
  } else {
    const columns: Array<Column<Reported>> = [
      { header: 'DELIVERY ID', value: (d) => d.delivery_id },
      { header: 'WEBHOOK', value: (d) => d.webhook_id ?? '(dynamic)' },
      { header: 'TARGET', value: (d) => d.target, minWidth: 16 },
      ...(options.wait ? [{ header: 'FIRST ATTEMPT', value: (d: Reported) => attemptResult(d.first_attempt), minWidth: 12 }] : []),
    ];
    await ctx.out.table(reported, columns);
    const count = `${reported.length} ${dynamic ? 'URI' : 'webhook'}${reported.length === 1 ? '' : 's'}`;
    deps.io.stderr.write(
      options.wait
        ? `Sent ${options.eventType} to ${count}. \`gemwh emulator deliveries\` lists every attempt.\n`
        : `Queued ${options.eventType} for ${count}; the emulator delivers and retries in the background (\`gemwh emulator deliveries\` shows how it went).\n`,
    );
  }
  const failed = reported.filter((d) => d.first_attempt && d.first_attempt.outcome !== 'delivered');
  if (failed.length > 0) {
    throw new CheckFailedError(`${failed.length} of ${reported.length} deliveries failed at the first attempt (${attemptResult(failed[0]?.first_attempt)})`, {
      hint: 'The emulator keeps retrying on its schedule; `gemwh emulator deliveries` shows each attempt.',
    });
  }
}

/** The trigger request; a Ctrl-C while it is in flight leaves unknown whether the emulator queued it. */
async function sendTrigger(api: EmulatorControl, eventType: string, body: Record<string, unknown>): Promise<TriggerReply> {
  try {
    return await api.request<TriggerReply>('POST', '/_emulator/trigger', { body });
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    throw new InterruptedError(`stopped before the emulator confirmed the trigger of ${eventType}; it may have queued it`, {
      hint: '`gemwh emulator deliveries` shows whether it was sent.',
    });
  }
}


/** The fixture's `data` after --set; undefined when nothing was set (the emulator uses the fixture). */
function dataWithSets(eventType: string, sets: readonly string[]): Record<string, unknown> | undefined {
  if (eventType === 'webhook.ping') {
    throw new UsageError('webhook.ping is the emulator\'s test delivery, not an event type to trigger', { hint: 'Send one with `gemwh ping WEBHOOK_ID`.' });
  }
  checkEventType(eventType);
  const fixture = loadFixture(eventType);
  if (sets.length === 0) return undefined;
  const assignments = sets.map(parseSetAssignment);
  for (const assignment of assignments) {
    if (assignment.path[0] !== 'data') {
      throw new UsageError(`--set ${assignment.path.join('.')}: only data.* fields can be set`, {
        hint: 'The emulator writes type, version and timestamp itself, as Gemini does; e.g. --set data.id=batches/123.',
      });
    }
  }
  const changed = applyAssignments(fixture, assignments) as { data?: unknown };
  if (changed.data === null || typeof changed.data !== 'object' || Array.isArray(changed.data)) {
    throw new UsageError('--set data=… must leave data a JSON object', { hint: 'Set single fields instead, e.g. --set data.id=batches/123.' });
  }
  return changed.data as Record<string, unknown>;
}

/** One catalog type, in the words every command uses for event types (unknown, did you mean, patterns). */
function checkEventType(eventType: string): void {
  const types = parseEventList(eventType, { flag: 'TYPE' });
  if (types.length > 1) {
    throw new UsageError(`TYPE: trigger sends one event type at a time, not ${types.length} (${types.join(', ')})`, {
      hint: `Run it once per type, e.g. gemwh trigger ${types[0]}.`,
    });
  }
}


function checkUri(uri: string): void {
  let url: URL | undefined;
  try {
    url = new URL(uri);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--uri "${uri}" is not an http(s) URL`, { hint: 'Give the full URL the job would name, e.g. --uri http://127.0.0.1:8787/hook' });
  }
}

async function waitForFirstAttempts(
  api: EmulatorControl,
  eventType: string,
  deliveries: TriggeredDelivery[],
  timeoutMs: number,
  deps: Deps,
  progress: Progress,
): Promise<Reported[]> {
  const deadline = deps.clock.now() + timeoutMs;
  const found = new Map<string, WireAttempt>();
  try {
    for (;;) {
      progress.update(countText(found.size, deliveries.length, `first attempts answered; waiting for ${eventType} to reach the rest`));
      for (const delivery of deliveries) {
        if (found.has(delivery.delivery_id)) continue;
        const { attempts } = await api.request<{ attempts: WireAttempt[] }>('GET', '/_emulator/deliveries', { query: { delivery_id: delivery.delivery_id } });
        const first = attempts.find((a) => a.attempt === 1 && !a.duplicate && a.outcome !== 'in_flight');
        if (first) found.set(delivery.delivery_id, first);
      }
      if (found.size === deliveries.length || deps.clock.now() >= deadline) break;
      if (deps.signal.aborted) throw new InterruptedError('stopped');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    throw stoppedWaiting(eventType, deliveries, found);
  } finally {
    progress.done();
  }
  if (found.size < deliveries.length) {
    throw new CheckFailedError(`${deliveries.length - found.size} of ${deliveries.length} deliveries had no answer within ${Math.round(timeoutMs / 1000)} s`, {
      hint: 'The receiver is slow or the emulator is busy; `gemwh emulator deliveries` shows what happened.',
    });
  }
  return deliveries.map((d) => ({ ...d, first_attempt: found.get(d.delivery_id) }));
}

/** Ctrl-C during --wait: the emulator accepted and queued every delivery; say what is known of each. */
function stoppedWaiting(eventType: string, deliveries: readonly TriggeredDelivery[], found: ReadonlyMap<string, WireAttempt>): InterruptedError {
  const known = deliveries.filter((d) => found.has(d.delivery_id));
  const failed = known.filter((d) => found.get(d.delivery_id)!.outcome !== 'delivered');
  const pending = deliveries.length - known.length;
  const parts = [
    known.length > 0 ? `${known.length - failed.length} delivered${failed.length > 0 ? `, ${failed.length} failed at the first attempt` : ''}` : undefined,
    pending > 0 ? `${pending} not confirmed yet` : undefined,
  ].filter((p): p is string => p !== undefined);
  const ids = deliveries.map((d) => d.delivery_id);
  return new InterruptedError(
    `stopped waiting: the emulator accepted ${eventType} and queued ${deliveries.length} deliver${deliveries.length === 1 ? 'y' : 'ies'} (${ids.join(', ')}); ${parts.join(', ')}`,
    { hint: `The emulator keeps delivering and retrying in the background; \`gemwh emulator deliveries --delivery ${ids[0]}\` shows how it went.` },
  );
}

