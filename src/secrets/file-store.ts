import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-file.js';
import { STORE_LOCK_OPTIONS, storeLockTimeout } from './store-lock.js';
import { withFileLock } from '../fs/file-lock.js';
import { SecretStoreError } from '../errors.js';
import { parseSecretList } from './stored-value.js';
import type { SecretStore, StoredSecret } from './types.js';

export const SECRETS_FILE_NAME = 'secrets.json';

export function fileStorePath(configDir: string): string {
  return join(configDir, SECRETS_FILE_NAME);
}

interface SecretsFile {
  version: 1;
  api_key?: string;
  webhooks: Record<string, StoredSecret[]>;
}

const UNCHANGED = Symbol('unchanged');

export interface FileStoreOptions {
  /**
   * Called once, before the first write that puts a secret into the file that was not there
   * (create, rotate, secret set, auth login) or creates the file. Reading, pruning expired secrets
   * and deleting stay quiet: a warning on every command would be noise nobody reads.
   */
  onPlainTextWrite?: () => void;
}

/** The lock every change of the secrets file holds, next to it. */
export function fileStoreLockPath(path: string): string {
  return `${path}.lock`;
}

/**
 * Secrets in one plain-text JSON file, readable only by its owner (0600, in a 0700 folder).
 * Every change rewrites the whole file atomically (fs/atomic-file.ts), so a crash or a full
 * disk never leaves half a file behind, and holds a lock file next to it from the read to the
 * write: two gemwh processes changing different webhooks at once would otherwise each write back
 * the file they read, and one of them would drop the other's secret, which the API never shows again.
 */
export function createFileStore(path: string, options: FileStoreOptions = {}): SecretStore {
  let warned = false;
  /** Before a write: warn when it adds secret material or creates the file. */
  function beforeWrite(before: SecretsFile | undefined, after: SecretsFile): void {
    if (warned) return;
    const known = new Set(before ? secretMaterial(before) : []);
    if (before && secretMaterial(after).every((s) => known.has(s))) return;
    warned = true;
    options.onPlainTextWrite?.();
  }

  /** The contents, or undefined when there is no file yet. */
  async function read(): Promise<SecretsFile | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw fileError('cannot read', error);
    }
    const parsed = parseFile(text);
    if (!parsed) {
      throw new SecretStoreError(`the secrets file ${path} is not valid gemwh JSON`, {
        hint: 'Fix the file by hand, or move it away and store the secrets again (gemwh secret set ID).',
      });
    }
    return parsed;
  }

  async function load(): Promise<SecretsFile> {
    return (await read()) ?? emptyFile();
  }

  async function save(data: SecretsFile): Promise<void> {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Always 0600: a file created before gemwh existed, or under a loose umask, is tightened on every write.
      writeFileAtomic(path, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
    } catch (error) {
      throw fileError('cannot write', error);
    }
  }

  /**
   * Read, `edit` in place, write back, all under the lock. `edit` returns UNCHANGED when it
   * changed nothing: then nothing is written (pruning with nothing expired, deleting nothing).
   */
  async function change<T>(edit: (data: SecretsFile) => T | typeof UNCHANGED): Promise<T | typeof UNCHANGED> {
    const lockPath = fileStoreLockPath(path);
    const work = async () => {
      const before = await read();
      const data = before ? parseFile(JSON.stringify(before))! : emptyFile();
      const result = edit(data);
      if (result === UNCHANGED) return UNCHANGED;
      beforeWrite(before, data);
      await save(data);
      return result;
    };
    try {
      return await withFileLock(lockPath, work, {
        ...STORE_LOCK_OPTIONS,
        onTimeout: (holder) => storeLockTimeout(`the secrets file ${path}`, lockPath, holder),
      });
    } catch (error) {
      if (error instanceof SecretStoreError) throw error;
      throw fileError('cannot lock', error);
    }
  }

  async function removeWebhook(webhookId: string): Promise<boolean> {
    const result = await change((data) => {
      if (!(webhookId in data.webhooks)) return UNCHANGED;
      delete data.webhooks[webhookId];
      return true;
    });
    return result === true;
  }

  return {
    kind: 'file',
    location: `file ${path}`,

    async check() {
      await load();
      try {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const probe = `${path}.${randomBytes(6).toString('hex')}.check`;
        await writeFile(probe, '', { mode: 0o600, flag: 'wx' });
        await rm(probe, { force: true });
      } catch (error) {
        throw fileError('cannot write', error);
      }
    },

    async listWebhookIds() {
      return Object.keys((await load()).webhooks).sort();
    },

    async getWebhookSecrets(webhookId) {
      return (await load()).webhooks[webhookId];
    },

    async setWebhookSecrets(webhookId, secrets) {
      await change((data) => {
        data.webhooks[webhookId] = secrets.map((s) => ({ ...s }));
      });
    },

    async updateWebhookSecrets(webhookId, edit) {
      const result = await change((data) => {
        const before = data.webhooks[webhookId];
        const next = edit(before?.map((s) => ({ ...s })));
        if (JSON.stringify(next) === JSON.stringify(before)) return UNCHANGED;
        if (next === undefined) delete data.webhooks[webhookId];
        else data.webhooks[webhookId] = next.map((s) => ({ ...s }));
        return { after: next?.map((s) => ({ ...s })) };
      });
      return result === UNCHANGED ? (await load()).webhooks[webhookId] : result.after;
    },

    deleteWebhookSecrets: removeWebhook,

    async getApiKey() {
      return (await load()).api_key;
    },

    async setApiKey(apiKey) {
      await change((data) => {
        data.api_key = apiKey;
      });
    },

    async deleteApiKey() {
      const result = await change((data) => {
        if (data.api_key === undefined) return UNCHANGED;
        delete data.api_key;
        return true;
      });
      return result === true;
    },
  };

  function fileError(what: string, error: unknown): SecretStoreError {
    const code = isErrno(error) ? ` (${error.code})` : '';
    return new SecretStoreError(`${what} the secrets file ${path}${code}`, {
      hint: `Check the permissions of ${dirname(path)}, or set XDG_CONFIG_HOME to a writable folder.`,
      cause: error,
    });
  }
}

/** True when group or others can read the file: worth a warning, since it holds secrets. */
export async function isLooselyReadable(path: string): Promise<boolean> {
  try {
    return ((await stat(path)).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

function emptyFile(): SecretsFile {
  return { version: 1, webhooks: {} };
}

/** Every secret and the API key the file holds: a write adding one of these warns about plain text. */
function secretMaterial(data: SecretsFile): string[] {
  const values = Object.values(data.webhooks).flatMap((list) => list.map((s) => s.secret));
  return data.api_key === undefined ? values : [...values, data.api_key];
}

function parseFile(text: string): SecretsFile | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  if (record.api_key !== undefined && typeof record.api_key !== 'string') return undefined;
  const webhooks: Record<string, StoredSecret[]> = {};
  const rawWebhooks = record.webhooks ?? {};
  if (typeof rawWebhooks !== 'object' || rawWebhooks === null || Array.isArray(rawWebhooks)) return undefined;
  for (const [id, list] of Object.entries(rawWebhooks)) {
    const secrets = parseSecretList(list);
    if (!secrets) return undefined;
    webhooks[id] = secrets;
  }
  return record.api_key === undefined ? { version: 1, webhooks } : { version: 1, api_key: record.api_key, webhooks };
}

function isErrno(error: unknown, code?: string): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && (code === undefined || (error as NodeJS.ErrnoException).code === code);
}
