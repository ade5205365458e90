import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { devKeyPath, loadOrCreateDevKey } from '../../src/devkey/dev-key.js';
import { UsageError } from '../../src/errors.js';

describe('dev key', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'gemwh-devkey-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('is created once with mode 0600 and reused afterwards', async () => {
    const paths = { config: join(home, 'config') };
    const first = await loadOrCreateDevKey(paths, 0);
    expect(statSync(devKeyPath(paths)).mode & 0o777).toBe(0o600);
    expect(statSync(paths.config).mode & 0o777).toBe(0o700);
    const second = await loadOrCreateDevKey(paths, 0);
    expect(second.kid).toBe(first.kid);
    expect(second.publicJwk).toEqual(first.publicJwk);
  });

  it('agrees on one key when two first runs race', async () => {
    const paths = { config: join(home, 'config') };
    const [a, b] = await Promise.all([loadOrCreateDevKey(paths, 0), loadOrCreateDevKey(paths, 0)]);
    expect(a.kid).toBe(b.kid);
  });

  it('tightens a key file that others can read', async () => {
    const paths = { config: join(home, 'config') };
    await loadOrCreateDevKey(paths, 0);
    chmodSync(devKeyPath(paths), 0o644);
    await loadOrCreateDevKey(paths, 0);
    expect(statSync(devKeyPath(paths)).mode & 0o777).toBe(0o600);
  });

  it('reports a damaged key file as a usage error with a way out', async () => {
    const paths = { config: home };
    writeFileSync(devKeyPath(paths), '{"version":1}', { mode: 0o600 });
    await expect(loadOrCreateDevKey(paths, 0)).rejects.toThrow(UsageError);
    await expect(loadOrCreateDevKey(paths, 0)).rejects.toMatchObject({ hint: expect.stringMatching(/Delete the file/) });
  });
});
