import { writeFile } from 'node:fs/promises';
import { isoSeconds } from '../../core/duration.js';
import { formatJson, type Column } from '../../core/table.js';
import type { Target } from '../../core/target.js';
import { UsageError } from '../../errors.js';
import {
  findDelivery,
  forwardStatus,
  JOURNAL_HINT,
  journalLocation,
  type JournalChoice,
  listHistory,
  type DeliveryRef,
  type HistoryEntry,
  type HistoryFilter,
} from '../../listen/journal-history.js';
import { printable } from '../../core/printable.js';
import { toCurlCommand, toFixture, toHttpMessage, type ExportFormat } from '../../deliveries/export-formats.js';
import type { CommandContext } from '../context.js';

/** `gemwh deliveries list|show|export`: the listen journal read as a history. */

/** Pretty-printing a multi-megabyte body would flood the terminal; --json and export have all of it. */
const MAX_BODY_CHARS = 64 * 1024;

function errorDetail(error: string | undefined): string {
  return error ? printable(error) : 'failed';
}

export interface ListOptions extends JournalChoice {
  filter: HistoryFilter;
  limit: number;
  json: boolean;
}

export async function runDeliveriesList(options: ListOptions, ctx: CommandContext): Promise<HistoryEntry[]> {
  const { deps } = ctx;
  const { file, keep } = journalLocation(options, deps);
  const { entries, skippedLines } = await listHistory(file, keep, options.filter, { limit: options.limit });
  const newestFirst = [...entries].reverse();
  if (options.json) {
    deps.io.stdout.write(formatJson(newestFirst.map((entry) => entryJson(entry, false))));
  } else if (newestFirst.length === 0) {
    deps.io.stderr.write(`No deliveries${isFiltered(options.filter) ? ' match' : ''} in the journal ${file}.\n  ${JOURNAL_HINT}\n`);
  } else {
    await ctx.out.table(newestFirst, LIST_COLUMNS);
  }
  if (skippedLines > 0) deps.io.stderr.write(`warning: skipped ${skippedLines} unreadable journal line(s) (a listener killed mid-write leaves one)\n`);
  return newestFirst;
}

function isFiltered(filter: HistoryFilter): boolean {
  return filter.types.length + filter.verdicts.length + filter.forwardStatuses.length > 0 || filter.since !== undefined || filter.webhook !== undefined;
}

const LIST_COLUMNS: Array<Column<HistoryEntry>> = [
  { header: 'RECEIVED', value: (e) => isoSeconds(e.record.at) },
  // The key is what `deliveries show` takes: it is never cut; the webhook id goes first when narrow.
  { header: 'ID', value: (e) => printable(e.record.webhookId ?? '-'), dropOrder: 1 },
  { header: 'KEY', value: (e) => e.record.key },
  { header: 'TYPE', value: (e) => printable(e.record.eventType ?? '-'), minWidth: 16 },
  { header: 'VERDICT', value: (e) => verdictText(e), minWidth: 10 },
  { header: 'FORWARD', value: (e) => forwardText(e), minWidth: 8 },
];

function verdictText({ record }: HistoryEntry): string {
  if (record.outcome === 'rejected') return `rejected: ${record.reason ?? 'unknown'}`;
  return record.outcome;
}

function forwardText(entry: HistoryEntry): string {
  const status = forwardStatus(entry);
  if (status === 'none') return '-';
  const last = entry.forwards.at(-1);
  if (!last || status === 'pending') return status;
  return `${status} ${last.status ?? errorDetail(last.error)}`;
}

/** gemwh's own record of a delivery (camelCase); `withContent` adds the headers and body. */
function entryJson(entry: HistoryEntry, withContent: boolean): Record<string, unknown> {
  const { record } = entry;
  return {
    key: record.key,
    webhookId: record.webhookId ?? null,
    receivedAt: new Date(record.at).toISOString(),
    method: record.method,
    path: record.path,
    eventType: record.eventType ?? null,
    verdict: record.outcome,
    reason: record.reason ?? null,
    explanation: record.explanation ?? null,
    status: record.status,
    scheme: record.scheme ?? null,
    matchedSecret: record.matched?.label ?? null,
    duplicateOf: record.duplicateOf ?? null,
    bodyBytes: record.bodyBytes,
    ...(withContent
      ? { headers: record.headers, bodyEncoding: record.encoding, body: record.body, truncated: record.truncated === true }
      : {}),
    targets: record.targets ?? [],
    forwardStatus: forwardStatus(entry),
    forwards: entry.forwards.map((f) => ({
      target: f.target,
      attempt: f.attempt,
      at: new Date(f.at).toISOString(),
      ok: f.ok,
      final: f.final,
      status: f.status ?? null,
      error: f.error ?? null,
      latencyMs: f.latencyMs,
      responseStart: f.responseStart ?? null,
    })),
  };
}

export interface ShowOptions extends JournalChoice {
  ref: DeliveryRef;
  json: boolean;
}

