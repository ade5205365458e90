import type { Webhook } from '../../api/types.js';
import { formatJson } from '../../core/table.js';
import { GemwhError, SecretStoreError } from '../../errors.js';
import { freshSecret } from '../../secrets/current-secrets.js';
import type { SecretStore } from '../../secrets/types.js';
import type { CommandContext } from '../context.js';
import { webhookJson } from '../../manage/format.js';
import { announceSecretLost, openStoreForNewSecret } from '../../manage/secret-safety.js';
import { parseSubscribedEvents, parseWebhookUri } from '../../manage/validate.js';

export interface CreateOptions {
  uri: string;
  /** As typed: `a,b` or repeated flags. */
  events: string | readonly string[];
  name?: string;
  allowUnknownEvents: boolean;
  printSecret: boolean;
  json: boolean;
}

/**
 * Creates a webhook and keeps its signing secret, which the API shows only in this one reply.
 * The store is checked before the API is called; if storing still fails afterwards the secret
 * is printed rather than lost, and the command fails.
 */
export async function runCreate(options: CreateOptions, ctx: CommandContext): Promise<Webhook> {
  const { io } = ctx.deps;
  const uri = parseWebhookUri(options.uri, ctx.deps, { apiRoot: ctx.apiRoot() });
  const events = parseSubscribedEvents(options.events, ctx.deps, { allowUnknown: options.allowUnknownEvents });
  const store = await openStoreForNewSecret(ctx, options.printSecret);

  const api = await ctx.api();
  const webhook = await api.create({ uri, subscribed_events: events, ...(options.name ? { name: options.name } : {}) });
  const secret = webhook.new_signing_secret;

  let stored: SecretStore | undefined;
  let storeFailure: GemwhError | undefined;
  if (secret && store) {
    try {
      await store.setWebhookSecrets(webhook.id, [freshSecret(secret, ctx.deps.clock.now())]);
      stored = store;
    } catch (error) {
      if (!(error instanceof GemwhError)) throw error;
      storeFailure = error;
    }
  }

  const row = { webhook, local: stored ? 1 : 0 };
  if (options.json) io.stdout.write(formatJson(webhookJson(row, options.printSecret)));
  else if (options.printSecret && secret) io.stdout.write(`${secret}\n`);
  else io.stdout.write(`${webhook.id}\n`);

  io.stderr.write(`Created webhook ${webhook.id}${webhook.name ? ` (${webhook.name})` : ''} for ${(webhook.subscribed_events ?? events).join(', ')}.\n`);
  if (!secret) {
    io.stderr.write('gemwh: warning: the API returned no signing secret (new_signing_secret); rotate to get one: gemwh rotate ' + webhook.id + '\n');
  } else if (stored) {
    io.stderr.write(`Signing secret stored in ${stored.location}.\n`);
  } else if (storeFailure) {
    if (options.printSecret) {
      io.stderr.write(`gemwh: warning: could not store the signing secret (${storeFailure.message}); it was printed on stdout only.\n`);
    } else {
      announceSecretLost(ctx.deps, webhook.id, secret, storeFailure);
      throw new SecretStoreError(`webhook ${webhook.id} was created, but its signing secret could not be stored: ${storeFailure.message}`, {
        hint: `Save the secret printed above, then: gemwh secret set ${webhook.id}   (or get a new one: gemwh rotate ${webhook.id})`,
        cause: storeFailure,
      });
    }
  } else {
    io.stderr.write('The signing secret was printed only; gemwh did not store it.\n');
  }
  return webhook;
}
