import { checkSecret, warnWeakSecrets } from '../../secrets/secret-flags.js';
import { formatJson, type Column } from '../../core/table.js';
import { GemwhError, NotFoundError, SecretStoreError, UsageError } from '../../errors.js';
import { freshSecret } from '../../secrets/current-secrets.js';
import type { StoredSecret } from '../../secrets/types.js';
import type { CommandContext } from '../context.js';
import { formatTime, storedSecretJson } from '../../manage/format.js';
import { redactSecret } from '../../core/redact.js';
import { readSecretInput } from '../../manage/input.js';
import { resolveWebhookIdFromApi, resolveWebhookIdFromStore } from '../../manage/resolve-id.js';
import { checkWebhookId } from '../../manage/validate.js';

interface SecretRow {
  webhookId: string;
  secret: StoredSecret;
}

/** A revealed secret is never cut (a cut secret is useless): the other columns give way. */
function secretColumns(ctx: CommandContext, reveal: boolean, oneWebhook: boolean): Array<Column<SecretRow>> {
  const style = { tty: ctx.out.tty, now: ctx.deps.clock.now() };
  return [
    { header: 'WEBHOOK', value: (r) => r.webhookId, ...(oneWebhook ? { dropOrder: 1 } : {}) },
    { header: 'SECRET', value: (r) => (reveal ? r.secret.secret : redactSecret(r.secret.secret)) },
    { header: 'STATUS', value: (r) => String(storedSecretJson(r.secret, style.now).status) },
    { header: 'CREATED', value: (r) => formatTime(r.secret.createdAt, style), dropOrder: 2 },
    { header: 'EXPIRES', value: (r) => formatTime(r.secret.expiresAt, style), dropOrder: 3 },
  ];
}

/** Every webhook gemwh holds secrets for, with counts and expiry; secrets redacted. */
export async function runSecretList(options: { json: boolean }, ctx: CommandContext): Promise<void> {
  const { io } = ctx.deps;
  const store = await ctx.store();
  const now = ctx.deps.clock.now();
  const entries: Array<{ id: string; secrets: StoredSecret[] }> = [];
  for (const id of await store.listWebhookIds()) {
    entries.push({ id, secrets: (await store.getWebhookSecrets(id)) ?? [] });
  }
  if (options.json) {
    io.stdout.write(
      formatJson({
        store: store.kind,
        location: store.location,
        webhooks: entries.map((e) => ({ id: e.id, count: e.secrets.length, secrets: e.secrets.map((s) => storedSecretJson(s, now)) })),
      }),
    );
    return;
  }
  const rows = entries.flatMap((e) => e.secrets.map((secret) => ({ webhookId: e.id, secret })));
  if (rows.length > 0) await ctx.out.table(rows, secretColumns(ctx, false, false));
  io.stderr.write(`${rows.length} secret${rows.length === 1 ? '' : 's'} for ${entries.length} webhook${entries.length === 1 ? '' : 's'} in ${store.location}.\n`);
}

/** One webhook's secrets; the full values only with --reveal. */
export async function runSecretShow(options: { id: string; reveal: boolean; json: boolean }, ctx: CommandContext): Promise<void> {
  const { io } = ctx.deps;
  const id = await resolveWebhookIdFromStore(options.id, ctx);
  const store = await ctx.store();
  const secrets = await store.getWebhookSecrets(id);
  if (!secrets || secrets.length === 0) throw noLocalSecret(id, store.location);
  const now = ctx.deps.clock.now();
  if (options.json) {
    io.stdout.write(formatJson({ id, secrets: secrets.map((s) => storedSecretJson(s, now, options.reveal)) }));
  } else if (options.reveal && !ctx.out.tty) {
    // Piped with --reveal: only the values, newest first, for `$(gemwh secret show ID --reveal | head -1)`.
    io.stdout.write(secrets.map((s) => `${s.secret}\n`).join(''));
  } else {
    await ctx.out.table(
      secrets.map((secret) => ({ webhookId: id, secret })),
      secretColumns(ctx, options.reveal, true),
    );
  }
  if (!options.reveal && !options.json) io.stderr.write('Secrets are redacted; add --reveal to print them.\n');
}

/** Stores a secret given on stdin (or typed at a hidden prompt), replacing what gemwh held. */
export async function runSecretSet(options: { id: string; json: boolean }, ctx: CommandContext): Promise<void> {
  const { io } = ctx.deps;
  checkWebhookId(options.id);
  const secret = await readSecretInput(ctx.deps.io, `Signing secret of webhook ${options.id} (whsec_..., input hidden): `);
  if (secret === '') {
    throw new UsageError('no signing secret given on stdin', { hint: `e.g. printf %s "$SECRET" | gemwh secret set ${options.id}` });
  }
  warnWeakSecrets([{ secret: checkSecret(secret, 'the secret'), label: 'the secret' }], ctx.deps);
  const id = await existingWebhookId(options.id, ctx);
  const store = await ctx.store();
  const stored = [freshSecret(secret, ctx.deps.clock.now())];
  await store.setWebhookSecrets(id, stored);
  if (options.json) io.stdout.write(formatJson({ id, stored: true, store: store.kind, location: store.location, secret: redactSecret(secret) }));
  io.stderr.write(`Stored the signing secret ${redactSecret(secret)} of webhook ${id} in ${store.location}.\n`);
}

/**
 * A secret stored under a mistyped id would never verify anything: when the API answers, the id
 * (or prefix) must name one of its webhooks. Without a key or a network the secret is still
 * stored, with a warning, since storing one for later is a legitimate offline step.
 */
async function existingWebhookId(text: string, ctx: CommandContext): Promise<string> {
  try {
    const id = await resolveWebhookIdFromApi(text, ctx);
    await (await ctx.api()).get(id);
    return id;
  } catch (error) {
    if (!(error instanceof GemwhError) || error instanceof NotFoundError || error instanceof UsageError) throw error;
    ctx.deps.io.stderr.write(`gemwh: warning: could not check that webhook ${text} exists (${error.message}); storing the secret anyway\n`);
    return resolveWebhookIdFromStore(text, ctx);
  }
}

/** Forgets the local secrets of a webhook; the webhook itself is untouched. */
export async function runSecretDelete(options: { id: string; json: boolean }, ctx: CommandContext): Promise<void> {
  const { io } = ctx.deps;
  const id = await resolveWebhookIdFromStore(options.id, ctx);
  const store = await ctx.store();
  if (!(await store.deleteWebhookSecrets(id))) throw noLocalSecret(id, store.location);
  if (options.json) io.stdout.write(formatJson({ id, deleted: true }));
  io.stderr.write(`Removed the local signing secrets of webhook ${id} from ${store.location}.\n`);
}

/** Exit 8, like `replay fixture --webhook` and `listen --webhook` for the same situation (the store holds no such secret). */
function noLocalSecret(id: string, location: string): SecretStoreError {
  return new SecretStoreError(`${location} holds no secret for webhook ${id}`, {
    hint: `\`gemwh secret list\` shows what is stored; store one with: gemwh secret set ${id}`,
  });
}
