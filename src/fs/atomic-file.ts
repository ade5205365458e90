import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** The mode of the written file, whatever the umask (secrets and keys: 0600). */
  mode: number;
  /**
   * Fail with EEXIST instead of replacing a file that is already there (a first-run key, a lock).
   * The file still appears complete or not at all: it is linked into place, not opened with O_EXCL.
   */
  exclusive?: boolean;
}

/**
 * The one way gemwh writes a file that must never be seen half-written or lost after a crash
 * (the secrets file, the ready file, the emulator state, the dev key, lock files): a temporary
 * file in the same folder, fsynced, then renamed (or linked) over the name, then the folder fsynced
 * so the new name itself survives a power cut. Synchronous on purpose: callers (the emulator's
 * save-before-reply, locks) rely on no other work interleaving with the write.
 */
export function writeFileAtomic(path: string, content: string, options: AtomicWriteOptions): void {
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temporary, 'wx', options.mode);
    try {
      const bytes = Buffer.from(content, 'utf8');
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
      // The mode given to open is cut by the umask.
      fchmodSync(fd, options.mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.exclusive) {
      linkSync(temporary, path);
      unlinkSync(temporary);
    } else {
      renameSync(temporary, path);
    }
    fsyncFolder(folder);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Makes a rename or unlink in `folder` durable. Some platforms cannot fsync a folder: that is not an error there. */
export function fsyncFolder(folder: string): void {
  let fd: number;
  try {
    fd = openSync(folder, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw error;
  } finally {
    closeSync(fd);
  }
}
