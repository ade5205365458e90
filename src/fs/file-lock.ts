import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from './atomic-file.js';

/**
 * Cross-process locks as files: the journal's (held for as long as a listener runs) and the
 * secret stores' (held for one read-modify-write). A lock file names the process holding it and
 * appears complete or not at all (it is linked into place), so a reader never mistakes a lock
 * being written for a broken one. A process that was killed leaves its lock behind; the next one
 * takes it over once that process is gone (or, for short locks, once the lock is too old to be
 * anyone's live read-modify-write).
 */

export interface LockOwner {
  host: string;
  pid: number;
  /** Whether a process of this machine still runs (a recycled pid makes a stale lock look held: say how to clear it). */
  isProcessAlive(pid: number): boolean;
}

export interface LockHolder {
  host: string;
  pid: number;
  at?: number;
}

export interface FileLock {
  readonly path: string;
  /** Removes the lock file, if it is still this owner's. */
  release(): void;
}

export interface TryLockOptions {
  /** A lock taken longer ago than this is stale even when its pid runs (pids are recycled). */
  staleAfterMs?: number;
}

/** Signal 0 checks that a process exists without touching it; EPERM means it exists under another user. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function thisProcess(): LockOwner {
  return { host: hostname(), pid: process.pid, isProcessAlive };
}

/**
 * One attempt: the lock, or the live holder that has it. Filesystem errors other than "already
 * there" (a missing or read-only folder) are thrown for the caller to explain.
 */
export function tryLock(path: string, owner: LockOwner, now: number, options: TryLockOptions = {}): FileLock | { heldBy: LockHolder } {
  const nonce = randomBytes(8).toString('hex');
  const mine = JSON.stringify({ host: owner.host, pid: owner.pid, at: now, nonce }) + '\n';
  // Each round follows the removal of a stale lock; losing more than a few races in a row means
  // other processes keep taking it, which callers treat like a held lock.
  for (let round = 0; round < 4; round++) {
    try {
      writeFileAtomic(path, mine, { mode: 0o600, exclusive: true });
      return { path, release: () => releaseIfMine(path, mine) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const seen = readText(path);
    if (seen === undefined) continue; // released meanwhile
    const holder = parseHolder(seen);
    if (holder && !isStale(holder, owner, now, options)) return { heldBy: holder };
    removeStale(path, seen);
  }
  const holder = parseHolder(readText(path) ?? '');
  return { heldBy: holder ?? { host: owner.host, pid: 0 } };
}

export interface WaitForLockOptions extends TryLockOptions {
  /**
   * How long one holder may keep the lock before this waiter gives up. Measured per holder, not
   * in total: behind a queue of other processes that each take their turn, waiting is progress.
   */
  waitMs: number;
  /** The error to throw when the lock could not be taken in time. */
  onTimeout(holder: LockHolder): Error;
}

/**
 * Runs `work` while holding the lock at `path`, waiting (short, jittered retries) while another
 * process holds it. Meant for locks held for milliseconds: a read-modify-write of a store.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: WaitForLockOptions, owner: LockOwner = thisProcess()): Promise<T> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let holder = '';
  let deadline = 0;
  for (;;) {
    const attempt = tryLock(path, owner, Date.now(), options);
    if ('release' in attempt) {
      try {
        return await work();
      } finally {
        attempt.release();
      }
    }
    const seen = JSON.stringify(attempt.heldBy);
    if (seen !== holder) {
      holder = seen;
      deadline = Date.now() + options.waitMs;
    } else if (Date.now() >= deadline) {
      throw options.onTimeout(attempt.heldBy);
    }
    await sleep(5 + Math.floor(Math.random() * 20));
  }
}

function isStale(holder: LockHolder, owner: LockOwner, now: number, options: TryLockOptions): boolean {
  if (options.staleAfterMs !== undefined && holder.at !== undefined && now - holder.at > options.staleAfterMs) return true;
  // Another machine's process cannot be checked from here; this process's own locks are live.
  if (holder.host !== owner.host || holder.pid === owner.pid) return false;
  return !owner.isProcessAlive(holder.pid);
}

/**
 * Moves the stale lock aside before deleting it, and checks it moved the lock it judged: two
 * processes taking over the same stale lock must not delete the lock one of them just took.
 */
function removeStale(path: string, seen: string): void {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (readText(aside) !== seen) {
    // A live lock taken since it was judged: put it back (unless yet another one is in place).
    try {
      linkSync(aside, path);
    } catch {
      // Already replaced: the process whose lock this was loses it; nothing better is possible here.
    }
  }
  unlinkSync(aside);
}

function releaseIfMine(path: string, mine: string): void {
  if (readText(path) !== mine) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { host, pid, at } = parsed as Partial<LockHolder>;
    if (typeof host !== 'string' || typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
    return { host, pid, at: typeof at === 'number' ? at : undefined };
  } catch {
    return undefined;
  }
}

/** "pid 12" on this machine, "pid 12 on other-box" elsewhere. */
export function describeHolder(holder: LockHolder, owner: Pick<LockOwner, 'host'> = thisProcess()): string {
  return holder.host === owner.host ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
}
