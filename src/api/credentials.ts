import type { Deps } from '../deps.js';
import { isLocalApiRoot, resolveApiRoot } from './api-root.js';
import { AuthError, GemwhError } from '../errors.js';
import { fileStorePath } from '../secrets/file-store.js';
import { chooseSecretStore, openSecretStore, type SecretStoreKind } from '../secrets/open-store.js';
import type { SecretStore } from '../secrets/types.js';

/** The global options every command can read with optsWithGlobals(). */
export interface GlobalOptions {
  apiKey?: string;
  apiRoot?: string;
  apiVersion?: string;
  secretStore?: SecretStoreKind;
}

export type ApiKeySource = '--api-key' | 'GEMINI_API_KEY' | 'GOOGLE_API_KEY' | 'keychain' | 'file' | 'memory' | 'local';

/** Sent to a local API root (the emulator) when no key was given: it accepts any non-empty key. */
export const LOCAL_PLACEHOLDER_KEY = 'gemwh-local';

export interface ResolvedApiKey {
  key: string;
  source: ApiKeySource;
  /** Where it was found, for people: `--api-key`, `$GEMINI_API_KEY`, `OS keychain (service "gemwh")`. */
  from: string;
}

/**
 * The ways to give gemwh a key, as the hint of "no API key" errors. `auth login` names the store
 * that is in use, since that is where it would put the key (--secret-store file is not the keychain).
 */
export function apiKeyWays(deps: Pick<Deps, 'env' | 'paths'>, globals: Pick<GlobalOptions, 'secretStore' | 'apiRoot'>): string {
  let kind: SecretStoreKind = 'keychain';
  try {
    kind = chooseSecretStore(deps, { store: globals.secretStore });
  } catch {
    // A bad GEMWH_SECRET_STORE is reported when the store is opened; the hint stays generic.
  }
  const where =
    kind === 'file'
      ? `stores it in ${fileStorePath(deps.paths.config)}, --secret-store file`
      : kind === 'keychain'
        ? 'stores it in the OS keychain'
        : 'stores it in the secret store';
  return [
    'Set one of:',
    `  gemwh auth login               (${where})`,
    '  export GEMINI_API_KEY=...      (or GOOGLE_API_KEY)',
    '  gemwh --api-key KEY ...',
    localApiRoot(deps, globals)
      ? 'The API root is local: the emulator accepts any key (unless started with --api-key), so GEMINI_API_KEY=any will do.'
      : 'Get a key at https://aistudio.google.com/apikey',
  ].join('\n');
}

/**
 * The API key in the order the Gemini SDKs and CLI use: the flag, GEMINI_API_KEY, GOOGLE_API_KEY,
 * then what `gemwh auth login` stored. The store is opened only when nothing earlier gave a key,
 * so a missing keychain costs nothing to people who use the environment.
 */
export async function resolveApiKey(
  deps: Deps,
  globals: GlobalOptions,
  openStore: () => Promise<SecretStore> = () => openSecretStore(deps, { store: globals.secretStore }),
): Promise<ResolvedApiKey> {
  const direct = directApiKey(deps, globals);
  if (direct) return direct;
  let storeProblem: GemwhError | undefined;
  try {
    const store = await openStore();
    const key = (await store.getApiKey())?.trim();
    if (key) return { key, source: store.kind, from: store.location };
  } catch (error) {
    if (!(error instanceof GemwhError)) throw error;
    storeProblem = error;
  }
  if (localApiRoot(deps, globals)) {
    // The emulator takes any non-empty key (unless started with --api-key, which is then given too).
    return { key: LOCAL_PLACEHOLDER_KEY, source: 'local', from: 'none needed for a local API root (any key is sent)' };
  }
  const why = storeProblem ? `, and the secret store could not be read (${storeProblem.message})` : '';
  throw new AuthError(`no Gemini API key: none given with --api-key, GEMINI_API_KEY or GOOGLE_API_KEY${why}`, {
    hint: apiKeyWays(deps, globals),
    cause: storeProblem,
  });
}

function localApiRoot(deps: Pick<Deps, 'env'>, globals: Pick<GlobalOptions, 'apiRoot'>): boolean {
  try {
    return isLocalApiRoot(resolveApiRoot({ flag: globals.apiRoot, env: deps.env }));
  } catch {
    // A malformed root is reported where it is used.
    return false;
  }
}

/** The key from the flag or the environment, without touching the secret store. */
export function directApiKey(deps: Pick<Deps, 'env'>, globals: GlobalOptions): ResolvedApiKey | undefined {
  const flag = globals.apiKey?.trim();
  if (flag) return { key: flag, source: '--api-key', from: '--api-key' };
  for (const name of ['GEMINI_API_KEY', 'GOOGLE_API_KEY'] as const) {
    const value = deps.env[name]?.trim();
    if (value) return { key: value, source: name, from: `$${name}` };
  }
  return undefined;
}
