import { constants, type Stats } from 'node:fs';
import { access, mkdir, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Checks, before a listen session starts, that the journal file can be used, and creates its
 * folders one at a time. The session's own mkdir(recursive) is then a no-op: Node 20's recursive
 * mkdir never settles (and spins a core) where the system refuses new entries, e.g. under /proc,
 * and every other failure would surface as an unexplained fs error.
 */
export async function checkJournalFile(file: string, options: { given: boolean }): Promise<void> {
  const path = resolve(file);
  const fail = failureFor(
    file,
    options.given
      ? GIVEN_HINT
      : 'The journal lives in $XDG_STATE_HOME/gemwh/ by default: pick another place with --journal FILE, or run with --no-journal to keep none.',
  );

  const existing = await statOrMissing(path, fail);
  if (existing) {
    if (existing.isDirectory()) throw fail(`${path} is a folder, not a file (EISDIR)`);
    if (!existing.isFile()) throw fail(`${path} is not a regular file`);
    await access(path, constants.W_OK).catch((error: unknown) => {
      throw fail(`${path} is not writable (${describe(error)})`);
    });
  } else {
    await makeFolders(path, fail);
  }

  // The real test: the session opens it the same way (append, 0600) a moment later.
  try {
    const handle = await open(path, 'a', 0o600);
    await handle.close();
  } catch (error) {
    throw fail(`cannot open ${path} for writing (${describe(error)})`);
  }
}

/**
 * Makes the journal's folder when it is missing, for callers that skip checkJournalFile (the
 * session itself): without `recursive`, for the reason given there.
 */
export async function makeJournalFolder(file: string): Promise<void> {
  await makeFolders(resolve(file), failureFor(file, GIVEN_HINT));
}

const GIVEN_HINT = 'Pick another --journal FILE, or run with --no-journal to keep none.';

function failureFor(file: string, hint: string): (cause: string) => UsageError {
  return (cause) => new UsageError(`cannot use the journal ${file}: ${cause}`, { hint });
}

/** Makes the missing folders above the file `path`. */
async function makeFolders(path: string, fail: (cause: string) => UsageError): Promise<void> {
  // The nearest existing ancestor must be a folder we may write in; the missing ones below it
  // are created without `recursive`, so each failure has a name and nothing can spin.
  const missing: string[] = [];
  let folder = dirname(path);
  for (;;) {
    const found = await statOrMissing(folder, fail);
    if (found) {
      if (!found.isDirectory()) throw fail(`${folder} is a file, not a folder (ENOTDIR)`);
      break;
    }
    missing.unshift(folder);
    const parent = dirname(folder);
    if (parent === folder) throw fail(`no part of the path ${path} exists`);
    folder = parent;
  }
  await access(folder, constants.W_OK | constants.X_OK).catch((error: unknown) => {
    throw fail(`cannot create anything in the folder ${folder} (${describe(error)})`);
  });
  for (const child of missing) {
    try {
      await mkdir(child, { mode: 0o700 });
    } catch (error) {
      const isFolderNow = (error as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(child).catch(() => undefined))?.isDirectory();
      if (!isFolderNow) throw fail(`cannot create the folder ${child} (${describe(error)})`);
    }
  }
}

/** undefined when the path does not exist (or a part of it is not a folder); other failures are fatal. */
async function statOrMissing(path: string, fail: (cause: string) => UsageError): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fail(`cannot look at ${path} (${describe(error)})`);
  }
}

const CAUSES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'the file system does not allow it',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file of that name is in the way',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const cause = CAUSES[code];
  return cause ? `${cause}: ${code}` : code;
}
