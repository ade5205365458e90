import type { Webhook } from '../../api/types.js';
import { formatJson } from '../../core/table.js';
import type { CommandContext } from '../context.js';
import { formatWebhookRows, webhookJson, type WebhookRow } from '../../manage/format.js';
import { countLocalSecrets } from '../../manage/local-secrets.js';

export interface ListOptions {
  /** Follow next_page_token to the end. */
  all: boolean;
  pageSize?: number;
  json: boolean;
}

export async function runList(options: ListOptions, ctx: CommandContext): Promise<WebhookRow[]> {
  const { io } = ctx.deps;
  const api = await ctx.api();
  const webhooks: Webhook[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const page = await api.list({
      ...(options.pageSize ? { page_size: options.pageSize } : {}),
      ...(pageToken ? { page_token: pageToken } : {}),
    });
    webhooks.push(...(page.webhooks ?? []));
    pageToken = page.next_page_token || undefined;
    pages += 1;
    // A server that keeps handing out tokens must not keep gemwh looping forever.
    if (pages >= 10_000) break;
  } while (options.all && pageToken);

  const counts = await countLocalSecrets(ctx, webhooks.map((w) => w.id));
  const rows = webhooks.map((webhook) => ({ webhook, local: counts.get(webhook.id) ?? null }));
  const more = !options.all && pageToken !== undefined;

  if (options.json) {
    io.stdout.write(formatJson({ webhooks: rows.map((r) => webhookJson(r)), ...(more ? { next_page_token: pageToken } : {}) }));
  } else if (rows.length > 0) {
    const out = ctx.out;
    out.write(formatWebhookRows(rows, { tty: out.tty, now: ctx.deps.clock.now(), ...(out.width !== undefined ? { width: out.width } : {}) }));
  } else {
    io.stderr.write('No webhooks. Create one with: gemwh create --uri https://... --events batch.succeeded\n');
  }
  if (more) io.stderr.write(`More webhooks exist than this page shows (${rows.length}); run with --all to list them all.\n`);
  return rows;
}
