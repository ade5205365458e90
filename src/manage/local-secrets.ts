import type { Deps } from '../deps.js';
import { GemwhError, SecretStoreError } from '../errors.js';
import { currentSecrets } from '../secrets/current-secrets.js';
import type { SecretStore } from '../secrets/types.js';
import type { LocalSecretCount } from './format.js';

/**
 * How many current secrets gemwh holds for each webhook. Listing webhooks must not fail because
 * the keychain is unusable, so that becomes one warning and `null` counts.
 */
export async function countLocalSecrets(ctx: { deps: Deps; store(): Promise<SecretStore> }, webhookIds: readonly string[]): Promise<Map<string, LocalSecretCount>> {
  const counts = new Map<string, LocalSecretCount>();
  try {
    const store = await ctx.store();
    const known = new Set(await store.listWebhookIds());
    const now = ctx.deps.clock.now();
    for (const id of webhookIds) {
      counts.set(id, known.has(id) ? currentSecrets((await store.getWebhookSecrets(id)) ?? [], now).length : 0);
    }
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    warnStoreUnreadable(ctx.deps, error);
    for (const id of webhookIds) counts.set(id, null);
  }
  return counts;
}

export function warnStoreUnreadable(deps: Deps, error: GemwhError): void {
  deps.io.stderr.write(`gemwh: warning: cannot tell which secrets gemwh holds: ${error.message}\n`);
}
