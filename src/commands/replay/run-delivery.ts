import { eventFilter } from '../../core/events.js';
import { applyAssignments, type SetAssignment } from '../../core/set-path.js';
import { formatDuration } from '../../core/duration.js';
import { sign } from '../../core/standard-webhooks.js';
import { targetUrlFor, type Target } from '../../core/target.js';
import { newWebhookId } from '../../core/webhook-id.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { createSender } from '../../http/send.js';
import { createSendPrinter, judgeRun, type SendRecord } from '../../replay/send-deliveries.js';
import { givenSecretFlags, resolveSecretFlags } from '../../secrets/secret-flags.js';
import { forwardHeaders } from '../../listen/forwarder.js';
import { findDelivery, JOURNAL_HINT } from '../../listen/journal-history.js';
import { decodeBody, defaultJournalPath, DEFAULT_JOURNAL_KEEP, readJournal, type JournalDeliveryRecord } from '../../listen/journal-records.js';
import type { CommandContext } from '../context.js';

/**
 * `gemwh replay delivery`: re-sends deliveries from the listen journal to a receiver, byte for
 * byte with their original headers, or (--resign) with a fresh webhook-timestamp and signature,
 * so that a receiver checking the 5-minute window accepts them.
 */

export type DeliverySelection = { kind: 'id'; id: string } | { kind: 'last' } | { kind: 'since'; ms: number };

export interface ReplayDeliveryOptions {
  selection: DeliverySelection;
  /** --type globs; empty: every type. */
  types: string[];
  target: Target;
  resign: boolean;
  /** --set: fields of the JSON body to change before sending; implies signing anew. */
  sets?: readonly SetAssignment[];
  /** With --resign: --secret, --secret-env and --webhook, signed with all of them. */
  secrets: string[];
  secretEnv: string[];
  webhookIds: string[];
  /** Default: the listen journal in the state folder. */
  journal?: string;
  journalKeep?: number;
  timeoutMs: number;
  /** Accept an untrusted TLS certificate. */
  insecure?: boolean;
  json: boolean;
}

/**
 * Picks the deliveries to re-send, reading the journal once. An id matches the webhook-id or the
 * journal key (`<session>.<seq>`); the newest accepted delivery wins, else the newest of any
 * outcome (to re-send a rejected one while debugging). --last and --since take accepted ones
 * only, once per webhook-id, oldest first.
 */
export async function selectDeliveries(
  file: string,
  keep: number,
  selection: DeliverySelection,
  types: readonly string[],
  now: number,
): Promise<JournalDeliveryRecord[]> {
  if (selection.kind === 'id') return [(await findDelivery(file, keep, { kind: 'id', id: selection.id })).record];
  const typeAllowed = eventFilter(types);
  let newestAccepted: JournalDeliveryRecord | undefined;
  const since = new Map<string, JournalDeliveryRecord>();
  for await (const record of readJournal(file, keep)) {
    if (record.kind !== 'delivery') continue;
    if (record.outcome !== 'verified' || !typeAllowed(record.eventType)) continue;
    if (selection.kind === 'last') newestAccepted = record;
    else if (record.at >= now - selection.ms) since.set(record.webhookId ?? record.key, record);
  }
  if (selection.kind === 'since') return [...since.values()].sort((a, b) => a.at - b.at);
  return newestAccepted ? [newestAccepted] : [];
}

