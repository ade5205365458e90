import { UsageError } from '../errors.js';
import type { ManageContext } from './context.js';
import { MAX_PAGE_SIZE } from './list.js';
import { checkWebhookId } from './validate.js';

/** The service hands out 36-character ids; a shorter one can only be a prefix. */
export const FULL_WEBHOOK_ID_LENGTH = 36;

/**
 * The one id among `known` that `text` names, as git does with hashes: the id itself, or the only
 * id starting with it. An ambiguous prefix is an error listing the candidates; no match gives the
 * text back, so the caller's own "not found" (a 404, an empty store) speaks.
 */
export function pickWebhookId(text: string, known: readonly string[]): string {
  if (known.includes(text)) return text;
  const candidates = [...new Set(known.filter((id) => id.startsWith(text)))].sort();
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw new UsageError(`webhook id prefix "${text}" is ambiguous: it starts ${candidates.length} ids (${candidates.join(', ')})`, {
      hint: 'Give more characters of the id.',
    });
  }
  return text;
}

/** A webhook id or a unique prefix of one, resolved against the API's list (full ids skip the listing). */
export async function resolveWebhookIdFromApi(text: string, ctx: ManageContext): Promise<string> {
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
export async function resolveWebhookIdFromStore(text: string, ctx: ManageContext): Promise<string> {
  const id = checkWebhookId(text);
  if (id.length >= FULL_WEBHOOK_ID_LENGTH) return id;
  return pickWebhookId(id, await (await ctx.store()).listWebhookIds());
}
