import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectSecret } from '../../src/core/standard-webhooks.js';
import { devSecretPath, loadOrCreateDevSecret } from '../../src/devkey/dev-secret.js';
import { UsageError } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configDir(): { config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gemwh-dev-secret-'));
  dirs.push(dir);
  return { config: join(dir, 'config', 'gemwh') };
}

const random = (size: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(size)));

describe('the development signing secret', () => {
  it('is created once (0600, folder 0700) and the same on every later call', async () => {
    const paths = configDir();
    const first = await loadOrCreateDevSecret(paths, random);
    expect(first.created).toBe(true);
    expect(inspectSecret(first.secret).ok).toBe(true);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(statSync(paths.config).mode & 0o777).toBe(0o700);
    const again = await loadOrCreateDevSecret(paths, random);
    expect(again).toEqual({ secret: first.secret, file: first.file, created: false });
  });

  it('concurrent first runs agree on one secret and leave no temporary file', async () => {
    const paths = configDir();
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateDevSecret(paths, random)));
    expect(new Set(results.map((r) => r.secret)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(readdirSync(paths.config)).toEqual(['dev-signing-secret']);
  });

  it('tightens a file left readable by others, and refuses a damaged one naming the file', async () => {
    const paths = configDir();
    const { file } = await loadOrCreateDevSecret(paths, random);
    chmodSync(file, 0o644);
    await loadOrCreateDevSecret(paths, random);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(devSecretPath(paths), 'not a secret\n');
    const error = await loadOrCreateDevSecret(paths, random).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(file);
    expect((error as UsageError).hint).toMatch(/Delete the file/);
  });
});
