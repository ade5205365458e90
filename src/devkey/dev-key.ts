import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { readPrivateFile, writeFileAtomic } from '../fs/atomic-file.js';
import { generateSigningKey, signingKeyFromPrivateJwk, type JwtSigningKey } from '../core/jwt-sign.js';
import type { Paths } from '../deps.js';
import { UsageError } from '../errors.js';

/**
 * gemwh's local development JWT key (replay --dynamic, `replay jwks`). Created once and kept in
 * the config folder so that a receiver configured with its JWKS keeps trusting later runs.
 * It is a private key: the file is 0600 and its folder 0700.
 */

export const DEV_KEY_FILE = 'dev-jwt-key.json';

export function devKeyPath(paths: Pick<Paths, 'config'>): string {
  return join(paths.config, DEV_KEY_FILE);
}

interface StoredDevKey {
  version: 1;
  created_at: string;
  private_jwk: JWK;
}

/** Reads the dev key, creating it on first use. Concurrent first runs end up with one key. */
export async function loadOrCreateDevKey(paths: Pick<Paths, 'config'>, now: number): Promise<JwtSigningKey> {
  const file = devKeyPath(paths);
  const existing = await readDevKey(file);
  if (existing) return existing;

  await mkdir(paths.config, { recursive: true, mode: 0o700 });
  const key = await generateSigningKey();
  const stored: StoredDevKey = { version: 1, created_at: new Date(now).toISOString(), private_jwk: key.privateJwk };
  try {
    // Exclusive: fails if another gemwh created the file meanwhile; that key then wins. And a
    // reader never sees a half-written key, which it would report as broken.
    writeFileAtomic(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, exclusive: true });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const winner = await readDevKey(file);
      if (winner) return winner;
    }
    throw new UsageError(`cannot write the development JWT key to ${file}: ${(error as Error).message}`, {
      hint: 'Check that the gemwh config folder is writable (XDG_CONFIG_HOME), or set XDG_CONFIG_HOME to another folder.',
      cause: error,
    });
  }
}

async function readDevKey(file: string): Promise<JwtSigningKey | undefined> {
  const text = await readPrivateFile(
    file,
    (error) =>
      new UsageError(`cannot read the development JWT key ${file}: ${error.message}`, {
        hint: 'Fix its permissions, or delete it and gemwh creates a new key (receivers must then fetch the new JWKS).',
        cause: error,
      }),
  );
  if (text === undefined) return undefined;
  try {
    const stored = JSON.parse(text) as Partial<StoredDevKey>;
    if (stored.version !== 1 || !stored.private_jwk) throw new Error('unknown format');
    return await signingKeyFromPrivateJwk(stored.private_jwk);
  } catch (error) {
    throw new UsageError(`the development JWT key ${file} is damaged (${(error as Error).message})`, {
      hint: 'Delete the file and gemwh creates a new key; receivers must then fetch the new JWKS (gemwh replay jwks).',
      cause: error,
    });
  }
}
