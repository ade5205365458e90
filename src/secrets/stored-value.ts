import type { StoredSecret } from './types.js';

/**
 * The JSON shape of one webhook's secrets wherever they are kept (a keychain entry's value,
 * an entry of the secrets file). Parsing is strict about fields so that a damaged value is
 * reported instead of half-used.
 */
export interface StoredWebhookValue {
  secrets: StoredSecret[];
}

export function encodeWebhookValue(secrets: readonly StoredSecret[]): string {
  return JSON.stringify({ secrets: secrets.map(normaliseSecret) } satisfies StoredWebhookValue);
}

/** Returns undefined when the value is not a list of secrets gemwh wrote. */
export function decodeWebhookValue(value: string): StoredSecret[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  const list = Array.isArray(parsed) ? parsed : isRecord(parsed) ? parsed.secrets : undefined;
  return parseSecretList(list);
}

export function parseSecretList(list: unknown): StoredSecret[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const secrets: StoredSecret[] = [];
  for (const item of list) {
    if (!isRecord(item) || typeof item.secret !== 'string' || typeof item.createdAt !== 'string') return undefined;
    if (item.expiresAt !== undefined && typeof item.expiresAt !== 'string') return undefined;
    secrets.push(normaliseSecret(item as unknown as StoredSecret));
  }
  return secrets;
}

function normaliseSecret(secret: StoredSecret): StoredSecret {
  return secret.expiresAt === undefined
    ? { secret: secret.secret, createdAt: secret.createdAt }
    : { secret: secret.secret, createdAt: secret.createdAt, expiresAt: secret.expiresAt };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