export async function runDeliveriesShow(options: ShowOptions, ctx: CommandContext): Promise<HistoryEntry> {
  const { deps } = ctx;
  const { file, keep } = journalLocation(options, deps);
  const entry = await findDelivery(file, keep, options.ref);
  deps.io.stdout.write(options.json ? formatJson(entryJson(entry, true)) : formatShow(entry));
  return entry;
}

export function formatShow(entry: HistoryEntry): string {
  const { record } = entry;
  const lines: string[] = [];
  lines.push(`Delivery ${printable(record.webhookId ?? '(no webhook-id)')}  key ${record.key}`);
  lines.push(`  received ${isoSeconds(record.at)}  ${record.method} ${printable(record.path)}  answered ${record.status}`);
  if (record.eventType) lines.push(`  event    ${printable(record.eventType)}`);

  lines.push('', 'Verdict');
  if (record.outcome === 'verified') {
    const how = record.matched ? ` with the secret of ${printable(record.matched.label)}${record.matched.inGrace ? ' (in its grace period after a rotation)' : ''}` : '';
    lines.push(`  ✓ verified (${record.scheme ?? 'static'})${how}`);
  } else if (record.outcome === 'rejected') {
    lines.push(`  ✗ rejected: ${record.reason ?? 'unknown'} (answered ${record.status})`);
    if (record.explanation) lines.push(`  ${printable(record.explanation)}`);
    lines.push('  `gemwh verify --delivery ID` diagnoses it again, with the secrets you give it.');
  } else {
    lines.push(`  duplicate: this webhook-id was received before${record.duplicateOf ? ` (key ${record.duplicateOf})` : ''}; not forwarded again`);
  }

  lines.push('', 'Forwards');
  const targets = record.targets ?? [];
  if (entry.forwards.length === 0) {
    lines.push(
      record.outcome !== 'verified'
        ? '  none (only verified, first-seen deliveries are forwarded)'
        : targets.length === 0
          ? '  none (listen had no --forward target for it)'
          : `  pending: no answer yet from ${targets.join(', ')}`,
    );
  }
  for (const f of entry.forwards) {
    const result = f.status !== undefined ? String(f.status) : errorDetail(f.error);
    lines.push(`  ${f.ok ? '✓' : '✗'} attempt ${f.attempt} → ${f.target}  ${result}  ${Math.round(f.latencyMs)} ms  ${isoSeconds(f.at)}${f.final ? '' : '  (retried)'}`);
    if (f.responseStart) lines.push(`      ${printable(f.responseStart)}`);
  }

  lines.push('', 'Headers');
  for (const [name, value] of record.headers) lines.push(`  ${printable(name)}: ${printable(value)}`);

  const notes = [`${record.bodyBytes} bytes`];
  if (record.encoding === 'base64') notes.push('not UTF-8: base64');
  if (record.truncated) notes.push('cut at the size limit: only the start was read');
  lines.push('', `Body (${notes.join(', ')})`);
  lines.push(...bodyText(record.encoding === 'base64' ? record.body : prettyJson(record.body)).split('\n').map((line) => `  ${line}`));
  return `${lines.join('\n')}\n`;
}

function prettyJson(text: string): string {
  if (text.length === 0) return '(empty)';
  if (text.length > MAX_BODY_CHARS) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function bodyText(text: string): string {
  const capped = text.length <= MAX_BODY_CHARS ? text : `${text.slice(0, MAX_BODY_CHARS)}\n… (${text.length - MAX_BODY_CHARS} more characters; --json or export has all of it)`;
  return printable(capped);
}

export interface ExportOptions extends JournalChoice {
  ref: DeliveryRef;
  as: ExportFormat;
  /** For curl: where the command posts (default: the host the delivery was sent to). */
  target?: Target;
  /** A file to write instead of stdout. */
  output?: string;
}

export async function runDeliveriesExport(options: ExportOptions, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  if (options.target && options.as !== 'curl') {
    throw new UsageError(`--to applies to --as curl; a ${options.as} export has no destination`, { hint: 'Drop --to, or use --as curl.' });
  }
  const { file, keep } = journalLocation(options, deps);
  const { record } = await findDelivery(file, keep, options.ref);
  if (record.truncated) {
    throw new UsageError(`delivery ${record.webhookId ?? record.key} was cut at the size limit: the journal has only the start of its body`, {
      hint: 'An export would not be the request that was sent; `gemwh deliveries show` prints what there is.',
    });
  }
  const content =
    options.as === 'http' ? toHttpMessage(record) : options.as === 'curl' ? toCurlCommand(record, options.target) : toFixture(record);
  if (options.output === undefined || options.output === '-') {
    deps.io.stdout.write(content);
    return;
  }
  try {
    await writeFile(options.output, content, { mode: 0o600 });
  } catch (error) {
    throw new UsageError(`--output: cannot write ${options.output}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'Check that the folder exists and is writable.',
    });
  }
  deps.io.stderr.write(`Wrote ${options.output}\n`);
}
