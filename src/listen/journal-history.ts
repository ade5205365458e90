import { eventFilter } from '../core/events.js';
import { NotFoundError, UsageError } from '../errors.js';
import type { Deps } from '../deps.js';
import { defaultJournalPath, DEFAULT_JOURNAL_KEEP, readJournal, type JournalDeliveryRecord, type JournalForwardRecord } from './journal-records.js';

/**
 * The journal read as a history (`gemwh deliveries`, `verify --delivery`, `replay delivery`):
 * each delivery with the forward attempts made for it, by this run or a later one that resumed it.
 */

export type Verdict = JournalDeliveryRecord['outcome'];
export const VERDICTS: readonly Verdict[] = ['verified', 'rejected', 'duplicate'];

/** none: not to be forwarded; ok/failed: every target answered for good (failed when one did not take it); pending: still retrying. */
export type ForwardStatus = 'none' | 'ok' | 'failed' | 'pending';
export const FORWARD_STATUSES: readonly ForwardStatus[] = ['none', 'ok', 'failed', 'pending'];

export interface HistoryEntry {
  record: JournalDeliveryRecord;
  forwards: JournalForwardRecord[];
}

export interface HistoryFilter {
  /** Event-type globs; empty: every type. */
  types: readonly string[];
  verdicts: readonly Verdict[];
  /** Epoch ms: only deliveries received at or after it. */
  since?: number;
  /** Only deliveries verified with this webhook's secret (the store labels its candidates with the id). */
  webhook?: string;
  forwardStatuses: readonly ForwardStatus[];
}

export function forwardStatus(entry: HistoryEntry): ForwardStatus {
  const targets = entry.record.targets ?? [];
  if (entry.record.outcome !== 'verified' || targets.length === 0) return 'none';
  let failed = false;
  for (const target of targets) {
    const final = entry.forwards.findLast((f) => f.target === target && f.final);
    if (!final) return 'pending';
    if (!final.ok) failed = true;
  }
  return failed ? 'failed' : 'ok';
}

export function matchesFilter(entry: HistoryEntry, filter: HistoryFilter, typeAllowed = eventFilter(filter.types)): boolean {
  const { record } = entry;
  if (filter.since !== undefined && record.at < filter.since) return false;
  if (filter.verdicts.length > 0 && !filter.verdicts.includes(record.outcome)) return false;
  if (filter.types.length > 0 && !typeAllowed(record.eventType)) return false;
  if (filter.webhook !== undefined) {
    const label = record.matched?.label;
    if (label === undefined || (label !== filter.webhook && !label.startsWith(`${filter.webhook} `))) return false;
  }
  if (filter.forwardStatuses.length > 0 && !filter.forwardStatuses.includes(forwardStatus(entry))) return false;
  return true;
}

/**
 * Every delivery matching the filter, oldest first; only the newest `limit` are kept while
 * reading, and without `withBodies` bodies and headers are dropped, so a large journal is listed
 * in bounded memory.
 */
export async function listHistory(
  file: string,
  keep: number,
  filter: HistoryFilter,
  options: { limit?: number; withBodies?: boolean } = {},
): Promise<{ entries: HistoryEntry[]; skippedLines: number }> {
  const stats = { skippedLines: 0 };
  // Forwards are appended after their delivery, so the filter is applied once the journal is read.
  const byKey = new Map<string, HistoryEntry>();
  for await (const record of readJournal(file, keep, stats)) {
    if (record.kind === 'delivery') {
      const kept = options.withBodies ? record : { ...record, headers: [], body: '' };
      byKey.delete(record.key);
      byKey.set(record.key, { record: kept, forwards: [] });
    } else {
      byKey.get(record.key)?.forwards.push(record);
    }
  }
  const typeAllowed = eventFilter(filter.types);
  let entries = [...byKey.values()].filter((entry) => matchesFilter(entry, filter, typeAllowed));
  if (options.limit !== undefined && entries.length > options.limit) entries = entries.slice(entries.length - options.limit);
  return { entries, skippedLines: stats.skippedLines };
}

export type DeliveryRef = { kind: 'id'; id: string } | { kind: 'last' };

/**
 * One delivery, by webhook-id, journal key (`<session>.<seq>`) or a unique prefix of either, or
 * the newest with `last`. Several records can share a webhook-id (a duplicate, a re-sent
 * delivery): the newest accepted one wins, else the newest of any outcome.
 */
export async function findDelivery(file: string, keep: number, ref: DeliveryRef): Promise<HistoryEntry> {
  let newest: HistoryEntry | undefined;
  const exact = { accepted: undefined as HistoryEntry | undefined, any: undefined as HistoryEntry | undefined };
  const byPrefix = new Map<string, HistoryEntry>();
  const tracked = new Map<string, HistoryEntry>();
  for await (const record of readJournal(file, keep)) {
    if (record.kind === 'forward') {
      tracked.get(record.key)?.forwards.push(record);
      continue;
    }
    const entry: HistoryEntry = { record, forwards: [] };
    if (ref.kind === 'last') {
      if (newest) tracked.delete(newest.record.key);
      newest = entry;
      tracked.set(record.key, entry);
      continue;
    }
    const names = [record.webhookId, record.key].filter((n): n is string => n !== undefined);
    if (names.includes(ref.id)) {
      exact.any = entry;
      if (record.outcome === 'verified') exact.accepted = entry;
      tracked.set(record.key, entry);
    } else if (exact.any === undefined && names.some((n) => n.startsWith(ref.id))) {
      const name = record.webhookId !== undefined && record.webhookId.startsWith(ref.id) ? record.webhookId : record.key;
      const earlier = byPrefix.get(name);
      if (!earlier || record.outcome === 'verified' || earlier.record.outcome !== 'verified') byPrefix.set(name, entry);
      tracked.set(record.key, entry);
    }
  }
  if (ref.kind === 'last') {
    if (newest) return newest;
    throw new NotFoundError(`the journal ${file} holds no delivery`, { hint: JOURNAL_HINT });
  }
  const found = exact.accepted ?? exact.any;
  if (found) return found;
  if (byPrefix.size === 1) return [...byPrefix.values()][0]!;
  if (byPrefix.size > 1) {
    const names = [...byPrefix.keys()];
    throw new UsageError(`"${ref.id}" matches ${names.length} deliveries: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`, {
      hint: 'Give more of the id.',
    });
  }
  throw new NotFoundError(`no delivery with webhook-id or key "${ref.id}" in the journal ${file}`, {
    hint: `${JOURNAL_HINT} \`gemwh deliveries list\` shows what it holds.`,
  });
}

export const JOURNAL_HINT = '`gemwh listen` records every delivery it receives there; pass --journal FILE if listen used another file.';

export interface JournalChoice {
  /** Default: the journal `gemwh listen` writes. */
  journal?: string;
  journalKeep?: number;
}

export function journalLocation(options: JournalChoice, deps: Deps): { file: string; keep: number } {
  return { file: options.journal ?? defaultJournalPath(deps.paths.state), keep: options.journalKeep ?? DEFAULT_JOURNAL_KEEP };
}
