import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/secrets/memory-store.js';
import { describeStoreContract } from './store-contract.js';

describe('memory secret store', () => {
  describeStoreContract(() => createMemoryStore());

  it('starts from the secrets it is given', async () => {
    const store = createMemoryStore({ webhooks: { wh: [{ secret: 'whsec_x', createdAt: '2026-05-05T00:00:00Z' }] }, apiKey: 'k' });
    expect(store.kind).toBe('memory');
    expect(await store.listWebhookIds()).toEqual(['wh']);
    expect(await store.getApiKey()).toBe('k');
  });
});
