import { expect, it } from 'vitest';
import type { SecretStore, StoredSecret } from '../../src/secrets/types.js';

/** Behaviour every SecretStore must share; each store's test file runs it against its own store. */
export function describeStoreContract(open: () => SecretStore | Promise<SecretStore>): void {
  const secretA: StoredSecret = { secret: 'whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB', createdAt: '2026-05-05T09:00:00.000Z' };
  const secretB: StoredSecret = {
    secret: 'whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC',
    createdAt: '2026-05-01T09:00:00.000Z',
    expiresAt: '2026-05-06T09:00:00.000Z',
  };

  it('passes its own check', async () => {
    const store = await open();
    await expect(store.check()).resolves.toBeUndefined();
  });

  it('keeps, lists and deletes the secrets of each webhook', async () => {
    const store = await open();
    expect(await store.getWebhookSecrets('wh-one')).toBeUndefined();
    await store.setWebhookSecrets('wh-one', [secretA, secretB]);
    await store.setWebhookSecrets('wh-two', [secretA]);
    expect(await store.getWebhookSecrets('wh-one')).toEqual([secretA, secretB]);
    expect(await store.listWebhookIds()).toEqual(['wh-one', 'wh-two']);

    await store.setWebhookSecrets('wh-one', [secretB]);
    expect(await store.getWebhookSecrets('wh-one')).toEqual([secretB]);

    expect(await store.deleteWebhookSecrets('wh-one')).toBe(true);
    expect(await store.deleteWebhookSecrets('wh-one')).toBe(false);
    expect(await store.getWebhookSecrets('wh-one')).toBeUndefined();
    expect(await store.listWebhookIds()).toEqual(['wh-two']);
    expect(await store.deleteWebhookSecrets('wh-two')).toBe(true);
    expect(await store.listWebhookIds()).toEqual([]);
  });

  it('updates a webhook\'s secrets from what is stored, and removes the entry when the edit returns none', async () => {
    const store = await open();
    expect(await store.updateWebhookSecrets('wh-up', (current) => [...(current ?? []), secretA])).toEqual([secretA]);
    expect(await store.updateWebhookSecrets('wh-up', (current) => [secretB, ...(current ?? [])])).toEqual([secretB, secretA]);
    expect(await store.getWebhookSecrets('wh-up')).toEqual([secretB, secretA]);
    // Unchanged: nothing to write, the stored list comes back.
    expect(await store.updateWebhookSecrets('wh-up', (current) => current)).toEqual([secretB, secretA]);
    expect(await store.updateWebhookSecrets('wh-up', () => undefined)).toBeUndefined();
    expect(await store.getWebhookSecrets('wh-up')).toBeUndefined();
    expect(await store.listWebhookIds()).toEqual([]);
  });

  it('keeps the API key apart from the webhooks', async () => {
    const store = await open();
    expect(await store.getApiKey()).toBeUndefined();
    await store.setApiKey('AIzaSyTESTKEY-0123456789');
    expect(await store.getApiKey()).toBe('AIzaSyTESTKEY-0123456789');
    expect(await store.listWebhookIds()).toEqual([]);
    expect(await store.deleteApiKey()).toBe(true);
    expect(await store.deleteApiKey()).toBe(false);
    expect(await store.getApiKey()).toBeUndefined();
  });

  it('does not let a caller change what is stored through a returned value', async () => {
    const store = await open();
    const list = [{ ...secretA }];
    await store.setWebhookSecrets('wh-copy', list);
    list[0]!.secret = 'changed';
    const read = await store.getWebhookSecrets('wh-copy');
    read![0]!.secret = 'changed again';
    expect(await store.getWebhookSecrets('wh-copy')).toEqual([secretA]);
    await store.deleteWebhookSecrets('wh-copy');
  });
}
