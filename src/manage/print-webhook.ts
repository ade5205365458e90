import type { Webhook } from '../api/types.js';
import { formatJson } from '../core/table.js';
import type { Deps } from '../deps.js';
import type { Output } from '../output/output.js';
import type { SecretStore } from '../secrets/types.js';
import { formatWebhookDetails, webhookJson, type WebhookRow } from './format.js';
import { countLocalSecrets } from './local-secrets.js';

/** get, update: the webhook as details on a terminal or pipe, or JSON. */
export async function printWebhook(webhook: Webhook, json: boolean, ctx: { deps: Deps; out: Pick<Output, 'tty'>; store(): Promise<SecretStore> }): Promise<void> {
  const { io } = ctx.deps;
  const counts = await countLocalSecrets(ctx, [webhook.id]);
  const row: WebhookRow = { webhook, local: counts.get(webhook.id) ?? null };
  if (json) {
    io.stdout.write(formatJson(webhookJson(row)));
    return;
  }
  const location = row.local ? (await ctx.store()).location : undefined;
  io.stdout.write(formatWebhookDetails(row, { tty: ctx.out.tty, now: ctx.deps.clock.now() }, location));
}
