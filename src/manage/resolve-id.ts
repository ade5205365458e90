import { FULL_WEBHOOK_ID_LENGTH, pickWebhookId } from '../core/webhook-id-prefix.js';
import type { WebhookApi } from '../api/types.js';
import { MAX_PAGE_SIZE } from '../flags/values.js';
import type { SecretStore } from '../secrets/types.js';
import { checkWebhookId } from './validate.js';

export { pickWebhookId };

/** A webhook id or a unique prefix of one, resolved against the API's list (full ids skip the listing). */
export async function resolveWebhookIdFromApi(text: string, ctx: { api(): Promise<WebhookApi> }): Promise<string> {
  const id = checkWebhookId(text);
  if (id.length >= FULL_WEBHOOK_ID_LENGTH) return id;
  const api = await ctx.api();
  const known: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api.list({ page_size: MAX_PAGE_SIZE, ...(pageToken ? { page_token: pageToken } : {}) });
    known.push(...(page.webhooks ?? []).map((w) => w.id));
    pageToken = page.next_page_token || undefined;
  } while (pageToken);
  return pickWebhookId(id, known);
}

/** A webhook id or a unique prefix of one, resolved against the ids the secret store holds. */
export async function resolveWebhookIdFromStore(text: string, ctx: { store(): Promise<SecretStore> }): Promise<string> {
  const id = checkWebhookId(text);
  if (id.length >= FULL_WEBHOOK_ID_LENGTH) return id;
  return pickWebhookId(id, await (await ctx.store()).listWebhookIds());
}
