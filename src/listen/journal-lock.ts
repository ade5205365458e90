import { UsageError } from '../errors.js';
import { describeHolder, tryLock, type FileLock, type LockOwner } from '../fs/file-lock.js';

/**
 * One listener per journal. Two would both resume the same pending forwards (the app gets them
 * twice), interleave their group writes and rotate the file under each other. The lock is a file
 * next to the journal naming the listener that holds it, for as long as it runs (fs/file-lock.ts).
 */

export type { LockOwner };
export type JournalLock = FileLock;

export function journalLockPath(journalFile: string): string {
  return `${journalFile}.lock`;
}

export function lockJournal(journalFile: string, owner: LockOwner, now: number): JournalLock {
  const path = journalLockPath(journalFile);
  let attempt: ReturnType<typeof tryLock>;
  try {
    attempt = tryLock(path, owner, now);
  } catch (error) {
    throw new UsageError(`cannot lock the journal ${journalFile}: ${(error as Error).message}`, {
      hint: 'The folder of the journal must be writable; pick another --journal FILE, or run with --no-journal.',
    });
  }
  if ('release' in attempt) return attempt;
  throw new UsageError(`the journal ${journalFile} is in use by another gemwh listen (${describeHolder(attempt.heldBy, owner)})`, {
    hint: `Stop that listener, or give this one its own --journal FILE (or --no-journal). If no listener is running, delete ${path}.`,
  });
}
