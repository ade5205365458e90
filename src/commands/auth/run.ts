import { apiKeyWays, directApiKey, type ApiKeySource } from '../../api/credentials.js';
import { redactApiKey } from '../../core/redact.js';
import { formatJson } from '../../core/table.js';
import { AuthError, GemwhError, UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { readSecretInput } from '../../manage/input.js';

/** Stores the API key (stdin when piped, a hidden prompt on a terminal) in the secret store. */
export async function runAuthLogin(options: { json: boolean }, ctx: CommandContext): Promise<void> {
  const { io } = ctx.deps;
  const { globals } = ctx;
  const key = await readSecretInput(io, 'Gemini API key (input hidden): ');
  if (key === '') throw new UsageError('no API key given', { hint: 'Pipe it in: printf %s "$KEY" | gemwh auth login, or type it at the prompt.' });
  if (/\s/.test(key)) throw new UsageError('the API key contains whitespace; expected a single token', { hint: 'Copy the key again from https://aistudio.google.com/apikey' });
  const store = await ctx.store();
  await store.setApiKey(key);
  if (options.json) io.stdout.write(formatJson({ stored: true, store: store.kind, location: store.location, key: redactApiKey(key) }));
  io.stderr.write(`Stored the API key ${redactApiKey(key)} in ${store.location}.\n`);
  const shadow = directApiKey(ctx.deps, { ...globals });
  if (shadow) io.stderr.write(`Note: ${shadow.from} is set and takes precedence over the stored key.\n`);
}

interface KeySourceStatus {
  source: ApiKeySource;
  from: string;
  key: string | null;
  active: boolean;
  error?: string;
}

/** Where the API key comes from (and every other place that has one), redacted. */
export async function runAuthStatus(options: { json: boolean }, ctx: CommandContext): Promise<void> {
  const { io, env } = ctx.deps;
  const { globals } = ctx;
  const found: KeySourceStatus[] = [];
  const flag = globals.apiKey?.trim();
  if (flag) found.push({ source: '--api-key', from: '--api-key', key: flag, active: false });
  for (const name of ['GEMINI_API_KEY', 'GOOGLE_API_KEY'] as const) {
    const value = env[name]?.trim();
    if (value) found.push({ source: name, from: `$${name}`, key: value, active: false });
  }
  let storeError: string | undefined;
  try {
    const store = await ctx.store();
    const stored = (await store.getApiKey())?.trim();
    if (stored) found.push({ source: store.kind, from: store.location, key: stored, active: false });
  } catch (error) {
    if (!(error instanceof GemwhError)) throw error;
    storeError = error.message;
  }
  const active = found[0];
  if (active) active.active = true;
  const shown = found.map((f) => ({ ...f, key: f.key === null ? null : redactApiKey(f.key) }));

  if (options.json) {
    io.stdout.write(
      formatJson({
        authenticated: active !== undefined,
        source: active?.source ?? null,
        from: active?.from ?? null,
        key: active ? redactApiKey(active.key ?? '') : null,
        sources: shown.map(({ source, from, key, active: isActive }) => ({ source, from, key, active: isActive })),
        ...(storeError ? { storeError } : {}),
      }),
    );
  } else {
    for (const f of shown) {
      io.stdout.write(`${f.active ? '*' : ' '} ${f.key}\t${f.from}${f.active ? '' : '\t(not used: an earlier source wins)'}\n`);
    }
  }
  if (storeError) io.stderr.write(`gemwh: warning: the secret store could not be read: ${storeError}\n`);
  if (!active) {
    throw new AuthError('no Gemini API key is set', { hint: apiKeyWays(ctx.deps, globals) });
  }
  if (!options.json) io.stderr.write(`Using the API key from ${active.from}.\n`);
}

/** Removes the stored API key; keys in the environment are the shell's business, but named. */
export async function runAuthLogout(options: { json: boolean }, ctx: CommandContext): Promise<void> {
  const { io } = ctx.deps;
  const { globals } = ctx;
  const store = await ctx.store();
  const removed = await store.deleteApiKey();
  if (options.json) io.stdout.write(formatJson({ removed, store: store.kind, location: store.location }));
  io.stderr.write(removed ? `Removed the API key from ${store.location}.\n` : `No API key was stored in ${store.location}.\n`);
  const still = directApiKey(ctx.deps, globals);
  if (still) io.stderr.write(`Note: ${still.from} still provides an API key.\n`);
}
