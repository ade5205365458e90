import { formatJson } from '../../core/table.js';
import type { CommandContext } from '../context.js';
import { resolveWebhookIdFromApi } from '../../manage/resolve-id.js';

export interface PingOptions {
  id: string;
  json: boolean;
}

/** Asks the service to send the webhook a test delivery; what arrives is up to the service. */
export async function runPing(options: PingOptions, ctx: CommandContext): Promise<void> {
  const id = await resolveWebhookIdFromApi(options.id, ctx);
  await (await ctx.api()).ping(id);
  if (options.json) ctx.deps.io.stdout.write(formatJson({ id, pinged: true }));
  ctx.deps.io.stderr.write(`Asked the API to send a test delivery to webhook ${id}.\n`);
}
