import type { SecretStore, StoredSecret } from './types.js';

/**
 * Secrets that live as long as the process: tests, `listen --emulator`, `--public-url`.
 * Values are copied in and out so a caller cannot change what is stored by accident.
 */
export function createMemoryStore(initial: { webhooks?: Record<string, StoredSecret[]>; apiKey?: string } = {}): SecretStore {
  const webhooks = new Map<string, StoredSecret[]>(Object.entries(initial.webhooks ?? {}).map(([id, s]) => [id, copy(s)]));
  let apiKey = initial.apiKey;
  return {
    kind: 'memory',
    location: 'memory (kept only while gemwh runs)',
    async check() {},
    async listWebhookIds() {
      return [...webhooks.keys()].sort();
    },
    async getWebhookSecrets(webhookId) {
      const secrets = webhooks.get(webhookId);
      return secrets ? copy(secrets) : undefined;
    },
    async setWebhookSecrets(webhookId, secrets) {
      webhooks.set(webhookId, copy(secrets));
    },
    async updateWebhookSecrets(webhookId, edit) {
      const current = webhooks.get(webhookId);
      const next = edit(current ? copy(current) : undefined);
      if (next === undefined) webhooks.delete(webhookId);
      else webhooks.set(webhookId, copy(next));
      return next && copy(next);
    },
    async deleteWebhookSecrets(webhookId) {
      return webhooks.delete(webhookId);
    },
    async getApiKey() {
      return apiKey;
    },
    async setApiKey(key) {
      apiKey = key;
    },
    async deleteApiKey() {
      const had = apiKey !== undefined;
      apiKey = undefined;
      return had;
    },
  };
}

function copy(secrets: readonly StoredSecret[]): StoredSecret[] {
  return secrets.map((s) => ({ ...s }));
}
