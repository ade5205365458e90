import { findCredentialsAsync } from '@napi-rs/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVerificationSecrets } from '../../src/secrets/current-secrets.js';
import { openSecretStore } from '../../src/secrets/open-store.js';
import { makeTestDeps, type TestDeps } from '../helpers/deps.js';
import { deleteAllEntries, keychainRequired, keychainUnavailableReason, testServiceName } from './keychain-available.js';
import { describeStoreContract } from './store-contract.js';

const unavailable = await keychainUnavailableReason();
const service = testServiceName();

describe('keychain availability', () => {
  it.runIf(keychainRequired)('is required here (GEMWH_REQUIRE_KEYCHAIN=1) and must be reachable', () => {
    expect(unavailable, 'GEMWH_REQUIRE_KEYCHAIN=1 but no usable Secret Service').toBeUndefined();
  });
});

describe.skipIf(unavailable !== undefined)('keychain secret store (real Secret Service)', () => {
  // Made in beforeAll, not here: a skipped describe still runs its body but never its afterAll.
  let t: TestDeps;
  beforeAll(() => {
    t = makeTestDeps({ env: { GEMWH_KEYCHAIN_SERVICE: service } });
  });
  afterAll(async () => {
    await deleteAllEntries(service);
    t.cleanup();
  });

  describeStoreContract(async () => {
    const store = await openSecretStore(t.deps, { store: 'keychain' });
    expect(store.kind).toBe('keychain');
    return store;
  });

  it('keeps one JSON entry per webhook under account webhook:<id>, and the API key under api-key', async () => {
    const store = await openSecretStore(t.deps, { store: 'keychain' });
    await store.setWebhookSecrets('whk1', [{ secret: 'whsec_QUFBQUFB', createdAt: '2026-05-05T00:00:00.000Z' }]);
    await store.setApiKey('AIza-test-key-000000');
    const entries = await findCredentialsAsync(service);
    const byAccount = Object.fromEntries(entries.map((e) => [e.account, e.password]));
    expect(Object.keys(byAccount).sort()).toEqual(['api-key', 'webhook:whk1']);
    expect(JSON.parse(byAccount['webhook:whk1']!)).toEqual({
      secrets: [{ secret: 'whsec_QUFBQUFB', createdAt: '2026-05-05T00:00:00.000Z' }],
    });
    expect(byAccount['api-key']).toBe('AIza-test-key-000000');
    await store.deleteApiKey();
    await store.deleteWebhookSecrets('whk1');
    expect(await findCredentialsAsync(service)).toEqual([]);
  });

  it('prunes expired secrets in the keychain when they are read for verification', async () => {
    const store = await openSecretStore(t.deps, { store: 'keychain' });
    const now = Date.parse('2026-05-05T12:00:00.000Z');
    await store.setWebhookSecrets('whk2', [
      { secret: 'whsec_bmV3bmV3', createdAt: '2026-05-05T11:00:00.000Z' },
      { secret: 'whsec_b2xkb2xk', createdAt: '2026-05-01T00:00:00.000Z', expiresAt: '2026-05-05T11:59:59.000Z' },
    ]);
    const loaded = await loadVerificationSecrets(store, now, ['whk2']);
    expect(loaded.candidates).toEqual([{ secret: 'whsec_bmV3bmV3', label: 'whk2' }]);
    expect(await store.getWebhookSecrets('whk2')).toEqual([{ secret: 'whsec_bmV3bmV3', createdAt: '2026-05-05T11:00:00.000Z' }]);
    await store.deleteWebhookSecrets('whk2');
  });

  it('leaves no check entry behind after check()', async () => {
    const store = await openSecretStore(t.deps, { store: 'keychain' });
    await store.check();
    expect(await findCredentialsAsync(service)).toEqual([]);
  });
});
