import type * as Keyring from '@napi-rs/keyring';
import { join } from 'node:path';
import { withFileLock } from '../fs/file-lock.js';
import { SecretStoreError } from '../errors.js';
import { STORE_LOCK_OPTIONS, storeLockTimeout } from './store-lock.js';
import { keychainError } from './keychain-errors.js';
import { decodeWebhookValue, encodeWebhookValue } from './stored-value.js';
import type { SecretStore, StoredSecret } from './types.js';

export const DEFAULT_KEYCHAIN_SERVICE = 'gemwh';
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 5000;
export const API_KEY_ACCOUNT = 'api-key';
export const WEBHOOK_ACCOUNT_PREFIX = 'webhook:';
const CHECK_ACCOUNT = 'gemwh-check';

/** The parts of @napi-rs/keyring gemwh uses; the module is loaded lazily by open-store.ts. */
export type KeyringModule = Pick<typeof Keyring, 'AsyncEntry' | 'findCredentialsAsync'>;

export interface KeychainStoreOptions {
  keyring: KeyringModule;
  service?: string;
  timeoutMs?: number;
  /** Named in errors as the way out; the file store's path. */
  fileStorePath: string;
  /** The lock file held while a webhook's entry is read, changed and written back (keychainLockPath). */
  lockPath: string;
}

/**
 * The keychain cannot lock an entry, so changes of a service's entries are serialised with a lock
 * file in gemwh's state folder, one per service name (tests use their own services).
 */
export function keychainLockPath(stateDir: string, service: string): string {
  return join(stateDir, `keychain-${encodeURIComponent(service)}.lock`);
}

/**
 * Secrets in the OS keychain: one entry per webhook (account `webhook:<id>`, a JSON value with
 * its secrets) and one for the API key (account `api-key`), all under one service name.
 * On Linux the entries are pinned to the Secret Service: the addon's default would fall back
 * to the kernel keyring, which forgets everything at logout, without saying so.
 */
export function createKeychainStore(options: KeychainStoreOptions): SecretStore {
  const { keyring, fileStorePath } = options;
  const service = options.service ?? DEFAULT_KEYCHAIN_SERVICE;
  const timeoutMs = options.timeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
  const entry = (account: string) => new keyring.AsyncEntry(service, account, { linux: { store: 'secret-service' } });

  // Every call has a deadline: a locked keyring can sit on an unlock prompt forever, and the
  // addon does not promise to honour the abort signal, so the race is ours as well.
  async function call<T>(operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const timeout = new Error('keychain call timed out');
        timeout.name = 'TimeoutError';
        controller.abort(timeout);
        reject(timeout);
      }, timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([operation(controller.signal), deadline]);
    } catch (error) {
      throw keychainError(error, timeoutMs, fileStorePath);
    } finally {
      clearTimeout(timer);
    }
  }

  const webhookAccount = (id: string) => `${WEBHOOK_ACCOUNT_PREFIX}${id}`;

  // Every write of a webhook's entry holds the lock, not only updates: a plain set landing between
  // an update's read and write would otherwise be overwritten with the list read before it.
  async function locked<T>(work: () => Promise<T>): Promise<T> {
    const { lockPath } = options;
    try {
      // A holder may spend two keychain calls, each up to its deadline, before letting go.
      const waitMs = Math.max(STORE_LOCK_OPTIONS.waitMs, 3 * timeoutMs);
      return await withFileLock(lockPath, work, {
        waitMs,
        staleAfterMs: Math.max(STORE_LOCK_OPTIONS.staleAfterMs, 6 * timeoutMs),
        onTimeout: (holder) => storeLockTimeout(`the keychain service "${service}"`, lockPath, holder, waitMs),
      });
    } catch (error) {
      if (error instanceof SecretStoreError) throw error;
      throw new SecretStoreError(`cannot lock the keychain service "${service}" with ${lockPath}: ${(error as Error).message}`, {
        hint: `gemwh's state folder must be writable (XDG_STATE_HOME). Or use the file store: --secret-store file (${fileStorePath}).`,
        cause: error,
      });
    }
  }

  async function readWebhook(webhookId: string): Promise<StoredSecret[] | undefined> {
    const value = await call((signal) => entry(webhookAccount(webhookId)).getPassword(signal));
    if (value === null) return undefined;
    const secrets = decodeWebhookValue(value);
    if (!secrets) {
      throw new SecretStoreError(`the keychain entry "${webhookAccount(webhookId)}" of service "${service}" is not a list of gemwh secrets`, {
        hint: `Replace it with: gemwh secret set ${webhookId}   (or remove it: gemwh secret delete ${webhookId})`,
      });
    }
    return secrets;
  }

  const writeWebhook = (webhookId: string, secrets: StoredSecret[]) =>
    call((signal) => entry(webhookAccount(webhookId)).setPassword(encodeWebhookValue(secrets), signal));
  const deleteWebhook = (webhookId: string) => call((signal) => entry(webhookAccount(webhookId)).deleteCredential(signal));

  return {
    kind: 'keychain',
    location: `OS keychain (service "${service}")`,

    async check() {
      // Reading alone proves little: with no default collection reads succeed and writes fail.
      // Locked: two gemwh checking at once would delete the probe entry under each other.
      await locked(async () => {
        await call((signal) => entry(CHECK_ACCOUNT).setPassword('ok', signal));
        await call((signal) => entry(CHECK_ACCOUNT).deleteCredential(signal));
      });
    },

    async listWebhookIds() {
      const credentials = await call((signal) => keyring.findCredentialsAsync(service, undefined, signal));
      return credentials
        .map((c) => c.account)
        .filter((account) => account.startsWith(WEBHOOK_ACCOUNT_PREFIX))
        .map((account) => account.slice(WEBHOOK_ACCOUNT_PREFIX.length))
        .sort();
    },

    getWebhookSecrets: readWebhook,

    async setWebhookSecrets(webhookId: string, secrets: StoredSecret[]) {
      await locked(() => writeWebhook(webhookId, secrets));
    },

    async updateWebhookSecrets(webhookId, edit) {
      return locked(async () => {
        const before = await readWebhook(webhookId);
        const next = edit(before?.map((s) => ({ ...s })));
        if (JSON.stringify(next) === JSON.stringify(before)) return before;
        if (next === undefined) await deleteWebhook(webhookId);
        else await writeWebhook(webhookId, next);
        return next?.map((s) => ({ ...s }));
      });
    },

    async deleteWebhookSecrets(webhookId) {
      return locked(() => deleteWebhook(webhookId));
    },

    async getApiKey() {
      const value = await call((signal) => entry(API_KEY_ACCOUNT).getPassword(signal));
      return value ?? undefined;
    },

    async setApiKey(apiKey) {
      await call((signal) => entry(API_KEY_ACCOUNT).setPassword(apiKey, signal));
    },

    async deleteApiKey() {
      return call((signal) => entry(API_KEY_ACCOUNT).deleteCredential(signal));
    },
  };
}

