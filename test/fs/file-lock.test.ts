import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/fs/atomic-file.js';
import { tryLock, withFileLock, type LockOwner } from '../../src/fs/file-lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gemwh-file-lock-'));
  dirs.push(dir);
  return dir;
}

function owner(pid: number, alive: ReadonlySet<number>): LockOwner {
  return { host: 'box', pid, isProcessAlive: (p) => alive.has(p) };
}

describe('writeFileAtomic', () => {
  it('writes the file with the mode asked for and leaves no temporary file behind', () => {
    const dir = folder();
    const file = join(dir, 'state.json');
    writeFileAtomic(file, 'one\n', { mode: 0o600 });
    writeFileAtomic(file, 'two\n', { mode: 0o600 });
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('exclusive: an existing file wins, and the failed write leaves nothing behind', () => {
    const dir = folder();
    const file = join(dir, 'key.json');
    writeFileAtomic(file, 'first', { mode: 0o600, exclusive: true });
    expect(() => writeFileAtomic(file, 'second', { mode: 0o600, exclusive: true })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(readFileSync(file, 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['key.json']);
  });
});

describe('withFileLock', () => {
  const options = { waitMs: 5_000, onTimeout: () => new Error('timed out') };

  it('runs one holder at a time', async () => {
    const lock = join(folder(), 'store.lock');
    let inside = 0;
    let most = 0;
    const work = async () => {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inside -= 1;
    };
    await Promise.all(Array.from({ length: 8 }, () => withFileLock(lock, work, options)));
    expect(most).toBe(1);
  });

  it('takes over a lock left by a process that is gone, and one older than staleAfterMs', async () => {
    const lock = join(folder(), 'store.lock');
    writeFileSync(lock, JSON.stringify({ host: 'box', pid: 999_999, at: Date.now() }));
    expect(await withFileLock(lock, async () => 'ran', options, owner(1, new Set([1])))).toBe('ran');

    writeFileSync(lock, JSON.stringify({ host: 'box', pid: 2, at: Date.now() - 120_000 }));
    expect(await withFileLock(lock, async () => 'ran', { ...options, staleAfterMs: 60_000 }, owner(1, new Set([1, 2])))).toBe('ran');
  });

  it('gives up when one live holder keeps the lock longer than waitMs, naming it', async () => {
    const lock = join(folder(), 'store.lock');
    writeFileSync(lock, JSON.stringify({ host: 'box', pid: 2, at: Date.now() }));
    const error = await withFileLock(lock, async () => 'ran', { waitMs: 50, onTimeout: (holder) => new Error(`held by ${holder.pid}`) }, owner(1, new Set([1, 2]))).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe('held by 2');
  });

  it('a live holder keeps its lock: another owner sees it held, and release removes it', () => {
    const lock = join(folder(), 'store.lock');
    const alive = new Set([1, 3]);
    const first = tryLock(lock, owner(3, alive), Date.now());
    expect('release' in first).toBe(true);
    // Pid 1 sees pid 3's live lock: it is held, not stale.
    const second = tryLock(lock, owner(1, alive), Date.now());
    expect(second).toEqual({ heldBy: expect.objectContaining({ pid: 3 }) });
    if ('release' in first) first.release();
    expect(readdirSync(join(lock, '..'))).toEqual([]);
  });
});
