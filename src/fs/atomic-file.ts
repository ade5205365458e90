import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
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

/**
 * writeFileAtomic for a server's hot path (the relay client's resume position after each
 * delivery, the relay's channel list): the same temporary file, fsync and rename, without
 * blocking the event loop for the fsyncs. Not exclusive.
 */
export async function writeFileAtomicAsync(path: string, content: string, options: Pick<AtomicWriteOptions, 'mode'>): Promise<void> {
  const { open, rename, rm } = await import('node:fs/promises');
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', options.mode);
    try {
      await handle.writeFile(content);
      await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    const folderHandle = await open(folder, 'r').catch(() => undefined);
    await folderHandle?.sync().catch(() => {});
    await folderHandle?.close();
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Reads a private file gemwh created (a dev key, the dev secret): undefined when it does not exist,
 * `cannotRead(error)` for any other failure. One copied around with a loose umask is made 0600 again.
 */
export async function readPrivateFile(file: string, cannotRead: (error: Error) => Error): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cannotRead(error as Error);
  }
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  return text;
}
