import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectSecret } from '../core/standard-webhooks.js';
import type { Paths } from '../deps.js';
import { UsageError } from '../errors.js';

/**
 * The development signing secret `listen --emulator` signs with: created once and kept in the
 * config folder, so an app configured with it keeps verifying every later demo (as Stripe's CLI
 * keeps one webhook signing secret per machine). It is a secret: the file is 0600, its folder 0700.
 */

export const DEV_SECRET_FILE = 'dev-signing-secret';

export function devSecretPath(paths: Pick<Paths, 'config'>): string {
  return join(paths.config, DEV_SECRET_FILE);
}

export interface DevSecret {
  secret: string;
  file: string;
  /** True when this call made it (the first run on this machine). */
  created: boolean;
}

/**
 * Reads the development secret, creating it on first use. The file appears whole or not at all
 * (written under a temporary name, then linked into place, which fails if it already exists), so
 * concurrent first runs agree on one secret and none reads half a file.
 */
export async function loadOrCreateDevSecret(paths: Pick<Paths, 'config'>, randomBytes: (size: number) => Buffer): Promise<DevSecret> {
  const file = devSecretPath(paths);
  const existing = await readDevSecret(file);
  if (existing) return { secret: existing, file, created: false };

  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(paths.config, { recursive: true, mode: 0o700 });
    await writeFile(temp, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    try {
      await link(temp, file);
      return { secret, file, created: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const winner = await readDevSecret(file);
      if (winner) return { secret: winner, file, created: false };
      throw error;
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write the development signing secret to ${file}: ${(error as Error).message}`, {
      hint: 'Check that the gemwh config folder is writable, or pass --secret-env VAR (or --secret) to sign with your own secret.',
      cause: error,
    });
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function readDevSecret(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read the development signing secret ${file}: ${(error as Error).message}`, {
      hint: 'Fix its permissions, or delete it and gemwh creates a new one (your app must then be given the new secret).',
      cause: error,
    });
  }
  // Copied around with a loose umask, it must not stay readable by others.
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  const secret = text.trim();
  const inspection = inspectSecret(secret);
  if (!inspection.ok) {
    throw new UsageError(`the development signing secret in ${file} is damaged: ${inspection.message}`, {
      hint: 'Delete the file and gemwh creates a new one (your app must then be given the new secret).',
    });
  }
  return secret;
}
