import type { Webhook } from '../../api/types.js';
import type { CommandContext } from '../context.js';
import { printWebhook } from '../../manage/print-webhook.js';
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
