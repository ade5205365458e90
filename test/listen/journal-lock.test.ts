import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journalLockPath, lockJournal, type LockOwner } from '../../src/listen/journal-lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function journalFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gemwh-lock-'));
  dirs.push(dir);
  return join(dir, 'journal.ndjson');
}

const alive = new Set<number>();
function owner(pid: number, host = 'box'): LockOwner {
  return { host, pid, isProcessAlive: (p) => alive.has(p) };
}

describe('lockJournal', () => {
  it('refuses a second owner while the first runs, names it, and lets go on release', () => {
    const file = journalFile();
    alive.add(101);
    const lock = lockJournal(file, owner(101), 1);
    expect(JSON.parse(readFileSync(journalLockPath(file), 'utf8'))).toMatchObject({ host: "box", pid: 101, at: 1 });
    expect(() => lockJournal(file, owner(202), 2)).toThrow(/in use by another gemwh listen \(pid 101\)/);
    // The same process twice (two sessions in one process) is refused as well.
    expect(() => lockJournal(file, owner(101), 3)).toThrow(/in use/);
    lock.release();
    expect(existsSync(journalLockPath(file))).toBe(false);
    lockJournal(file, owner(202), 4).release();
    alive.delete(101);
  });

  it('takes over a lock whose process is gone, or that is unreadable', () => {
    const file = journalFile();
    writeFileSync(journalLockPath(file), JSON.stringify({ host: 'box', pid: 999_999, at: 0 }));
    const taken = lockJournal(file, owner(303), 5);
    expect(JSON.parse(readFileSync(journalLockPath(file), 'utf8'))).toMatchObject({ pid: 303 });
    taken.release();
    writeFileSync(journalLockPath(file), '');
    lockJournal(file, owner(303), 6).release();
  });

  it('treats a lock from another host as held (its process cannot be checked from here)', () => {
    const file = journalFile();
    writeFileSync(journalLockPath(file), JSON.stringify({ host: 'other-box', pid: 1, at: 0 }));
    expect(() => lockJournal(file, owner(404), 7)).toThrow(/pid 1 on other-box/);
  });

  it('release() leaves alone a lock that another listener has taken over since', () => {
    const file = journalFile();
    const stale = lockJournal(file, owner(505), 8);
    // 505 is not alive: 606 takes the lock over.
    const current = lockJournal(file, owner(606), 9);
    stale.release();
    expect(JSON.parse(readFileSync(journalLockPath(file), 'utf8'))).toMatchObject({ pid: 606 });
    current.release();
    expect(existsSync(journalLockPath(file))).toBe(false);
  });
});
