import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretStoreError } from '../../src/errors.js';
import { createFileStore } from '../../src/secrets/file-store.js';
import { openSecretStore } from '../../src/secrets/open-store.js';
import { makeTestDeps } from '../helpers/deps.js';
import { describeStoreContract } from './store-contract.js';

describe('file secret store', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gemwh-file-store-'));
    path = join(dir, 'config', 'gemwh', 'secrets.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describeStoreContract(() => createFileStore(path));

  it('writes a 0600 file in a 0700 folder and leaves no temporary file behind', async () => {
    const store = createFileStore(path);
    await store.setWebhookSecrets('wh', [{ secret: 'whsec_QUFB', createdAt: '2026-05-05T00:00:00.000Z' }]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'config', 'gemwh')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'config', 'gemwh'))).toEqual(['secrets.json']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      webhooks: { wh: [{ secret: 'whsec_QUFB', createdAt: '2026-05-05T00:00:00.000Z' }] },
    });
  });

  it('tightens a file that others could read on the next write', async () => {
    mkdirSync(join(dir, 'config', 'gemwh'), { recursive: true });
    writeFileSync(path, JSON.stringify({ version: 1, webhooks: {} }), { mode: 0o644 });
    chmodSync(path, 0o644);
    await createFileStore(path).setApiKey('key-1234567890');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reports a damaged file instead of overwriting it', async () => {
    mkdirSync(join(dir, 'config', 'gemwh'), { recursive: true });
    writeFileSync(path, '{"version":1,"webhooks":{"wh":"not a list"}}', { mode: 0o600 });
    const store = createFileStore(path);
    await expect(store.getWebhookSecrets('wh')).rejects.toThrow(SecretStoreError);
    await expect(store.setApiKey('k')).rejects.toThrow(/not valid gemwh JSON/);
    await expect(store.check()).rejects.toThrow(SecretStoreError);
    expect(readFileSync(path, 'utf8')).toContain('not a list');
  });

  it('fails its check with a SecretStoreError when the folder cannot be written', async () => {
    writeFileSync(join(dir, 'config'), 'a file where a folder should be');
    const error = await createFileStore(path).check().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as SecretStoreError).message).toContain(path);
  });

  it('is opened by --secret-store file quietly, and warns about plain text once, when a secret is written', async () => {
    const t = makeTestDeps();
    try {
      const store = await openSecretStore(t.deps, { store: 'file' });
      expect(store.kind).toBe('file');
      const expected = join(t.deps.paths.config, 'secrets.json');
      expect(store.location).toBe(`file ${expected}`);
      // Reading (list, auth status, listen --webhook) says nothing.
      expect(await store.listWebhookIds()).toEqual([]);
      expect(await store.getApiKey()).toBeUndefined();
      expect(t.stderr()).toBe('');
      // The first write of a secret warns, naming the path; the next one in the same command does not repeat it.
      await store.setWebhookSecrets('wh', [{ secret: 'whsec_QUFB', createdAt: '2026-05-05T00:00:00.000Z' }]);
      expect(t.stderr()).toBe(`gemwh: warning: secrets are stored in plain text in ${expected} (--secret-store file); the OS keychain is safer\n`);
      await store.setApiKey('key-1234567890');
      expect(t.stderr().match(/plain text/g)).toHaveLength(1);
      expect(t.stdout()).toBe('');
    } finally {
      t.cleanup();
    }
  });

  it('warns for a new secret or API key, not for pruning, rewriting the same secret or deleting', async () => {
    const existing = { secret: 'whsec_QUFB', createdAt: '2026-05-05T00:00:00.000Z' };
    const expired = { secret: 'whsec_QkJC', createdAt: '2026-05-04T00:00:00.000Z', expiresAt: '2026-05-05T00:00:00.000Z' };
    await createFileStore(path).setWebhookSecrets('wh', [existing, expired]);
    await createFileStore(path).setApiKey('key-1234567890');
    const warnings: string[] = [];
    const quiet = () => createFileStore(path, { onPlainTextWrite: () => warnings.push('warned') });
    await quiet().setWebhookSecrets('wh', [existing]); // pruning the expired one
    await quiet().setApiKey('key-1234567890');
    await quiet().deleteWebhookSecrets('wh');
    await quiet().deleteApiKey();
    expect(warnings).toEqual([]);
    await quiet().setWebhookSecrets('wh', [{ secret: 'whsec_Q0ND', createdAt: '2026-05-06T00:00:00.000Z' }]);
    await quiet().setApiKey('key-other-0000');
    expect(warnings).toEqual(['warned', 'warned']);
  });

  it('warns when a write creates the file', async () => {
    const warnings: string[] = [];
    const store = createFileStore(path, { onPlainTextWrite: () => warnings.push('warned') });
    expect(await store.deleteWebhookSecrets('wh')).toBe(false);
    expect(warnings).toEqual([]);
    await store.setWebhookSecrets('wh', []);
    expect(warnings).toEqual(['warned']);
  });

  it('warns when an existing file can be read by others', async () => {
    const t = makeTestDeps({ env: { GEMWH_SECRET_STORE: 'file' } });
    try {
      mkdirSync(t.deps.paths.config, { recursive: true });
      const file = join(t.deps.paths.config, 'secrets.json');
      writeFileSync(file, '{"version":1,"webhooks":{}}');
      chmodSync(file, 0o644);
      await openSecretStore(t.deps);
      expect(t.stderr()).toMatch(/can be read by other users/);
    } finally {
      t.cleanup();
    }
  });
});
