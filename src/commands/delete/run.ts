import { formatJson } from '../../core/table.js';
import { GemwhError, UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { confirm } from '../../manage/input.js';
import { resolveWebhookIdFromApi } from '../../manage/resolve-id.js';

export interface DeleteOptions {
  id: string;
  yes: boolean;
  json: boolean;
}

export interface DeleteResult {
  id: string;
  deleted: boolean;
  /** null when the secret store could not be read. */
  localSecretsRemoved: boolean | null;
}

/** Deletes a webhook (after a y/N on a terminal, or with --yes) and the secrets gemwh kept for it. */
export async function runDelete(options: DeleteOptions, ctx: CommandContext): Promise<DeleteResult> {
  const { io } = ctx.deps;
  const id = await resolveWebhookIdFromApi(options.id, ctx);
  const api = await ctx.api();
  if (!options.yes) {
    if (!io.stdin.isTTY) {
      throw new UsageError(`refusing to delete webhook ${id} without --yes: there is no terminal to ask on`, {
        hint: `Run: gemwh delete ${id} --yes`,
      });
    }
    // Reading it first names what is about to go, and finds a wrong id before asking.
    const webhook = await api.get(id);
    const what = `${webhook.id}${webhook.name ? ` (${webhook.name})` : ''} -> ${webhook.uri}`;
    if (!(await confirm(io, `Delete webhook ${what}?`))) {
      io.stderr.write('Not deleted.\n');
      const result = { id, deleted: false, localSecretsRemoved: false };
      if (options.json) io.stdout.write(formatJson(toJson(result)));
      return result;
    }
  }
  await api.delete(id);
  io.stderr.write(`Deleted webhook ${id}.\n`);

  let localSecretsRemoved: boolean | null;
  try {
    const store = await ctx.store();
    localSecretsRemoved = await store.deleteWebhookSecrets(id);
    if (localSecretsRemoved) io.stderr.write(`Removed its signing secrets from ${store.location}.\n`);
  } catch (error) {
    if (!(error instanceof GemwhError)) throw error;
    localSecretsRemoved = null;
    io.stderr.write(`gemwh: warning: could not remove its local signing secrets: ${error.message}\n  Later: gemwh secret delete ${id}\n`);
  }
  const result = { id, deleted: true, localSecretsRemoved };
  if (options.json) io.stdout.write(formatJson(toJson(result)));
  return result;
}

function toJson(result: DeleteResult): Record<string, unknown> {
  return { id: result.id, deleted: result.deleted, localSecretsRemoved: result.localSecretsRemoved };
}
