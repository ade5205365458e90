import type { Deps } from '../deps.js';
import { GemwhError } from '../errors.js';
import type { SecretStore } from '../secrets/types.js';

/**
 * The store a once-only secret will go to, proven writable before the API mints the secret.
 * With --print-secret the user keeps the secret themselves, so an unusable store is only a
 * warning (and undefined is returned).
 */
export async function openStoreForNewSecret(ctx: { deps: Deps; store(): Promise<SecretStore> }, printSecret: boolean): Promise<SecretStore | undefined> {
  try {
    const store = await ctx.store();
    await store.check();
    return store;
  } catch (error) {
    if (!printSecret || !(error instanceof GemwhError)) throw error;
    ctx.deps.io.stderr.write(`gemwh: warning: the secret store is not usable (${error.message}); the secret will be printed only\n`);
    return undefined;
  }
}

/**
 * The last resort when a once-only secret could not be stored: show it, loudly, on stderr (so
 * it reaches the person even when stdout is piped away), since the API never shows it again.
 */
export function announceSecretLost(deps: Deps, webhookId: string, secret: string, failure: GemwhError): void {
  const bar = '!'.repeat(72);
  deps.io.stderr.write(
    [
      bar,
      `!! The signing secret of webhook ${webhookId} could NOT be stored:`,
      `!!   ${failure.message}`,
      '!! The API shows it only this once. Copy it somewhere safe NOW:',
      '!!',
      `!!   ${secret}`,
      '!!',
      `!! Then store it with: gemwh secret set ${webhookId}`,
      bar,
      '',
    ].join('\n'),
  );
}
