import type { Deps } from '../deps.js';
import { SecretStoreError, UsageError } from '../errors.js';
import { createFileStore, fileStorePath, isLooselyReadable } from './file-store.js';
import { keychainWayOut } from './keychain-errors.js';
import { DEFAULT_KEYCHAIN_SERVICE, DEFAULT_KEYCHAIN_TIMEOUT_MS, createKeychainStore, keychainLockPath, type KeyringModule } from './keychain-store.js';
import { createMemoryStore } from './memory-store.js';
import type { SecretStore } from './types.js';

export type SecretStoreKind = SecretStore['kind'];

/** The kinds a user may choose with --secret-store / GEMWH_SECRET_STORE; memory is for code only. */
export const USER_SECRET_STORES = ['keychain', 'file'] as const;

export type UserSecretStore = (typeof USER_SECRET_STORES)[number];

export interface OpenSecretStoreOptions {
  /** From --secret-store; when absent GEMWH_SECRET_STORE, then the keychain. */
  store?: SecretStoreKind;
}

export function chooseSecretStore(deps: Pick<Deps, 'env'>, options: OpenSecretStoreOptions = {}): SecretStoreKind {
  if (options.store) return options.store;
  const fromEnv = deps.env.GEMWH_SECRET_STORE?.trim();
  if (!fromEnv) return 'keychain';
  if ((USER_SECRET_STORES as readonly string[]).includes(fromEnv)) return fromEnv as SecretStoreKind;
  throw new UsageError(`GEMWH_SECRET_STORE is "${fromEnv}", which is not a secret store`, {
    hint: `Set it to one of: ${USER_SECRET_STORES.join(', ')} (or unset it for the OS keychain).`,
  });
}

/**
 * Opens the store that the flags and environment ask for. Opening does not touch the keychain
 * (commands that must know it works, like create, call check()). The file store warns on stderr
 * that it keeps secrets in plain text when gemwh writes a secret into it or creates it, not on
 * every read (list, auth status, listen --webhook would otherwise repeat it each time).
 */
export async function openSecretStore(deps: Deps, options: OpenSecretStoreOptions = {}): Promise<SecretStore> {
  const kind = chooseSecretStore(deps, options);
  const filePath = fileStorePath(deps.paths.config);
  switch (kind) {
    case 'memory':
      return createMemoryStore();
    case 'file': {
      if (await isLooselyReadable(filePath)) {
        deps.io.stderr.write(`gemwh: warning: ${filePath} can be read by other users; gemwh sets it to 0600 on the next write (or run: chmod 600 ${filePath})\n`);
      }
      return createFileStore(filePath, {
        onPlainTextWrite: () =>
          deps.io.stderr.write(`gemwh: warning: secrets are stored in plain text in ${filePath} (--secret-store file); the OS keychain is safer\n`),
      });
    }
    case 'keychain': {
      const service = deps.env.GEMWH_KEYCHAIN_SERVICE?.trim() || DEFAULT_KEYCHAIN_SERVICE;
      return createKeychainStore({
        keyring: await loadKeyring(filePath),
        service,
        timeoutMs: keychainTimeout(deps.env.GEMWH_KEYCHAIN_TIMEOUT_MS),
        fileStorePath: filePath,
        lockPath: keychainLockPath(deps.paths.state, service),
      });
    }
  }
}

async function loadKeyring(filePath: string): Promise<KeyringModule> {
  try {
    return await import('@napi-rs/keyring');
  } catch (error) {
    throw new SecretStoreError(`cannot load the OS keychain support (@napi-rs/keyring): ${error instanceof Error ? error.message : String(error)}`, {
      hint: keychainWayOut(filePath),
      cause: error,
    });
  }
}

function keychainTimeout(value: string | undefined): number {
  const parsed = value === undefined ? Number.NaN : Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : DEFAULT_KEYCHAIN_TIMEOUT_MS;
}
