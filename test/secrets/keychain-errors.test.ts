import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, SecretStoreError } from '../../src/errors.js';
import { describeKeychainFailure } from '../../src/secrets/keychain-errors.js';
import { createKeychainStore, type KeyringModule } from '../../src/secrets/keychain-store.js';

// What @napi-rs/keyring really says in each situation (seen on Linux with its Secret Service backend).
const ADDON_MESSAGES = {
  noBus:
    'Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead',
  deadSocket: 'Platform failure: DBus error: Failed to connect to socket /tmp/nonexistent-sock: No such file or directory',
  noDefaultBus: 'zbus error: Failed to connect to address `unix:path=/run/user/1000/bus`: No such file or directory (os error 2)',
  noService: 'Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files',
  noCollection: "Couldn't access platform storage: Secret Service: no result found",
  locked: "Couldn't access platform storage: Secret Service: unlock prompt was dismissed",
};

/** A keyring whose every call fails (or never answers), standing in for the native addon. */
function failingKeyring(behaviour: Error | 'hang'): KeyringModule {
  const act = () => (behaviour === 'hang' ? new Promise<never>(() => {}) : Promise.reject(behaviour));
  class FailingEntry {
    getPassword = act;
    setPassword = act;
    deleteCredential = act;
  }
  return { AsyncEntry: FailingEntry as unknown as KeyringModule['AsyncEntry'], findCredentialsAsync: act };
}

const stateDir = mkdtempSync(join(tmpdir(), 'gemwh-kc-lock-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
const lockPath = join(stateDir, 'keychain.lock');

describe('keychain failures', () => {
  it.each([
    ['noBus', /no D-Bus session bus .*DBUS_SESSION_BUS_ADDRESS is not set/],
    ['deadSocket', /D-Bus session bus cannot be reached \(Failed to connect to socket \/tmp\/nonexistent-sock/],
    ['noDefaultBus', /no D-Bus session bus at \/run\/user\/1000\/bus \(the default when DBUS_SESSION_BUS_ADDRESS is not set\)/],
    ['noService', /no Secret Service .* is running on the D-Bus session bus/],
    ['noCollection', /no default keyring collection/],
    ['locked', /keyring is locked/],
  ] as const)('names the cause when the addon says %s', (name, expected) => {
    expect(describeKeychainFailure(new Error(ADDON_MESSAGES[name]), 5000)).toMatch(expected);
  });

  it('turns every failing call into a SecretStoreError (exit 8) with the ways out', async () => {
    const store = createKeychainStore({
      keyring: failingKeyring(new Error(ADDON_MESSAGES.noBus)),
      service: 'gemwh-test-fail',
      fileStorePath: '/home/u/.config/gemwh/secrets.json',
      lockPath,
    });
    for (const call of [
      () => store.check(),
      () => store.listWebhookIds(),
      () => store.getWebhookSecrets('x'),
      () => store.setWebhookSecrets('x', []),
      () => store.updateWebhookSecrets('x', () => []),
      () => store.deleteWebhookSecrets('x'),
      () => store.getApiKey(),
      () => store.setApiKey('k'),
      () => store.deleteApiKey(),
    ]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SecretStoreError);
      const storeError = error as SecretStoreError;
      expect(storeError.exitCode).toBe(ExitCode.SECRET_STORE);
      expect(storeError.message).toMatch(/^cannot use the OS keychain: no D-Bus session bus/);
      expect(storeError.hint).toContain('--secret-store file');
      expect(storeError.hint).toContain('GEMWH_SECRET_STORE=file');
      expect(storeError.hint).toContain('/home/u/.config/gemwh/secrets.json');
      expect(storeError.hint).toContain('--print-secret');
    }
  });

  it('gives up on a keychain that never answers after the timeout', async () => {
    const store = createKeychainStore({ keyring: failingKeyring('hang'), timeoutMs: 50, fileStorePath: '/x/secrets.json', lockPath });
    const started = Date.now();
    const error = await store.getApiKey().catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as Error).message).toMatch(/did not answer within 50 ms .*unlock prompt/);
  });

  it('reports a keychain entry gemwh cannot read instead of using it', async () => {
    class OddEntry {
      getPassword = () => Promise.resolve('not json');
    }
    const store = createKeychainStore({
      keyring: { AsyncEntry: OddEntry as unknown as KeyringModule['AsyncEntry'], findCredentialsAsync: () => Promise.resolve([]) },
      service: 'gemwh-test-odd',
      fileStorePath: '/x/secrets.json',
      lockPath,
    });
    await expect(store.getWebhookSecrets('wh')).rejects.toThrow(/webhook:wh.*not a list of gemwh secrets/);
  });
});
