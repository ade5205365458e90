import { invalidArgument } from '../google-error.js';

/** A job's per-request `webhook_config` (spec §3), read from either spelling of its keys. */
export interface JobWebhookConfig {
  /** When non-empty, the job's events go here instead of to the registered webhooks. */
  uris?: string[];
  /** Echoed in every event of the job. */
  userMetadata?: Record<string, unknown>;
}

/**
 * Reads a `webhook_config` / `webhookConfig` value. The JS SDK passes `{uris, userMetadata}`
 * through unchanged while Python and the Interactions API write `user_metadata` (spec §3), and
 * proto3 JSON accepts both, so the emulator does too. `where` names the field in 400 messages.
 */
export function parseWebhookConfig(value: unknown, where: string): JobWebhookConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`${where} must be a JSON object with uris and/or user_metadata.`);
  const config: JobWebhookConfig = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'uris') {
      config.uris = readUris(field, `${where}.uris`);
    } else if (key === 'user_metadata' || key === 'userMetadata') {
      if (field === undefined || field === null) continue;
      if (typeof field !== 'object' || Array.isArray(field)) throw invalidArgument(`${where}.${key} must be a JSON object.`);
      config.userMetadata = structuredClone(field as Record<string, unknown>);
    } else {
      throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}" at '${where}': Cannot find field.`);
    }
  }
  return config;
}

function readUris(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidArgument(`${where} must be a list of URLs.`);
  return value.map((uri, index) => {
    if (typeof uri !== 'string') throw invalidArgument(`${where}[${index}] must be a string.`);
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw invalidArgument(`${where}[${index}] must be an absolute URL, got "${uri}".`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`${where}[${index}] must be an http or https URL, got "${uri}".`);
    return uri;
  });
}

/** The snake_case form the Interactions API echoes on the resource. */
export function webhookConfigToWire(config: JobWebhookConfig): Record<string, unknown> {
  return {
    ...(config.uris && config.uris.length > 0 ? { uris: [...config.uris] } : {}),
    ...(config.userMetadata ? { user_metadata: structuredClone(config.userMetadata) } : {}),
  };
}
