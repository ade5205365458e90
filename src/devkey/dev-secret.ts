import { mkdir } from 'node:fs/promises';
import { readPrivateFile, writeFileAtomic } from '../fs/atomic-file.js';
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
  try {
    await mkdir(paths.config, { recursive: true, mode: 0o700 });
    // Exclusive: a gemwh that created it meanwhile wins, and every run agrees on one secret.
    writeFileAtomic(file, `${secret}\n`, { mode: 0o600, exclusive: true });
    return { secret, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const winner = await readDevSecret(file);
      if (winner) return { secret: winner, file, created: false };
    }
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write the development signing secret to ${file}: ${(error as Error).message}`, {
      hint: 'Check that the gemwh config folder is writable, or pass --secret-env VAR (or --secret) to sign with your own secret.',
      cause: error,
    });
  }
}

async function readDevSecret(file: string): Promise<string | undefined> {
  const text = await readPrivateFile(
    file,
    (error) =>
      new UsageError(`cannot read the development signing secret ${file}: ${error.message}`, {
        hint: 'Fix its permissions, or delete it and gemwh creates a new one (your app must then be given the new secret).',
        cause: error,
      }),
  );
  if (text === undefined) return undefined;
  const secret = text.trim();
  const inspection = inspectSecret(secret);
  if (!inspection.ok) {
    throw new UsageError(`the development signing secret in ${file} is damaged: ${inspection.message}`, {
      hint: 'Delete the file and gemwh creates a new one (your app must then be given the new secret).',
    });
  }
  return secret;
}