export async function runReplayDelivery(options: ReplayDeliveryOptions, ctx: CommandContext): Promise<SendRecord[]> {
  const { deps } = ctx;
  const file = options.journal ?? defaultJournalPath(deps.paths.state);
  const keep = options.journalKeep ?? DEFAULT_JOURNAL_KEEP;
  const sets = options.sets ?? [];
  // A changed body invalidates the recorded signature: --set always signs anew.
  const resign = options.resign || sets.length > 0;
  if (!resign && givenSecretFlags(options).length > 0) {
    throw new UsageError('--secret, --secret-env and --webhook only apply with --resign', {
      hint: 'Add --resign to sign the deliveries anew, or drop the secrets to send them exactly as recorded.',
    });
  }
  const secrets = resign ? await resignSecrets(options, ctx) : [];

  const records = await selectDeliveries(file, keep, options.selection, options.types, deps.clock.now());
  if (records.length === 0) throw nothingFound(options, file);

  const printer = createSendPrinter(ctx, { json: options.json, kinds: [resign ? 'resigned' : 'replay'], total: records.length });
  printer.start();
  const results: SendRecord[] = [];
  const sender = await createSender({ timeoutMs: options.timeoutMs, connections: 1, insecure: options.insecure });
  try {
    // One at a time, oldest first: a replay should reach the receiver in the order Gemini sent.
    for (const [index, record] of records.entries()) {
      if (deps.signal.aborted) break;
      const url = targetUrlFor(options.target, record.path);
      const body = sets.length > 0 ? changedBody(record, sets) : decodeBody(record);
      const headers = forwardHeaders(record.headers);
      let webhookId = record.webhookId ?? '';
      let timestamp = Number(headerValue(record.headers, 'webhook-timestamp') ?? 0);
      if (resign) {
        webhookId = record.webhookId ?? newWebhookId(deps.random.bytes);
        timestamp = Math.floor(deps.clock.now() / 1000);
        const signature = secrets.map((secret) => sign(webhookId, timestamp, body, secret)).join(' ');
        setHeader(headers, 'webhook-id', webhookId);
        setHeader(headers, 'webhook-timestamp', String(timestamp));
        setHeader(headers, 'webhook-signature', signature);
      }
      // The pairs as recorded: order, case and repeated names are part of what is replayed.
      const result = await sender.send(url, headers, body, { signal: deps.signal });
      const sent: SendRecord = {
        seq: index + 1,
        kind: resign ? 'resigned' : 'replay',
        webhookId,
        timestamp,
        url: url.href,
        expect: 'accept',
        result,
        ok: result.status !== undefined && result.status >= 200 && result.status < 300,
      };
      results.push(sent);
      printer.record(sent);
    }
  } finally {
    await sender.close();
    printer.close();
  }
  printer.summary(results);
  const failure = judgeRun(results, options.target.url, deps.signal, options.resign ? { scheme: 'static' } : { scheme: 'as_recorded' });
  if (failure) throw failure;
  return results;
}

function changedBody(record: JournalDeliveryRecord, sets: readonly SetAssignment[]): Buffer {
  let event: unknown;
  try {
    if (record.encoding === 'base64') throw new Error('not UTF-8');
    event = JSON.parse(decodeBody(record).toString('utf8')) as unknown;
  } catch {
    throw new UsageError(`--set changes a JSON body, and delivery ${record.webhookId ?? record.key} has none`, {
      hint: 'Drop --set to re-send it as recorded.',
    });
  }
  return Buffer.from(JSON.stringify(applyAssignments(event, sets)));
}

async function resignSecrets(options: ReplayDeliveryOptions, ctx: CommandContext): Promise<string[]> {
  const secrets = await resolveSecretFlags(options, ctx);
  if (secrets.length === 0) {
    throw new UsageError(`${options.resign ? '--resign' : '--set changes the body, so the delivery is signed anew: it'} needs a signing secret`, {
      hint: 'Add --secret whsec_…, --secret-env VAR or --webhook ID.',
    });
  }
  return secrets.map((c) => c.secret);
}


function nothingFound(options: ReplayDeliveryOptions, file: string): NotFoundError {
  const types = options.types.length > 0 ? ` of type ${options.types.join(', ')}` : '';
  // An id that matches nothing was already reported by findDelivery.
  const what = options.selection.kind === 'since' ? `no accepted delivery${types} in the last ${formatDuration(options.selection.ms)}` : `no accepted delivery${types}`;
  return new NotFoundError(`${what} in the journal ${file}`, { hint: JOURNAL_HINT });
}

function headerValue(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

function setHeader(headers: Array<[string, string]>, name: string, value: string): void {
  const index = headers.findIndex(([key]) => key.toLowerCase() === name);
  if (index === -1) headers.push([name, value]);
  else headers[index] = [headers[index]![0], value];
}
