import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { chooseSecretStore, openSecretStore } from '../../src/secrets/open-store.js';
import { makeTestDeps } from '../helpers/deps.js';

describe('choosing a secret store', () => {
  it('takes the flag first, then GEMWH_SECRET_STORE, then the keychain', () => {
    expect(chooseSecretStore({ env: { GEMWH_SECRET_STORE: 'file' } }, { store: 'keychain' })).toBe('keychain');
    expect(chooseSecretStore({ env: { GEMWH_SECRET_STORE: 'file' } })).toBe('file');
    expect(chooseSecretStore({ env: {} })).toBe('keychain');
    expect(chooseSecretStore({ env: { GEMWH_SECRET_STORE: '' } })).toBe('keychain');
  });

  it('rejects an unknown GEMWH_SECRET_STORE with the valid choices', () => {
    expect(() => chooseSecretStore({ env: { GEMWH_SECRET_STORE: 'vault' } })).toThrow(UsageError);
    const error = (() => {
      try {
        chooseSecretStore({ env: { GEMWH_SECRET_STORE: 'memory' } });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error?.hint).toMatch(/one of: keychain, file/);
  });

  it('names the keychain service from GEMWH_KEYCHAIN_SERVICE without touching the keychain', async () => {
    const t = makeTestDeps({ env: { GEMWH_KEYCHAIN_SERVICE: 'gemwh-test-open' } });
    const store = await openSecretStore(t.deps, { store: 'keychain' }).finally(() => t.cleanup());
    expect(store.kind).toBe('keychain');
    expect(store.location).toBe('OS keychain (service "gemwh-test-open")');
  });
});
