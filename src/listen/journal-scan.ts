import { readJournal, type JournalDeliveryRecord, type ReadJournalStats } from './journal-records.js';

/** What a starting listener takes over from earlier runs. */
export interface JournalScan {
  /** webhook-ids of recent accepted deliveries, oldest first, with the key of the first one. */
  recentIds: Array<{ webhookId: string; key: string }>;
  /** Verified deliveries with targets that never answered for good, oldest first. */
  pending: PendingForward[];
  skippedLines: number;
  /** True when maxPendingBodyBytes left deliveries out. */
  cutShort: boolean;
}

export interface PendingForward {
  record: JournalDeliveryRecord;
  /** Target URL → number of attempts already made. */
  targets: Map<string, number>;
}

export interface ScanOptions {
  now: number;
  /** How many webhook-ids to seed deduplication with. */
  dedupCapacity: number;
  /** Deliveries older than this are not resumed (Gemini itself gives up after 24 h). */
  maxAgeMs: number;
  /** At most this many deliveries are resumed (the most recent ones). */
  maxPending: number;
  /** Only deliveries with these keys can be pending (the ones a running listener parked). */
  only?: ReadonlySet<string>;
  /**
   * Once the pending bodies add up to this many bytes, later deliveries are left out (the oldest
   * are kept, unlike maxPending) and `cutShort` says so.
   */
  maxPendingBodyBytes?: number;
}

/**
 * Reads the journal once, oldest record first. A (delivery, target) pair is settled by a `final`
 * forward record (a 2xx, or an answer retrying cannot change); everything else is pending.
 */
export async function scanJournal(file: string, keep: number, options: ScanOptions): Promise<JournalScan> {
  const stats: ReadJournalStats = { skippedLines: 0 };
  const ids = new Map<string, string>();
  const pending = new Map<string, PendingForward>();
  const oldest = options.now - options.maxAgeMs;
  let pendingBodyBytes = 0;
  let cutShort = false;

  for await (const record of readJournal(file, keep, stats)) {
    if (record.kind === 'delivery') {
      if (record.outcome !== 'verified') continue;
      for (const id of record.dedupKeys ? [record.webhookId, ...record.dedupKeys] : [record.webhookId]) {
        if (id === undefined || ids.has(id)) continue;
        ids.set(id, record.key);
        if (ids.size > options.dedupCapacity) ids.delete(ids.keys().next().value!);
      }
      if (!record.targets || record.targets.length === 0 || record.at < oldest) continue;
      if (options.only && !options.only.has(record.key)) continue;
      if (options.maxPendingBodyBytes !== undefined) {
        // Never leave everything out: a first delivery larger than the limit still goes.
        if (cutShort || (pending.size > 0 && pendingBodyBytes + record.bodyBytes > options.maxPendingBodyBytes)) {
          cutShort = true;
          continue;
        }
        pendingBodyBytes += record.bodyBytes;
      }
      const targets = new Map(record.targets.map((t) => [t, 0]));
      pending.set(record.key, { record, targets });
      if (pending.size > options.maxPending) {
        pending.delete(pending.keys().next().value!);
      }
    } else {
      const entry = pending.get(record.key);
      if (!entry || !entry.targets.has(record.target)) continue;
      if (record.final) {
        entry.targets.delete(record.target);
        if (entry.targets.size === 0) pending.delete(record.key);
      } else {
        entry.targets.set(record.target, Math.max(entry.targets.get(record.target) ?? 0, record.attempt));
      }
    }
  }
  return {
    recentIds: [...ids].map(([webhookId, key]) => ({ webhookId, key })),
    pending: [...pending.values()],
    skippedLines: stats.skippedLines,
    cutShort,
  };
}
