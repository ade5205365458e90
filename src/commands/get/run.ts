import type { Webhook } from '../../api/types.js';
import { formatJson } from '../../core/table.js';
import type { CommandContext } from '../context.js';
import { formatWebhookDetails, webhookJson, type WebhookRow } from '../../manage/format.js';
import { countLocalSecrets } from '../../manage/local-secrets.js';
import { resolveWebhookIdFromApi } from '../../manage/resolve-id.js';

export interface GetOptions {
  id: string;
  json: boolean;
}

export async function runGet(options: GetOptions, ctx: CommandContext): Promise<Webhook> {
  const id = await resolveWebhookIdFromApi(options.id, ctx);
  const webhook = await (await ctx.api()).get(id);
  await printWebhook(webhook, options.json, ctx);
  return webhook;
}

/** get, update: the webhook as details on a terminal or pipe, or JSON. */
export async function printWebhook(webhook: Webhook, json: boolean, ctx: CommandContext): Promise<void> {
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
