import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * One listener per journal. Two would both resume the same pending forwards (the app gets them
 * twice), interleave their group writes and rotate the file under each other. The lock is a file
 * next to the journal, created with O_EXCL, naming the process that holds it; a listener that was
 * killed leaves it behind, and the next one takes it over once that process is gone.
 */

export interface LockOwner {
  host: string;
  pid: number;
  /** Whether a process of this machine still runs (a recycled pid makes a stale lock look held: say how to clear it). */
  isProcessAlive(pid: number): boolean;
}

export interface JournalLock {
  readonly path: string;
  /** Removes the lock file, if it is still this owner's. */
  release(): void;
}

interface Holder {
  host: string;
  pid: number;
  at?: number;
}

export function journalLockPath(journalFile: string): string {
  return `${journalFile}.lock`;
}

export function lockJournal(journalFile: string, owner: LockOwner, now: number): JournalLock {
  const path = journalLockPath(journalFile);
  const mine: Holder = { host: owner.host, pid: owner.pid, at: now };
  // Two rounds: the second follows the removal of a stale lock.
  for (let round = 0; round < 2; round++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UsageError(`cannot lock the journal ${journalFile}: ${(error as Error).message}`, {
          hint: 'The folder of the journal must be writable; pick another --journal FILE, or run with --no-journal.',
        });
      }
      const holder = readHolder(path);
      if (holder && (holder.host !== owner.host || holder.pid === owner.pid || owner.isProcessAlive(holder.pid))) {
        const where = holder.host === owner.host ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
        throw new UsageError(`the journal ${journalFile} is in use by another gemwh listen (${where})`, {
          hint: `Stop that listener, or give this one its own --journal FILE (or --no-journal). If no listener is running, delete ${path}.`,
        });
      }
      // Left by a listener that is gone (or cut short while being written): take it over.
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(mine) + '\n');
    } finally {
      closeSync(fd);
    }
    return {
      path,
      release() {
        const holder = readHolder(path);
        if (!holder || holder.host !== mine.host || holder.pid !== mine.pid || holder.at !== mine.at) return;
        try {
          unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      },
    };
  }
  throw new UsageError(`cannot lock the journal ${journalFile}: another listener took the lock at the same moment`, {
    hint: 'Run one listen per journal file.',
  });
}

function readHolder(path: string): Holder | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { host, pid, at } = parsed as Partial<Holder>;
    if (typeof host !== 'string' || typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
    return { host, pid, at: typeof at === 'number' ? at : undefined };
  } catch {
    return undefined;
  }
}
