import type { Command } from 'commander';
import { DEFAULT_API_ROOT, resolveApiRoot } from '../api/api-root.js';
import type { GlobalOptions } from '../api/credentials.js';
import type { WebhookApi } from '../api/types.js';
import type { Deps } from '../deps.js';
import { outputOf, type Output } from '../output/output.js';
import type { SecretStore } from '../secrets/types.js';

/**
 * What every command's run function works with, built once per action by `contextOf`. The API
 * client and the secret store are opened on first use and once: `secret list` never loads the
 * HTTP client, `ping` never touches the keychain, and the file store's plain-text warning is
 * printed at most once per command. `out` decides how output looks (terminal, width, colour), so
 * no run function reads isTTY or NO_COLOR itself.
 */
export interface CommandContext {
  deps: Deps;
  out: Output;
  /** The root options: --api-key, --api-root, --api-version, --secret-store. */
  globals: GlobalOptions;
  store(): Promise<SecretStore>;
  api(): Promise<WebhookApi>;
  /** The root the API calls go to (--api-root, GEMWH_API_ROOT, else Google's), without opening the client. */
  apiRoot(): string;
}

/** The context of the command whose action is running (its globals read with optsWithGlobals()). */
export function contextOf(deps: Deps, command: Command): CommandContext {
  return commandContext(deps, globalsFrom(command.optsWithGlobals()));
}

/** The root's global options, as commander's optsWithGlobals() hands them over. */
export function globalsFrom(options: Record<string, unknown>): GlobalOptions {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const store = text(options.secretStore);
  return {
    apiKey: text(options.apiKey),
    apiRoot: text(options.apiRoot),
    apiVersion: text(options.apiVersion),
    secretStore: store === 'keychain' || store === 'file' || store === 'memory' ? store : undefined,
  };
}

/** A context from given globals: for contextOf, and for tests that run a command's run function directly. */
export function commandContext(deps: Deps, globals: GlobalOptions = {}): CommandContext {
  const store = once(async () => (await import('../secrets/open-store.js')).openSecretStore(deps, { store: globals.secretStore }));
  let root: string | undefined;
  const apiRoot = () => (root ??= resolveApiRoot({ flag: globals.apiRoot, env: deps.env }));
  const api = once(async () => {
    const [{ resolveApiKey }, { createWebhookApi }] = await Promise.all([import('../api/credentials.js'), import('../api/client.js')]);
    const { key } = await resolveApiKey(deps, globals, store);
    return createWebhookApi(deps, { apiKey: key, apiRoot: apiRoot(), apiVersion: globals.apiVersion });
  });
  return { deps, out: outputOf(deps), globals, store, api, apiRoot };
}

/** A context over given parts, for code (and tests) that already hold a client and a store. */
export function contextOver(deps: Deps, api: WebhookApi, store: SecretStore, apiRoot = DEFAULT_API_ROOT): CommandContext {
  return { deps, out: outputOf(deps), globals: {}, store: async () => store, api: async () => api, apiRoot: () => apiRoot };
}

function once<T>(open: () => Promise<T>): () => Promise<T> {
  let opened: Promise<T> | undefined;
  return () => (opened ??= open());
}
