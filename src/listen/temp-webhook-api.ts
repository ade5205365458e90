import type { GlobalOptions } from '../api/credentials.js';
import type { WebhookApi } from '../api/types.js';
import type { Deps } from '../deps.js';
import type { TempWebhookOwner } from './public-url.js';

/** What listen's --public-url and --tunnel need to reach the API on behalf of a temporary webhook. */
export interface TempWebhookConnectOptions {
  globals: GlobalOptions;
  owner: TempWebhookOwner;
  isProcessAlive: (pid: number) => boolean;
}

/**
 * The API clients a temporary webhook needs (the API key is required: a missing one fails here,
 * before anything is created), after removing the temporary webhooks earlier listens left behind.
 */
export async function connectForTempWebhook(
  options: TempWebhookConnectOptions,
  deps: Deps,
  stderr: (line: string) => void,
): Promise<{ api: WebhookApi; cleanupApi: WebhookApi }> {
  const [{ resolveApiKey }, { createWebhookApi }, publicUrl] = await Promise.all([
    import('../api/credentials.js'),
    import('../api/client.js'),
    import('./public-url.js'),
  ]);
  const { key } = await resolveApiKey(deps, options.globals);
  const apiOptions = { apiKey: key, apiRoot: options.globals.apiRoot, apiVersion: options.globals.apiVersion };
  const api = createWebhookApi(deps, apiOptions);
  // The delete at exit runs after Ctrl-C has aborted deps.signal: it needs a client of its own.
  const cleanupApi = createWebhookApi({ ...deps, signal: new AbortController().signal }, { ...apiOptions, timeoutMs: 10_000, retry: { maxRetries: 1 } });

  const removed = await publicUrl.removeLeftoverWebhooks(api, options.owner, options.isProcessAlive);
  for (const webhook of removed) stderr(`removed ${webhook.id} (${webhook.name}), a temporary webhook left behind by an earlier listen`);
  return { api, cleanupApi };
}

