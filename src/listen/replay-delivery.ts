import { eventFilter } from '../core/events.js';
import { formatDuration } from '../core/duration.js';
import { sign } from '../core/standard-webhooks.js';
import { targetUrlFor, type Target } from '../core/target.js';
import { newWebhookId } from '../core/webhook-id.js';
import type { Deps } from '../deps.js';
import { NotFoundError, UsageError } from '../errors.js';
import { createAgent, postBytes } from '../replay/http-post.js';
import { createSendPrinter, judgeRun, type SendRecord } from '../replay/send-deliveries.js';
import type { UserSecretStore } from '../secrets/open-store.js';
import { givenSecretFlags, resolveSecretFlags } from '../secrets/secret-flags.js';
import { forwardHeaders } from './forwarder.js';
import { decodeBody, defaultJournalPath, DEFAULT_JOURNAL_KEEP, readJournal, type JournalDeliveryRecord } from './journal.js';

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
  /** With --resign: --secret, --secret-env and --webhook, signed with all of them. */
  secrets: string[];
  secretEnv: string[];
  webhookIds: string[];
  secretStore?: UserSecretStore;
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
  const typeAllowed = eventFilter(types);
  let newestAccepted: JournalDeliveryRecord | undefined;
  let newestAny: JournalDeliveryRecord | undefined;
  const since = new Map<string, JournalDeliveryRecord>();
  for await (const record of readJournal(file, keep)) {
    if (record.kind !== 'delivery') continue;
    const accepted = record.outcome === 'verified';
    if (selection.kind === 'id') {
      if (record.webhookId !== selection.id && record.key !== selection.id) continue;
      newestAny = record;
      if (accepted) newestAccepted = record;
      continue;
    }
    if (!accepted || !typeAllowed(record.eventType)) continue;
    if (selection.kind === 'last') newestAccepted = record;
    else if (record.at >= now - selection.ms) since.set(record.webhookId ?? record.key, record);
  }
  if (selection.kind === 'since') return [...since.values()].sort((a, b) => a.at - b.at);
  const chosen = newestAccepted ?? newestAny;
  return chosen ? [chosen] : [];
}

export async function runReplayDelivery(options: ReplayDeliveryOptions, deps: Deps): Promise<SendRecord[]> {
  const file = options.journal ?? defaultJournalPath(deps.paths.state);
  const keep = options.journalKeep ?? DEFAULT_JOURNAL_KEEP;
  if (!options.resign && givenSecretFlags(options).length > 0) {
    throw new UsageError('--secret, --secret-env and --webhook only apply with --resign', {
      hint: 'Add --resign to sign the deliveries anew, or drop the secrets to send them exactly as recorded.',
    });
  }
  const secrets = options.resign ? await resignSecrets(options, deps) : [];

  const records = await selectDeliveries(file, keep, options.selection, options.types, deps.clock.now());
  if (records.length === 0) throw nothingFound(options, file);

  const printer = createSendPrinter(deps, { json: options.json, kinds: [options.resign ? 'resigned' : 'replay'], total: records.length });
  printer.start();
  const results: SendRecord[] = [];
  const agent = createAgent(options.target.url, { maxSockets: 1, insecure: options.insecure });
  try {
    // One at a time, oldest first: a replay should reach the receiver in the order Gemini sent.
    for (const [index, record] of records.entries()) {
      if (deps.signal.aborted) break;
      const url = targetUrlFor(options.target, record.path);
      const body = decodeBody(record);
      const headers = forwardHeaders(record.headers);
      let webhookId = record.webhookId ?? '';
      let timestamp = Number(headerValue(record.headers, 'webhook-timestamp') ?? 0);
      if (options.resign) {
        webhookId = record.webhookId ?? newWebhookId(deps.random.bytes);
        timestamp = Math.floor(deps.clock.now() / 1000);
        const signature = secrets.map((secret) => sign(webhookId, timestamp, body, secret)).join(' ');
        setHeader(headers, 'webhook-id', webhookId);
        setHeader(headers, 'webhook-timestamp', String(timestamp));
        setHeader(headers, 'webhook-signature', signature);
      }
      const result = await postBytes(url, body, headerObject(headers), { timeoutMs: options.timeoutMs, signal: deps.signal, agent });
      const sent: SendRecord = {
        seq: index + 1,
        kind: options.resign ? 'resigned' : 'replay',
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
    agent.destroy();
    printer.close();
  }
  printer.summary(results);
  const failure = judgeRun(results, options.target.url, deps.signal, options.resign ? { scheme: 'static' } : { scheme: 'as_recorded' });
  if (failure) throw failure;
  return results;
}

async function resignSecrets(options: ReplayDeliveryOptions, deps: Deps): Promise<string[]> {
  const secrets = await resolveSecretFlags(options, deps);
  if (secrets.length === 0) {
    throw new UsageError('--resign needs a signing secret', { hint: 'Add --secret whsec_…, --secret-env VAR or --webhook ID.' });
  }
  return secrets.map((c) => c.secret);
}


function nothingFound(options: ReplayDeliveryOptions, file: string): NotFoundError {
  const types = options.types.length > 0 ? ` of type ${options.types.join(', ')}` : '';
  const what =
    options.selection.kind === 'id'
      ? `no delivery with webhook-id or key "${options.selection.id}"`
      : options.selection.kind === 'last'
        ? `no accepted delivery${types}`
        : `no accepted delivery${types} in the last ${formatDuration(options.selection.ms)}`;
  return new NotFoundError(`${what} in the journal ${file}`, {
    hint: '`gemwh listen` records every delivery it receives there; pass --journal FILE if listen used another file.',
  });
}

function headerValue(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

function setHeader(headers: Array<[string, string]>, name: string, value: string): void {
  const index = headers.findIndex(([key]) => key.toLowerCase() === name);
  if (index === -1) headers.push([name, value]);
  else headers[index] = [headers[index]![0], value];
}

/** node:http takes an object; repeated names are joined as HTTP allows (RFC 9110 §5.3). */
function headerObject(headers: readonly (readonly [string, string])[]): Record<string, string> {
  const result: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    const existing = seen.get(lower);
    if (existing === undefined) {
      seen.set(lower, name);
      result[name] = value;
    } else {
      result[existing] = `${result[existing]}, ${value}`;
    }
  }
  return result;
}
