import type { SeenIds } from './dedup.js';
import { Journal, type Written } from './journal.js';
import { makeJournalFolder } from './journal-check.js';
import { lockJournal, type JournalLock, type LockOwner } from './journal-lock.js';
import type { JournalOptions, JournalRecord } from './journal-records.js';
import { scanJournal, type PendingForward } from './journal-scan.js';

/**
 * The journal as a session uses it: opened after the lock is taken and the earlier runs' lines
 * are scanned (their dedup keys seed `seen`, their unfinished forwards are `resumable`); a write
 * failure is warned about once. Without a journal (--no-journal) every append succeeds at once.
 */
export interface SessionJournal {
  /**
   * Calls back once the line is written, with the error when it could not be (the caller decides
   * what that means for the request); at once without a journal.
   */
  write(record: JournalRecord, written: Written): void;
  /** For lines nobody waits on (forward attempts, refusals on a bare socket): a failure is only warned about. */
  appendQuietly(record: JournalRecord): void;
  /** Warns, once per session, that the journal cannot be written; undefined (a line was written) is ignored, so it can be a write callback. */
  failed(error: unknown): void;
  /** Forwards earlier runs left unfinished; taken once. */
  takeResumable(): PendingForward[];
  /** Writes what is queued, closes the file and releases the lock. */
  close(): Promise<void>;
}

export interface SessionJournalOptions {
  journal?: JournalOptions;
  journalOwner?: LockOwner;
  dedupCapacity: number;
  resume: { maxAgeMs: number; maxDeliveries: number };
}

export async function openSessionJournal(
  options: SessionJournalOptions,
  deps: { now: () => number; seen: SeenIds; warn: (message: string) => void },
): Promise<SessionJournal> {
  let warned = false;
  const failed = (error: unknown) => {
    if (error === undefined) return;
    if (warned) return;
    warned = true;
    deps.warn(`cannot write the journal ${options.journal?.file}: ${error instanceof Error ? error.message : String(error)}`);
  };
  const journalOptions = options.journal;
  if (!journalOptions) {
    return { write: (_record, written) => written(), appendQuietly() {}, failed, takeResumable: () => [], close: async () => {} };
  }
  await makeJournalFolder(journalOptions.file);
  // Taken before the scan: a second listener must not resume what this one is about to.
  const lock: JournalLock | undefined = options.journalOwner ? lockJournal(journalOptions.file, options.journalOwner, deps.now()) : undefined;
  let journal: Journal;
  let scan: Awaited<ReturnType<typeof scanJournal>>;
  try {
    scan = await scanJournal(journalOptions.file, journalOptions.keep, {
      now: deps.now(),
      dedupCapacity: options.dedupCapacity,
      maxAgeMs: options.resume.maxAgeMs,
      maxPending: options.resume.maxDeliveries,
    });
    journal = await Journal.open(journalOptions);
  } catch (error) {
    lock?.release();
    throw error;
  }
  for (const { webhookId, key } of scan.recentIds) deps.seen.remember(webhookId, { key, persisted: true });
  let resumable = scan.pending;
  if (scan.skippedLines > 0) {
    queueMicrotask(() => deps.warn(`the journal has ${scan.skippedLines} unreadable line(s) (e.g. cut short by a crash); they were skipped`));
  }
  return {
    write: (record, written) => journal.write(record, written),
    // failed() ignores a line that was written: no callback is made per line.
    appendQuietly: (record) => journal.write(record, failed),
    failed,
    takeResumable() {
      const taken = resumable;
      resumable = [];
      return taken;
    },
    async close() {
      await journal.close().catch(failed);
      lock?.release();
    },
  };
}
