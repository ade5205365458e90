import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookApi } from '../../src/api/client.js';
import { SecretStoreError } from '../../src/errors.js';
import { contextOver } from '../../src/commands/context.js';
import { runCreate } from '../../src/commands/create/run.js';
import { runRotate } from '../../src/commands/rotate/run.js';
import { createMemoryStore } from '../../src/secrets/memory-store.js';
import type { SecretStore } from '../../src/secrets/types.js';
import { makeTestDeps } from '../helpers/deps.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';

/** A store that passes its check but fails to write: the keyring locking between check and write. */
function storeThatFailsWrites(): SecretStore {
  const inner = createMemoryStore();
  return {
    ...inner,
    kind: 'keychain',
    location: 'OS keychain (service "gemwh-test-failing")',
    setWebhookSecrets: () => Promise.reject(new SecretStoreError('cannot use the OS keychain: the keyring is locked')),
    updateWebhookSecrets: () => Promise.reject(new SecretStoreError('cannot use the OS keychain: the keyring is locked')),
  };
}

function storeThatFailsCheck(): SecretStore {
  return { ...createMemoryStore(), check: () => Promise.reject(new SecretStoreError('cannot use the OS keychain: no D-Bus session bus')) };
}

describe('once-only secrets are never lost', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.stop());

  const api = () => createWebhookApi({ apiKey: emulator.apiKey, apiRoot: emulator.url, retry: { maxRetries: 0 } });
  const createOptions = { uri: 'https://hooks.example.com/s', events: 'batch.succeeded', allowUnknownEvents: false, json: false };

  it('prints the secret loudly on stderr and fails when storing fails after the webhook exists', async () => {
    const t = makeTestDeps();
    try {
      const error = await runCreate({ ...createOptions, printSecret: false }, contextOver(t.deps, api(), storeThatFailsWrites())).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretStoreError);
      expect((error as SecretStoreError).hint).toMatch(/gemwh secret set \S+/);
      const [webhook] = emulator.store.records().slice(-1);
      const secret = webhook!.secrets[0]!.secret;
      expect(t.stderr()).toContain(`!!   ${secret}`);
      expect(t.stderr()).toMatch(/could NOT be stored:\n!!   cannot use the OS keychain: the keyring is locked/);
      expect(t.stdout()).toBe(`${webhook!.id}\n`);
    } finally {
      t.cleanup();
    }
  });

  it('with --print-secret only warns, since the secret went to stdout', async () => {
    const t = makeTestDeps();
    try {
      await runCreate({ ...createOptions, printSecret: true }, contextOver(t.deps, api(), storeThatFailsWrites()));
      const [webhook] = emulator.store.records().slice(-1);
      expect(t.stdout()).toBe(`${webhook!.secrets[0]!.secret}\n`);
      expect(t.stderr()).toMatch(/could not store the signing secret .*printed on stdout only/);
      expect(t.stderr()).not.toContain(webhook!.secrets[0]!.secret);
    } finally {
      t.cleanup();
    }
  });

  it('does not call the API when the store fails its check', async () => {
    const t = makeTestDeps();
    const count = emulator.store.records().length;
    try {
      await expect(runCreate({ ...createOptions, printSecret: false }, contextOver(t.deps, api(), storeThatFailsCheck()))).rejects.toThrow(
        /no D-Bus session bus/,
      );
      expect(emulator.store.records()).toHaveLength(count);
    } finally {
      t.cleanup();
    }
  });

  it('prints a rotated secret loudly when it cannot be stored', async () => {
    const t = makeTestDeps();
    const { id } = emulator.store.create({ uri: 'https://hooks.example.com/r', subscribed_events: ['batch.failed'] });
    try {
      const error = await runRotate({ id, grace: 'after_24h', printSecret: false, json: false }, contextOver(t.deps, api(), storeThatFailsWrites())).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SecretStoreError);
      expect(t.stderr()).toContain(`!!   ${emulator.store.activeSecrets(id)[0]!.secret}`);
      expect(t.stdout()).toBe('');
    } finally {
      t.cleanup();
    }
  });
});
