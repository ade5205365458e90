import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

export interface FileStoreOptions {
  /**
   * Called once, before the first write that puts a secret into the file that was not there
   * (create, rotate, secret set, auth login) or creates the file. Reading, pruning expired secrets
   * and deleting stay quiet: a warning on every command would be noise nobody reads.
   */
  onPlainTextWrite?: () => void;
}

/**
 * Secrets in one plain-text JSON file, readable only by its owner (0600, in a 0700 folder).
 * Every change rewrites the whole file through a temporary file and a rename, so a crash
 * or a full disk never leaves half a file behind.
 */
export function createFileStore(path: string, options: FileStoreOptions = {}): SecretStore {
  /** The loaded contents that came from an existing file (not the empty default). */
  const existed = new WeakSet<SecretsFile>();
  let warned = false;
  /** Before a write: warn when it adds secret material or creates the file. */
  function beforeWrite(data: SecretsFile, addsSecret: boolean): void {
    if (warned || !(addsSecret || !existed.has(data))) return;
    warned = true;
    options.onPlainTextWrite?.();
  }

  async function load(): Promise<SecretsFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return { version: 1, webhooks: {} };
      throw fileError('cannot read', error);
    }
    const parsed = parseFile(text);
    if (!parsed) {
      throw new SecretStoreError(`the secrets file ${path} is not valid gemwh JSON`, {
        hint: 'Fix the file by hand, or move it away and store the secrets again (gemwh secret set ID).',
      });
    }
    existed.add(parsed);
    return parsed;
  }

  async function save(data: SecretsFile): Promise<void> {
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(temporary, JSON.stringify(data, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      await rename(temporary, path);
      // A file created before gemwh existed, or by a loose umask, is tightened on every write.
      await chmod(path, 0o600);
    } catch (error) {
      await rm(temporary, { force: true });
      throw fileError('cannot write', error);
    }
  }

  async function change<T>(edit: (data: SecretsFile) => T, addsSecret: (data: SecretsFile) => boolean): Promise<T> {
    const data = await load();
    beforeWrite(data, addsSecret(data));
    const result = edit(data);
    await save(data);
    return result;
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
      await change(
        (data) => {
          data.webhooks[webhookId] = secrets.map((s) => ({ ...s }));
        },
        // Pruning expired secrets rewrites a subset of what is there: no new secret, no warning.
        (data) => secrets.some((s) => !(data.webhooks[webhookId] ?? []).some((old) => old.secret === s.secret)),
      );
    },

    async deleteWebhookSecrets(webhookId) {
      const data = await load();
      if (!(webhookId in data.webhooks)) return false;
      delete data.webhooks[webhookId];
      await save(data);
      return true;
    },

    async getApiKey() {
      return (await load()).api_key;
    },

    async setApiKey(apiKey) {
      await change(
        (data) => {
          data.api_key = apiKey;
        },
        (data) => data.api_key !== apiKey,
      );
    },

    async deleteApiKey() {
      const data = await load();
      if (data.api_key === undefined) return false;
      delete data.api_key;
      await save(data);
      return true;
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
